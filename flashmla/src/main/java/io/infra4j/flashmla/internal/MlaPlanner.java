package io.infra4j.flashmla.internal;

import java.util.Arrays;

/**
 * The split plan of a decoding step, computed on the host from the sequence lengths: every
 * sequence's keys are cut into splits of {@code chunk} tokens (a multiple of 64, the kernel's key
 * tile), with {@code chunk} the smallest that keeps the total near {@code targetSplits} (twice the
 * GPU's multiprocessors), so that short and long sequences alike keep every SM busy.
 *
 * <p>The words in device memory (mla.h): {@code [0]} chunk, {@code [1]} total splits,
 * {@code [2 .. 2 + batch]} split offsets, the exclusive prefix sums of each sequence's split count
 * ({@code ceil(len / chunk)}, so 0 for an empty sequence), batch + 1 entries.
 */
public final class MlaPlanner {
    /** Chunks are multiples of the kernel's key tile. */
    public static final int CHUNK_QUANTUM = 64;
    /** Splits per multiprocessor the plan aims at: two, so one SM's tail overlaps another's work. */
    public static final int SPLITS_PER_SM = 2;
    /** The longest sequence a plan takes: its chunk, a multiple of 64, must fit an int32. */
    public static final int MAX_SEQLEN = Integer.MAX_VALUE / CHUNK_QUANTUM * CHUNK_QUANTUM;
    /** Multiprocessors assumed where there is no GPU (an H100/H200 SXM): CPU plans then equal GPU ones. */
    public static final int DEFAULT_MULTIPROCESSORS = 132;

    private MlaPlanner() {}

    /** A computed plan. */
    public record Layout(int chunk, int totalSplits, int[] splitOffsets) {
        /** The words the kernel reads: chunk, total splits, then the batch + 1 offsets. */
        public int[] words() {
            int[] w = new int[2 + splitOffsets.length];
            w[0] = chunk;
            w[1] = totalSplits;
            System.arraycopy(splitOffsets, 0, w, 2, splitOffsets.length);
            return w;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Layout l && l.chunk == chunk && l.totalSplits == totalSplits
                    && Arrays.equals(l.splitOffsets, splitOffsets);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * chunk + totalSplits) + Arrays.hashCode(splitOffsets);
        }

        @Override
        public String toString() {
            return "Layout(chunk " + chunk + ", " + totalSplits + " splits, offsets " + Arrays.toString(splitOffsets) + ")";
        }
    }

    /** Words of the plan of {@code batch} sequences: mla.h's {@code infra4j_mla_plan_words}. */
    public static long planWords(int batch) {
        return 2L + batch + 1;
    }

    /** The split target for a GPU with {@code multiprocessors} SMs. */
    public static int targetSplits(int multiprocessors) {
        return Math.max(1, multiprocessors) * SPLITS_PER_SM;
    }

    /**
     * The plan of sequences of these lengths (each in [0, MAX_SEQLEN]; checked by the caller). The chunk is the
     * smallest multiple of 64 whose total stays within {@code targetSplits}; when even one split per
     * sequence exceeds the target (more non-empty sequences than that) every sequence gets one.
     */
    public static Layout plan(int[] seqlens, int targetSplits) {
        long maxLen = 0;
        for (int len : seqlens) {
            maxLen = Math.max(maxLen, len);
        }
        // Splits never grow with the chunk: search k in [1, kMax], chunk = 64 k, for the first within target.
        long kMax = Math.max(1, (maxLen + CHUNK_QUANTUM - 1) / CHUNK_QUANTUM);
        long lo = 1;
        long hi = kMax;
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            if (splits(seqlens, mid * CHUNK_QUANTUM) <= targetSplits) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        long chunk = lo * CHUNK_QUANTUM; // <= MAX_SEQLEN rounded up to 64: MAX_SEQLEN itself, an int
        int[] offsets = new int[seqlens.length + 1];
        long total = 0;
        for (int b = 0; b < seqlens.length; b++) {
            offsets[b] = (int) total;
            total += ceilDiv(seqlens[b], chunk);
        }
        offsets[seqlens.length] = (int) total; // at most the sum of lengths / 64 + batch: an int
        return new Layout((int) chunk, (int) total, offsets);
    }

    private static long splits(int[] seqlens, long chunk) {
        long n = 0;
        for (int len : seqlens) {
            n += ceilDiv(len, chunk);
        }
        return n;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
