package io.infra4j.eplb.internal;

import java.util.Arrays;

/**
 * A tournament tree of long keys: the root is the smallest, and changing one entrant's key replays
 * only its path (log n branch-free min()s). Used where upstream scans all entrants for the first
 * best one: callers pack "better" into the high bits and the entrant's index into the low
 * {@link #INDEX_BITS}, so the smallest key is the entrant the scan would find, ties included.
 */
final class MinTree {
    static final int INDEX_BITS = 24;
    static final long INDEX_MASK = (1L << INDEX_BITS) - 1;

    private final int leaves;
    private final long[] tree;

    MinTree(int n) {
        if (n > INDEX_MASK) {
            throw new IllegalArgumentException(n + " entrants: at most " + INDEX_MASK);
        }
        int size = 1;
        while (size < n) {
            size <<= 1;
        }
        leaves = size;
        tree = new long[2 * size];
        Arrays.fill(tree, Long.MAX_VALUE);
    }

    /** Sets entrant i's key without replaying; call {@link #build} after the last one. */
    void init(int i, long key) {
        tree[leaves + i] = key;
    }

    void build() {
        for (int node = leaves - 1; node >= 1; node--) {
            tree[node] = Math.min(tree[2 * node], tree[2 * node + 1]);
        }
    }

    /** The index held in the smallest key. */
    int winner() {
        return (int) (tree[1] & INDEX_MASK);
    }

    void update(int i, long key) {
        int node = leaves + i;
        long best = key;
        tree[node] = best;
        // Carry the running minimum up: one load (the sibling) per level.
        while (node > 1) {
            best = Math.min(best, tree[node ^ 1]);
            node >>= 1;
            tree[node] = best;
        }
    }

    /**
     * The bits of a float that is neither NaN nor negative (-0.0 counts as +0.0): as integers they
     * order as the floats do under '<', and equal floats give equal bits.
     */
    static long orderBits(float nonNegative) {
        return Float.floatToRawIntBits(nonNegative + 0f); // + 0f turns -0.0 into +0.0
    }
}
