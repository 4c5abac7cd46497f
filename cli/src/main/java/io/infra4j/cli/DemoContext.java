package io.infra4j.cli;

import io.infra4j.memory.Device;
import java.util.Random;

/** What every stage gets: the device chosen for the demo (and why), options, progress, a seeded Random. */
public final class DemoContext {
    private final DeviceChoice choice;
    private final DemoOptions options;
    private final Progress progress;
    private final Random random;

    DemoContext(DeviceChoice choice, DemoOptions options, Progress progress) {
        this.choice = choice;
        this.options = options;
        this.progress = progress;
        this.random = new Random(options.seed());
    }

    /** Device.CPU, or the GPU the demo runs on. */
    public Device device() {
        return choice.device();
    }

    /** Why this device, in words. */
    public String deviceReason() {
        return choice.reason();
    }

    public DemoOptions options() {
        return options;
    }

    /** Elements per tensor ({@code --size}). */
    public long size() {
        return options.size();
    }

    public Progress progress() {
        return progress;
    }

    /** Seeded by {@code --seed}: the same options give the same inputs. */
    public Random random() {
        return random;
    }
}
