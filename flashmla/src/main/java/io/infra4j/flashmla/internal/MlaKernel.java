package io.infra4j.flashmla.internal;

import io.infra4j.bindings.kernels.Infra4jKernels;
import io.infra4j.bindings.kernels.infra4j_mla_problem;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The GPU path: mla.h's functions in libinfra4j_cuda. Arguments are checked in Java before anything
 * here runs; the library is probed for the MLA symbols first, so that one built before them gives a
 * clear {@link io.infra4j.ffm.CudaUnavailableException} instead of a failed class initialiser.
 */
public final class MlaKernel {
    private static final String[] SYMBOLS = {"infra4j_mla_plan_words", "infra4j_mla_workspace_bytes", "infra4j_mla_decode"};

    private MlaKernel() {}

    /** Throws unless the kernels can run here and the library has MLA decoding. */
    public static void require() {
        KernelLibrary.requireSymbols("MLA decoding", SYMBOLS);
    }

    /** Whether MLA decoding can run on a GPU here. */
    public static boolean isAvailable() {
        return KernelLibrary.hasSymbols(SYMBOLS);
    }

    /** The plan's size as the library computes it (the plan builder checks its own against it). */
    public static long planWords(int batch) {
        require();
        return Infra4jKernels.infra4j_mla_plan_words(batch);
    }

    /** Multiprocessors of a GPU: the plan's split target is twice this. */
    public static int multiprocessors(Device device) {
        return Cuda.device(device.index()).multiprocessorCount();
    }

    /** Device pointers of one decode (0 for no scales). */
    public record Pointers(long q, long kv, long kvScales, long blockTable, long seqlens, long plan, long out, long lse) {}

    /**
     * Queues the decode on {@code stream}: scratch from the device's pool, the split and combine
     * kernels, then the scratch's free, all in stream order.
     */
    public static void decode(MlaShape s, float scale, boolean causal, Pointers p, int totalSplits, Device device,
                              CudaStream stream) {
        require();
        Cuda.useDevice(device.index());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment problem = problem(arena, s, scale, causal);
            long bytes = Infra4jKernels.infra4j_mla_workspace_bytes(problem, totalSplits);
            if (bytes < 0) {
                throw new IllegalStateException("infra4j_mla_workspace_bytes returned " + bytes + " for " + s + " and "
                        + totalSplits + " splits: the library refuses a problem that Java accepted");
            }
            try (Tensor workspace = Tensor.empty(DType.U8, device, stream, bytes)) {
                Cuda.check(Infra4jKernels.infra4j_mla_decode(problem, ptr(p.q()), ptr(p.kv()), ptr(p.kvScales()),
                        ptr(p.blockTable()), ptr(p.seqlens()), ptr(p.plan()), totalSplits,
                        ptr(workspace.address()),
                        ptr(p.out()), ptr(p.lse()), stream.handle()), "infra4j_mla_decode(" + s + ")");
            } // freed in stream order, after the kernels
        }
    }

    private static MemorySegment problem(Arena arena, MlaShape s, float scale, boolean causal) {
        MemorySegment m = infra4j_mla_problem.allocate(arena);
        infra4j_mla_problem.batch(m, s.batch());
        infra4j_mla_problem.seqlen_q(m, s.seqlenQ());
        infra4j_mla_problem.heads_q(m, s.headsQ());
        infra4j_mla_problem.heads_kv(m, s.headsKv());
        infra4j_mla_problem.head_dim(m, s.headDim());
        infra4j_mla_problem.head_dim_v(m, s.headDimV());
        infra4j_mla_problem.page_size(m, s.pageSize());
        infra4j_mla_problem.num_blocks(m, s.numBlocks());
        infra4j_mla_problem.max_blocks(m, s.maxBlocks());
        infra4j_mla_problem.causal(m, causal ? 1 : 0);
        infra4j_mla_problem.softmax_scale(m, scale);
        infra4j_mla_problem.kv_dtype(m, s.fp8() ? DType.F8_E4M3.code() : DType.BF16.code());
        return m;
    }

    private static MemorySegment ptr(long address) {
        return address == 0 ? MemorySegment.NULL : MemorySegment.ofAddress(address);
    }
}
