package io.infra4j.benchmarks.flashmla;

import io.infra4j.benchmarks.gpu.GpuBench;
import io.infra4j.benchmarks.gpu.GpuTiming;
import io.infra4j.ffm.CudaStream;
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
import java.util.SplittableRandom;

/**
 * The inputs of one timed MLA decode, built on a device the same way by the recorded benchmark
 * ({@link MlaBenchmarks}) and by {@code infra4j bench mla}: random values in [-2, 2), a cache whose
 * pages are a random permutation of its blocks (each sequence owning ceil(length / page) of them),
 * FP8 caches cast from the BF16 values with every scale 1/32, and the output tensors. Everything
 * lives in the caller's scope.
 */
public record MlaInputs(Tensor q, KvCache kv, Tensor blockTable, Tensor seqlens, Tensor out, Tensor lse) {
    public static final int D = 576;
    public static final int DV = MlaDecode.HEAD_DIM_V;
    public static final double FP8_SCALE = 0.03125;

    /** One timing: the decode's CUDA-event times and the plan it ran with. */
    public record Timed(GpuTiming timing, int splits, int longestSplit) {}

    /** Inputs for {@code lengths.length} sequences, drawn from a generator seeded with {@code seed}. */
    public static MlaInputs random(TensorScope scope, Device dev, CudaStream stream, long seed, int seqlenQ, int headsQ,
                                   int headsKv, int page, int[] lengths, boolean fp8) {
        SplittableRandom r = new SplittableRandom(seed);
        int batch = lengths.length;
        int maxPages = 1;
        int blocks = 0;
        for (int len : lengths) {
            int pages = (len + page - 1) / page;
            maxPages = Math.max(maxPages, pages);
            blocks += pages;
        }
        Tensor q = fill(scope, dev, stream, r, (long) batch * seqlenQ * headsQ * D).view(batch, seqlenQ, headsQ, D);
        Tensor kvFlat = fill(scope, dev, stream, r, (long) blocks * page * headsKv * D);
        Tensor kv16 = kvFlat.view(blocks, page, headsKv, D);
        KvCache kv;
        if (fp8) {
            Tensor data = scope.empty(DType.F8_E4M3, dev, blocks, page, headsKv, D);
            TensorOps.cast(kv16, data, CastMode.SATURATE, stream);
            kv16.close(); // only the FP8 cache is read: free the BF16 values (in stream order)
            kvFlat.close();
            Tensor scales = scope.full(DType.F32, dev, FP8_SCALE, blocks, page, headsKv,
                    (D + KvCache.SCALE_GROUP - 1) / KvCache.SCALE_GROUP);
            kv = KvCache.fp8(data, scales);
        } else {
            kv = KvCache.bf16(kv16);
        }
        int[] perm = permutation(r, blocks);
        int[] table = new int[batch * maxPages];
        int next = 0;
        for (int s = 0; s < batch; s++) {
            for (int k = 0; k < (lengths[s] + page - 1) / page; k++) {
                table[s * maxPages + k] = perm[next++];
            }
        }
        Tensor blockTable = upload(scope, dev, stream, table, batch, maxPages);
        Tensor seqlens = upload(scope, dev, stream, lengths, batch);
        Tensor out = scope.empty(DType.BF16, dev, batch, seqlenQ, headsQ, DV);
        Tensor lse = scope.empty(DType.F32, dev, batch, headsQ, seqlenQ);
        return new MlaInputs(q, kv, blockTable, seqlens, out, lse);
    }

    /** Plans once, then times {@code decodeInto} with {@code bench} (on the plan's stream). */
    public Timed time(GpuBench bench, String name, MlaOptions options, CudaStream stream) {
        try (MlaPlan plan = MlaDecode.plan(seqlens, stream)) {
            GpuTiming t = bench.time(name, () -> MlaDecode.decodeInto(q, kv, blockTable, seqlens, plan, options, out, lse));
            stream.synchronize();
            return new Timed(t, plan.totalSplits(), plan.longestSplit());
        }
    }

    /** A random permutation of 0 .. n-1 (Fisher-Yates). */
    public static int[] permutation(SplittableRandom r, int n) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }

    /** n BF16 values in [-2, 2): 1M drawn on the host, repeated on the device to fill the tensor. */
    private static Tensor fill(TensorScope scope, Device dev, CudaStream stream, SplittableRandom r, long n) {
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
            stream.synchronize(); // the host values must outlive the copies that read them
        }
        return t;
    }

    private static Tensor upload(TensorScope scope, Device dev, CudaStream stream, int[] values, long... shape) {
        Tensor d = scope.empty(DType.I32, dev, shape);
        try (Tensor host = Tensor.empty(DType.I32, Device.CPU, shape)) {
            MemorySegment.copy(values, 0, host.segment(), ValueLayout.JAVA_INT_UNALIGNED, 0, values.length);
            TensorOps.copy(host, d, stream);
            stream.synchronize(); // from pageable memory: the copy must finish before the host tensor closes
        }
        return d;
    }
}
