package io.infra4j.cli;

import io.infra4j.benchmarks.deepep.EpBenchmarks;
import io.infra4j.benchmarks.gpu.GpuBench;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.memory.Device;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code infra4j bench ep}: one expert-parallel configuration timed on GPU 0 the way the deepep
 * benchmark (io.infra4j.benchmarks.deepep.EpBenchmarks) times its own: W simulated ranks, CUDA events,
 * the L2 flushed before each run, the median reported, and a device-to-device copy of the same bytes as
 * the peer.
 */
final class EpBench {
    static final int WARMUP = EpBenchmarks.WARMUP; // a fresh JVM: the host side of a step must be compiled first
    static final long SEED = 1234;

    private EpBench() {}

    /** Null when GPU 0 can run the configuration; else why not, in one line. */
    static String gpuMissing(EpBenchmarks.Config c) {
        if (!Cuda.isAvailable()) {
            return TextFormat.reason(Cuda.unavailableReason());
        }
        if (!KernelLibrary.isAvailable()) {
            return "infra4j's CUDA kernels are not available: " + TextFormat.reason(KernelLibrary.unavailableReason());
        }
        String missing = EpBenchmarks.missing(c);
        return missing == null ? null : TextFormat.reason(missing);
    }

    record Result(EpBenchmarks.Result figures, String gpu, int runs) {}

    static Result run(EpBenchmarks.Config c, int runs) {
        CudaDevice gpu = Cuda.device(0);
        try (CudaStream stream = CudaStream.create(gpu);
                GpuBench bench = GpuBench.open(Device.cuda(0), stream, new GpuBench.Options(WARMUP, runs, true))) {
            // A fresh JVM queues a step's launches slowly until the JIT has compiled that code: one full pass
            // untimed first (the warm-ups alone left the host side visible in the times).
            EpBenchmarks.run(c, bench, SEED);
            return new Result(EpBenchmarks.run(c, bench, SEED), gpu.name(), runs);
        }
    }

    static Map<String, Object> json(Result r) {
        EpBenchmarks.Result f = r.figures();
        EpBenchmarks.Config c = f.config();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("mode", c.mode());
        config.put("world", c.world());
        config.put("tokens_per_rank", c.tokens());
        config.put("rows", c.fp8() ? "fp8" : "bf16");
        config.put("hidden", c.hidden());
        config.put("experts", c.experts());
        config.put("top_k", c.topK());
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("benchmark", "ep");
        doc.put("name", c.name());
        doc.put("device", "cuda:0");
        doc.put("gpu", r.gpu());
        doc.put("config", config);
        doc.put("timing", "CUDA events, median of " + r.runs() + " runs after " + WARMUP + " warm-ups, L2 flushed");
        doc.put("layout_ms", f.layoutMs());
        doc.put("dispatch_ms", f.dispatchMs());
        doc.put("dispatch_bytes", f.dispatchBytes());
        doc.put("dispatch_gb_per_s", f.dispatchGbs());
        doc.put("dispatch_copy_ms", f.dispatchCopyMs());
        doc.put("combine_ms", f.combineMs());
        doc.put("combine_bytes", f.combineBytes());
        doc.put("combine_gb_per_s", f.combineGbs());
        doc.put("combine_copy_ms", f.combineCopyMs());
        return doc;
    }

    static void print(Result r, PrintStream out) {
        EpBenchmarks.Result f = r.figures();
        out.printf(Locale.ROOT, "bench ep on GPU 0 (%s): %s%n", r.gpu(), f.config().name());
        out.printf(Locale.ROOT, "  timing    median of %d runs after %d warm-ups, L2 flushed%n", r.runs(), WARMUP);
        out.printf(Locale.ROOT, "  layout    %.1f us (one rank)%n", f.layoutMs() * 1e3);
        out.printf(Locale.ROOT, "  dispatch  %.1f us, %.0f GB/s of rows received (%.4g bytes); a copy of them: %.1f us%n",
                f.dispatchMs() * 1e3, f.dispatchGbs(), (double) f.dispatchBytes(), f.dispatchCopyMs() * 1e3);
        out.printf(Locale.ROOT, "  combine   %.1f us, %.0f GB/s of rows returned (%.4g bytes); a copy of them: %.1f us%n",
                f.combineMs() * 1e3, f.combineGbs(), (double) f.combineBytes(), f.combineCopyMs() * 1e3);
    }
}
