package io.infra4j.cli;

import java.util.List;
import java.util.stream.Collectors;

/** Every demo stage, in the order they run. Later components add their stage here: one line each. */
public final class DemoStages {
    private DemoStages() {}

    public static List<DemoStage> all() {
        return List.of(
                new MemoryStage(),
                new EplbStage(),
                new DualPipeStage(),
                new MlaStage(),
                new GemmStage(),
                new EpStage(),
                new CheckpointStage(),
                new PrepStage());
    }

    /** The stages that {@code --stage} selects (all when null). */
    static List<DemoStage> select(String name) throws UsageException {
        if (name == null) {
            return all();
        }
        for (DemoStage s : all()) {
            if (s.name().equals(name)) {
                return List.of(s);
            }
        }
        throw new UsageException("--stage: no stage named '" + name + "'; stages: " + names());
    }

    static String names() {
        return all().stream().map(DemoStage::name).collect(Collectors.joining(", "));
    }

    /** The stage list for help: name and description. */
    static String describe() {
        StringBuilder sb = new StringBuilder("Stages (run in this order):\n");
        for (DemoStage s : all()) {
            sb.append(String.format("  %-10s %s%n", s.name(), s.description()));
        }
        return sb.toString();
    }
}
