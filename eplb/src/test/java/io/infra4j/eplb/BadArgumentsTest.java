package io.infra4j.eplb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** What upstream rejects, and what makes no sense, is refused before any work with a message that says why. */
class BadArgumentsTest {
    private static final float[][] EIGHT = {{3, 1, 4, 1, 5, 9, 2, 6}};

    private static void refused(String fragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), () -> "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void replicasNotDivisibleByGpus() {
        refused("multiple of numGpus", () -> Eplb.rebalance(EIGHT, 10, 2, 1, 4));
    }

    @Test
    void groupsNotDividingExpertsUnderTheHierarchicalPolicy() {
        refused("must divide the number of experts", () -> Eplb.rebalance(EIGHT, 12, 3, 1, 4));
        // Upstream's global policy ignores groups, so 3 groups of 8 experts on 2 nodes is planned.
        assertEquals(Policy.GLOBAL, Eplb.rebalance(EIGHT, 9, 3, 2, 3).policy());
    }

    @Test
    void gpusNotDivisibleByNodesUnderTheHierarchicalPolicy() {
        refused("multiple of numNodes", () -> Eplb.rebalance(EIGHT, 12, 4, 2, 3));
    }

    @Test
    void fewerReplicasThanExperts() {
        refused("at least the number of experts", () -> Eplb.rebalance(EIGHT, 6, 2, 1, 2));
    }

    @Test
    void negativeLoads() {
        refused("must not be negative", () -> Eplb.rebalance(new float[][] {{1, -2, 3, 4}}, 4, 1, 1, 1));
        refused("must not be negative", () -> Eplb.rebalance(new double[][] {{1, 2, -1e-60, 4}}, 4, 1, 1, 1));
        refused("must not be negative", () -> Eplb.rebalance(new long[][] {{1, 2, 3, -4}}, 4, 1, 1, 1));
        // -0.0 is not negative: upstream takes it, and so do we.
        Eplb.rebalance(new float[][] {{1, -0.0f, 3, 4}}, 4, 1, 1, 1);
    }

    @Test
    void nanLoads() {
        refused("is NaN", () -> Eplb.rebalance(new float[][] {{1, Float.NaN, 3, 4}}, 4, 1, 1, 1));
        refused("weight[1][0] is NaN", () -> Eplb.rebalance(new double[][] {{1, 2}, {Double.NaN, 1}}, 2, 1, 1, 1));
    }

    @Test
    void nonPositiveCounts() {
        refused("numReplicas must be positive", () -> Eplb.rebalance(EIGHT, 0, 1, 1, 1));
        refused("numGroups must be positive", () -> Eplb.rebalance(EIGHT, 8, 0, 1, 1));
        refused("numNodes must be positive", () -> Eplb.rebalance(EIGHT, 8, 1, -1, 1));
        refused("numGpus must be positive", () -> Eplb.rebalance(EIGHT, 8, 1, 1, 0));
    }

    @Test
    void badShapes() {
        refused("weight is null", () -> Eplb.rebalance((float[][]) null, 8, 1, 1, 1));
        refused("no layers", () -> Eplb.rebalance(new float[0][], 8, 1, 1, 1));
        refused("has no experts", () -> Eplb.rebalance(new float[][] {{}}, 8, 1, 1, 1));
        refused("weight[1] has 3 experts", () -> Eplb.rebalance(new float[][] {{1, 2}, {1, 2, 3}}, 4, 1, 1, 1));
        refused("weight[1] is null", () -> Eplb.rebalance(new long[][] {{1, 2}, null}, 4, 1, 1, 1));
    }

    @Test
    void theCallersArrayIsNotModified() {
        float[][] w = {{3, 1, 4, 1, 5, 9, 2, 6}};
        Eplb.rebalance(w, 16, 4, 2, 8);
        assertEquals(9f, w[0][5]);
    }

    @Test
    void integerOverloadsRoundToFloat32AsUpstreamDoes() {
        // 2^24 + 1 is not a float32: it rounds to 2^24 (ties to even), making it equal to its neighbour.
        long[][] ints = {{(1 << 24) + 1, 1 << 24, 5, 7}};
        float[][] floats = {{1 << 24, 1 << 24, 5, 7}};
        assertEquals(Eplb.rebalance(floats, 8, 1, 1, 2), Eplb.rebalance(ints, 8, 1, 1, 2));
    }
}
