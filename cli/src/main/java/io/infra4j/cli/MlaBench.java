package io.infra4j.cli;

import io.infra4j.benchmarks.flashmla.MlaInputs;
import io.infra4j.benchmarks.gpu.GpuBench;
import io.infra4j.benchmarks.gpu.GpuTiming;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.flashmla.MlaDecode;
import io.infra4j.flashmla.MlaOptions;
import io.infra4j.memory.Device;
import io.infra4j.memory.TensorScope;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@code infra4j bench mla}: one MLA decode configuration timed on GPU 0 the way the flashmla
 * benchmark (io.infra4j.benchmarks.flashmla.MlaBenchmarks) times its own: random BF16 inputs in
 * [-2, 2) seeded by the configuration's name, each sequence's pages a random permutation of the
 * blocks, an FP8 cache cast from them (saturating) with scales 1/32, one plan, then
 * {@link GpuBench}: warm-ups, each timed run between CUDA events with the L2 flushed before it, the
 * median reported. Every sequence holds s_k tokens.
 */
final class MlaBench {
    /** Width of q and K: DeepSeek's MLA, 512 latent + 64 RoPE dimensions. */
    static final int D = MlaInputs.D;
    /** Width of V and of the output. */
    static final int DV = MlaDecode.HEAD_DIM_V;
    static final int WARMUP = 5;
    /** FP8 caches: the scale of every group of 128 values, as the benchmark sets them. */
    static final double FP8_SCALE = MlaInputs.FP8_SCALE;

    private MlaBench() {}

    /** One configuration: b sequences of s_k cached tokens, s_q query tokens each. */
    record Config(int batch, int headsQ, int seqlenQ, int seqlenK, int headsKv, int pageSize, boolean causal, boolean fp8,
                  int runs) {
        /** The benchmark's way of naming a configuration (its inputs are seeded by the name). */
        String name() {
            return String.format(Locale.ROOT, "b%d hq%d sq%d sk%d", batch, headsQ, seqlenQ, seqlenK)
                    + (headsKv != 1 ? " hkv" + headsKv : "") + (pageSize != 64 ? " page" + pageSize : "")
                    + (causal ? " causal" : "") + (fp8 ? " fp8" : "");
        }

        /** Bytes per cached value: 2 for BF16, 1 for FP8. */
        int kvBytes() {
            return fp8 ? 1 : 2;
        }

        String kv() {
            return fp8 ? "fp8" : "bf16";
        }

        /** Pages of one sequence. */
        long pagesPerSequence() {
            return (seqlenK + (long) pageSize - 1) / pageSize;
        }

        /** Blocks of the whole cache: every sequence's pages. */
        long blocks() {
            return batch * pagesPerSequence();
        }

        /** FLOPs = b*h_q*s_q*(2*d*mean_s_k + 2*mean_s_k*dv): Q·K and P·V, as FlashMLA counts them. */
        double flops() {
            return (double) batch * headsQ * seqlenQ * (2.0 * D * seqlenK + 2.0 * seqlenK * DV);
        }

        /**
         * Bytes = b*(s_q*h_q*d*2 + mean_s_k*h_kv*(d*kv_bytes + scale_bytes) + s_q*h_q*dv*2): q, the
         * cache once (with its FP32 scales for FP8, five per token and head), out; as MlaBenchmarks counts.
         */
        double bytes() {
            double scaleBytes = kvBytes() == 1 ? (D + 127) / 128 * 4.0 : 0;
            return (double) batch * (2.0 * seqlenQ * headsQ * D + (double) seqlenK * headsKv * (D * kvBytes() + scaleBytes)
                    + 2.0 * seqlenQ * headsQ * DV);
        }
    }

    /** A timed configuration. */
    record Result(Config config, String gpu, int splits, int longestSplit, GpuTiming timing) {
        double ms() {
            return timing.medianMs();
        }

        double tflops() {
            return config.flops() / ms() / 1e9;
        }

        double tbPerSecond() {
            return config.bytes() / ms() / 1e9;
        }
    }

    /** Null when GPU 0 can run the decode; else why not, in one line. */
    static String gpuMissing() {
        if (!Cuda.isAvailable()) {
            return TextFormat.reason(Cuda.unavailableReason());
        }
        if (!KernelLibrary.isAvailable()) {
            return "CUDA works but the infra4j kernels do not: " + TextFormat.reason(KernelLibrary.unavailableReason());
        }
        if (!MlaDecode.isGpuAvailable()) {
            return "the loaded libinfra4j_cuda has no MLA decoding (built from older sources; rebuild native-src)";
        }
        return null;
    }

    /** Builds the inputs on GPU 0 as the recorded benchmark does, plans once and times the decode; the caller checked {@link #gpuMissing()}. */
    static Result run(Config c) {
        CudaDevice gpu = Cuda.device(0);
        Device dev = Device.cuda(0);
        try (CudaStream stream = CudaStream.create(gpu);
             GpuBench bench = GpuBench.open(dev, stream, new GpuBench.Options(WARMUP, c.runs(), true));
             TensorScope scope = TensorScope.open(stream)) {
            int[] lens = new int[c.batch()];
            Arrays.fill(lens, c.seqlenK());
            MlaInputs in = MlaInputs.random(scope, dev, stream, c.name().hashCode(), c.seqlenQ(), c.headsQ(), c.headsKv(),
                    c.pageSize(), lens, c.fp8());
            MlaInputs.Timed t = in.time(bench, c.name(), MlaOptions.defaults().withCausal(c.causal()), stream);
            return new Result(c, gpu.name(), t.splits(), t.longestSplit(), t.timing());
        }
    }
}
