package io.infra4j.eplb.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The log-time choices (MinTree, used past Packing.SCAN_LIMIT packs and Replication.SCAN_LIMIT experts) give exactly what upstream's scans give, ties and zeros included. */
class MinTreeTest {
    private static float[] loads(long seed, int n, int kind) {
        Random r = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = switch (kind) {
                case 0 -> r.nextInt(3);
                case 1 -> r.nextBoolean() ? 0f : -0.0f;
                case 2 -> r.nextInt(5) == 0 ? Float.POSITIVE_INFINITY : r.nextInt(4);
                default -> (float) Math.exp(r.nextGaussian());
            };
        }
        return w;
    }

    @Property(tries = 500)
    void packingMatchesTheScan(@ForAll long seed, @ForAll @IntRange(min = 1, max = 90) int packs,
                               @ForAll @IntRange(min = 1, max = 6) int perPack, @ForAll @IntRange(min = 0, max = 3) int kind) {
        float[] w = loads(seed, packs * perPack, kind);
        Packing.Result fast = Packing.pack(w, packs);
        Packing.Result scan = Packing.packByScan(w, packs);
        assertArrayEquals(scan.pack(), fast.pack());
        assertArrayEquals(scan.rank(), fast.rank());
    }

    @Property(tries = 500)
    void replicationMatchesRepeatedArgmax(@ForAll long seed, @ForAll @IntRange(min = 1, max = 300) int experts,
                                          @ForAll @IntRange(min = 0, max = 80) int extra, @ForAll @IntRange(min = 0, max = 3) int kind) {
        float[] w = loads(seed, experts, kind);
        Replication.Result r = Replication.replicate(w, experts + extra);
        // Upstream: each step divides all loads by their counts and takes the first maximum.
        int[] count = new int[experts];
        java.util.Arrays.fill(count, 1);
        for (int slot = experts; slot < experts + extra; slot++) {
            float[] ratio = new float[experts];
            for (int e = 0; e < experts; e++) {
                ratio[e] = w[e] / (float) count[e];
            }
            int e = Replication.argmax(ratio);
            assertEquals(e, r.phy2log()[slot], "slot " + slot);
            assertEquals(count[e], r.rank()[slot]);
            count[e]++;
        }
        assertArrayEquals(count, r.count());
    }

    @Property(tries = 200)
    void argmaxPrefersTheFirstNaNThenTheFirstMaximum(@ForAll long seed, @ForAll @IntRange(min = 1, max = 30) int n) {
        float[] v = loads(seed, n, 0);
        int expected = 0;
        for (int i = 1; i < n; i++) {
            if (v[i] > v[expected]) {
                expected = i;
            }
        }
        assertEquals(expected, Replication.argmax(v));
        if (n > 2) {
            v[n - 1] = Float.NaN;
            v[n - 2] = Float.NaN;
            assertEquals(n - 2, Replication.argmax(v));
        }
    }
}
