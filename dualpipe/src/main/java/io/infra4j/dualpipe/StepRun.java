package io.infra4j.dualpipe;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One step of one rank: interprets the schedule's ops, in order, over the rank's two stages and its
 * communicator. Posts are collected until their commit (X), which exchanges them as one batch, so
 * the communicator sees exactly upstream's batches. Used once; {@link DualPipe} has checked the
 * arguments.
 */
final class StepRun<T> {
    private final RankRoles roles;
    private final Mode mode;
    private final List<PipelineStage<T>> stages;
    private final Communicator<T> communicator;
    private final Criterion<T> criterion;
    private final List<T> labels;

    private final ChunkSlots<T> inputs;
    private final ChunkSlots<T> outputs;
    private final ChunkSlots<T> outputGradients;
    private final ChunkSlots<T> inputGradients;
    /** Weight work deferred by zero-bubble backwards; the schedule's W ops must drain it in order. */
    private final Deque<Chunk> deferred = new ArrayDeque<>();
    private final List<Transfer<T>> posted = new ArrayList<>();
    /** Where each posted receive's payload goes, in the order of the receives in {@link #posted}. */
    private final List<Target<T>> receiveTargets = new ArrayList<>();

    private final double[] losses;
    private int lossCount;
    private final List<T> finalOutputs;

    private record Chunk(int d, int c) {}

    private record Target<T>(ChunkSlots<T> slots, int d, int c) {}

    StepRun(RankRoles roles, Mode mode, List<PipelineStage<T>> stages, Communicator<T> communicator, int numChunks,
            List<T> microBatchInputs, List<T> labels, Criterion<T> criterion) {
        this.roles = roles;
        this.mode = mode;
        this.stages = stages;
        this.communicator = communicator;
        this.criterion = criterion;
        this.labels = labels;
        int rank = roles.rank();
        this.inputs = new ChunkSlots<>("input", rank);
        this.outputs = new ChunkSlots<>("output", rank);
        this.outputGradients = new ChunkSlots<>("output gradient", rank);
        this.inputGradients = new ChunkSlots<>("input gradient", rank);
        for (int c = 0; c < microBatchInputs.size(); c++) {
            inputs.put(roles.inputDirection(), c, microBatchInputs.get(c));
        }
        this.losses = new double[labels.size()];
        boolean keepOutputs = !mode.training() && roles.lossDirection() >= 0;
        this.finalOutputs = keepOutputs ? new ArrayList<>(Collections.nCopies(roles.microBatches(numChunks), null))
                : List.of();
    }

    StepResult<T> run(List<Op> ops) {
        for (Op op : ops) {
            apply(op);
        }
        checkDrained();
        List<Double> lossList = Arrays.stream(losses).boxed().toList();
        return new StepResult<>(roles.rank(), lossList, finalOutputs);
    }

    private void apply(Op op) {
        switch (op) {
            case Op.Forward f -> forwarded(f.d(), f.c(), forward(f.d(), f.c(), inputs.take(f.d(), f.c())));
            case Op.Backward b -> backward(b.d(), b.c(), b.zeroBubble());
            case Op.ForwardBackward fb -> forwardBackward(fb);
            case Op.Weight w -> weight(w.d(), w.c());
            case Op.RecvForward r -> postReceive(r.peer(), inputs, r.d(), r.c());
            case Op.SendForward s -> posted.add(Transfer.send(s.peer(), outputs.take(s.d(), s.c())));
            case Op.RecvBackward r -> postReceive(r.peer(), outputGradients, r.d(), r.c());
            case Op.SendBackward s -> posted.add(Transfer.send(s.peer(), inputGradients.take(s.d(), s.c())));
            case Op.Commit x -> commit(x.count());
        }
    }

    // ---- computations ----

    private T forward(int d, int c, T input) {
        return notNull(stages.get(d).forward(c, input, mode.training()), "stage's output", d, c);
    }

    private void backward(int d, int c, boolean zeroBubble) {
        T inputGradient = stages.get(d).backwardInput(c, outputGradients.take(d, c), zeroBubble);
        if (zeroBubble) {
            deferred.addLast(new Chunk(d, c));
        }
        backwarded(d, c, notNull(inputGradient, "stage's input gradient", d, c));
    }

    private void forwardBackward(Op.ForwardBackward fb) {
        T input = inputs.take(fb.d0(), fb.c0());
        T outputGradient = outputGradients.take(fb.d1(), fb.c1());
        if (mode == Mode.TRAIN_OVERLAPPED) {
            PipelineStage.Overlapped<T> both = stages.get(fb.d0())
                    .forwardBackward(fb.c0(), input, stages.get(fb.d1()), fb.c1(), outputGradient);
            if (both == null) {
                throw new IllegalStateException("rank " + roles.rank() + ": forwardBackward of " + fb.toList() + " returned null");
            }
            forwarded(fb.d0(), fb.c0(), notNull(both.output(), "overlapped output", fb.d0(), fb.c0()));
            backwarded(fb.d1(), fb.c1(), notNull(both.inputGradient(), "overlapped input gradient", fb.d1(), fb.c1()));
        } else {
            forwarded(fb.d0(), fb.c0(), forward(fb.d0(), fb.c0(), input));
            T inputGradient = stages.get(fb.d1()).backwardInput(fb.c1(), outputGradient, false);
            backwarded(fb.d1(), fb.c1(), notNull(inputGradient, "stage's input gradient", fb.d1(), fb.c1()));
        }
    }

    private void weight(int d, int c) {
        Chunk next = deferred.pollFirst();
        if (next == null || next.d() != d || next.c() != c) {
            throw new IllegalStateException("rank " + roles.rank() + ": W(" + d + "," + c + ") but the next deferred weight work is "
                    + (next == null ? "none" : "(" + next.d() + "," + next.c() + ")"));
        }
        stages.get(d).backwardWeight(c);
    }

    /** Files a forward's output: into the loss, across the V's turn, or for its send. */
    private void forwarded(int d, int c, T output) {
        if (roles.turnsHere() && d == 0) {
            inputs.put(1, c, output);
        } else if (roles.lossAt(d)) {
            lastStageOutput(d, c, output);
        } else {
            outputs.put(d, c, output);
        }
    }

    /** Files a backward's input gradient: back across the V's turn, for its send, or nowhere at the entry. */
    private void backwarded(int d, int c, T inputGradient) {
        if (roles.turnsHere() && d == 1) {
            outputGradients.put(0, c, inputGradient);
        } else if (!roles.entryAt(d)) {
            inputGradients.put(d, c, inputGradient);
        } // else: the gradient of the caller's micro-batch input, which nobody needs
    }

    private void lastStageOutput(int d, int c, T output) {
        if (!mode.training()) {
            finalOutputs.set(c, output);
        }
        if (labels.isEmpty()) {
            return; // inference without labels: outputs only
        }
        Criterion.Loss<T> loss = criterion.evaluate(output, labels.get(c), mode.training());
        if (loss == null) {
            throw new IllegalStateException("rank " + roles.rank() + ": the criterion returned null for (" + d + "," + c + ")");
        }
        losses[c] = loss.value();
        lossCount++;
        if (mode.training()) {
            outputGradients.put(d, c, notNull(loss.gradient(), "the criterion's gradient", d, c));
        }
    }

    // ---- communication ----

    private void postReceive(int peer, ChunkSlots<T> slots, int d, int c) {
        posted.add(Transfer.recv(peer));
        receiveTargets.add(new Target<>(slots, d, c));
    }

    private void commit(int count) {
        if (posted.size() != count) {
            throw new IllegalStateException("rank " + roles.rank() + ": X(" + count + ") but " + posted.size() + " transfers are posted");
        }
        List<T> received = communicator.exchange(List.copyOf(posted));
        if (received == null || received.size() != receiveTargets.size()) {
            throw new CommunicationException("rank " + roles.rank() + ": the communicator returned "
                    + (received == null ? "null" : received.size() + " payloads") + " for " + receiveTargets.size() + " receives");
        }
        for (int i = 0; i < received.size(); i++) {
            Target<T> target = receiveTargets.get(i);
            target.slots().put(target.d(), target.c(), received.get(i));
        }
        posted.clear();
        receiveTargets.clear();
    }

    // ---- checks ----

    private void checkDrained() {
        String left = Stream.of(inputs, outputs, outputGradients, inputGradients).map(ChunkSlots::leftovers)
                .filter(s -> !s.isEmpty()).collect(Collectors.joining("; "));
        if (!posted.isEmpty()) {
            left += (left.isEmpty() ? "" : "; ") + posted.size() + " posted transfers never committed";
        }
        if (!deferred.isEmpty()) {
            left += (left.isEmpty() ? "" : "; ") + deferred.size() + " deferred weight works never run";
        }
        long missingOutputs = finalOutputs.stream().filter(o -> o == null).count();
        if (missingOutputs > 0) {
            left += (left.isEmpty() ? "" : "; ") + "outputs of " + missingOutputs + " micro-batches never computed";
        }
        if (lossCount != losses.length) {
            left += (left.isEmpty() ? "" : "; ") + "losses of " + lossCount + " of " + losses.length + " micro-batches";
        }
        if (!left.isEmpty()) {
            throw new IllegalStateException("rank " + roles.rank() + ": the step ended with work left over: " + left);
        }
    }

    private T notNull(T payload, String what, int d, int c) {
        if (payload == null) {
            throw new IllegalStateException("rank " + roles.rank() + ": null " + what + " for (" + d + "," + c + ")");
        }
        return payload;
    }
}
