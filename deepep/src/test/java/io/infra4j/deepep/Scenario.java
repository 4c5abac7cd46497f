package io.infra4j.deepep;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A random expert-parallel scenario for the tests: W ranks with their token counts (some zero), top-k
 * routing with -1 slots and experts nobody picks, and rank-valued payloads: token t of rank s carries
 * {@code [s, t, s * 1000 + t, ...]} so that every received row says where it came from. Weights are
 * multiples of 1/8, so weighted sums of small integers are exact in float.
 */
record Scenario(ExpertPlacement placement, int topK, int width, List<RankTokens> ranks) {

    static Scenario random(long seed, int worldSize, int expertsPerRank, int topK, int maxTokens, int width) {
        Random r = new Random(seed);
        ExpertPlacement p = new ExpertPlacement(worldSize * expertsPerRank, worldSize);
        // Experts above this id are never chosen: some experts (and often whole ranks) receive nothing.
        int usable = Math.max(1, p.numExperts() - r.nextInt(p.numExperts()));
        List<RankTokens> ranks = new ArrayList<>();
        for (int s = 0; s < worldSize; s++) {
            int t = r.nextInt(4) == 0 ? 0 : r.nextInt(maxTokens + 1);
            long[] ids = new long[t * topK];
            float[] weights = new float[t * topK];
            float[] rows = new float[t * width];
            for (int i = 0; i < t; i++) {
                List<Long> chosen = new ArrayList<>();
                for (int j = 0; j < topK; j++) {
                    long e = r.nextInt(5) == 0 ? -1 : r.nextInt(usable);
                    if (e >= 0 && chosen.contains(e)) {
                        e = -1; // experts distinct per token, as top-k gives them
                    }
                    chosen.add(e);
                    ids[i * topK + j] = e;
                    weights[i * topK + j] = (1 + r.nextInt(8)) / 8f;
                }
                for (int c = 0; c < width; c++) {
                    rows[i * width + c] = switch (c) {
                        case 0 -> s;
                        case 1 -> i;
                        default -> s * 1000 + i + c;
                    };
                }
            }
            ranks.add(new RankTokens(rows, width, new Routing(t, topK, ids, weights)));
        }
        return new Scenario(p, topK, width, ranks);
    }

    /** Token t of rank s's payload. */
    float[] payload(int s, int t) {
        return java.util.Arrays.copyOfRange(ranks.get(s).rows(), t * width, (t + 1) * width);
    }
}
