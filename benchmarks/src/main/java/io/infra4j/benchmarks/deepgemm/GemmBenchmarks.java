package io.infra4j.benchmarks.deepgemm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.infra4j.benchmarks.gpu.GpuBench;
import io.infra4j.benchmarks.gpu.GpuTiming;
import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import io.infra4j.deepgemm.Fp8Gemm;
import io.infra4j.deepgemm.Fp8Quant;
import io.infra4j.deepgemm.Fp8Tensor;
import io.infra4j.deepgemm.GemmBackend;
import io.infra4j.deepgemm.GemmOptions;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.io.File;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The FP8 GEMM benchmark of the deepgemm issue, on GPU 0: a second of large GEMMs first, then kernel
 * time by CUDA events (median of 20 after 20 warm-ups, L2 flushed before each run), TFLOPS = 2 * (rows computed) * n * k / time as
 * DeepGEMM counts them, and bytes = A + B + D (+ scales) for the memory-bound decode shapes. Peers in
 * the same command: {@code torch._scaled_mm} with row-wise scales (cuBLASLt, through
 * {@code integration-tests/gpu/torch_gemm_peer.py}, grouped shapes as one call per group) and our own
 * cuBLASLt block-scaled path where cuBLASLt is loaded.
 *
 * <pre>
 * java ... GemmBenchmarks --configs-out configs.json             # the shapes, for the peer
 * python3 torch_gemm_peer.py --configs configs.json --out peer.json
 * java ... GemmBenchmarks --peer-json peer.json --out benchmarks/results [--commit SHA] [--driver V]
 * java ... GemmBenchmarks --only "m=4096" --out /tmp/x                # a subset; results go to /tmp/x
 * </pre>
 */
public final class GemmBenchmarks {
    /** One shape: dense (groups 1), contiguous (groups x rows each, all real) or masked (m_max 4096). */
    public record Config(String name, String kind, int groups, int rows, int n, int k) {
        public static final int MASKED_M_MAX = 4096;

        public long computedRows() {
            return (long) groups * rows;
        }

        public double flops() {
            return 2.0 * computedRows() * n * k;
        }

        public double bytes() {
            double kb = k / 128.0;
            return computedRows() * (k + 4 * kb) + (double) groups * n * k + (double) groups * Math.ceil(n / 128.0) * kb * 4
                    + 2.0 * computedRows() * n;
        }
    }

    private GemmBenchmarks() {}

    static final int[][] DENSE_NK = {{2112, 7168}, {576, 7168}, {24576, 1536}, {32768, 512}, {7168, 16384}, {4096, 7168},
            {7168, 2048}};
    static final int[][] GROUPED_NK = {{6144, 7168}, {7168, 3072}, {4096, 4096}, {4096, 2048}};

    public static List<Config> configs() {
        List<Config> out = new ArrayList<>();
        for (int m : new int[] {64, 128, 4096}) {
            for (int[] nk : DENSE_NK) {
                out.add(new Config(String.format(Locale.ROOT, "dense m=%d n=%d k=%d", m, nk[0], nk[1]), "dense", 1, m, nk[0], nk[1]));
            }
        }
        for (int[] gm : new int[][] {{4, 8192}, {8, 4096}}) {
            for (int[] nk : GROUPED_NK) {
                out.add(new Config(String.format(Locale.ROOT, "contiguous g=%d m=%d n=%d k=%d", gm[0], gm[1], nk[0], nk[1]),
                        "contiguous", gm[0], gm[1], nk[0], nk[1]));
            }
        }
        for (int[] gm : new int[][] {{32, 192}, {6, 1024}, {32, 20}, {6, 20}}) {
            for (int[] nk : GROUPED_NK) {
                out.add(new Config(String.format(Locale.ROOT, "masked g=%d m=%d n=%d k=%d", gm[0], gm[1], nk[0], nk[1]),
                        "masked", gm[0], gm[1], nk[0], nk[1]));
            }
        }
        return out;
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        ObjectMapper json = new ObjectMapper();
        List<Config> configs = configs();
        if (opt.containsKey("--only")) {
            String only = opt.get("--only");
            configs.removeIf(c -> !c.name().contains(only));
        }
        if (opt.containsKey("--configs-out")) {
            ArrayNode arr = json.createArrayNode();
            for (Config c : configs) {
                // The peer runs grouped shapes (contiguous or masked alike) as one _scaled_mm per group.
                arr.addObject().put("name", c.name()).put("kind", c.kind().equals("dense") ? "dense" : "grouped")
                        .put("groups", c.groups()).put("m", c.rows()).put("n", c.n()).put("k", c.k());
            }
            json.writeValue(new File(opt.get("--configs-out")), arr);
            System.out.println("configs written: " + arr.size());
            return;
        }
        Map<String, Double> peer = readPeer(json, opt.get("--peer-json"));
        Cuda.requireAvailable();
        CudaDevice gpu = Cuda.device(0);
        Device dev = Device.cuda(0);
        ResultTable table = new ResultTable("FP8 GEMM, 1x128 / 128x128 scales, BF16 out (median of 20 after 20 warm-ups, L2 flushed)",
                "shape", "ms", "TFLOPS", "TB/s", "torch ms", "vs torch", "cuBLASLt ms", "vs cuBLASLt");
        Map<String, double[]> figures = new LinkedHashMap<>();
        try (CudaStream stream = CudaStream.create(gpu);
             GpuBench bench = GpuBench.open(dev, stream, new GpuBench.Options(20, 20, true))) {
            warmUp(dev, stream);
            for (Config c : configs) {
                double ms, cublas = Double.NaN;
                try (TensorScope scope = TensorScope.open(stream); Inputs in = Inputs.random(scope, dev, stream, c)) {
                    ms = bench.time(c.name(), () -> in.run(GemmOptions.on(stream))).medianMs();
                    if (c.kind().equals("dense") && Fp8Gemm.isCublasLtAvailable()) {
                        GpuTiming t = bench.time(c.name() + " cublaslt",
                                () -> in.run(GemmOptions.on(stream).withBackend(GemmBackend.CUBLASLT)));
                        cublas = t.medianMs();
                    }
                } catch (RuntimeException | OutOfMemoryError e) {
                    System.out.println(c.name() + ": failed: " + e);
                    continue;
                }
                double tflops = c.flops() / ms / 1e9;
                double tbs = c.bytes() / ms / 1e9;
                Double p = peer.get(c.name());
                figures.put(c.name(), new double[] {ms, tflops, p == null ? Double.NaN : p});
                table.row(c.name(), round(ms), round(tflops), round(tbs), p == null ? "" : round(p), p == null ? "" : round(p / ms),
                        Double.isNaN(cublas) ? "" : round(cublas), Double.isNaN(cublas) ? "" : round(cublas / ms));
                System.out.printf(Locale.ROOT, "%-42s %8.4f ms %7.1f TFLOPS %5.2f TB/s  torch %s  cuBLASLt %s%n", c.name(), ms,
                        tflops, tbs, p == null ? "-" : String.format(Locale.ROOT, "%.4f ms (%.2fx)", p, p / ms),
                        Double.isNaN(cublas) ? "-" : String.format(Locale.ROOT, "%.4f ms (%.2fx)", cublas, cublas / ms));
            }
        }
        ResultTable targets = targets(figures);
        Path md = new ResultsWriter("deepgemm", "FP8 GEMMs (infra4j kernel vs torch._scaled_mm and cuBLASLt)")
                .environment("GPU", gpu.name())
                .environment("driver", opt.getOrDefault("--driver", "?"))
                .environment("commit", opt.getOrDefault("--commit", "?"))
                .environment("torch peer", "torch._scaled_mm, row-wise scales; grouped shapes as one call per group")
                .table(table)
                .table(targets)
                .appendTo(Path.of(opt.getOrDefault("--out", "benchmarks/results")));
        System.out.println("results appended to " + md);
    }

    /**
     * Before any row is timed: a second of large GEMMs through both backends, then half a second each of
     * a split-K decode product, a masked and a contiguous one, so that the first rows measure neither the
     * clocks coming up from idle, lazy module loading, cuBLASLt's first plan, nor Java code not yet
     * compiled on the paths only those kinds take (earlier runs showed the first rows of a process up to
     * 3x slower than the same shapes later).
     */
    static void warmUp(Device dev, CudaStream stream) {
        warmUp(dev, stream, new Config("warm-up", "dense", 1, 4096, 7168, 7168), 1_000_000_000L);
        warmUp(dev, stream, new Config("warm-up decode", "dense", 1, 64, 2112, 7168), 500_000_000L);
        warmUp(dev, stream, new Config("warm-up masked", "masked", 6, 20, 4096, 2048), 500_000_000L);
        warmUp(dev, stream, new Config("warm-up contiguous", "contiguous", 4, 512, 4096, 2048), 500_000_000L);
    }

    private static void warmUp(Device dev, CudaStream stream, Config c, long nanos) {
        try (TensorScope scope = TensorScope.open(stream); Inputs in = Inputs.random(scope, dev, stream, c)) {
            long end = System.nanoTime() + nanos;
            while (System.nanoTime() < end) {
                in.run(GemmOptions.on(stream));
                if (c.kind().equals("dense") && Fp8Gemm.isCublasLtAvailable()) {
                    in.run(GemmOptions.on(stream).withBackend(GemmBackend.CUBLASLT));
                }
                stream.synchronize();
            }
        }
    }

    /** The targets against this run's figures. */
    static ResultTable targets(Map<String, double[]> f) {
        ResultTable t = new ResultTable("Targets", "target", "reached", "met");
        double gm4096 = geomeanRatio(f, "dense m=4096 ");
        double best = f.entrySet().stream().filter(e -> e.getKey().startsWith("dense m=4096 ")).mapToDouble(e -> e.getValue()[1])
                .max().orElse(Double.NaN);
        double gmDecode = geomeanRatio(f, "dense m=64 ", "dense m=128 ");
        double contiguous = f.entrySet().stream().filter(e -> e.getKey().startsWith("contiguous")).mapToDouble(e -> e.getValue()[1])
                .min().orElse(Double.NaN);
        double masked = f.entrySet().stream().filter(e -> e.getKey().startsWith("masked g=6 m=1024")).mapToDouble(e -> e.getValue()[1])
                .min().orElse(Double.NaN);
        t.row("dense m=4096: geomean >= 1.15x torch", fmt(gm4096) + "x", gm4096 >= 1.15 ? "met" : "not met");
        t.row("dense m=4096: best shape >= 1450 TFLOPS", fmt(best), best >= 1450 ? "met" : "not met");
        t.row("dense m=64, 128: geomean >= 1.5x torch", fmt(gmDecode) + "x", gmDecode >= 1.5 ? "met" : "not met");
        t.row("contiguous >= 1250 TFLOPS (lowest shape)", fmt(contiguous), contiguous >= 1250 ? "met" : "not met");
        t.row("masked m=1024 >= 1100 TFLOPS (lowest shape)", fmt(masked), masked >= 1100 ? "met" : "not met");
        for (var row : t.getRows()) {
            System.out.println("target: " + row.values());
        }
        return t;
    }

    static double geomeanRatio(Map<String, double[]> f, String... prefixes) {
        double logSum = 0;
        int n = 0;
        for (var e : f.entrySet()) {
            for (String p : prefixes) {
                if (e.getKey().startsWith(p) && !Double.isNaN(e.getValue()[2])) {
                    logSum += Math.log(e.getValue()[2] / e.getValue()[0]);
                    n++;
                }
            }
        }
        return n == 0 ? Double.NaN : Math.exp(logSum / n);
    }

    static Map<String, Double> readPeer(ObjectMapper json, String path) throws IOException {
        Map<String, Double> peer = new HashMap<>();
        if (path == null) {
            return peer;
        }
        if (!new File(path).isFile()) {
            System.out.println("no peer results at " + path + ": timing infra4j alone");
            return peer;
        }
        JsonNode root = json.readTree(new File(path));
        for (JsonNode n : root.has("results") ? root.get("results") : root) {
            if (n.has("median_ms")) {
                peer.put(n.get("name").asText(), n.get("median_ms").asDouble());
            }
        }
        return peer;
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }

    /** Device operands of one shape: random finite e4m3 bytes and scales, made on the host once. */
    public record Inputs(Config c, Fp8Tensor a, Fp8Tensor b, Tensor groupInfo, Tensor d) implements AutoCloseable {
        /** Frees A's M-major scales (the rest belongs to the scope). */
        @Override
        public void close() {
            a.scales().close();
        }

        public static Inputs random(TensorScope scope, Device dev, CudaStream stream, Config c) {
            SplittableRandom r = new SplittableRandom(c.name().hashCode());
            int kb = c.k() / 128, nb = (c.n() + 127) / 128;
            Tensor av, as, bv, bs, info = null, d;
            switch (c.kind()) {
                case "dense" -> {
                    av = bytes(scope, dev, r, c.rows(), c.k());
                    as = scales(scope, dev, r, c.rows(), kb);
                    bv = bytes(scope, dev, r, c.n(), c.k());
                    bs = scales(scope, dev, r, nb, kb);
                    d = scope.empty(DType.BF16, dev, c.rows(), c.n());
                }
                case "contiguous" -> {
                    int m = c.groups() * c.rows(); // rows per group are multiples of 128: no padding
                    av = bytes(scope, dev, r, m, c.k());
                    as = scales(scope, dev, r, m, kb);
                    bv = bytes(scope, dev, r, c.groups(), c.n(), c.k());
                    bs = scales(scope, dev, r, c.groups(), nb, kb);
                    Tensor idx = scope.empty(DType.I32, Device.CPU, m);
                    for (int i = 0; i < m; i++) {
                        idx.setBits(i / c.rows(), i);
                    }
                    info = TensorOps.to(idx, dev, scope);
                    d = scope.empty(DType.BF16, dev, m, c.n());
                }
                default -> {
                    int mMax = Config.MASKED_M_MAX;
                    av = bytes(scope, dev, r, c.groups(), mMax, c.k());
                    as = scales(scope, dev, r, c.groups(), mMax, kb);
                    bv = bytes(scope, dev, r, c.groups(), c.n(), c.k());
                    bs = scales(scope, dev, r, c.groups(), nb, kb);
                    Tensor cnt = scope.empty(DType.I32, Device.CPU, c.groups());
                    for (int g = 0; g < c.groups(); g++) {
                        cnt.setBits(c.rows(), g);
                    }
                    info = TensorOps.to(cnt, dev, scope);
                    d = scope.empty(DType.BF16, dev, c.groups(), mMax, c.n());
                }
            }
            // The kernel reads A's scales M-major: convert once, as a serving loop would.
            return new Inputs(c, new Fp8Tensor(av, Fp8Quant.toMnMajor(as, stream)), new Fp8Tensor(bv, bs), info, d);
        }

        public void run(GemmOptions o) {
            switch (c.kind()) {
                case "dense" -> Fp8Gemm.gemmNt(a, b, d, o);
                case "contiguous" -> Fp8Gemm.mGroupedContiguous(a, b, groupInfo, d, o);
                default -> Fp8Gemm.mGroupedMasked(a, b, groupInfo, c.rows(), d, o);
            }
        }

        private static Tensor bytes(TensorScope scope, Device dev, SplittableRandom r, long... shape) {
            Tensor h = Tensor.empty(DType.F8_E4M3, Device.CPU, shape);
            try {
                MemorySegment seg = h.segment();
                byte[] chunk = new byte[1 << 16];
                for (int i = 0; i < chunk.length; i++) {
                    int v;
                    do {
                        v = r.nextInt(256);
                    } while ((v & 0x7F) == 0x7F);
                    chunk[i] = (byte) v;
                }
                // Timing does not depend on the values: one random 64 KiB chunk, repeated.
                for (long off = 0; off < h.byteSize(); off += chunk.length) {
                    MemorySegment.copy(chunk, 0, seg, ValueLayout.JAVA_BYTE, off, (int) Math.min(chunk.length, h.byteSize() - off));
                }
                return TensorOps.to(h, dev, scope);
            } finally {
                h.close();
            }
        }

        private static Tensor scales(TensorScope scope, Device dev, SplittableRandom r, long... shape) {
            Tensor h = Tensor.empty(DType.F32, Device.CPU, shape);
            try {
                float[] v = new float[(int) h.numel()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) Math.pow(2, r.nextDouble(-8, -2));
                }
                h.copyFromFloats(v);
                return TensorOps.to(h, dev, scope);
            } finally {
                h.close();
            }
        }
    }
}
