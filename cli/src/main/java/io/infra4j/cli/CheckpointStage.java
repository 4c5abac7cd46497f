package io.infra4j.cli;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorScope;
import io.infra4j.threefs.CheckpointLoader;
import io.infra4j.threefs.LoadedCheckpoint;
import io.infra4j.threefs.SafetensorsWriter;
import io.infra4j.threefs.Usrbio;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A model's checkpoint, the way a serving process starts: a safetensors file of a few BF16 and FP32
 * tensors (some larger than a read chunk, one empty) is written to a temporary folder, then loaded
 * through USRBIO (3FS's client on a 3FS mount, the io_uring backend elsewhere) into tensors on the demo's
 * device, and every tensor is read back and compared with what was written, byte for byte.
 */
final class CheckpointStage implements DemoStage {
    static final long[][] SHAPES = {{1024, 2048}, {3000, 7}, {2048}, {0, 16}, {4096, 1024}, {1}, {777, 129}};

    @Override
    public String name() {
        return "checkpoint";
    }

    @Override
    public String description() {
        return "a safetensors checkpoint written, loaded through USRBIO onto the device, and compared byte for byte";
    }

    @Override
    public StageResult run(DemoContext ctx) {
        Device dev = ctx.device();
        Random random = ctx.random();
        List<String> failures = new ArrayList<>();
        Map<String, Object> f = new LinkedHashMap<>();
        if (!Usrbio.isEmbeddedAvailable()) {
            throw new IllegalStateException("the embedded USRBIO library is not available: " + Usrbio.embeddedUnavailableReason());
        }
        Path dir = null;
        try (Progress.Task task = ctx.progress().start("demo " + name(), 3)) {
            dir = Files.createTempDirectory("infra4j-checkpoint-");
            Path file = dir.resolve("model.safetensors");
            List<byte[]> written = new ArrayList<>();
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            for (int i = 0; i < SHAPES.length; i++) {
                DType dtype = i % 3 == 1 ? DType.F32 : DType.BF16;
                long n = 1;
                for (long d : SHAPES[i]) {
                    n *= d;
                }
                byte[] b = new byte[(int) (n * dtype.byteSize())];
                random.nextBytes(b);
                written.add(b);
                w.add("layers." + i + ".weight", dtype, SHAPES[i], b);
            }
            long bytes = task.step("write " + file.getFileName(), () -> {
                try {
                    return w.write(file);
                } catch (Exception e) {
                    throw new IllegalStateException("cannot write the checkpoint: " + e.getMessage(), e);
                }
            });
            f.put("file_bytes", bytes);
            f.put("backend", Usrbio.forPath(dir).backend().toString());
            try (CudaStream stream = dev.isCuda() ? CudaStream.create(Cuda.device(dev.index())) : null;
                    TensorScope scope = stream != null ? TensorScope.open(stream) : TensorScope.open();
                    LoadedCheckpoint c = task.step("load to " + dev, () -> load(file, dev, stream))) {
                f.put("tensors", c.tensors().size());
                f.put("load_gb_per_s", Math.round(c.gigabytesPerSecond() * 1000) / 1000.0);
                task.step("compare every tensor", () -> {
                    int i = 0;
                    for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) {
                        byte[] want = written.get(i++);
                        byte[] got = hostBytes(e.getValue(), scope);
                        if (!java.util.Arrays.equals(want, got)) {
                            failures.add(e.getKey() + ": the loaded bytes differ from the written ones");
                        }
                    }
                });
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteQuietly(dir);
        }
        f.put("runs_on", dev.isCuda() ? "GPU " + dev.index() + " (" + Cuda.device(dev.index()).name() + "): read into pinned iovs, "
                + "copied to the GPU while the next chunks are read" : "CPU: read into host tensors");
        return StageResult.of(failures, f);
    }

    private static LoadedCheckpoint load(Path file, Device dev, CudaStream stream) {
        try {
            return dev.isCuda() ? CheckpointLoader.load(file, dev, stream, CheckpointLoader.Options.defaults())
                    : CheckpointLoader.load(file, CheckpointLoader.Options.defaults());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] hostBytes(Tensor t, TensorScope scope) {
        if (t.numel() == 0) {
            return new byte[0];
        }
        Tensor h = t.device().isCpu() ? t : scope.empty(t.dtype(), Device.CPU, t.shape());
        if (h != t) {
            io.infra4j.memory.TensorOps.copy(t, h, scope.stream());
        }
        MemorySegment s = h.segment();
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // a temporary folder left behind is not the demo's failure
        }
    }
}
