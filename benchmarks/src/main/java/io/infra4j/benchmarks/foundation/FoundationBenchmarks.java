package io.infra4j.benchmarks.foundation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infra4j.benchmarks.gpu.GpuBench;
import io.infra4j.benchmarks.gpu.GpuTiming;
import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.memory.CastMode;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The foundation's GPU benchmarks, in one process on the GPU machine:
 * <ol>
 *   <li>FFM call overhead: the C program {@code infra4j_call_overhead} (run from here, so both sides
 *       are timed in the same run) against {@link CallOverhead}, plus the JMH figures when given;
 *   <li>the element-wise kernels (fill, casts, strided copy) and the copy engine, in GB/s against the
 *       device-to-device copy ceiling and against PyTorch's same operations (timed by
 *       {@code integration-tests/gpu/torch_peer.py} in the same device command).
 * </ol>
 * Writes a dated Markdown table and JSON to the results folder and prints the tables.
 *
 * <pre>usage: FoundationBenchmarks --out DIR [--c-baseline EXE] [--jmh-json FILE] [--peer-json FILE]
 *        [--commit SHA] [--driver VERSION] [--rounds 200] [--batch 1000] [--elements 268435456]</pre>
 */
public final class FoundationBenchmarks {
    private FoundationBenchmarks() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        Path out = Paths.get(opt.getOrDefault("out", "benchmarks/results"));
        int rounds = Integer.parseInt(opt.getOrDefault("rounds", "200"));
        int batch = Integer.parseInt(opt.getOrDefault("batch", "1000"));
        long n = Long.parseLong(opt.getOrDefault("elements", String.valueOf(1L << 28)));

        Cuda.requireAvailable();
        KernelLibrary.require();
        CudaDevice gpu = Cuda.device(0);
        ResultsWriter w = new ResultsWriter("foundation", "infra4j foundation: FFM call overhead and element-wise kernels");
        w.environment("GPU", gpu.name() + " (sm_" + gpu.computeCapabilityMajor() + gpu.computeCapabilityMinor() + ", "
                        + gpu.multiprocessorCount() + " SMs, " + (gpu.l2CacheBytes() >> 20) + " MiB L2, "
                        + (gpu.totalMemory() >> 20) + " MiB)")
                .environment("driver", opt.getOrDefault("driver", "?") + " (CUDA " + Cuda.formatVersion(Cuda.driverVersion()) + ")")
                .environment("CUDA runtime", Cuda.formatVersion(Cuda.runtimeVersion()))
                .environment("JDK", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"))
                .environment("commit", opt.getOrDefault("commit", "?"))
                .environment("host CPUs", Runtime.getRuntime().availableProcessors());

        // The C program's first run comes before this JVM makes its CUDA context (no stream yet).
        Map<String, double[]> cFirst = runC(opt.get("c-baseline"), rounds, batch);
        try (Arena arena = Arena.ofConfined()) {
            callOverhead(opt, cFirst, gpu, arena, rounds, batch).forEach(w::table);
        }
        try (CudaStream stream = CudaStream.create(gpu)) {
            w.table(kernels(opt, gpu, stream, n));
        }
        w.note("Call overhead: median ns per call over " + rounds + " rounds of " + batch + " calls; the clock runs around the "
                + "calls only, the stream is synchronised after it stops. C = the standalone C program, run alternately with "
                + "the Java loops (its first run before this JVM makes a CUDA context); C in the JVM = the same C loop called once per round from Java; FFM = a "
                + "Java loop over the jextract bindings; FFM critical = the same with critical downcall handles; infra4j API = "
                + "binding plus status check; JMH = DowncallBenchmark (free-running, forked JVM). FFM - C is the median of the "
                + "paired differences. Target: FFM - C <= 20 ns.");
        w.note("Kernels: median of 30 runs after 5 warm-ups, CUDA events, L2 flushed before each run; bytes = input read once "
                + "+ output written once. Ceiling = device-to-device copy engine on the same bytes. Peer = PyTorch "
                + "(same shapes, same GPU, same command).");
        Path md = w.appendTo(out);
        System.out.println(Files.readString(md, StandardCharsets.UTF_8));
    }

    /** The standalone C program's medians (and p10s), by call name. */
    private static Map<String, double[]> runC(String exe, int rounds, int batch) throws IOException, InterruptedException {
        Map<String, double[]> c = new HashMap<>();
        if (exe == null) {
            return c;
        }
        Process p = new ProcessBuilder(exe, String.valueOf(rounds), String.valueOf(batch))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("the C baseline " + exe + " failed (exit " + p.exitValue() + ")");
        }
        ObjectMapper m = new ObjectMapper();
        for (String line : text.split("\n")) {
            if (line.startsWith("{")) {
                JsonNode j = m.readTree(line);
                c.put(j.get("call").asText(), new double[] {j.get("median_ns").asDouble(), j.get("p10_ns").asDouble()});
            }
        }
        return c;
    }

    /**
     * Alternates the standalone C program and the Java loops {@code pairs} times (the GPU's and the
     * machine's state drift between runs by more than the cost being measured, so each Java figure is
     * compared with the C run next to it in time) and reports medians over the pairs.
     */
    private static List<ResultTable> callOverhead(Map<String, String> opt, Map<String, double[]> cFirst, CudaDevice gpu,
                                                  Arena arena, int rounds, int batch)
            throws IOException, InterruptedException {
        String exe = opt.get("c-baseline");
        int pairs = Integer.parseInt(opt.getOrDefault("pairs", "3"));
        List<Map<String, double[]>> cRuns = new ArrayList<>();
        List<List<CallOverhead.Result>> javaRuns = new ArrayList<>();
        for (int i = 0; i < pairs; i++) {
            cRuns.add(i == 0 ? cFirst : runC(exe, rounds, batch));
            // A fresh stream and event each time, as the C program has: a stream's cost of a query grows
            // with the work it has seen (hundreds of thousands of launches in an earlier pair).
            try (CudaStream fresh = CudaStream.create(gpu); CudaEvent ev = CudaEvent.create(false)) {
                javaRuns.add(new CallOverhead(fresh, ev, arena).measureAll(rounds, batch));
            }
        }
        Map<String, Double> jmh = readJmh(opt.get("jmh-json"));
        Map<CallOverhead.Call, String> jmhName = Map.of(
                CallOverhead.Call.ABI_VERSION, "nativeNoop", CallOverhead.Call.GET_DEVICE, "cudaGetDevice",
                CallOverhead.Call.STREAM_QUERY, "cudaStreamQuery", CallOverhead.Call.EVENT_RECORD, "cudaEventRecord",
                CallOverhead.Call.EMPTY_KERNEL, "emptyKernelLaunch");

        ResultTable t = new ResultTable("FFM call overhead (ns per call, medians over " + pairs + " alternating C/Java pairs)",
                "call", "C", "C in the JVM", "FFM", "FFM critical", "infra4j API", "JMH (FFM)",
                "FFM - C in the JVM", "FFM - C", "FFM / C", "within 20 ns of C");
        ResultTable d = new ResultTable("Call overhead: every run (median ns per call)",
                "call", "pair", "C", "C in the JVM", "FFM", "FFM critical", "infra4j API", "FFM p10", "FFM - C");
        for (CallOverhead.Call call : CallOverhead.Call.values()) {
            double[] c = new double[pairs];
            double[] inJvm = new double[pairs];
            double[] ffm = new double[pairs];
            double[] crit = new double[pairs];
            double[] api = new double[pairs];
            double[] diffC = new double[pairs];
            double[] diffJvm = new double[pairs];
            for (int i = 0; i < pairs; i++) {
                List<CallOverhead.Result> j = javaRuns.get(i);
                c[i] = cRuns.get(i).getOrDefault(call.cName, new double[] {Double.NaN})[0];
                inJvm[i] = find(j, call, "c-in-jvm");
                ffm[i] = find(j, call, "ffm");
                crit[i] = find(j, call, "ffm-critical");
                api[i] = find(j, call, "infra4j");
                diffC[i] = ffm[i] - c[i];
                diffJvm[i] = ffm[i] - inJvm[i];
                double p10 = j.stream().filter(r -> r.call() == call && r.path().equals("ffm"))
                        .mapToDouble(CallOverhead.Result::p10Ns).findFirst().orElse(Double.NaN);
                d.row(call.cName, i + 1, c[i], inJvm[i], ffm[i], crit[i], api[i], p10, diffC[i]);
            }
            double dc = median(diffC);
            t.row(call.cName, median(c), median(inJvm), median(ffm), median(crit), median(api),
                    jmh.getOrDefault(jmhName.get(call), Double.NaN), median(diffJvm), dc, median(ffm) / median(c),
                    Double.isNaN(dc) ? "n/a" : (dc <= 20.0 ? "yes" : "no"));
        }
        return List.of(t, d);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double find(List<CallOverhead.Result> rs, CallOverhead.Call call, String path) {
        return rs.stream().filter(r -> r.call() == call && r.path().equals(path)).mapToDouble(CallOverhead.Result::medianNs)
                .findFirst().orElse(Double.NaN);
    }

    /** JMH's JSON results: benchmark method name to score (ns/op). */
    static Map<String, Double> readJmh(String file) throws IOException {
        Map<String, Double> out = new HashMap<>();
        if (file == null || !Files.exists(Paths.get(file))) {
            return out;
        }
        for (JsonNode b : new ObjectMapper().readTree(Paths.get(file).toFile())) {
            String name = b.get("benchmark").asText();
            out.put(name.substring(name.lastIndexOf('.') + 1), b.get("primaryMetric").get("score").asDouble());
        }
        return out;
    }

    private static ResultTable kernels(Map<String, String> opt, CudaDevice gpu, CudaStream stream, long n) throws IOException {
        Map<String, Double> peer = new HashMap<>();
        String peerFile = opt.get("peer-json");
        if (peerFile != null && Files.exists(Paths.get(peerFile))) {
            JsonNode j = new ObjectMapper().readTree(Paths.get(peerFile).toFile());
            j.get("ops").fields().forEachRemaining(e -> peer.put(e.getKey(), e.getValue().get("median_ms").asDouble()));
        }
        Device dev = Device.cuda(gpu.ordinal());
        ResultTable t = new ResultTable("Element-wise kernels and copies, " + n + " elements",
                "op", "bytes", "median ms", "GB/s", "% of copy ceiling", "PyTorch ms", "ours / PyTorch");
        try (TensorScope s = TensorScope.open(stream); GpuBench bench = GpuBench.open(dev, stream)) {
            Tensor hostF32 = s.pinned(DType.F32, n);
            randomFill(hostF32);
            Tensor f32 = s.empty(DType.F32, dev, n);
            TensorOps.copy(hostF32, f32, stream);
            Tensor f32b = s.empty(DType.F32, dev, n);
            Tensor bf16 = s.empty(DType.BF16, dev, n);
            Tensor bf16b = s.empty(DType.BF16, dev, n);
            Tensor f16 = s.empty(DType.F16, dev, n);
            Tensor e4m3 = s.empty(DType.F8_E4M3, dev, n);
            Tensor e5m2 = s.empty(DType.F8_E5M2, dev, n);
            TensorOps.cast(f32, bf16, CastMode.STANDARD, stream);
            TensorOps.cast(f32, e4m3, CastMode.SATURATE, stream);
            stream.synchronize();

            Map<String, Object[]> rows = new LinkedHashMap<>();
            GpuTiming ceiling = bench.time("copy_d2d_f32", () -> TensorOps.copy(f32, f32b, stream));
            long ceilBytes = 8 * n;
            record Op(String name, long bytes, Runnable work) {}
            List<Op> ops = new ArrayList<>();
            ops.add(new Op("copy_d2d_f32", ceilBytes, () -> TensorOps.copy(f32, f32b, stream)));
            ops.add(new Op("fill_f32", 4 * n, () -> TensorOps.fillBits(f32b, 0x3F800000L, stream)));
            ops.add(new Op("fill_bf16", 2 * n, () -> TensorOps.fillBits(bf16b, 0x3F80L, stream)));
            ops.add(new Op("cast_f32_bf16", 6 * n, () -> TensorOps.cast(f32, bf16b, CastMode.STANDARD, stream)));
            ops.add(new Op("cast_bf16_f32", 6 * n, () -> TensorOps.cast(bf16, f32b, CastMode.STANDARD, stream)));
            ops.add(new Op("cast_f32_f16", 6 * n, () -> TensorOps.cast(f32, f16, CastMode.STANDARD, stream)));
            ops.add(new Op("cast_f32_e4m3_sat", 5 * n, () -> TensorOps.cast(f32, e4m3, CastMode.SATURATE, stream)));
            ops.add(new Op("cast_e4m3_f32", 5 * n, () -> TensorOps.cast(e4m3, f32b, CastMode.STANDARD, stream)));
            ops.add(new Op("cast_f32_e5m2", 5 * n, () -> TensorOps.cast(f32, e5m2, CastMode.STANDARD, stream)));
            ops.add(new Op("cast_bf16_e4m3_sat", 3 * n, () -> TensorOps.cast(bf16, e4m3, CastMode.SATURATE, stream)));
            long side = (long) Math.sqrt((double) n);
            Tensor square = bf16.view(-1).slice(0, 0, side * side).view(side, side).transpose(0, 1);
            Tensor squareOut = bf16b.slice(0, 0, side * side).view(side, side);
            ops.add(new Op("transpose_bf16_" + side + "x" + side, 4 * side * side, () -> TensorOps.copy(square, squareOut, stream)));
            Tensor devBytes = f32b.view(-1);
            ops.add(new Op("h2d_pinned_f32", 4 * n, () -> TensorOps.copy(hostF32, devBytes, stream)));
            ops.add(new Op("d2h_pinned_f32", 4 * n, () -> TensorOps.copy(f32, hostF32, stream)));
            for (Op op : ops) {
                GpuTiming g = op.name().equals("copy_d2d_f32") ? ceiling : bench.time(op.name(), op.work());
                double gbs = g.gbPerSecond(op.bytes());
                double torch = peer.getOrDefault(op.name(), Double.NaN);
                t.row(op.name(), op.bytes(), g.medianMs(), gbs, 100.0 * gbs / ceiling.gbPerSecond(ceilBytes), torch,
                        g.medianMs() / torch);
            }
        }
        return t;
    }

    /** Random values over many binades (all cast branches), generated in parallel straight into the tensor. */
    static void randomFill(Tensor hostF32) {
        MemorySegment seg = hostF32.segment();
        long n = hostF32.numel();
        int chunks = 256;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            SplittableRandom r = new SplittableRandom(1234 + c);
            long from = n * c / chunks;
            long to = n * (c + 1) / chunks;
            for (long i = from; i < to; i++) {
                float v = (float) ((r.nextDouble() * 2 - 1) * Math.scalb(1.0, r.nextInt(-20, 12)));
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
            }
        });
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }
}
