package io.infra4j.flashmla.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The balanced plan: splits tile every sequence exactly, parts of equal cost, the words of mla.h. */
class MlaPlannerTest {

    private static long tiles(long len) {
        return (len + 63) / 64;
    }

    /** Every property of a plan of these lengths for this many parts. */
    private static MlaPlanner.Layout check(int[] lens, int parts) {
        MlaPlanner.Layout p = MlaPlanner.plan(lens, parts);
        String what = "lens " + (lens.length <= 12 ? Arrays.toString(lens) : lens.length + " sequences") + ", parts " + parts + ": " + p;
        int[] off = p.splitOffsets();
        int[] ranges = p.splitRanges();
        assertEquals(lens.length + 1, off.length, what);
        assertEquals(0, off[0], what);
        assertEquals(p.totalSplits(), off[lens.length], what);
        assertEquals(2 * p.totalSplits(), ranges.length, what);
        // The splits of a sequence cover its keys in order, cut at multiples of 64, none empty.
        for (int b = 0; b < lens.length; b++) {
            long next = 0;
            for (int s = off[b]; s < off[b + 1]; s++) {
                assertEquals(next, ranges[2 * s], what + " split " + s);
                assertEquals(0, ranges[2 * s] % 64, what + " split " + s);
                assertTrue(ranges[2 * s + 1] > ranges[2 * s], what + " split " + s + " is empty");
                next = ranges[2 * s + 1];
            }
            assertEquals(lens[b], next, what + " sequence " + b);
        }
        // Parts: at most the number asked for, each with a split, in order, of about equal cost.
        int[] starts = p.partStarts();
        assertEquals(p.parts() + 1, starts.length, what);
        assertTrue(p.parts() <= parts, what + ": too many parts");
        assertEquals(0, starts[0], what);
        assertEquals(p.totalSplits(), starts[p.parts()], what);
        long total = Arrays.stream(lens).mapToLong(l -> l > 0 ? tiles(l) + MlaPlanner.SPLIT_COST_TILES : 0).sum();
        long payload = (total + parts - 1) / parts + MlaPlanner.SPLIT_COST_TILES;
        for (int k = 0; k < p.parts(); k++) {
            assertTrue(starts[k + 1] > starts[k], what + ": part " + k + " is empty");
            long cost = 0;
            for (int s = starts[k]; s < starts[k + 1]; s++) {
                cost += tiles(ranges[2 * s + 1]) - ranges[2 * s] / 64 + MlaPlanner.SPLIT_COST_TILES;
            }
            assertTrue(cost <= payload, what + ": part " + k + " costs " + cost + " > " + payload);
        }
        long nonEmpty = Arrays.stream(lens).filter(l -> l > 0).count();
        assertTrue(p.totalSplits() <= nonEmpty + Math.max(0, p.parts() - 1), what + ": more splits than cuts");
        return p;
    }

    @Test
    void randomLengthsAndParts() {
        SplittableRandom r = new SplittableRandom(1);
        for (int trial = 0; trial < 2000; trial++) {
            int batch = 1 + r.nextInt(trial % 10 == 0 ? 600 : 70);
            int maxLen = switch (r.nextInt(4)) {
                case 0 -> 64;
                case 1 -> 1000;
                case 2 -> 20000;
                default -> 200000;
            };
            int[] lens = r.ints(batch, 0, maxLen + 1).toArray();
            check(lens, MlaPlanner.defaultParts(1 + r.nextInt(140)));
        }
    }

    @Test
    void corners() {
        check(new int[] {0}, 132);
        check(new int[] {0, 0, 0}, 132);
        check(new int[] {1}, 132);
        check(new int[] {64, 65}, 1);
        check(new int[] {MlaPlanner.MAX_SEQLEN, 5}, 132);
        check(new int[] {MlaPlanner.MAX_SEQLEN}, 1);
        check(new int[] {MlaPlanner.MAX_SEQLEN - 1, MlaPlanner.MAX_SEQLEN}, 3);
        int[] many = new int[1000];
        Arrays.fill(many, 4096);
        MlaPlanner.Layout p = check(many, 132);
        assertEquals(132, p.parts());
        assertTrue(p.totalSplits() > 1000 && p.totalSplits() <= 1000 + 131, p::toString);
        assertThrows(IllegalArgumentException.class, () -> MlaPlanner.plan(new int[] {1}, 0));
        assertThrows(IllegalArgumentException.class, () -> MlaPlanner.plan(new int[] {1}, MlaPlanner.MAX_PARTS + 1));
        check(new int[] {MlaPlanner.MAX_SEQLEN, MlaPlanner.MAX_SEQLEN}, MlaPlanner.MAX_PARTS);
    }

    @Test
    void emptySequencesHaveNoSplits() {
        MlaPlanner.Layout p = check(new int[] {0, 0}, 132);
        assertEquals(0, p.parts());
        assertEquals(0, p.totalSplits());
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0}, p.words());
    }

    @Test
    void equalLengthsGiveEqualParts() {
        // 64 sequences of 4096 tokens on 132 SMs: 64 tiles + 3 each, 4288 in all, payload 33 + 3; a part
        // closes with fewer than 4 left, so a few parts' worth is lost to rounding.
        int[] lens = new int[64];
        Arrays.fill(lens, 4096);
        MlaPlanner.Layout p = check(lens, MlaPlanner.defaultParts(132));
        assertEquals(128, p.parts());
        // One sequence of 4096 keys: a tile per part, each with its fixed cost: 64 parts of one split.
        MlaPlanner.Layout one = check(new int[] {4096}, 132);
        assertEquals(64, one.parts());
        assertEquals(64, one.totalSplits());
        assertEquals(64, one.longestSplit());
    }

    @Test
    void wordsFollowMlaH() {
        MlaPlanner.Layout p = check(new int[] {640, 0, 640}, 4);
        // Costs 13 + 13, payload 10: [0, 448) | [448, 640) [0, 64) | [64, 512) | [512, 640).
        assertArrayEquals(new int[] {
            4, 5,                         // parts, splits
            0, 2, 2, 5,                   // split offsets
            0, 1, 3, 4, 5,                // part starts
            0, 448, 448, 640, 0, 64, 64, 512, 512, 640}, p.words());
        assertEquals(MlaPlanner.headWords(3), 2 + 4);
        assertEquals(448, p.longestSplit());
    }
}
