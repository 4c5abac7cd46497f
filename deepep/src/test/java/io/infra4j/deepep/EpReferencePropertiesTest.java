package io.infra4j.deepep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Dispatch and combine of the reference on random scenarios of 2, 4 and 8 ranks: rank-valued payloads
 * say where every received row came from, -1 slots, ranks sending nothing and experts receiving
 * nothing included.
 */
class EpReferencePropertiesTest {

    private static Scenario scenario(long seed, int worldLog2, int expertsPerRank, int topK, int maxTokens) {
        return Scenario.random(seed, 1 << worldLog2, expertsPerRank, topK, maxTokens, 5);
    }

    @Property(tries = 200)
    void normalDispatchDeliversEachTokenOnceToEveryRankOfItsExperts(@ForAll @LongRange(min = 0, max = 1 << 30) long seed,
            @ForAll @IntRange(min = 1, max = 3) int worldLog2, @ForAll @IntRange(min = 1, max = 4) int expertsPerRank,
            @ForAll @IntRange(min = 1, max = 8) int topK, @ForAll @IntRange(min = 1, max = 3) int alignment) {
        Scenario sc = scenario(seed, worldLog2, expertsPerRank, topK, 12);
        ExpertPlacement p = sc.placement();
        EpReference.Dispatch d = EpReference.dispatch(sc.ranks(), p, alignment);
        for (int dst = 0; dst < p.worldSize(); dst++) {
            EpReference.Received got = d.received().get(dst);
            int row = 0;
            int[] perExpert = new int[p.expertsPerRank()];
            for (int src = 0; src < p.worldSize(); src++) {
                assertEquals(row, got.rankBegin()[src], "rank " + src + "'s block starts after the ranks before it");
                Routing routing = sc.ranks().get(src).routing();
                for (int t = 0; t < routing.numTokens(); t++) {
                    boolean goes = false;
                    for (int j = 0; j < topK; j++) {
                        long e = routing.expert(t, j);
                        if (e >= 0 && p.rankOf(e) == dst) {
                            goes = true;
                            perExpert[p.localIndex(e)]++;
                        }
                    }
                    if (!goes) {
                        continue;
                    }
                    // Rows come by source rank, then token order, carrying the token's payload.
                    assertEquals(src, got.sourceRank()[row]);
                    assertEquals(t, got.sourceToken()[row]);
                    assertArrayEquals(sc.payload(src, t), java.util.Arrays.copyOfRange(got.rows(), row * 5, row * 5 + 5));
                    for (int j = 0; j < topK; j++) {
                        long e = routing.expert(t, j);
                        boolean mine = e >= 0 && p.rankOf(e) == dst;
                        assertEquals(mine ? p.localIndex(e) : -1, got.localExpertIds()[row * topK + j]);
                        assertEquals(mine ? routing.weight(t, j) : 0f, got.weights()[row * topK + j]);
                    }
                    row++;
                }
            }
            assertEquals(row, got.numRows());
            for (int e = 0; e < p.expertsPerRank(); e++) {
                int aligned = got.tokensPerLocalExpert()[e];
                assertEquals(0, aligned % alignment);
                assertTrue(aligned >= perExpert[e] && aligned < perExpert[e] + alignment, "count rounded up to the alignment");
            }
        }
    }

    @Property(tries = 200)
    void normalCombineReturnsEachTokenSummedOverTheRanksThatGotIt(@ForAll @LongRange(min = 0, max = 1 << 30) long seed,
            @ForAll @IntRange(min = 1, max = 3) int worldLog2, @ForAll @IntRange(min = 1, max = 4) int expertsPerRank,
            @ForAll @IntRange(min = 1, max = 8) int topK) {
        Scenario sc = scenario(seed, worldLog2, expertsPerRank, topK, 12);
        ExpertPlacement p = sc.placement();
        EpReference.Dispatch d = EpReference.dispatch(sc.ranks(), p, 1);
        List<float[]> identity = new ArrayList<>();
        for (EpReference.Received got : d.received()) {
            identity.add(got.rows().clone());
        }
        List<float[]> out = EpReference.combine(d, identity);
        for (int s = 0; s < p.worldSize(); s++) {
            DispatchLayout l = d.layouts().get(s);
            for (int t = 0; t < sc.ranks().get(s).numTokens(); t++) {
                int copies = 0;
                for (int r = 0; r < p.worldSize(); r++) {
                    copies += l.isTokenInRank(t, r) ? 1 : 0;
                }
                float[] x = sc.payload(s, t);
                for (int c = 0; c < 5; c++) {
                    assertEquals(x[c] * copies, out.get(s)[t * 5 + c], "rank " + s + " token " + t);
                }
            }
        }
    }

    @Property(tries = 200)
    void lowLatencyDispatchPutsEachSlotInItsExpertsRowsAndCombineWeighsThem(@ForAll @LongRange(min = 0, max = 1 << 30) long seed,
            @ForAll @IntRange(min = 1, max = 3) int worldLog2, @ForAll @IntRange(min = 1, max = 4) int expertsPerRank,
            @ForAll @IntRange(min = 1, max = 8) int topK) {
        int maxTokens = 12;
        Scenario sc = scenario(seed, worldLog2, expertsPerRank, topK, maxTokens);
        ExpertPlacement p = sc.placement();
        int w = p.worldSize();
        EpReference.LowLatencyDispatch d = EpReference.lowLatencyDispatch(sc.ranks(), p, maxTokens, Float.NaN);
        List<float[]> identity = new ArrayList<>();
        for (int dst = 0; dst < w; dst++) {
            EpReference.LowLatencyReceived got = d.received().get(dst);
            for (int e = 0; e < p.expertsPerRank(); e++) {
                int global = p.globalId(dst, e);
                int expected = 0;
                for (int src = 0; src < w; src++) {
                    expected += DispatchLayout.of(sc.ranks().get(src).routing(), p).tokensPerExpert()[global];
                    int begin = got.rangeBegin()[e * w + src];
                    for (int i = begin; i < begin + got.rangeCount()[e * w + src]; i++) {
                        int t = got.sourceToken()[e * w * maxTokens + i];
                        assertArrayEquals(sc.payload(src, t), got.row(e, i), "expert " + global + " row " + i);
                    }
                }
                assertEquals(expected, got.count()[e]);
                for (int i = got.count()[e]; i < w * maxTokens; i++) {
                    assertTrue(Float.isNaN(got.row(e, i)[0]), "rows past the count are left as they were");
                }
            }
            identity.add(got.rows().clone());
        }
        // Unused rows hold NaN: the combine must never read them.
        List<float[]> out = EpReference.lowLatencyCombine(d, identity);
        for (int s = 0; s < w; s++) {
            Routing routing = sc.ranks().get(s).routing();
            for (int t = 0; t < routing.numTokens(); t++) {
                float weights = 0;
                for (int j = 0; j < topK; j++) {
                    weights += routing.expert(t, j) >= 0 ? routing.weight(t, j) : 0f;
                }
                float[] x = sc.payload(s, t);
                for (int c = 0; c < 5; c++) {
                    assertEquals(x[c] * weights, out.get(s)[t * 5 + c], Math.abs(x[c] * weights) * 1e-6f, "rank " + s + " token " + t);
                }
            }
        }
    }
}
