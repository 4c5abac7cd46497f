package io.infra4j.flashmla.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The split plan: offsets, chunk a multiple of 64 and the smallest within the target, the bound on splits. */
class MlaPlannerTest {

    private static long splits(int[] lens, long chunk) {
        return Arrays.stream(lens).mapToLong(l -> (l + chunk - 1) / chunk).sum();
    }

    /** Every property of a plan of these lengths for this target. */
    private static void check(int[] lens, int target) {
        MlaPlanner.Layout p = MlaPlanner.plan(lens, target);
        String what = "lens " + (lens.length <= 12 ? Arrays.toString(lens) : lens.length + " sequences") + ", target " + target + ": " + p;
        assertEquals(0, p.chunk() % 64, what);
        assertTrue(p.chunk() >= 64, what);
        int[] off = p.splitOffsets();
        assertEquals(lens.length + 1, off.length, what);
        assertEquals(0, off[0], what);
        for (int b = 0; b < lens.length; b++) {
            assertEquals((lens[b] + (long) p.chunk() - 1) / p.chunk(), off[b + 1] - off[b], what + " sequence " + b);
        }
        assertEquals(p.totalSplits(), off[lens.length], what);
        long nonEmpty = Arrays.stream(lens).filter(l -> l > 0).count();
        assertTrue(p.totalSplits() <= Math.max(target, nonEmpty), what + ": too many splits");
        if (p.chunk() > 64) {
            // A smaller chunk would have exceeded the target: this one is the smallest that fits.
            assertTrue(splits(lens, p.chunk() - 64) > target, what + ": chunk " + (p.chunk() - 64) + " also fits");
        }
        int maxLen = Arrays.stream(lens).max().orElse(0);
        assertTrue(p.chunk() <= Math.max(64, (maxLen + 63) / 64 * 64), what + ": chunk beyond the longest sequence");
    }

    @Test
    void randomLengthsAndTargets() {
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
            check(lens, MlaPlanner.targetSplits(1 + r.nextInt(140)));
        }
    }

    @Test
    void corners() {
        check(new int[] {0}, 264);
        check(new int[] {0, 0, 0}, 264);
        check(new int[] {1}, 264);
        check(new int[] {64, 65}, 2);
        check(new int[] {MlaPlanner.MAX_SEQLEN, 5}, 264);
        check(new int[] {MlaPlanner.MAX_SEQLEN}, 1);
        check(new int[] {MlaPlanner.MAX_SEQLEN - 1, MlaPlanner.MAX_SEQLEN}, 3);
        int[] many = new int[1000];
        Arrays.fill(many, 4096);
        check(many, 264); // more sequences than the target: one split each
        assertEquals(1000, MlaPlanner.plan(many, 264).totalSplits());
    }

    @Test
    void emptySequencesHaveNoSplits() {
        MlaPlanner.Layout p = MlaPlanner.plan(new int[] {0, 0}, 264);
        assertEquals(64, p.chunk());
        assertEquals(0, p.totalSplits());
        assertArrayEquals(new int[] {64, 0, 0, 0, 0}, p.words());
    }

    @Test
    void wordsFollowMlaH() {
        // 64 sequences of 4096 tokens on 132 SMs: 264 splits wanted, 64 * 4096 / 264 = 993 tokens -> chunk 1024.
        int[] lens = new int[64];
        Arrays.fill(lens, 4096);
        MlaPlanner.Layout p = MlaPlanner.plan(lens, MlaPlanner.targetSplits(132));
        assertEquals(1024, p.chunk());
        assertEquals(256, p.totalSplits());
        int[] w = p.words();
        assertEquals(MlaPlanner.planWords(64), w.length);
        assertEquals(1024, w[0]);
        assertEquals(256, w[1]);
        for (int b = 0; b <= 64; b++) {
            assertEquals(4 * b, w[2 + b]);
        }
        // One sequence of 4096: as many splits as fit, 264 of at least 64 tokens -> 64 splits of 64.
        MlaPlanner.Layout one = MlaPlanner.plan(new int[] {4096}, 264);
        assertEquals(64, one.chunk());
        assertEquals(64, one.totalSplits());
        assertArrayEquals(new int[] {64, 64, 0, 64}, one.words());
    }
}
