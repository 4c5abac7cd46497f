package io.infra4j.dualpipe;

/**
 * One pipeline stage of one rank: the module a rank runs for one direction (DualPipe) or one arm of
 * the V (DualPipeV). The executor names every micro-batch by its index within the stage's direction,
 * and a stage keeps whatever its backward needs under that index, so that several micro-batches can
 * be in flight at once (the schedules run up to about 2N forwards ahead of their backwards).
 *
 * <p>Gradients accumulate across micro-batches and across steps, as PyTorch's {@code .grad} does;
 * zeroing them is the caller's business. A stage must not modify the inputs and gradients it is
 * given: they may be shared with the executor or other ranks.
 *
 * @param <T> the payload: activations and gradients of a micro-batch
 */
public interface PipelineStage<T> {
    /**
     * Runs micro-batch {@code microBatch} forward.
     *
     * @param training whether a backward of this micro-batch will follow, so that what it needs must be kept
     * @return the stage's output, never null
     */
    T forward(int microBatch, T input, boolean training);

    /**
     * The first half of the backward of {@code microBatch}: the gradient of the loss with respect to
     * the stage's input, from the one with respect to its output. When {@code deferWeight} is true
     * (zero-bubble scheduling) the weight-gradient work is kept for a later
     * {@link #backwardWeight(int)} of the same micro-batch; otherwise it is done here.
     *
     * @return the input gradient, never null
     */
    T backwardInput(int microBatch, T outputGradient, boolean deferWeight);

    /** The deferred weight-gradient work of {@code microBatch}'s earlier {@code backwardInput(…, true)}. */
    void backwardWeight(int microBatch);

    /**
     * The forward of {@code forwardMicroBatch} on this stage overlapped with the backward of
     * {@code backwardMicroBatch} on {@code backwardStage} (the rank's other stage), as upstream's
     * {@code overlapped_forward_backward}. Only {@link Mode#TRAIN_OVERLAPPED} calls it, for the
     * schedule's FB ops; the backward never defers its weight work. An override may interleave the
     * two (e.g. on two streams) but must give the same results as this default, which runs the
     * forward, then the backward.
     */
    default Overlapped<T> forwardBackward(int forwardMicroBatch, T input, PipelineStage<T> backwardStage,
            int backwardMicroBatch, T outputGradient) {
        T output = forward(forwardMicroBatch, input, true);
        T inputGradient = backwardStage.backwardInput(backwardMicroBatch, outputGradient, false);
        return new Overlapped<>(output, inputGradient);
    }

    /** What an overlapped forward-backward produces: the forward's output and the backward's input gradient. */
    record Overlapped<T>(T output, T inputGradient) {}
}
