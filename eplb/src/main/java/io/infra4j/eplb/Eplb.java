package io.infra4j.eplb;

import io.infra4j.eplb.internal.LayerPlanner;

/**
 * DeepSeek's expert-parallel load balancer: given each layer's load per logical expert, decide how
 * many replicas each expert gets and on which GPU each replica lives, so that GPUs carry even
 * loads. Plans are identical to upstream's {@code eplb.rebalance_experts} (deepseek-ai/EPLB at
 * d52c72d), ties included: loads are converted to float32 first (round to nearest even), and every
 * order-dependent step follows PyTorch's CPU kernels (its sort, its float32 sum, first-maximum
 * argmax, first-minimum packing; see {@code io.infra4j.eplb.internal}).
 *
 * <p>Arguments are checked before any work, and what upstream rejects (its assertions) is rejected
 * here with an {@link IllegalArgumentException} that says why. Loads must also be non-negative and
 * not NaN (upstream would return a meaningless plan for those). Each layer is independent; a call
 * takes well under a millisecond per layer for DeepSeek-V3's shapes.
 */
public final class Eplb {
    private Eplb() {}

    /**
     * Plans replicas for every layer.
     *
     * @param weight      {@code [layers][experts]} load of each logical expert, e.g. tokens routed to it
     * @param numReplicas physical expert slots in all (a multiple of numGpus, at least the number of experts)
     * @param numGroups   expert groups (as in group-limited routing); the hierarchical policy needs
     *                    numGroups to divide the number of experts
     * @param numNodes    server nodes; numGroups % numNodes == 0 selects the hierarchical policy
     * @param numGpus     GPUs in all (a multiple of numNodes under the hierarchical policy)
     */
    public static Plan rebalance(float[][] weight, int numReplicas, int numGroups, int numNodes, int numGpus) {
        float[][] w = copyChecked(weight);
        return plan(w, numReplicas, numGroups, numNodes, numGpus);
    }

    /** As {@link #rebalance(float[][], int, int, int, int)}; each load is rounded to float32 (nearest even) first. */
    public static Plan rebalance(double[][] weight, int numReplicas, int numGroups, int numNodes, int numGpus) {
        int experts = checkShape(weight == null ? null : weight.length, weight == null ? null : i -> weight[i] == null ? -1 : weight[i].length);
        float[][] w = new float[weight.length][experts];
        for (int l = 0; l < weight.length; l++) {
            for (int e = 0; e < experts; e++) {
                double v = weight[l][e];
                checkLoad(v, l, e);
                w[l][e] = (float) v;
            }
        }
        return plan(w, numReplicas, numGroups, numNodes, numGpus);
    }

    /** As {@link #rebalance(float[][], int, int, int, int)} for integer loads (token counts), rounded to float32 as upstream does. */
    public static Plan rebalance(long[][] weight, int numReplicas, int numGroups, int numNodes, int numGpus) {
        int experts = checkShape(weight == null ? null : weight.length, weight == null ? null : i -> weight[i] == null ? -1 : weight[i].length);
        float[][] w = new float[weight.length][experts];
        for (int l = 0; l < weight.length; l++) {
            for (int e = 0; e < experts; e++) {
                long v = weight[l][e];
                if (v < 0) {
                    throw new IllegalArgumentException("weight[" + l + "][" + e + "] = " + v + ": loads must not be negative");
                }
                w[l][e] = (float) v;
            }
        }
        return plan(w, numReplicas, numGroups, numNodes, numGpus);
    }

    /**
     * Checks the arguments as upstream's assertions do (in their order), plus positivity; returns the
     * policy they select. Useful to validate a configuration before any loads exist.
     */
    public static Policy checkArguments(int numExperts, int numReplicas, int numGroups, int numNodes, int numGpus) {
        positive("numExperts", numExperts);
        positive("numReplicas", numReplicas);
        positive("numGroups", numGroups);
        positive("numNodes", numNodes);
        positive("numGpus", numGpus);
        Policy policy = Policy.of(numGroups, numNodes);
        if (policy == Policy.HIERARCHICAL) {
            if (numExperts % numGroups != 0) {
                throw new IllegalArgumentException("numGroups (" + numGroups + ") must divide the number of experts ("
                        + numExperts + ") under the hierarchical policy (numGroups % numNodes == 0)");
            }
            if (numGpus % numNodes != 0) {
                throw new IllegalArgumentException("numGpus (" + numGpus + ") must be a multiple of numNodes (" + numNodes
                        + ") under the hierarchical policy (numGroups % numNodes == 0)");
            }
        }
        if (numReplicas % numGpus != 0) {
            throw new IllegalArgumentException("numReplicas (" + numReplicas + ") must be a multiple of numGpus (" + numGpus
                    + "): every GPU gets the same number of expert slots");
        }
        if (numReplicas < numExperts) {
            throw new IllegalArgumentException("numReplicas (" + numReplicas + ") must be at least the number of experts ("
                    + numExperts + "): every expert needs a slot");
        }
        return policy;
    }

    private static Plan plan(float[][] w, int numReplicas, int numGroups, int numNodes, int numGpus) {
        int layers = w.length;
        int experts = w[0].length;
        Policy policy = checkArguments(experts, numReplicas, numGroups, numNodes, numGpus);
        int groups = policy == Policy.HIERARCHICAL ? numGroups : 1;
        int nodes = policy == Policy.HIERARCHICAL ? numNodes : 1;

        if ((long) layers * Math.max(numReplicas, experts) * Math.max(1, numReplicas - experts + 1) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(layers + " layers x " + numReplicas + " replicas of " + experts
                    + " experts is too large for one plan: split the layers over several calls");
        }
        int[] phy2log = new int[layers * numReplicas];
        int[] phyRank = new int[layers * numReplicas];
        int[] logcnt = new int[layers * experts];
        LayerPlanner layer = new LayerPlanner(numReplicas, experts);
        for (int l = 0; l < layers; l++) {
            layer.plan(w[l], groups, nodes, numGpus);
            layer.copyInto(phy2log, phyRank, l * numReplicas, logcnt, l * experts);
        }
        int maxCount = 1;
        for (int c : logcnt) {
            maxCount = Math.max(maxCount, c);
        }
        // log2phy: slot s is replica phyRank[s] of expert phy2log[s].
        int[] log2phy = new int[layers * experts * maxCount];
        java.util.Arrays.fill(log2phy, -1);
        for (int l = 0; l < layers; l++) {
            for (int s = 0; s < numReplicas; s++) {
                int i = l * numReplicas + s;
                log2phy[(l * experts + phy2log[i]) * maxCount + phyRank[i]] = s;
            }
        }
        return new Plan(layers, numReplicas, experts, maxCount, phy2log, log2phy, logcnt, policy);
    }

    private static float[][] copyChecked(float[][] weight) {
        int experts = checkShape(weight == null ? null : weight.length, weight == null ? null : i -> weight[i] == null ? -1 : weight[i].length);
        float[][] w = new float[weight.length][];
        for (int l = 0; l < weight.length; l++) {
            for (int e = 0; e < experts; e++) {
                checkLoad(weight[l][e], l, e);
            }
            w[l] = weight[l].clone();
        }
        return w;
    }

    /** A non-empty rectangle: returns the number of experts. */
    private static int checkShape(Integer layers, java.util.function.IntUnaryOperator rowLength) {
        if (layers == null) {
            throw new IllegalArgumentException("weight is null");
        }
        if (layers == 0) {
            throw new IllegalArgumentException("weight has no layers: expected [layers][experts] with layers >= 1");
        }
        int experts = rowLength.applyAsInt(0);
        if (experts <= 0) {
            throw new IllegalArgumentException("weight[0] " + (experts < 0 ? "is null" : "has no experts"));
        }
        for (int l = 1; l < layers; l++) {
            int len = rowLength.applyAsInt(l);
            if (len != experts) {
                throw new IllegalArgumentException("weight[" + l + "] " + (len < 0 ? "is null" : "has " + len + " experts")
                        + ", weight[0] has " + experts + ": every layer needs the same experts");
            }
        }
        return experts;
    }

    private static void checkLoad(double v, int layer, int expert) {
        if (Double.isNaN(v)) {
            throw new IllegalArgumentException("weight[" + layer + "][" + expert + "] is NaN: loads must be numbers");
        }
        if (v < 0) {
            throw new IllegalArgumentException("weight[" + layer + "][" + expert + "] = " + v + ": loads must not be negative");
        }
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
