package io.infra4j.cli;

import io.infra4j.benchmarks.gpu.GpuBench;
import io.infra4j.benchmarks.gpu.GpuTiming;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.flashmla.KvCache;
import io.infra4j.flashmla.MlaDecode;
import io.infra4j.flashmla.MlaOptions;
import io.infra4j.flashmla.MlaPlan;
import io.infra4j.memory.CastMode;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

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
    static final int D = 576;
    /** Width of V and of the output. */
    static final int DV = MlaDecode.HEAD_DIM_V;
    static final int WARMUP = 5;
    /** FP8 caches: the scale of every group of 128 values, as the benchmark sets them. */
    static final double FP8_SCALE = 0.03125;

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
    record Result(Config config, String gpu, int splits, int chunk, GpuTiming timing) {
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

    /** Builds the inputs on GPU 0, plans once and times the decode; the caller checked {@link #gpuMissing()}. */
    static Result run(Config c) {
        CudaDevice gpu = Cuda.device(0);
        Device dev = Device.cuda(0);
        try (CudaStream stream = CudaStream.create(gpu);
             GpuBench bench = GpuBench.open(dev, stream, new GpuBench.Options(WARMUP, c.runs(), true));
             TensorScope scope = TensorScope.open(stream)) {
            SplittableRandom r = new SplittableRandom(c.name().hashCode());
            int pages = (int) c.pagesPerSequence();
            int blocks = (int) c.blocks();
            Tensor q = random(scope, dev, stream, r, (long) c.batch() * c.seqlenQ() * c.headsQ() * D)
                    .view(c.batch(), c.seqlenQ(), c.headsQ(), D);
            Tensor kvFlat = random(scope, dev, stream, r, (long) blocks * c.pageSize() * c.headsKv() * D);
            Tensor kv16 = kvFlat.view(blocks, c.pageSize(), c.headsKv(), D);
            KvCache kv;
            if (c.fp8()) {
                Tensor data = scope.empty(DType.F8_E4M3, dev, blocks, c.pageSize(), c.headsKv(), D);
                TensorOps.cast(kv16, data, CastMode.SATURATE, stream);
                kv16.close(); // only the FP8 cache is read: free the BF16 values (in stream order)
                kvFlat.close();
                Tensor scales = scope.full(DType.F32, dev, FP8_SCALE, blocks, c.pageSize(), c.headsKv(),
                        (D + KvCache.SCALE_GROUP - 1) / KvCache.SCALE_GROUP);
                kv = KvCache.fp8(data, scales);
            } else {
                kv = KvCache.bf16(kv16);
            }
            int[] table = permutedTable(r, blocks);
            Tensor blockTable = upload(scope, dev, stream, table, c.batch(), pages);
            int[] lens = new int[c.batch()];
            Arrays.fill(lens, c.seqlenK());
            Tensor seqlens = upload(scope, dev, stream, lens, c.batch());
            MlaOptions options = MlaOptions.defaults().withCausal(c.causal());
            Tensor out = scope.empty(DType.BF16, dev, c.batch(), c.seqlenQ(), c.headsQ(), DV);
            Tensor lse = scope.empty(DType.F32, dev, c.batch(), c.headsQ(), c.seqlenQ());
            try (MlaPlan plan = MlaDecode.plan(seqlens, stream)) {
                GpuTiming t = bench.time(c.name(),
                        () -> MlaDecode.decodeInto(q, kv, blockTable, seqlens, plan, options, out, lse));
                stream.synchronize();
                return new Result(c, gpu.name(), plan.totalSplits(), plan.chunk(), t);
            }
        }
    }

    /** The block table [batch, pages]: a random permutation of the blocks, each sequence owning {@code pages}. */
    static int[] permutedTable(SplittableRandom r, int blocks) {
        int[] perm = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            perm[i] = i;
        }
        for (int i = blocks - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }

    /** n BF16 values in [-2, 2): 1M drawn on the host, repeated on the device to fill the tensor. */
    private static Tensor random(TensorScope scope, Device dev, CudaStream stream, SplittableRandom r, long n) {
        int pool = (int) Math.min(n, 1 << 20);
        float[] v = new float[pool];
        for (int i = 0; i < pool; i++) {
            v[i] = (float) (r.nextDouble() * 4 - 2);
        }
        Tensor t = scope.empty(DType.BF16, dev, n);
        try (Tensor host = Tensor.ofFloats(DType.BF16, v, pool)) {
            for (long off = 0; off < n; off += pool) {
                long len = Math.min(pool, n - off);
                try (Tensor from = host.slice(0, 0, len); Tensor to = t.slice(0, off, off + len)) {
                    TensorOps.copy(from, to, stream);
                }
            }
        }
        return t;
    }

    private static Tensor upload(TensorScope scope, Device dev, CudaStream stream, int[] values, long... shape) {
        Tensor d = scope.empty(DType.I32, dev, shape);
        try (Tensor host = Tensor.empty(DType.I32, Device.CPU, shape)) {
            MemorySegment.copy(values, 0, host.segment(), ValueLayout.JAVA_INT_UNALIGNED, 0, values.length);
            TensorOps.copy(host, d, stream); // from pageable memory: read before it returns
        }
        return d;
    }
}
