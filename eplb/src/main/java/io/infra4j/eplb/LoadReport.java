package io.infra4j.eplb;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How evenly a plan spreads the load, next to the layout without one; made by {@link LoadStats}.
 * Imbalance is max/mean of one layer's GPU (or node) loads, and the figure to quote is its mean
 * over layers, as DeepSeek reports it: every layer waits for its most loaded GPU.
 *
 * @param layers    layers of the weight
 * @param experts   logical experts per layer
 * @param replicas  physical expert slots per layer
 * @param gpus      GPUs in all
 * @param nodes     nodes in all
 * @param totalLoad the sum of every load, the same before and after (a plan only moves load)
 * @param before    loads without redundancy: expert {@code e} alone on GPU {@code e * gpus / experts}
 * @param after     loads under the plan: each slot carries its expert's load over the expert's replicas
 */
public record LoadReport(int layers, int experts, int replicas, int gpus, int nodes, double totalLoad,
                         Loads before, Loads after) {

    /**
     * One layout's loads. The arrays belong to the report; they are not copied, so do not change them.
     *
     * @param gpu  {@code [layers][gpus]} load of each GPU in each layer
     * @param node {@code [layers][nodes]} load of each node in each layer
     */
    public record Loads(double[][] gpu, double[][] node) {

        /** Per layer: max/mean of the GPU loads. */
        public double[] gpuImbalance() {
            return perLayer(gpu);
        }

        /** Per layer: max/mean of the node loads. */
        public double[] nodeImbalance() {
            return perLayer(node);
        }

        /** The mean over layers of {@link #gpuImbalance()}. */
        public double meanGpuImbalance() {
            return Arrays.stream(gpuImbalance()).average().orElse(1.0);
        }

        /** The mean over layers of {@link #nodeImbalance()}. */
        public double meanNodeImbalance() {
            return Arrays.stream(nodeImbalance()).average().orElse(1.0);
        }

        /** Each GPU's load summed over layers. */
        public double[] gpuTotals() {
            return columnSums(gpu);
        }

        /** Each node's load summed over layers. */
        public double[] nodeTotals() {
            return columnSums(node);
        }

        /** Snake-case keys, for JSON: per-layer loads and imbalances, their means, and totals over layers. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mean_gpu_imbalance", meanGpuImbalance());
            m.put("mean_node_imbalance", meanNodeImbalance());
            m.put("gpu_imbalance", gpuImbalance());
            m.put("node_imbalance", nodeImbalance());
            m.put("gpu_load_totals", gpuTotals());
            m.put("node_load_totals", nodeTotals());
            m.put("gpu_loads", gpu);
            m.put("node_loads", node);
            return m;
        }

        private static double[] perLayer(double[][] loads) {
            double[] out = new double[loads.length];
            for (int l = 0; l < loads.length; l++) {
                out[l] = LoadStats.imbalance(loads[l]);
            }
            return out;
        }

        private static double[] columnSums(double[][] loads) {
            double[] out = new double[loads.length == 0 ? 0 : loads[0].length];
            for (double[] row : loads) {
                for (int i = 0; i < out.length; i++) {
                    out[i] += row[i];
                }
            }
            return out;
        }
    }

    /** Snake-case keys, for JSON: the shape, the total, then {@code before} and {@code after}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layers", layers);
        m.put("experts", experts);
        m.put("replicas", replicas);
        m.put("gpus", gpus);
        m.put("nodes", nodes);
        m.put("total_load", totalLoad);
        m.put("before", before.toMap());
        m.put("after", after.toMap());
        return m;
    }
}
