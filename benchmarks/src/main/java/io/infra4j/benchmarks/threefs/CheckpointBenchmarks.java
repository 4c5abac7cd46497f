package io.infra4j.benchmarks.threefs;

import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.threefs.CheckpointLoader;
import io.infra4j.threefs.LoadedCheckpoint;
import io.infra4j.threefs.ParallelFileReader;
import io.infra4j.threefs.SafetensorsWriter;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The threefs issue's checkpoint benchmark: a safetensors checkpoint loaded to GPU 0 (or to host tensors
 * without a GPU) by {@link CheckpointLoader}, against the two rates that bound it, measured in the same run:
 * reading the file ({@link ParallelFileReader} with the loader's settings, O_DIRECT where aligned, into
 * nothing) and copying pinned host memory to the GPU. Target: the load at >= 80% of the lower of the two.
 */
public final class CheckpointBenchmarks {
    private CheckpointBenchmarks() {}

    /** Writes a checkpoint of about {@code bytes}: BF16 matrices of a few sizes, contents a cheap pattern. */
    static long writeCheckpoint(Path file, long bytes) throws Exception {
        SafetensorsWriter w = new SafetensorsWriter();
        long[][] shapes = {{7168, 2048}, {4096, 7168}, {1024, 7168}, {7168}, {129, 7168}};
        long total = 0;
        for (int i = 0; total < bytes; i++) {
            long[] shape = shapes[i % shapes.length];
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            int seed = i;
            w.add("layers." + i + ".weight", DType.BF16, shape, (offset, piece) -> {
                for (long k = 0; k + 8 <= piece.byteSize(); k += 8) {
                    piece.set(ValueLayout.JAVA_LONG_UNALIGNED, k, (offset + k) * 0x9E3779B97F4A7C15L + seed);
                }
            });
            total += n * 2;
        }
        w.metadata("format", "pt");
        return w.write(file);
    }

    /** <pre>java ... CheckpointBenchmarks --dir DIR [--gib N] --out DIR [--commit SHA] [--machine TEXT]</pre> */
    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        Path dir = Path.of(opt.getOrDefault("--dir", System.getProperty("java.io.tmpdir")));
        long gib = Long.parseLong(opt.getOrDefault("--gib", "2"));
        Path file = dir.resolve("infra4j-ckpt-bench.safetensors");
        long size = Files.isRegularFile(file) && Files.size(file) >= (gib << 30) ? Files.size(file) : writeCheckpoint(file, gib << 30);
        boolean gpu = Cuda.isAvailable();
        Device device = gpu ? Device.cuda(0) : Device.CPU;
        CheckpointLoader.Options options = CheckpointLoader.Options.defaults();

        // 1. Reading the file, with the loader's reader settings, into nothing.
        double readBest = 0;
        for (int round = 0; round < 2; round++) {
            long t0 = System.nanoTime();
            long[] n;
            try (ParallelFileReader r = ParallelFileReader.open(file, new ParallelFileReader.Options(options.threads(), options.queueDepth(),
                    options.chunkBytes(), false))) {
                n = r.read(List.of(ParallelFileReader.Range.whole(file)), (range, off, data, worker) -> {}, null);
            }
            readBest = Math.max(readBest, n[0] / ((System.nanoTime() - t0) / 1e9) / 1e9);
        }
        // 2. Pinned host memory to the GPU (GPU only).
        double h2d = Double.NaN;
        if (gpu) {
            try (CudaStream s = CudaStream.create(Cuda.device(0)); Tensor host = Tensor.pinned(DType.U8, 1L << 30);
                    Tensor dev = Tensor.empty(DType.U8, device, s, 1L << 30)) {
                TensorOps.copy(host, dev, s);
                s.synchronize();
                long t0 = System.nanoTime();
                for (int i = 0; i < 8; i++) {
                    TensorOps.copy(host, dev, s);
                }
                s.synchronize();
                h2d = 8.0 * (1L << 30) / ((System.nanoTime() - t0) / 1e9) / 1e9;
            }
        }
        // 3. The load.
        double loadBest = 0, loadSeconds = 0;
        int tensors = 0;
        for (int round = 0; round < 2; round++) {
            try (CudaStream s = gpu ? CudaStream.create(Cuda.device(0)) : null;
                    LoadedCheckpoint c = gpu ? CheckpointLoader.load(file, device, s, options) : CheckpointLoader.load(file, options)) {
                double gbs = c.bytes() / c.seconds() / 1e9;
                if (gbs > loadBest) {
                    loadBest = gbs;
                    loadSeconds = c.seconds();
                }
                tensors = c.tensors().size();
            }
        }
        double bound = gpu ? Math.min(readBest, h2d) : readBest;
        System.out.printf(Locale.ROOT, "checkpoint %.2f GB, %d tensors to %s: load %.2f GB/s (%.2f s); read %.2f GB/s, host-to-device %s; "
                + "load / bound %.2f (target 0.80)%n", size / 1e9, tensors, device, loadBest, loadSeconds, readBest,
                gpu ? String.format(Locale.ROOT, "%.2f GB/s", h2d) : "-", loadBest / bound);
        ResultTable table = new ResultTable("Checkpoint loading (" + String.format(Locale.ROOT, "%.2f", size / 1e9) + " GB safetensors, "
                + tensors + " BF16 tensors, best of 2)", "to", "load GB/s", "read GB/s", "host-to-device GB/s", "load / min(read, h2d)",
                "target");
        table.row(device.toString(), String.format(Locale.ROOT, "%.2f", loadBest), String.format(Locale.ROOT, "%.2f", readBest),
                gpu ? String.format(Locale.ROOT, "%.2f", h2d) : "", String.format(Locale.ROOT, "%.2f", loadBest / bound), "0.80");
        Path md = new ResultsWriter("threefs-checkpoint", "Safetensors checkpoint loading through USRBIO")
                .environment("machine", opt.getOrDefault("--machine", Runtime.getRuntime().availableProcessors() + " cores"))
                .environment("GPU", gpu ? Cuda.device(0).name() : "none")
                .environment("commit", opt.getOrDefault("--commit", "?"))
                .environment("file", file + " (" + Files.getFileStore(file).type() + ")")
                .table(table)
                .note("read: the file through ParallelFileReader with the loader's settings into nothing; host-to-device: 8 GiB of "
                        + "pinned memory copied to the GPU; both in the same run as the load.")
                .appendTo(Path.of(opt.getOrDefault("--out", "benchmarks/results")));
        System.out.println("results appended to " + md);
    }
}
