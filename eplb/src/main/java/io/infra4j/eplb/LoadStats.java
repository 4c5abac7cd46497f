package io.infra4j.eplb;

/**
 * Per-GPU and per-node loads of a plan, next to those of the layout without EPLB, in double.
 *
 * <p>Placement follows upstream's conventions: physical slot {@code s} lives on GPU
 * {@code s / (replicas / gpus)}, and GPU {@code g} on node {@code g * nodes / gpus}, which is
 * {@code g / (gpus / nodes)} whenever nodes divide the GPUs (always so under the hierarchical
 * policy; the global policy allows any node count, and then this spreads GPUs over nodes in
 * contiguous blocks as even as they can be). Without EPLB a model lays its experts out in
 * contiguous equal blocks: expert {@code e} on GPU {@code e * gpus / experts}.
 */
public final class LoadStats {
    private LoadStats() {}

    /**
     * Loads before and after {@code plan}.
     *
     * @param weight   {@code [layers][experts]} the loads the plan was made from (as float32, as the planner saw them)
     * @param plan     a plan for {@code weight}
     * @param numNodes server nodes, 1 to numGpus
     * @param numGpus  GPUs in all; divides the plan's replicas
     */
    public static LoadReport of(float[][] weight, Plan plan, int numNodes, int numGpus) {
        check(weight, plan, numNodes, numGpus);
        int layers = plan.layers();
        int experts = plan.experts();
        int replicas = plan.replicas();
        int slotsPerGpu = replicas / numGpus;

        double[][] gpuBefore = new double[layers][numGpus];
        double[][] gpuAfter = new double[layers][numGpus];
        double total = 0;
        int[][] allPhy2log = plan.phy2log(); // copies: take them once
        int[][] allLogcnt = plan.logcnt();
        for (int l = 0; l < layers; l++) {
            for (int e = 0; e < experts; e++) {
                gpuBefore[l][homeGpu(e, experts, numGpus)] += weight[l][e];
                total += weight[l][e];
            }
            int[] phy2log = allPhy2log[l];
            int[] logcnt = allLogcnt[l];
            for (int s = 0; s < replicas; s++) {
                int e = phy2log[s];
                gpuAfter[l][s / slotsPerGpu] += (double) weight[l][e] / logcnt[e];
            }
        }
        return new LoadReport(layers, experts, replicas, numGpus, numNodes, total,
                new LoadReport.Loads(gpuBefore, byNode(gpuBefore, numNodes)),
                new LoadReport.Loads(gpuAfter, byNode(gpuAfter, numNodes)));
    }

    /** max/mean: 1.0 when all loads are equal, and when they are all 0 (nothing to balance). */
    public static double imbalance(double[] loads) {
        double sum = 0;
        double max = Double.NEGATIVE_INFINITY;
        for (double v : loads) {
            sum += v;
            max = Math.max(max, v);
        }
        double mean = sum / loads.length;
        return mean > 0 ? max / mean : 1.0;
    }

    /** The node of GPU {@code gpu}: contiguous blocks, as even as they can be. */
    public static int nodeOf(int gpu, int numNodes, int numGpus) {
        return (int) ((long) gpu * numNodes / numGpus);
    }

    /** Where a model without EPLB puts expert {@code expert}: contiguous blocks, as even as they can be. */
    public static int homeGpu(int expert, int numExperts, int numGpus) {
        return (int) ((long) expert * numGpus / numExperts);
    }

    private static double[][] byNode(double[][] gpuLoads, int numNodes) {
        double[][] out = new double[gpuLoads.length][numNodes];
        for (int l = 0; l < gpuLoads.length; l++) {
            int gpus = gpuLoads[l].length;
            for (int g = 0; g < gpus; g++) {
                out[l][nodeOf(g, numNodes, gpus)] += gpuLoads[l][g];
            }
        }
        return out;
    }

    private static void check(float[][] weight, Plan plan, int numNodes, int numGpus) {
        if (weight == null || plan == null) {
            throw new IllegalArgumentException("weight and plan are required, got " + (weight == null ? "no weight" : "no plan"));
        }
        if (numGpus <= 0 || plan.replicas() % numGpus != 0) {
            throw new IllegalArgumentException("numGpus (" + numGpus + ") must be positive and divide the plan's "
                    + plan.replicas() + " replicas");
        }
        if (numNodes <= 0 || numNodes > numGpus) {
            throw new IllegalArgumentException("numNodes (" + numNodes + ") must be 1 to numGpus (" + numGpus
                    + "): every node needs a GPU for load statistics");
        }
        if (weight.length != plan.layers()) {
            throw new IllegalArgumentException("weight has " + weight.length + " layers, the plan " + plan.layers());
        }
        for (int l = 0; l < weight.length; l++) {
            if (weight[l] == null || weight[l].length != plan.experts()) {
                throw new IllegalArgumentException("weight[" + l + "] has " + (weight[l] == null ? "no" : weight[l].length)
                        + " experts, the plan " + plan.experts());
            }
        }
    }
}
