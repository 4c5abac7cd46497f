package io.infra4j.eplb;

import java.util.Arrays;

/**
 * A replica plan, as upstream's {@code rebalance_experts} returns it, held as flat row-major arrays
 * (ready to copy into a device tensor) with nested-array views for convenience.
 *
 * <ul>
 *   <li>{@code phy2log [layers][replicas]}: the logical expert held by each physical slot; slot
 *       {@code s} lives on GPU {@code s / (replicas / gpus)}.</li>
 *   <li>{@code log2phy [layers][experts][maxReplicas]}: each expert's physical slots in the order the
 *       replicas were made, padded with -1.</li>
 *   <li>{@code logcnt [layers][experts]}: replicas per expert (at least 1).</li>
 * </ul>
 */
public final class Plan {
    private final int layers;
    private final int replicas;
    private final int experts;
    private final int maxReplicas;
    private final int[] phy2log;
    private final int[] log2phy;
    private final int[] logcnt;
    private final Policy policy;

    Plan(int layers, int replicas, int experts, int maxReplicas, int[] phy2log, int[] log2phy, int[] logcnt, Policy policy) {
        this.layers = layers;
        this.replicas = replicas;
        this.experts = experts;
        this.maxReplicas = maxReplicas;
        this.phy2log = phy2log;
        this.log2phy = log2phy;
        this.logcnt = logcnt;
        this.policy = policy;
    }

    public int layers() {
        return layers;
    }

    public int replicas() {
        return replicas;
    }

    public int experts() {
        return experts;
    }

    /** The width of log2phy's last dimension: the most replicas any expert has in any layer. */
    public int maxReplicas() {
        return maxReplicas;
    }

    /** The policy that produced the plan. */
    public Policy policy() {
        return policy;
    }

    /** The logical expert in physical slot {@code slot} of {@code layer}. */
    public int phy2log(int layer, int slot) {
        return phy2log[Math.multiplyExact(check(layer, layers, "layer"), replicas) + check(slot, replicas, "slot")];
    }

    /** The physical slot of replica {@code replica} of {@code expert}, or -1 past its count. */
    public int log2phy(int layer, int expert, int replica) {
        return log2phy[(check(layer, layers, "layer") * experts + check(expert, experts, "expert")) * maxReplicas
                + check(replica, maxReplicas, "replica")];
    }

    /** Replicas of {@code expert} in {@code layer}. */
    public int logcnt(int layer, int expert) {
        return logcnt[check(layer, layers, "layer") * experts + check(expert, experts, "expert")];
    }

    /** A copy as {@code [layers][replicas]}. */
    public int[][] phy2log() {
        return nest(phy2log, layers, replicas);
    }

    /** A copy as {@code [layers][experts][maxReplicas]}. */
    public int[][][] log2phy() {
        int[][][] out = new int[layers][experts][];
        for (int l = 0; l < layers; l++) {
            for (int e = 0; e < experts; e++) {
                int from = (l * experts + e) * maxReplicas;
                out[l][e] = Arrays.copyOfRange(log2phy, from, from + maxReplicas);
            }
        }
        return out;
    }

    /** A copy as {@code [layers][experts]}. */
    public int[][] logcnt() {
        return nest(logcnt, layers, experts);
    }

    /** A copy of phy2log, row-major {@code layers * replicas}. */
    public int[] phy2logFlat() {
        return phy2log.clone();
    }

    /** A copy of log2phy, row-major {@code layers * experts * maxReplicas}. */
    public int[] log2phyFlat() {
        return log2phy.clone();
    }

    /** A copy of logcnt, row-major {@code layers * experts}. */
    public int[] logcntFlat() {
        return logcnt.clone();
    }

    private static int[][] nest(int[] flat, int rows, int cols) {
        int[][] out = new int[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = Arrays.copyOfRange(flat, r * cols, (r + 1) * cols);
        }
        return out;
    }

    private static int check(int i, int bound, String what) {
        if (i < 0 || i >= bound) {
            throw new IndexOutOfBoundsException(what + " " + i + " out of [0, " + bound + ")");
        }
        return i;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Plan p && policy == p.policy && layers == p.layers && replicas == p.replicas
                && experts == p.experts && maxReplicas == p.maxReplicas && Arrays.equals(phy2log, p.phy2log)
                && Arrays.equals(log2phy, p.log2phy) && Arrays.equals(logcnt, p.logcnt);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(phy2log) + Arrays.hashCode(logcnt)) + policy.hashCode();
    }

    @Override
    public String toString() {
        return "Plan[" + policy + ", layers=" + layers + ", experts=" + experts + ", replicas=" + replicas
                + ", maxReplicas=" + maxReplicas + "]";
    }
}
