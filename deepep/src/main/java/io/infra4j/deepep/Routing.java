package io.infra4j.deepep;

import java.util.Objects;

/**
 * One rank's routing: for each of its T tokens, K expert ids (-1 = no expert) and K weights, both
 * row-major {@code [T, K]}, as DeepEP takes {@code topk_idx} and {@code topk_weights}.
 *
 * @param numTokens T, at least 0
 * @param topK      K, at least 1
 * @param expertIds T * K ids in {@code [-1, E)}, checked against a placement by {@link #check}
 * @param weights   T * K weights
 */
public record Routing(int numTokens, int topK, long[] expertIds, float[] weights) {

    public Routing {
        Objects.requireNonNull(expertIds, "expertIds");
        Objects.requireNonNull(weights, "weights");
        if (numTokens < 0) {
            throw new IllegalArgumentException("numTokens: expected at least 0, got " + numTokens);
        }
        if (topK < 1) {
            throw new IllegalArgumentException("topK: expected at least 1, got " + topK);
        }
        if (expertIds.length != (long) numTokens * topK) {
            throw new IllegalArgumentException("expertIds: expected " + (long) numTokens * topK + " ids ([" + numTokens + ", "
                    + topK + "]), got " + expertIds.length);
        }
        if (weights.length != expertIds.length) {
            throw new IllegalArgumentException("weights: expected " + expertIds.length + " weights, got " + weights.length);
        }
    }

    /** Expert id of token t's slot j. */
    public long expert(int t, int j) {
        return expertIds[t * topK + j];
    }

    /** Weight of token t's slot j. */
    public float weight(int t, int j) {
        return weights[t * topK + j];
    }

    /** Throws IllegalArgumentException naming the first id outside {@code [-1, E)}. */
    public Routing check(ExpertPlacement placement) {
        for (int i = 0; i < expertIds.length; i++) {
            long e = expertIds[i];
            if (e < -1 || e >= placement.numExperts()) {
                throw new IllegalArgumentException("expertIds[" + i / topK + ", " + i % topK + "] = " + e + " outside [-1, "
                        + placement.numExperts() + ")");
            }
        }
        return this;
    }
}
