package io.infra4j.deepep.internal;

import io.infra4j.bindings.kernels.Infra4jKernels;
import io.infra4j.bindings.kernels.infra4j_ep_peers;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The intranode kernels of ep.h in libinfra4j_cuda, over raw device addresses. Callers check every
 * argument in Java first (see {@link io.infra4j.deepep.IntranodeEp}); the library is probed for the
 * symbols, so that one built before them gives a clear {@link io.infra4j.ffm.CudaUnavailableException}.
 */
public final class EpKernels {
    private static final String[] SYMBOLS = {"infra4j_ep_layout", "infra4j_ep_dispatch", "infra4j_ep_combine", "infra4j_ep_block_starts",
            "infra4j_ep_ll_dispatch", "infra4j_ep_ll_combine"};

    /** The most ranks one call addresses. */
    public static final int MAX_RANKS = 64; // INFRA4J_EP_MAX_RANKS of ep.h (a Java constant: checks run without the library)

    private EpKernels() {}

    /** Whether the kernels can run on a GPU here. */
    public static boolean isAvailable() {
        return KernelLibrary.hasSymbols(SYMBOLS);
    }

    /** Throws unless the kernels can run here. */
    public static void require() {
        KernelLibrary.requireSymbols("Expert-parallel dispatch", SYMBOLS);
    }

    public static void layout(long topkIdx, int numTokens, int topK, int numExperts, int worldSize, long tokensPerRank,
            long tokensPerExpert, long isTokenInRank, long sendOffset, long badIds, CudaStream stream) {
        Cuda.check(Infra4jKernels.infra4j_ep_layout(ptr(topkIdx), numTokens, topK, numExperts, worldSize, ptr(tokensPerRank),
                ptr(tokensPerExpert), ptr(isTokenInRank), ptr(sendOffset), ptr(badIds), stream.handle()), "infra4j_ep_layout");
    }

    public static void blockStarts(long counts, int rowStride, int worldSize, long begin, CudaStream stream) {
        Cuda.check(Infra4jKernels.infra4j_ep_block_starts(ptr(counts), rowStride, worldSize, ptr(begin), stream.handle()),
                "infra4j_ep_block_starts");
    }

    /** Receive buffers of every destination rank (index = rank). */
    public record Peers(long[] x, long[] topkIdx, long[] topkWeights, long[] srcIdx) {}

    public static void dispatch(long x, int rowBytes, long topkIdx, long topkWeights, int numTokens, int topK, int numExperts,
            int worldSize, int rank, long isTokenInRank, long sendOffset, long rankBegin, Peers peers, CudaStream stream) {
        try (Arena arena = Arena.ofConfined()) {
            Cuda.check(Infra4jKernels.infra4j_ep_dispatch(ptr(x), rowBytes, ptr(topkIdx), ptr(topkWeights), numTokens, topK,
                    numExperts, worldSize, rank, ptr(isTokenInRank), ptr(sendOffset), ptr(rankBegin), peers(arena, peers.x()),
                    peers(arena, peers.topkIdx()), peers(arena, peers.topkWeights()), peers(arena, peers.srcIdx()),
                    stream.handle()), "infra4j_ep_dispatch(rank " + rank + ")");
        }
    }

    public static void combine(long[] expertOut, int hidden, int numTokens, int worldSize, long isTokenInRank, long sendOffset,
            long rankBegin, long out, CudaStream stream) {
        try (Arena arena = Arena.ofConfined()) {
            Cuda.check(Infra4jKernels.infra4j_ep_combine(peers(arena, expertOut), hidden, numTokens, worldSize, ptr(isTokenInRank),
                    ptr(sendOffset), ptr(rankBegin), ptr(out), stream.handle()), "infra4j_ep_combine");
        }
    }

    /** Low-latency receive buffers of every rank (index = rank); {@code scales} is null for BF16 rows. */
    public record LowLatencyPeers(long[] x, long[] scales, long[] count, long[] srcIdx, long[] range) {}

    /** The widest row the FP8 low-latency dispatch quantises: {@code INFRA4J_EP_LL_FP8_MAX_HIDDEN}. */
    public static final int LL_FP8_MAX_HIDDEN = 32768;

    public static void lowLatencyDispatch(long x, int hidden, boolean fp8, long topkIdx, int numTokens, int topK, int numExperts, int worldSize,
            int rank, int maxTokens, long slotPos, long expertBegin, long badIds, LowLatencyPeers peers, CudaStream stream) {
        try (Arena arena = Arena.ofConfined()) {
            Cuda.check(Infra4jKernels.infra4j_ep_ll_dispatch(ptr(x), hidden, fp8 ? 1 : 0, ptr(topkIdx), numTokens, topK, numExperts,
                    worldSize, rank, maxTokens, ptr(slotPos), ptr(expertBegin), ptr(badIds), peers(arena, peers.x()),
                    peers.scales() == null ? MemorySegment.NULL : peers(arena, peers.scales()), peers(arena, peers.count()),
                    peers(arena, peers.srcIdx()), peers(arena, peers.range()), stream.handle()), "infra4j_ep_ll_dispatch(rank " + rank + ")");
        }
    }

    public static void lowLatencyCombine(long[] expertOut, int hidden, long topkIdx, long topkWeights, int numTokens, int topK,
            int numExperts, int worldSize, int maxTokens, long slotPos, long expertBegin, long out, CudaStream stream) {
        try (Arena arena = Arena.ofConfined()) {
            Cuda.check(Infra4jKernels.infra4j_ep_ll_combine(peers(arena, expertOut), hidden, ptr(topkIdx), ptr(topkWeights), numTokens,
                    topK, numExperts, worldSize, maxTokens, ptr(slotPos), ptr(expertBegin), ptr(out), stream.handle()),
                    "infra4j_ep_ll_combine");
        }
    }

    private static MemorySegment peers(Arena arena, long[] addresses) {
        if (addresses.length > MAX_RANKS) {
            throw new IllegalArgumentException("at most " + MAX_RANKS + " ranks, got " + addresses.length);
        }
        MemorySegment s = infra4j_ep_peers.allocate(arena);
        MemorySegment ptrs = infra4j_ep_peers.ptr(s);
        for (int i = 0; i < addresses.length; i++) {
            ptrs.setAtIndex(ValueLayout.ADDRESS, i, ptr(addresses[i]));
        }
        return s;
    }

    private static MemorySegment ptr(long address) {
        return address == 0 ? MemorySegment.NULL : MemorySegment.ofAddress(address);
    }
}
