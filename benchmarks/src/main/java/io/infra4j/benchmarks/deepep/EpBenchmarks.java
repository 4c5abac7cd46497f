package io.infra4j.benchmarks.deepep;

import io.infra4j.benchmarks.gpu.GpuBench;
import io.infra4j.benchmarks.gpu.GpuTiming;
import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import io.infra4j.deepep.EpBuffer;
import io.infra4j.deepep.ExpertPlacement;
import io.infra4j.deepep.GpuDispatchLayout;
import io.infra4j.deepep.IntranodeEp;
import io.infra4j.deepep.LowLatencyEp;
import io.infra4j.deepep.NcclEp;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.nccl.Nccl;
import io.infra4j.ffm.nccl.NcclComm;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What one GPU can show of the deepep issue: W simulated ranks on GPU 0 (each its own buffers, the
 * kernels writing into the others' by address), DeepEP's benchmark shapes (hidden 7168, top-8 of 256
 * experts, 4096 tokens per rank in normal mode, 128 in low-latency mode).
 *
 * <ul>
 *   <li>layout: one rank's {@code get_dispatch_layout} kernel;
 *   <li>normal dispatch: the whole call for all W ranks (layouts, the one read of the counts, the row
 *       pushes), as DeepEP's own benchmark times its dispatch; normal combine;
 *   <li>low-latency dispatch into an {@link EpBuffer}'s reserved rows (BF16, or quantised to FP8 on the
 *       way) and combine;
 *   <li>NCCL: the same normal mode through {@link NcclEp} with a world of one (pack, self send and
 *       receive, combine), the NCCL path's cost on one GPU.
 * </ul>
 *
 * Bytes are DeepEP's: the rows received (hidden values, plus scales for FP8) for dispatch, the BF16 rows
 * returned for combine. On one GPU each such byte is read and written once in HBM, so the peer in the
 * same run is a device-to-device copy of the same bytes ({@code cudaMemcpyAsync}): "vs copy" is the
 * copy's time over ours.
 */
public final class EpBenchmarks {
    public static final int HIDDEN = 7168;
    public static final int EXPERTS = 256;
    public static final int TOP_K = 8;

    /**
     * One configuration: mode "normal", "low-latency" or "nccl" (a world of one); tokens per rank (the
     * low-latency buffers hold that many per sender); FP8 rows or BF16.
     */
    public record Config(String mode, int world, int tokens, boolean fp8, int hidden, int experts, int topK) {
        public Config(String mode, int world, int tokens, boolean fp8) {
            this(mode, world, tokens, fp8, HIDDEN, EXPERTS, TOP_K);
        }

        public String name() {
            String shape = hidden == HIDDEN && experts == EXPERTS && topK == TOP_K ? "" : " h=" + hidden + " E=" + experts + " k=" + topK;
            return mode + " W=" + world + " T=" + tokens + " " + (fp8 ? "fp8" : "bf16") + shape;
        }

        int rowBytes() {
            return fp8 ? hidden + hidden / 128 * 4 : hidden * 2;
        }
    }

    /** A configuration's figures: median milliseconds and the bytes they moved. */
    public record Result(Config config, double layoutMs, double dispatchMs, long dispatchBytes, double combineMs, long combineBytes,
            double dispatchCopyMs, double combineCopyMs, double cachedMs) {
        public double dispatchGbs() {
            return dispatchBytes / dispatchMs / 1e6;
        }

        public double combineGbs() {
            return combineBytes / combineMs / 1e6;
        }
    }

    /** Untimed runs before each timing: enough for the JIT to compile the host side of a step. */
    public static final int WARMUP = 50;

    private EpBenchmarks() {}

    public static List<Config> configs() {
        List<Config> out = new ArrayList<>();
        for (int w : new int[] {2, 4, 8}) {
            out.add(new Config("normal", w, 4096, false));
            out.add(new Config("normal", w, 4096, true));
        }
        for (int w : new int[] {2, 4, 8}) {
            out.add(new Config("low-latency", w, 128, false));
            out.add(new Config("low-latency", w, 128, true));
        }
        out.add(new Config("nccl", 1, 4096, false));
        out.add(new Config("nccl", 1, 4096, true));
        return out;
    }

    /** Why this cannot run here (no GPU, no kernels, no NCCL for the NCCL mode), or null when it can. */
    public static String missing(Config c) {
        if (!Cuda.isAvailable()) {
            return Cuda.unavailableReason();
        }
        if (c.mode().equals("nccl") && !Nccl.isAvailable()) {
            return Nccl.unavailableReason();
        }
        return null;
    }

    /** Times one configuration on GPU 0 with {@code bench}'s stream. */
    public static Result run(Config c, GpuBench bench, long seed) {
        CudaStream stream = bench.stream();
        Device dev = Device.cuda(stream.device());
        ExpertPlacement p = new ExpertPlacement(c.experts(), c.world());
        try (TensorScope scope = TensorScope.open(stream)) {
            List<IntranodeEp.RankInput> in = inputs(scope, dev, c, new SplittableRandom(seed));
            GpuTiming layout = bench.time(c.name() + " layout", () -> GpuDispatchLayout.compute(in.get(0).topkIdx(), p, stream).close());
            return switch (c.mode()) {
                case "normal" -> normal(c, bench, in, p, layout, scope, dev);
                case "low-latency" -> lowLatency(c, bench, in, p, layout, scope, dev);
                case "nccl" -> nccl(c, bench, in.get(0), p, layout, scope, dev);
                default -> throw new IllegalArgumentException("mode: normal, low-latency or nccl, got " + c.mode());
            };
        }
    }

    private static Result normal(Config c, GpuBench bench, List<IntranodeEp.RankInput> in, ExpertPlacement p, GpuTiming layout,
            TensorScope scope, Device dev) {
        CudaStream stream = bench.stream();
        GpuTiming dispatch = bench.time(c.name() + " dispatch", () -> IntranodeEp.dispatch(in, p, 1, stream).close());
        try (IntranodeEp.Dispatched d = IntranodeEp.dispatch(in, p, 1, stream)) {
            long rows = d.received().stream().mapToLong(IntranodeEp.Received::numRows).sum();
            List<Tensor> outputs = new ArrayList<>();
            for (IntranodeEp.Received r : d.received()) {
                outputs.add(bf16Rows(scope, dev, r.numRows(), c.hidden(), stream));
            }
            GpuTiming combine = bench.time(c.name() + " combine", () -> d.combine(outputs, stream).forEach(Tensor::close));
            // DeepEP's cached dispatch: the same routing, new rows; the pushes alone, no host wait.
            GpuTiming cached = bench.time(c.name() + " cached dispatch", () -> d.redispatch(in));
            Result r = withCopies(c, bench, scope, dev, layout, dispatch, rows * c.rowBytes(), combine, rows * c.hidden() * 2L);
            return new Result(c, r.layoutMs(), r.dispatchMs(), r.dispatchBytes(), r.combineMs(), r.combineBytes(), r.dispatchCopyMs(),
                    r.combineCopyMs(), cached.medianMs());
        }
    }

    private static Result lowLatency(Config c, GpuBench bench, List<IntranodeEp.RankInput> in, ExpertPlacement p, GpuTiming layout,
            TensorScope scope, Device dev) {
        CudaStream stream = bench.stream();
        LowLatencyEp.Format format = c.fp8() ? LowLatencyEp.Format.FP8 : LowLatencyEp.Format.BF16;
        int maxTokens = c.tokens();
        try (EpBuffer buffer = EpBuffer.simulated(p, stream).reserveLowLatency(maxTokens, c.hidden(), c.topK(), format)) {
            // Steps into the buffer's reserved rows, as DeepEP's low-latency steps: nothing allocated.
            GpuTiming dispatch = bench.time(c.name() + " dispatch", () -> buffer.lowLatencyDispatch(in));
            LowLatencyEp.Dispatched d = buffer.lowLatencyDispatch(in).verify();
            long pairs = 0;
            for (IntranodeEp.RankInput r : in) {
                pairs += countPairs(r, stream);
            }
            List<Tensor> outputs = new ArrayList<>();
            for (int r = 0; r < c.world(); r++) {
                Tensor y = scope.empty(DType.BF16, dev, p.expertsPerRank(), (long) c.world() * maxTokens, c.hidden());
                TensorOps.fill(y, 0.5, stream);
                outputs.add(y);
            }
            GpuTiming combine = bench.time(c.name() + " combine", () -> d.combine(outputs, stream).forEach(Tensor::close));
            return withCopies(c, bench, scope, dev, layout, dispatch, pairs * c.rowBytes(), combine, pairs * c.hidden() * 2L);
        }
    }

    private static Result nccl(Config c, GpuBench bench, IntranodeEp.RankInput in, ExpertPlacement p, GpuTiming layout, TensorScope scope,
            Device dev) {
        CudaStream stream = bench.stream();
        try (NcclComm comm = NcclComm.initAll(List.of(Cuda.device(dev.index()))).get(0)) {
            GpuTiming dispatch = bench.time(c.name() + " dispatch", () -> NcclEp.dispatch(comm, in, p, 1, stream).close());
            try (NcclEp.Dispatched d = NcclEp.dispatch(comm, in, p, 1, stream)) {
                long rows = d.received().numRows();
                Tensor y = bf16Rows(scope, dev, (int) rows, c.hidden(), stream);
                GpuTiming combine = bench.time(c.name() + " combine", () -> d.combine(y, stream).close());
                return withCopies(c, bench, scope, dev, layout, dispatch, rows * c.rowBytes(), combine, rows * c.hidden() * 2L);
            }
        }
    }

    // The peer: device-to-device copies of the same bytes, in the same run.
    private static Result withCopies(Config c, GpuBench bench, TensorScope scope, Device dev, GpuTiming layout, GpuTiming dispatch,
            long dispatchBytes, GpuTiming combine, long combineBytes) {
        double dCopy = copyMs(bench, scope, dev, dispatchBytes, c.name() + " copy");
        double cCopy = copyMs(bench, scope, dev, combineBytes, c.name() + " copy back");
        return new Result(c, layout.medianMs(), dispatch.medianMs(), dispatchBytes, combine.medianMs(), combineBytes, dCopy, cCopy,
                Double.NaN);
    }

    private static double copyMs(GpuBench bench, TensorScope scope, Device dev, long bytes, String name) {
        if (bytes == 0) {
            return Double.NaN;
        }
        try (TensorScope s = TensorScope.open(bench.stream())) {
            Tensor a = s.empty(DType.U8, dev, bytes);
            Tensor b = s.empty(DType.U8, dev, bytes);
            TensorOps.fillBits(a, 1, bench.stream());
            return bench.time(name, () -> TensorOps.copy(a, b, bench.stream())).medianMs();
        }
    }

    private static Tensor bf16Rows(TensorScope scope, Device dev, int rows, int hidden, CudaStream stream) {
        Tensor y = scope.empty(DType.BF16, dev, rows, hidden);
        TensorOps.fill(y, 0.5, stream);
        return y;
    }

    private static long countPairs(IntranodeEp.RankInput in, CudaStream stream) {
        try (TensorScope s = TensorScope.open(stream)) {
            Tensor h = s.empty(DType.I64, Device.CPU, in.topkIdx().shape());
            TensorOps.copy(in.topkIdx(), h, stream);
            long n = 0;
            for (long i = 0; i < h.size(0); i++) {
                for (long j = 0; j < h.size(1); j++) {
                    n += h.getBits(i, j) >= 0 ? 1 : 0;
                }
            }
            return n;
        }
    }

    /** Inputs of every rank: constant rows, top-k distinct experts chosen uniformly, random weights; FP8 rows with unit scales. */
    static List<IntranodeEp.RankInput> inputs(TensorScope scope, Device dev, Config c, SplittableRandom r) {
        List<IntranodeEp.RankInput> out = new ArrayList<>();
        for (int s = 0; s < c.world(); s++) {
            int t = c.tokens();
            int k = c.topK();
            Tensor ids = scope.empty(DType.I64, Device.CPU, t, k);
            Tensor w = scope.empty(DType.F32, Device.CPU, t, k);
            for (int i = 0; i < t; i++) {
                int[] chosen = r.ints(0, c.experts()).distinct().limit(k).toArray();
                for (int j = 0; j < k; j++) {
                    ids.setBits(chosen[j], i, j);
                    w.setBits(Float.floatToRawIntBits((float) r.nextDouble()), i, j);
                }
            }
            Tensor x = scope.empty(DType.BF16, dev, t, c.hidden());
            TensorOps.fill(x, 0.25 + s, scope.stream());
            Tensor gIds = TensorOps.to(ids, dev, scope);
            Tensor gW = TensorOps.to(w, dev, scope);
            boolean fp8Rows = c.fp8() && !c.mode().equals("low-latency"); // low-latency takes BF16 and quantises on the way
            if (fp8Rows) {
                Tensor q = scope.empty(DType.F8_E4M3, dev, t, c.hidden());
                TensorOps.fillBits(q, 0x38, scope.stream());
                Tensor sc = scope.empty(DType.F32, dev, t, c.hidden() / 128);
                TensorOps.fill(sc, 1.0, scope.stream());
                out.add(new IntranodeEp.RankInput(q, sc, gIds, gW));
            } else {
                out.add(IntranodeEp.RankInput.bf16(x, gIds, gW));
            }
        }
        return out;
    }

    static String round(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.3f", v);
    }

    /**
     * <pre>java ... EpBenchmarks --out benchmarks/results [--commit SHA] [--driver V] [--only "normal W=8"]</pre>
     */
    public static void main(String[] args) {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        Cuda.requireAvailable();
        CudaDevice gpu = Cuda.device(0);
        Device dev = Device.cuda(0);
        List<Config> configs = new ArrayList<>(configs());
        if (opt.containsKey("--only")) {
            configs.removeIf(c -> !c.name().contains(opt.get("--only")));
        }
        ResultTable table = new ResultTable("Expert-parallel dispatch and combine, W simulated ranks on one GPU (hidden 7168, top-8 of 256;"
                + " median of 20 after 50 warm-ups, L2 flushed)",
                "config", "layout us", "dispatch us", "dispatch GB/s", "dispatch vs copy", "cached dispatch us", "cached vs copy", "combine us",
                "combine GB/s", "combine vs copy");
        try (CudaStream stream = CudaStream.create(gpu); GpuBench bench = GpuBench.open(dev, stream, new GpuBench.Options(WARMUP, 20, true))) {
            // Once through the first configurations untimed: the clocks up from idle, the Java paths compiled.
            for (Config c : configs.subList(0, Math.min(2, configs.size()))) {
                if (missing(c) == null) {
                    run(c, bench, 1);
                }
            }
            for (Config c : configs) {
                String why = missing(c);
                if (why != null) {
                    System.out.println(c.name() + ": skipped: " + why);
                    continue;
                }
                Result r;
                try {
                    r = run(c, bench, 1234);
                } catch (RuntimeException | OutOfMemoryError e) {
                    System.out.println(c.name() + ": failed: " + e);
                    continue;
                }
                table.row(c.name(), round(r.layoutMs() * 1e3), round(r.dispatchMs() * 1e3), round(r.dispatchGbs()),
                        round(r.dispatchCopyMs() / r.dispatchMs()), round(r.cachedMs() * 1e3), round(r.dispatchCopyMs() / r.cachedMs()),
                        round(r.combineMs() * 1e3), round(r.combineGbs()), round(r.combineCopyMs() / r.combineMs()));
                System.out.printf(Locale.ROOT, "%-32s layout %7.1f us  dispatch %8.1f us %6.0f GB/s (copy %.2fx)  combine %8.1f us %6.0f GB/s (copy %.2fx)%n",
                        c.name(), r.layoutMs() * 1e3, r.dispatchMs() * 1e3, r.dispatchGbs(), r.dispatchCopyMs() / r.dispatchMs(),
                        r.combineMs() * 1e3, r.combineGbs(), r.combineCopyMs() / r.combineMs());
            }
        }
        Path md = new ResultsWriter("deepep", "Expert-parallel dispatch and combine on one GPU (simulated ranks)")
                .environment("GPU", gpu.name())
                .environment("driver", opt.getOrDefault("--driver", "?"))
                .environment("commit", opt.getOrDefault("--commit", "?"))
                .environment("peer", "cudaMemcpyAsync device to device of the same bytes, same run")
                .table(table)
                .note("Bytes are DeepEP's: rows received (hidden values, plus 1x128 FP32 scales for FP8) for dispatch, BF16 rows for "
                        + "combine. On one GPU every such byte is read and written once, as by the copy.")
                .note("Normal dispatch is the whole call for all W ranks: W layouts, one read of the counts (a host synchronisation), "
                        + "the row pushes; cached dispatch (DeepEP's cached mode: same routing, new rows) is the pushes alone. "
                        + "Low-latency FP8 quantises the BF16 rows on the sender.")
                .appendTo(Path.of(opt.getOrDefault("--out", "benchmarks/results")));
        System.out.println("results appended to " + md);
    }
}
