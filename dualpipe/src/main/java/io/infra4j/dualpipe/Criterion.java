package io.infra4j.dualpipe;

/**
 * The loss of one micro-batch, computed on the rank that runs the last stage of its direction. A
 * step's loss is the sum of its micro-batches' losses, and the gradients the stages accumulate are
 * those of that sum (each micro-batch's loss is backpropagated on its own, as upstream does).
 *
 * @param <T> the payload type of the last stage's output and of the labels
 */
@FunctionalInterface
public interface Criterion<T> {
    /**
     * The loss of {@code output} against {@code labels}; with {@code withGradient}, also its gradient
     * with respect to {@code output} (inference asks without, and then the gradient may be null).
     */
    Loss<T> evaluate(T output, T labels, boolean withGradient);

    /** A micro-batch's loss value and, when asked for, its gradient with respect to the stage output. */
    record Loss<T>(double value, T gradient) {}
}
