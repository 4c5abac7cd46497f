package io.infra4j.flashmla;

import io.infra4j.ffm.CudaStream;
import io.infra4j.flashmla.internal.MlaConstants;
import io.infra4j.flashmla.internal.MlaKernel;
import io.infra4j.flashmla.internal.MlaPlanner;
import io.infra4j.flashmla.internal.MlaReference;
import io.infra4j.flashmla.internal.MlaShape;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.ValueLayout;

/**
 * Multi-head latent attention decoding over a paged KV cache, as FlashMLA's dense decode computes it.
 *
 * <pre>{@code
 * try (MlaPlan plan = MlaDecode.plan(cacheSeqlens, stream)) {       // once per step, shared by the layers
 *     for (Layer l : layers) {
 *         MlaDecode.decodeInto(q, l.kv(), blockTable, cacheSeqlens, plan, MlaOptions.defaults(), out, lse);
 *     }
 * }
 * }</pre>
 *
 * <p>Shapes (contiguous): q [batch, seqlen_q, heads_q, head_dim] BF16 with head_dim 576 or 512; the
 * cache as {@link KvCache} describes it (page size 16, 32 or 64, heads_q a multiple of heads_kv);
 * blockTable [batch, max_blocks] I32; cacheSeqlens [batch] I32, 0 allowed. Results: out
 * [batch, seqlen_q, heads_q, 512] BF16 and lse [batch, heads_q, seqlen_q] F32 (natural log). Query
 * token i sees keys 0 .. len - seqlen_q + i when causal, all len keys otherwise; a row that sees no
 * key gets out 0 and lse +inf.
 *
 * <p>Tensors on a GPU run libinfra4j_cuda's kernel on the plan's stream, asynchronously; tensors on
 * the CPU run {@link MlaReference} (FP32), which is also the GPU tests' oracle. Bad input raises
 * {@link IllegalArgumentException} naming the argument before any native call.
 */
public final class MlaDecode {
    /** Width of V and of the output: the first 512 dimensions of K. */
    public static final int HEAD_DIM_V = MlaConstants.HEAD_DIM_V;

    private MlaDecode() {}

    /** Whether the GPU path can run here: CUDA, libinfra4j_cuda, and its MLA functions. */
    public static boolean isGpuAvailable() {
        return MlaKernel.isAvailable();
    }

    // ---- plans ----

    /** The plan of the lengths in {@code cacheSeqlens}, on their device, on the legacy default stream. */
    public static MlaPlan plan(Tensor cacheSeqlens) {
        return plan(cacheSeqlens, CudaStream.legacyDefault());
    }

    /**
     * The plan of the lengths in {@code cacheSeqlens} [batch] I32 (each >= 0), on their device.
     * Device lengths are copied to the host once (the call waits for {@code stream}); the plan words
     * are uploaded on {@code stream}, which the decodes with this plan then use. The split target is
     * twice the GPU's multiprocessors (264 on an H200; 264 on the CPU, for identical plans).
     */
    public static MlaPlan plan(Tensor cacheSeqlens, CudaStream stream) {
        return MlaPlans.make(cacheSeqlens, 0, stream);
    }

    /**
     * As {@link #plan(Tensor, CudaStream)}, in at most {@code parts} work items of equal cost (for tuning; the
     * default is one per multiprocessor, and the kernel runs one CTA per part, KV head and tile of 64 query rows).
     */
    public static MlaPlan plan(Tensor cacheSeqlens, int parts, CudaStream stream) {
        if (parts < 1 || parts > MlaPlanner.MAX_PARTS) {
            throw new IllegalArgumentException("parts: expected 1.." + MlaPlanner.MAX_PARTS + ", got " + parts);
        }
        return MlaPlans.make(cacheSeqlens, parts, stream);
    }

    // ---- decoding ----

    /**
     * Decodes into new tensors of {@code scope}, on q's device. On a GPU the scope's stream must be
     * the plan's (the results are written, and later freed, in that stream's order).
     */
    public static MlaResult decode(Tensor q, KvCache kv, Tensor blockTable, Tensor cacheSeqlens, MlaPlan plan,
                                   MlaOptions options, TensorScope scope) {
        MlaShape s = DecodeArgs.inputs(q, kv, blockTable, cacheSeqlens, plan, options);
        if (scope == null) {
            throw new IllegalArgumentException("scope: expected a TensorScope, got null");
        }
        Device device = q.device();
        if (device.isCuda()) {
            DecodeArgs.stream(plan, device);
        }
        if (device.isCuda() && scope.stream() != plan.stream()) {
            throw new IllegalArgumentException("scope: its stream " + scope.stream() + " is not the plan's " + plan.stream()
                    + "; open the scope on the stream the plan was made on");
        }
        Tensor out = scope.empty(DType.BF16, device, s.batch(), s.seqlenQ(), s.headsQ(), s.headDimV());
        Tensor lse = scope.empty(DType.F32, device, s.batch(), s.headsQ(), s.seqlenQ());
        try {
            run(s, q, kv, blockTable, cacheSeqlens, plan, options, out, lse);
        } catch (RuntimeException e) {
            out.close();
            lse.close();
            throw e;
        }
        return new MlaResult(out, lse);
    }

    /**
     * Decodes into the caller's {@code out} [batch, seqlen_q, heads_q, 512] BF16 and {@code lse}
     * [batch, heads_q, seqlen_q] F32: what a benchmark repeats (plan once, decode many times). On a
     * GPU the work is queued on the plan's stream and this returns at once.
     */
    public static void decodeInto(Tensor q, KvCache kv, Tensor blockTable, Tensor cacheSeqlens, MlaPlan plan,
                                  MlaOptions options, Tensor out, Tensor lse) {
        MlaShape s = DecodeArgs.inputs(q, kv, blockTable, cacheSeqlens, plan, options);
        DecodeArgs.outputs(s, q.device(), out, lse);
        run(s, q, kv, blockTable, cacheSeqlens, plan, options, out, lse);
    }

    private static void run(MlaShape s, Tensor q, KvCache kv, Tensor blockTable, Tensor cacheSeqlens, MlaPlan plan,
                            MlaOptions options, Tensor out, Tensor lse) {
        float scale = options.softmaxScale(s.headDim());
        boolean causal = options.causal(s.seqlenQ());
        Device device = q.device();
        if (device.isCpu()) {
            int[] table = blockTable.segment().toArray(ValueLayout.JAVA_INT_UNALIGNED);
            new MlaReference(s, scale, causal, plan.seqlensView(), table, q.segment(), kv.data().segment(),
                    kv.isFp8() ? kv.scales().segment() : null).run(out.segment(), lse.segment());
            return;
        }
        CudaStream stream = DecodeArgs.stream(plan, device);
        MlaKernel.Pointers p = new MlaKernel.Pointers(q.address(), kv.data().address(),
                kv.isFp8() ? kv.scales().address() : 0, blockTable.address(), cacheSeqlens.address(),
                plan.buffer().address(), out.address(), lse.address());
        MlaKernel.decode(s, scale, causal, p, plan.totalSplits(), device, stream);
    }
}
