package io.infra4j.cli;

import java.util.Random;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * A stand-in for a DeepSeek-V3-style MoE router, to give the EPLB stage realistic expert loads.
 * Each token's affinity to an expert is the expert's popularity bias in that layer (normal, so
 * popularity exp(bias) is lognormal: a few hot experts, a long tail) plus normal noise per token.
 * Routing is group-limited as in V3: a group scores the sum of its two best affinities, the token
 * keeps its {@code topGroups} best groups, and takes its {@code topK} best experts among them.
 *
 * @param layers    MoE layers
 * @param experts   routed experts per layer
 * @param groups    expert groups (experts in contiguous blocks of experts / groups)
 * @param topGroups groups a token may use
 * @param topK      experts per token
 * @param skew      standard deviation of the popularity bias; 0 makes every expert equally popular
 */
record MoeRouter(int layers, int experts, int groups, int topGroups, int topK, double skew) {
    /** Tokens routed by one task: small enough to spread over cores, large enough to be worth a task. */
    private static final int CHUNK = 2048;

    MoeRouter {
        if (experts % groups != 0 || topGroups > groups || topK > topGroups * (experts / groups) || experts / groups < 2) {
            throw new IllegalArgumentException("router shape: " + groups + " groups of " + experts + " experts, top-"
                    + topK + " within the top-" + topGroups + " groups does not work");
        }
    }

    /**
     * Routes {@code tokens} tokens through every layer: {@code [layers][experts]} tokens per expert,
     * each layer summing to {@code tokens * topK}. Every random draw comes from generators seeded
     * here from {@code seeds} in a fixed order, so the counts depend on the seed only, not on how
     * the chunks were scheduled over cores.
     */
    long[][] route(int tokens, Random seeds) {
        double[][] bias = new double[layers][experts];
        for (double[] row : bias) {
            for (int e = 0; e < experts; e++) {
                row[e] = skew * seeds.nextGaussian();
            }
        }
        int chunks = (tokens + CHUNK - 1) / CHUNK;
        long[] chunkSeeds = new long[layers * chunks];
        for (int i = 0; i < chunkSeeds.length; i++) {
            chunkSeeds[i] = seeds.nextLong();
        }
        long[][] perChunk = IntStream.range(0, chunkSeeds.length).parallel().mapToObj(i -> {
            int layer = i / chunks;
            int n = Math.min(CHUNK, tokens - (i % chunks) * CHUNK);
            return routeChunk(bias[layer], n, new SplittableRandom(chunkSeeds[i]));
        }).toArray(long[][]::new);

        long[][] counts = new long[layers][experts];
        for (int i = 0; i < perChunk.length; i++) {
            long[] into = counts[i / chunks];
            for (int e = 0; e < experts; e++) {
                into[e] += perChunk[i][e];
            }
        }
        return counts;
    }

    private long[] routeChunk(double[] bias, int tokens, SplittableRandom random) {
        int groupSize = experts / groups;
        long[] counts = new long[experts];
        double[] affinity = new double[experts];
        double[] groupScore = new double[groups];
        boolean[] groupKept = new boolean[groups];
        int[] chosen = new int[topK];
        double[] chosenScore = new double[topK];
        for (int t = 0; t < tokens; t++) {
            for (int e = 0; e < experts; e++) {
                affinity[e] = bias[e] + random.nextGaussian();
            }
            for (int g = 0; g < groups; g++) {
                groupScore[g] = topTwoSum(affinity, g * groupSize, groupSize);
                groupKept[g] = false;
            }
            for (int k = 0; k < topGroups; k++) {
                groupKept[argmaxNotKept(groupScore, groupKept)] = true;
            }
            int found = 0;
            for (int e = 0; e < experts; e++) {
                if (groupKept[e / groupSize]) {
                    found = insertTop(chosen, chosenScore, found, e, affinity[e]);
                }
            }
            for (int k = 0; k < topK; k++) {
                counts[chosen[k]]++;
            }
        }
        return counts;
    }

    private static double topTwoSum(double[] a, int from, int n) {
        double first = Double.NEGATIVE_INFINITY;
        double second = Double.NEGATIVE_INFINITY;
        for (int i = from; i < from + n; i++) {
            if (a[i] > first) {
                second = first;
                first = a[i];
            } else if (a[i] > second) {
                second = a[i];
            }
        }
        return first + second;
    }

    private static int argmaxNotKept(double[] score, boolean[] kept) {
        int best = -1;
        for (int g = 0; g < score.length; g++) {
            if (!kept[g] && (best < 0 || score[g] > score[best])) {
                best = g;
            }
        }
        return best;
    }

    /** Keeps the best {@code ids.length} so far, best first; returns how many are held. */
    private static int insertTop(int[] ids, double[] scores, int held, int id, double score) {
        int k = ids.length;
        if (held == k && score <= scores[k - 1]) {
            return held;
        }
        int i = Math.min(held, k - 1);
        while (i > 0 && scores[i - 1] < score) {
            ids[i] = ids[i - 1];
            scores[i] = scores[i - 1];
            i--;
        }
        ids[i] = id;
        scores[i] = score;
        return Math.min(held + 1, k);
    }
}
