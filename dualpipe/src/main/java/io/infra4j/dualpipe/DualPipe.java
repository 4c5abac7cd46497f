package io.infra4j.dualpipe;

import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Runs one rank's share of a DualPipe or DualPipeV training or inference step: the ops of
 * {@link DualPipeSchedule#generate}, one by one, over the rank's two stages and a communicator.
 *
 * <p>Stage {@code d} of rank r is the module the ops name with direction (DualPipe) or module index
 * (DualPipeV) d. DualPipe: direction 0 runs rank 0 to N-1, direction 1 runs rank N-1 to 0; rank 0
 * takes direction 0's micro-batch inputs and direction 1's labels, rank N-1 the opposite, C/2 of
 * each. DualPipeV: rank r holds stages r (d=0) and 2N-1-r (d=1) of 2N; rank 0 takes all C inputs and
 * all C labels; on rank N-1 module 0's output becomes module 1's input without communication, and
 * module 1's input gradient module 0's output gradient.
 *
 * <p>The gradients the stages accumulate are those of the sum of the micro-batch losses. An executor
 * runs one step at a time; it is not thread-safe.
 *
 * @param <T> the payload of activations and gradients
 */
public final class DualPipe<T> {
    private final Variant variant;
    private final Mode mode;
    private final RankRoles roles;
    private final List<PipelineStage<T>> stages;
    private final Communicator<T> communicator;

    /**
     * @param stage0 the module ops name with d=0
     * @param stage1 the module ops name with d=1; a different object from stage0, since each keeps
     *               its in-flight micro-batches by index and both directions count from 0
     * @param communicator this rank's, of a group of {@code numRanks}
     */
    public DualPipe(Variant variant, int rank, int numRanks, PipelineStage<T> stage0, PipelineStage<T> stage1,
            Communicator<T> communicator, Mode mode) {
        if (variant == null) {
            throw new IllegalArgumentException("variant is null");
        }
        if (mode == null) {
            throw new IllegalArgumentException("mode is null");
        }
        // The smallest chunk count upstream accepts, so only numRanks can be refused here.
        DualPipeSchedule.check(variant, numRanks, 2 * numRanks);
        if (rank < 0 || rank >= numRanks) {
            throw new IllegalArgumentException("rank " + rank + " out of [0, " + numRanks + ")");
        }
        if (stage0 == null || stage1 == null) {
            throw new IllegalArgumentException("stage" + (stage0 == null ? 0 : 1) + " is null");
        }
        if (stage0 == stage1) {
            throw new IllegalArgumentException("stage0 and stage1 are the same object; each direction needs its own");
        }
        if (communicator == null) {
            throw new IllegalArgumentException("communicator is null");
        }
        if (communicator.rank() != rank || communicator.size() != numRanks) {
            throw new IllegalArgumentException("communicator is rank " + communicator.rank() + " of " + communicator.size()
                    + ", but this executor is rank " + rank + " of " + numRanks);
        }
        this.variant = variant;
        this.mode = mode;
        this.roles = new RankRoles(variant, numRanks, rank);
        this.stages = List.of(stage0, stage1);
        this.communicator = communicator;
    }

    public Variant variant() {
        return variant;
    }

    public Mode mode() {
        return mode;
    }

    public int rank() {
        return roles.rank();
    }

    public int numRanks() {
        return roles.numRanks();
    }

    /**
     * Runs one step of {@code numChunks} micro-batches (every rank of the group must call it with the
     * same count). All arguments are checked before any work.
     *
     * @param inputs    on the ranks where micro-batches enter ({@link #microBatchesAt}), that many
     *                  inputs in order; elsewhere empty
     * @param labels    on the same ranks, as many labels, for the direction whose loss is computed
     *                  here; elsewhere empty. In {@link Mode#INFER} they may be empty: no losses then
     * @param criterion required where labels are given; ignored elsewhere (may be null)
     * @throws IllegalArgumentException for a bad count, list, or missing criterion
     * @throws CommunicationException   when a peer fails or the communication times out
     */
    public StepResult<T> step(int numChunks, List<T> inputs, List<T> labels, Criterion<T> criterion) {
        checkStep(numChunks, inputs, labels, criterion);
        List<Op> ops = DualPipeSchedule.generate(variant, roles.numRanks(), numChunks, roles.rank(), mode);
        return new StepRun<>(roles, mode, stages, communicator, numChunks, List.copyOf(inputs), List.copyOf(labels), criterion)
                .run(ops);
    }

    /** Checks {@link #step}'s arguments without doing anything. */
    void checkStep(int numChunks, List<T> inputs, List<T> labels, Criterion<T> criterion) {
        DualPipeSchedule.check(variant, roles.numRanks(), numChunks);
        int expected = roles.microBatches(numChunks);
        String where = variant + " rank " + roles.rank() + " of " + roles.numRanks() + " with " + numChunks + " chunks";
        checkList("inputs", inputs, expected, where);
        checkList("labels", labels, expected, where);
        if (inputs.size() != expected) {
            throw new IllegalArgumentException("inputs: " + where + " takes " + expected + " micro-batches, got " + inputs.size());
        }
        boolean labelsOptional = !mode.training();
        if (labels.size() != expected && !(labelsOptional && labels.isEmpty())) {
            throw new IllegalArgumentException("labels: " + where + " computes the loss of " + expected
                    + " micro-batches and takes as many labels" + (labelsOptional ? " (or none, in inference)" : "")
                    + ", got " + labels.size());
        }
        if (!labels.isEmpty() && criterion == null) {
            throw new IllegalArgumentException("criterion is null, but " + where + " has labels to compute losses with");
        }
    }

    private static void checkList(String name, List<?> list, int expected, String where) {
        if (list == null) {
            throw new IllegalArgumentException(name + " is null (" + where + " takes " + expected + "; pass an empty list for none)");
        }
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) {
                throw new IllegalArgumentException(name + "[" + i + "] is null");
            }
        }
    }

    /**
     * How many micro-batch inputs, and as many labels, rank {@code rank} takes in a step: C/2 on
     * DualPipe's ranks 0 and N-1, C on DualPipeV's rank 0, none elsewhere.
     */
    public static int microBatchesAt(Variant variant, int numRanks, int numChunks, int rank) {
        DualPipeSchedule.check(variant, numRanks, numChunks);
        if (rank < 0 || rank >= numRanks) {
            throw new IllegalArgumentException("rank " + rank + " out of [0, " + numRanks + ")");
        }
        return new RankRoles(variant, numRanks, rank).microBatches(numChunks);
    }

    /** One rank of {@link #runAll}: its two stages and the inputs and labels it takes (empty lists for none). */
    public record RankSetup<T>(PipelineStage<T> stage0, PipelineStage<T> stage1, List<T> inputs, List<T> labels) {
        public RankSetup {
            Objects.requireNonNull(inputs, "inputs");
            Objects.requireNonNull(labels, "labels");
        }
    }

    /**
     * Runs one step on every rank, each on its own thread, over an {@link InProcessCommunicator}
     * group, and returns the ranks' results in rank order. Every argument of every rank is checked
     * before any thread starts. When a rank throws, the others are stopped (their communicators
     * closed) and this throws a {@link RankFailedException} naming the rank that failed first.
     *
     * @param ranks       one setup per rank; their number is the number of ranks
     * @param payloadCopy how a sent payload is copied so that ranks never share one (identity for
     *                    immutable payloads)
     */
    public static <T> List<StepResult<T>> runAll(Variant variant, Mode mode, int numChunks, List<RankSetup<T>> ranks,
            Criterion<T> criterion, UnaryOperator<T> payloadCopy) {
        return InProcessRunner.run(variant, mode, numChunks, ranks, criterion, payloadCopy);
    }
}
