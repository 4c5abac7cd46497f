package io.infra4j.eplb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Invariants every plan keeps, on random valid shapes of both policies and loads full of ties. */
class PlanPropertiesTest {
    /** A valid configuration and its loads. */
    record Config(int layers, int experts, int replicas, int groups, int nodes, int gpus, long seed, int loadKind) {
        float[][] weight() {
            Random r = new Random(seed);
            float[][] w = new float[layers][experts];
            for (float[] row : w) {
                for (int e = 0; e < experts; e++) {
                    row[e] = switch (loadKind) {
                        case 0 -> r.nextInt(4);                         // heavy ties, zeros
                        case 1 -> r.nextInt(1 << 20);                   // token counts
                        case 2 -> (float) Math.exp(r.nextGaussian() * 2); // skewed floats
                        default -> 0f;                                  // all zero
                    };
                }
            }
            return w;
        }
    }

    @Provide
    Arbitrary<Config> hierarchical() {
        return Combinators.combine(Arbitraries.integers().between(1, 4), Arbitraries.integers().between(1, 4),
                Arbitraries.integers().between(1, 6), Arbitraries.integers().between(1, 4), Arbitraries.integers().between(0, 3),
                Arbitraries.integers().between(1, 3), Arbitraries.longs(), Arbitraries.integers().between(0, 3))
                .as((nodes, groupsPerNode, groupSize, gpusPerNode, extraPerGpu, layers, seed, kind) -> {
                    int groups = nodes * groupsPerNode;
                    int experts = groups * groupSize;
                    int gpus = nodes * gpusPerNode;
                    int perGpu = (experts + gpus - 1) / gpus + extraPerGpu;
                    return new Config(layers, experts, perGpu * gpus, groups, nodes, gpus, seed, kind);
                });
    }

    @Provide
    Arbitrary<Config> global() {
        return Combinators.combine(Arbitraries.integers().between(1, 80), Arbitraries.integers().between(1, 16),
                Arbitraries.integers().between(0, 3), Arbitraries.integers().between(1, 3), Arbitraries.longs(),
                Arbitraries.integers().between(0, 3))
                .as((experts, gpus, extraPerGpu, layers, seed, kind) -> {
                    int perGpu = (experts + gpus - 1) / gpus + extraPerGpu;
                    return new Config(layers, experts, perGpu * gpus, 3, 2, gpus, seed, kind); // 3 % 2 != 0: global
                });
    }

    @Property(tries = 300)
    void hierarchicalPlansHoldTheInvariants(@ForAll("hierarchical") Config c) {
        Plan plan = check(c);
        assertEquals(Policy.HIERARCHICAL, plan.policy());
        // Every expert lives on the node its group was packed onto: no expert crosses nodes.
        int slotsPerNode = c.replicas() / c.nodes();
        int groupSize = c.experts() / c.groups();
        int[][] phy2log = plan.phy2log();
        for (int l = 0; l < c.layers(); l++) {
            int[] nodeOfGroup = new int[c.groups()];
            java.util.Arrays.fill(nodeOfGroup, -1);
            for (int s = 0; s < c.replicas(); s++) {
                int group = phy2log[l][s] / groupSize;
                int node = s / slotsPerNode;
                assertTrue(nodeOfGroup[group] == -1 || nodeOfGroup[group] == node, "group " + group + " spans nodes");
                nodeOfGroup[group] = node;
            }
        }
    }

    @Property(tries = 300)
    void globalPlansHoldTheInvariants(@ForAll("global") Config c) {
        assertEquals(Policy.GLOBAL, check(c).policy());
    }

    private static Plan check(Config c) {
        float[][] w = c.weight();
        Plan plan = Eplb.rebalance(w, c.replicas(), c.groups(), c.nodes(), c.gpus());
        assertEquals(c.layers(), plan.layers());
        assertEquals(c.replicas(), plan.replicas());
        assertEquals(c.experts(), plan.experts());
        int slotsPerGpu = c.replicas() / c.gpus();
        int[][] allPhy2log = plan.phy2log();
        int[][] allLogcnt = plan.logcnt();
        int[][][] allLog2phy = plan.log2phy();
        for (int l = 0; l < c.layers(); l++) {
            int[] phy2log = allPhy2log[l];
            int[] logcnt = allLogcnt[l];
            int[][] log2phy = allLog2phy[l];
            for (int s = 0; s < c.replicas(); s++) {
                assertEquals(phy2log[s], plan.phy2log(l, s), "flat and nested views agree");
            }
            int total = 0;
            for (int e = 0; e < c.experts(); e++) {
                assertTrue(logcnt[e] >= 1, "expert " + e + " has no replica");
                total += logcnt[e];
                // log2phy lists exactly logcnt[e] slots, all holding e, then -1 padding.
                for (int r = 0; r < plan.maxReplicas(); r++) {
                    if (r < logcnt[e]) {
                        assertEquals(e, phy2log[log2phy[e][r]], "log2phy[" + e + "][" + r + "] points elsewhere");
                    } else {
                        assertEquals(-1, log2phy[e][r]);
                    }
                }
            }
            assertEquals(c.replicas(), total, "replica counts sum to the replicas");
            // Each slot appears once in log2phy, and phy2log agrees with logcnt.
            Set<Integer> seen = new HashSet<>();
            int[] counted = new int[c.experts()];
            for (int s = 0; s < c.replicas(); s++) {
                counted[phy2log[s]]++;
            }
            for (int e = 0; e < c.experts(); e++) {
                assertEquals(logcnt[e], counted[e]);
                for (int r = 0; r < logcnt[e]; r++) {
                    assertTrue(seen.add(log2phy[e][r]), "slot listed twice");
                }
            }
            // Each GPU holds the same number of slots (phy2log is laid out GPU by GPU).
            assertEquals(0, c.replicas() % c.gpus());
            assertEquals(c.replicas(), slotsPerGpu * c.gpus());
        }
        assertEquals(plan, Eplb.rebalance(w, c.replicas(), c.groups(), c.nodes(), c.gpus()), "deterministic");
        return plan;
    }
}
