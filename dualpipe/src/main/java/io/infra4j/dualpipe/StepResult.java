package io.infra4j.dualpipe;

import java.util.List;

/**
 * What one rank's step produced. Only the ranks that compute a loss (rank 0 for direction 1, and in
 * DualPipe rank N-1 for direction 0) have entries; elsewhere both lists are empty.
 *
 * @param rank    the rank
 * @param losses  per micro-batch of the direction whose loss this rank computes, in micro-batch order;
 *                empty when no labels were given (inference only)
 * @param outputs in {@link Mode#INFER} only: the last stage's output per micro-batch, in order
 */
public record StepResult<T>(int rank, List<Double> losses, List<T> outputs) {
    public StepResult {
        losses = List.copyOf(losses);
        outputs = List.copyOf(outputs);
    }

    /** The sum of the micro-batch losses: the step's loss on this rank. */
    public double totalLoss() {
        double sum = 0;
        for (double loss : losses) {
            sum += loss;
        }
        return sum;
    }
}
