package io.infra4j.eplb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Hand-computed loads of upstream's README example, and conservation of load for any plan. */
class LoadStatsTest {
    static final float[][] README = {
            {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
            {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}};

    static LoadReport readme() {
        return LoadStats.of(README, Eplb.rebalance(README, 16, 4, 2, 8), 2, 8);
    }

    @Test
    void readmeBeforeIsContiguousBlocks() {
        LoadReport r = readme();
        // 12 experts on 8 GPUs: expert e on GPU e*8/12, i.e. {0,1} {2} {3,4} {5} {6,7} {8} {9,10} {11}.
        assertArrayEquals(new double[] {222, 40, 165, 165, 43, 73, 239, 86}, r.before().gpu()[0]);
        assertArrayEquals(new double[] {127, 104, 83, 197, 344, 172, 102, 27}, r.before().gpu()[1]);
        assertArrayEquals(new double[] {592, 441}, r.before().node()[0]);
        assertArrayEquals(new double[] {511, 645}, r.before().node()[1]);
        assertArrayEquals(new double[] {239 / 129.125, 344 / 144.5}, r.before().gpuImbalance(), 1e-15);
        assertArrayEquals(new double[] {592 / 516.5, 645 / 578.0}, r.before().nodeImbalance(), 1e-15);
        assertEquals((239 / 129.125 + 344 / 144.5) / 2, r.before().meanGpuImbalance(), 1e-15);
    }

    @Test
    void readmeAfterSplitsEachExpertOverItsReplicas() {
        LoadReport r = readme();
        // Two slots per GPU; expert 5 of layer 0 has two replicas, so each carries 165 / 2.
        assertArrayEquals(new double[] {121.5, 86.5, 125, 113, 147.5, 131.5, 156, 152}, r.after().gpu()[0]);
        assertArrayEquals(new double[] {173, 179.5, 120.5, 172, 123, 152, 118.5, 117.5}, r.after().gpu()[1]);
        assertArrayEquals(new double[] {446, 587}, r.after().node()[0]);
        assertArrayEquals(new double[] {645, 511}, r.after().node()[1]);
        assertArrayEquals(new double[] {156 / 129.125, 179.5 / 144.5}, r.after().gpuImbalance(), 1e-15);
        assertArrayEquals(new double[] {587 / 516.5, 645 / 578.0}, r.after().nodeImbalance(), 1e-15);
        assertArrayEquals(new double[] {294.5, 266, 245.5, 285, 270.5, 283.5, 274.5, 269.5}, r.after().gpuTotals());
        assertArrayEquals(new double[] {349, 144, 248, 362, 387, 245, 341, 113}, r.before().gpuTotals());
    }

    @Test
    void readmePlanConservesLoadAndBalancesIt() {
        LoadReport r = readme();
        assertEquals(1033 + 1156, r.totalLoad());
        assertEquals(r.totalLoad(), Arrays.stream(r.before().gpuTotals()).sum());
        assertEquals(r.totalLoad(), Arrays.stream(r.after().gpuTotals()).sum());
        assertEquals(r.totalLoad(), Arrays.stream(r.after().nodeTotals()).sum());
        assertTrue(r.after().meanGpuImbalance() <= r.before().meanGpuImbalance(), r::toString);
        assertTrue(r.after().meanNodeImbalance() <= r.before().meanNodeImbalance(), r::toString);
        assertEquals(List.of(2, 12, 16, 8, 2), List.of(r.layers(), r.experts(), r.replicas(), r.gpus(), r.nodes()));
    }

    @Test
    void toMapHasSnakeCaseKeysAndBothSides() {
        Map<String, Object> m = readme().toMap();
        assertEquals(List.of("layers", "experts", "replicas", "gpus", "nodes", "total_load", "before", "after"),
                List.copyOf(m.keySet()));
        @SuppressWarnings("unchecked")
        Map<String, Object> after = (Map<String, Object>) m.get("after");
        assertEquals(readme().after().meanGpuImbalance(), after.get("mean_gpu_imbalance"));
        assertTrue(after.containsKey("gpu_load_totals") && after.containsKey("gpu_imbalance"), after::toString);
    }

    @Test
    void imbalanceIsMaxOverMean() {
        assertEquals(1.0, LoadStats.imbalance(new double[] {3, 3, 3}));
        assertEquals(1.0, LoadStats.imbalance(new double[] {0, 0}), "nothing to balance");
        assertEquals(2.0, LoadStats.imbalance(new double[] {4, 0}));
        assertEquals(2.0, LoadStats.imbalance(new double[] {1, 2, 3, 6}));
        assertEquals(4 / 3.0, LoadStats.imbalance(new double[] {2, 4}));
    }

    @Test
    void nodesThatDoNotDivideTheGpusGetContiguousBlocks() {
        // The global policy accepts 3 nodes for 4 GPUs: GPUs {0, 1} {2} {3}.
        assertEquals(List.of(0, 0, 1, 2), List.of(LoadStats.nodeOf(0, 3, 4), LoadStats.nodeOf(1, 3, 4),
                LoadStats.nodeOf(2, 3, 4), LoadStats.nodeOf(3, 3, 4)));
        assertEquals(List.of(0, 0, 1), List.of(LoadStats.nodeOf(0, 2, 3), LoadStats.nodeOf(1, 2, 3), LoadStats.nodeOf(2, 2, 3)));
        float[][] w = {{5, 1, 1, 1, 1, 1, 1, 1}};
        Plan plan = Eplb.rebalance(w, 8, 2, 3, 4);
        assertEquals(Policy.GLOBAL, plan.policy());
        LoadReport r = LoadStats.of(w, plan, 3, 4);
        assertEquals(3, r.after().node()[0].length);
        assertEquals(12, Arrays.stream(r.after().node()[0]).sum());
        assertEquals(r.after().gpu()[0][0] + r.after().gpu()[0][1], r.after().node()[0][0]);
    }

    @Test
    void moreGpusThanExpertsLeavesSomeEmptyBefore() {
        float[][] w = {{4, 4}};
        LoadReport r = LoadStats.of(w, Eplb.rebalance(w, 4, 1, 1, 4), 1, 4);
        assertArrayEquals(new double[] {4, 0, 4, 0}, r.before().gpu()[0]);
        assertArrayEquals(new double[] {2, 2, 2, 2}, r.after().gpu()[0]);
        assertEquals(2.0, r.before().meanGpuImbalance());
        assertEquals(1.0, r.after().meanGpuImbalance());
    }

    @Test
    void refusesArgumentsThatDoNotFitThePlan() {
        Plan plan = Eplb.rebalance(README, 16, 4, 2, 8);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LoadStats.of(README, plan, 2, 3))
                .getMessage().contains("divide the plan's 16 replicas"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LoadStats.of(README, plan, 9, 8))
                .getMessage().contains("numNodes (9) must be 1 to numGpus (8)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LoadStats.of(new float[][] {README[0]}, plan, 2, 8))
                .getMessage().contains("weight has 1 layers, the plan 2"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LoadStats.of(new float[][] {README[0], {1, 2}}, plan, 2, 8))
                .getMessage().contains("weight[1] has 2 experts, the plan 12"));
    }

    /** Any plan only moves load: every layer's GPU and node loads add up to the layer's load, before and after. */
    @Property(tries = 200)
    void loadIsConserved(@ForAll @IntRange(min = 1, max = 4) int layers, @ForAll @IntRange(min = 1, max = 4) int groups,
                         @ForAll @IntRange(min = 1, max = 4) int nodes,
                         @ForAll @IntRange(min = 1, max = 3) int gpusPerNode, @ForAll @IntRange(min = 0, max = 3) int extra,
                         @ForAll long seed) {
        int gpus = nodes * gpusPerNode;
        int experts = groups * 4;
        int replicas = ((experts + gpus - 1) / gpus + extra) * gpus;
        java.util.Random random = new java.util.Random(seed);
        float[][] w = new float[layers][experts];
        for (float[] row : w) {
            for (int e = 0; e < experts; e++) {
                row[e] = random.nextInt(4) == 0 ? 0 : random.nextFloat() * 1000;
            }
        }
        LoadReport r = LoadStats.of(w, Eplb.rebalance(w, replicas, groups, nodes, gpus), nodes, gpus);
        for (int l = 0; l < layers; l++) {
            double sum = 0;
            for (float v : w[l]) {
                sum += v;
            }
            for (LoadReport.Loads side : List.of(r.before(), r.after())) {
                assertEquals(sum, Arrays.stream(side.gpu()[l]).sum(), 1e-9 * Math.max(1, sum));
                assertEquals(sum, Arrays.stream(side.node()[l]).sum(), 1e-9 * Math.max(1, sum));
                assertTrue(side.gpuImbalance()[l] >= 1 - 1e-12 && side.nodeImbalance()[l] >= 1 - 1e-12);
            }
        }
    }
}
