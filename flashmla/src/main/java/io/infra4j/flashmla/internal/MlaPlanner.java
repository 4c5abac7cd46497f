package io.infra4j.flashmla.internal;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The split plan of a decoding step, computed on the host from the sequence lengths: the keys of all
 * sequences, in 64-key tiles, are dealt out to {@code parts} work items of equal cost (DESIGN.md §5,
 * after FlashMLA's scheduling metadata). A part walks the sequences in order; a sequence that does not
 * fit the rest of a part is cut, and its remainder opens the next part. Each piece of a sequence is a
 * split, with its own partial output, which the combine merges. The decode kernel runs one CTA per
 * part (and KV head and tile of query rows), so every CTA finishes at about the same time however
 * the lengths vary.
 *
 * <p>The cost of a split is its tiles plus {@link #SPLIT_COST_TILES}, the fixed work of starting
 * and ending one (the query load, the first loads' latency, the partial write).
 *
 * <p>The words in device memory (mla.h), int32: {@code [0]} parts, {@code [1]} total splits,
 * {@code [2 .. 2 + batch]} split offsets (the exclusive prefix sums of each sequence's split count,
 * batch + 1 entries; an empty sequence has none), then parts + 1 part starts (part p runs splits
 * {@code [start[p], start[p + 1])}), then each split's keys {@code [begin, end)}, two words per split.
 */
public final class MlaPlanner {
    /** Splits are cut at multiples of the kernel's key tile. */
    public static final int TILE = 64;
    /** The fixed cost of a split, in tiles: the query load, the first loads' latency and the partial write. */
    public static final int SPLIT_COST_TILES = 3;
    /** The longest sequence a plan takes: its key ranges, multiples of 64, must fit an int32. */
    public static final int MAX_SEQLEN = Integer.MAX_VALUE / TILE * TILE;
    /** The most parts a plan takes (a CTA grid's y dimension is at most 65535; the kernel walks the rest). */
    public static final int MAX_PARTS = 1 << 16;
    /** The most sequences a plan takes: its words (about 3 per sequence and 3 per part) must fit a Java array. */
    public static final int MAX_BATCH = (Integer.MAX_VALUE - 16 - 3 * MAX_PARTS) / 3;
    /** Multiprocessors assumed where there is no GPU (an H100/H200 SXM): CPU plans then equal GPU ones. */
    public static final int DEFAULT_MULTIPROCESSORS = 132;

    private MlaPlanner() {}

    /** A computed plan. */
    public record Layout(int parts, int totalSplits, int[] splitOffsets, int[] partStarts, int[] splitRanges) {
        /** The words the kernel reads: parts, total splits, split offsets, part starts, split ranges. */
        public int[] words() {
            int[] w = new int[Math.toIntExact(headWords(splitOffsets.length - 1) + partStarts.length + splitRanges.length)];
            w[0] = parts;
            w[1] = totalSplits;
            System.arraycopy(splitOffsets, 0, w, 2, splitOffsets.length);
            System.arraycopy(partStarts, 0, w, 2 + splitOffsets.length, partStarts.length);
            System.arraycopy(splitRanges, 0, w, 2 + splitOffsets.length + partStarts.length, splitRanges.length);
            return w;
        }

        /** The longest split, in keys. */
        public int longestSplit() {
            int max = 0;
            for (int s = 0; s < totalSplits; s++) {
                max = Math.max(max, splitRanges[2 * s + 1] - splitRanges[2 * s]);
            }
            return max;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Layout l && l.parts == parts && l.totalSplits == totalSplits
                    && Arrays.equals(l.splitOffsets, splitOffsets) && Arrays.equals(l.partStarts, partStarts)
                    && Arrays.equals(l.splitRanges, splitRanges);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * (31 * (31 * parts + totalSplits) + Arrays.hashCode(splitOffsets)) + Arrays.hashCode(partStarts))
                    + Arrays.hashCode(splitRanges);
        }

        @Override
        public String toString() {
            return "Layout(" + parts + " parts, " + totalSplits + " splits, offsets " + Arrays.toString(splitOffsets) + ")";
        }
    }

    /** Words of the plan's head for {@code batch} sequences (parts, splits, offsets): mla.h's {@code infra4j_mla_plan_words}. */
    public static long headWords(int batch) {
        return 2L + batch + 1;
    }

    /** The default number of parts on a GPU with {@code multiprocessors} SMs: one each. */
    public static int defaultParts(int multiprocessors) {
        return Math.max(1, multiprocessors);
    }

    /**
     * The plan of sequences of these lengths (each in [0, MAX_SEQLEN]; checked by the caller) in at most
     * {@code parts} parts of equal cost (fewer when there are fewer tiles than parts).
     */
    public static Layout plan(int[] seqlens, int parts) {
        if (parts < 1 || parts > MAX_PARTS) {
            throw new IllegalArgumentException("parts: expected 1.." + MAX_PARTS + ", got " + parts);
        }
        if (seqlens.length > MAX_BATCH) {
            throw new IllegalArgumentException("seqlens: expected at most " + MAX_BATCH + " sequences, got " + seqlens.length);
        }
        long total = 0;
        for (int len : seqlens) {
            total += len > 0 ? tiles(len) + SPLIT_COST_TILES : 0;
        }
        // Each part takes up to `payload`; a part is closed when it cannot take one more tile.
        long payload = ceilDiv(total, parts) + SPLIT_COST_TILES;
        int[] offsets = new int[seqlens.length + 1];
        IntStream.Builder starts = IntStream.builder();
        IntStream.Builder ranges = IntStream.builder();
        int partsUsed = 0;
        int splits = 0;
        long room = 0; // of the open part; 0: no part open yet
        for (int b = 0; b < seqlens.length; b++) {
            offsets[b] = splits;
            long n = tiles(seqlens[b]);
            long t = 0;
            while (t < n) {
                long take = Math.min(n - t, room - SPLIT_COST_TILES);
                if (take <= 0) { // open the next part
                    starts.add(splits);
                    partsUsed++;
                    room = payload;
                    continue;
                }
                ranges.add((int) (t * TILE));
                ranges.add((int) Math.min(seqlens[b], (t + take) * TILE));
                splits++;
                room -= take + SPLIT_COST_TILES;
                t += take;
            }
        }
        offsets[seqlens.length] = splits;
        starts.add(splits);
        return new Layout(partsUsed, splits, offsets, starts.build().toArray(), ranges.build().toArray());
    }

    private static long tiles(long len) {
        return ceilDiv(len, TILE);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
