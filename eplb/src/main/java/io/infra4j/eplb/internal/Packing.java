package io.infra4j.eplb.internal;

/**
 * Upstream's {@code balanced_packing} for one row: items in descending load order (PyTorch's sort),
 * each to the lightest pack that still has room, so every pack ends with the same number of items.
 */
final class Packing {
    /** Pack of each item, and its position within the pack (in the order it arrived). */
    record Result(int[] pack, int[] rank) {}

    /** Up to this many packs, scanning them all is faster than keeping the tournament. */
    static final int SCAN_LIMIT = 4;

    private Packing() {}

    /**
     * Upstream picks the pack with Python's {@code min()} over the open packs: the first one whose
     * weight is strictly below the best so far, by plain float '<'. A tournament gives the same
     * pack in log time: open before full, then '<', then the lower index. (Without NaN loads, pack
     * weights are sums of non-negative floats starting from +0.0: never NaN or -0.0, so their bits
     * order them as '<' does.)
     */
    static Result pack(float[] weight, int numPacks) {
        if (numPacks <= SCAN_LIMIT || hasNaN(weight)) {
            return packByScan(weight, numPacks); // a short scan beats the tree's indirect calls
        }
        int n = weight.length;
        int perPack = n / numPacks;
        if (perPack == 1) {
            return onePerPack(n);
        }
        int[] pack = new int[n];
        int[] rank = new int[n];
        float[] packWeight = new float[numPacks];
        int[] packItems = new int[numPacks];
        // Key: full packs last, then the weight's order bits, then the index (the scan's first minimum).
        MinTree lightest = new MinTree(numPacks);
        for (int p = 0; p < numPacks; p++) {
            lightest.init(p, p);
        }
        lightest.build();
        for (int item : TorchSort.argsortDescending(weight)) {
            int best = lightest.winner();
            pack[item] = best;
            rank[item] = packItems[best];
            packWeight[best] += weight[item];
            packItems[best]++;
            long full = packItems[best] < perPack ? 0 : 1L << 62;
            lightest.update(best, full | MinTree.orderBits(packWeight[best]) << MinTree.INDEX_BITS | best);
        }
        return new Result(pack, rank);
    }

    /** Upstream's shortcut when every pack takes one item: item i goes to pack i, whatever the weights. */
    private static Result onePerPack(int n) {
        int[] pack = new int[n];
        for (int i = 0; i < n; i++) {
            pack[i] = i;
        }
        return new Result(pack, new int[n]);
    }

    /** The same, scanning every pack as upstream does; kept as the reference for the tournament. */
    static Result packByScan(float[] weight, int numPacks) {
        int n = weight.length;
        int perPack = n / numPacks;
        if (perPack == 1) {
            return onePerPack(n);
        }
        int[] pack = new int[n];
        int[] rank = new int[n];
        float[] packWeight = new float[numPacks];
        int[] packItems = new int[numPacks];
        for (int item : TorchSort.argsortDescending(weight)) {
            int best = -1;
            for (int p = 0; p < numPacks; p++) {
                if (packItems[p] < perPack && (best < 0 || packWeight[p] < packWeight[best])) {
                    best = p;
                }
            }
            pack[item] = best;
            rank[item] = packItems[best];
            packWeight[best] += weight[item];
            packItems[best]++;
        }
        return new Result(pack, rank);
    }

    static boolean hasNaN(float[] v) {
        for (float x : v) {
            if (Float.isNaN(x)) {
                return true;
            }
        }
        return false;
    }
}
