package io.infra4j.eplb.internal;

/**
 * Upstream's {@code replicate_experts} for one row: each extra replica goes to the expert with the
 * highest load per replica (float32 division; the first maximum wins, a NaN before anything).
 */
final class Replication {
    /** For each physical slot: its logical expert and its replica number; replicas per expert. */
    record Result(int[] phy2log, int[] rank, int[] count) {}

    /** Up to this many experts, a scan per replica is faster than keeping the tournament. */
    static final int SCAN_LIMIT = 16;

    private Replication() {}

    static Result replicate(float[] weight, int numPhysical) {
        int numLogical = weight.length;
        int[] phy2log = new int[numPhysical];
        int[] rank = new int[numPhysical];
        int[] count = new int[numLogical];
        float[] perReplica = new float[numLogical];
        for (int e = 0; e < numLogical; e++) {
            phy2log[e] = e;
            count[e] = 1;
            perReplica[e] = weight[e] / 1f;
        }
        // For many experts, the same winner as argmax(perReplica) in log time per replica (loads are
        // non-negative here, so ratios are never NaN or negative once -0.0 counts as +0.0).
        // Key: the ratio's order bits, complemented so the highest is smallest, then the index.
        MinTree highest = numLogical > SCAN_LIMIT && !Packing.hasNaN(weight) ? new MinTree(numLogical) : null;
        if (highest != null) {
            for (int e = 0; e < numLogical; e++) {
                highest.init(e, key(perReplica[e], e));
            }
            highest.build();
        }
        for (int slot = numLogical; slot < numPhysical; slot++) {
            int e = highest == null ? argmax(perReplica) : highest.winner();
            phy2log[slot] = e;
            rank[slot] = count[e];
            count[e]++;
            // Only this expert's ratio changed; recomputing it alone gives the same float as upstream's full division.
            perReplica[e] = weight[e] / (float) count[e];
            if (highest != null) {
                highest.update(e, key(perReplica[e], e));
            }
        }
        return new Result(phy2log, rank, count);
    }

    private static long key(float ratio, int index) {
        return (0x7FFFFFFFL - MinTree.orderBits(ratio)) << MinTree.INDEX_BITS | index;
    }

    /** torch.max(dim).indices: the first maximum; a NaN is the maximum (the first NaN). */
    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (beats(v[i], v[best])) {
                best = i;
            }
        }
        return best;
    }

    /** Does a later value x displace the best so far: x is NaN and best is not, or x > best. */
    private static boolean beats(float x, float best) {
        return Float.isNaN(x) ? !Float.isNaN(best) : x > best;
    }
}
