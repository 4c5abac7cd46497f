package io.infra4j.dualpipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Failures end the run promptly, naming the rank; bad arguments are refused before any work. */
class DualPipeFailureTest {
    private static final Duration NO_HANG = Duration.ofSeconds(20);

    enum Where { FORWARD, BACKWARD_INPUT, BACKWARD_WEIGHT }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(Variant.DUALPIPE, 4, 8, 0, 1, Where.FORWARD),
                Arguments.of(Variant.DUALPIPE, 4, 8, 2, 0, Where.BACKWARD_INPUT),
                Arguments.of(Variant.DUALPIPE, 6, 12, 3, 1, Where.BACKWARD_WEIGHT),
                Arguments.of(Variant.DUALPIPE_V, 3, 7, 2, 0, Where.FORWARD),
                Arguments.of(Variant.DUALPIPE_V, 3, 7, 1, 1, Where.BACKWARD_INPUT),
                Arguments.of(Variant.DUALPIPE_V, 4, 8, 0, 0, Where.BACKWARD_WEIGHT));
    }

    @ParameterizedTest(name = "{0} ranks={1} chunks={2}: rank {3} d={4} throws in {5}")
    @MethodSource("failures")
    void aStageThatThrowsFailsTheRunNamingItsRank(Variant variant, int ranks, int chunks, int rank, int d, Where where) {
        ToyPipeline toy = new ToyPipeline(variant, ranks, chunks, 1);
        RuntimeException boom = new IllegalStateException("boom");
        List<DualPipe.RankSetup<double[][]>> setups = new ArrayList<>(toy.setups(true));
        DualPipe.RankSetup<double[][]> s = setups.get(rank);
        PipelineStage<double[][]> failing = new Failing(d == 0 ? s.stage0() : s.stage1(), where, boom);
        setups.set(rank, new DualPipe.RankSetup<>(d == 0 ? failing : s.stage0(), d == 1 ? failing : s.stage1(), s.inputs(),
                s.labels()));

        RankFailedException e = assertTimeoutPreemptively(NO_HANG, () -> assertThrows(RankFailedException.class,
                () -> DualPipe.runAll(variant, Mode.TRAIN_OVERLAPPED, chunks, setups, ToyMlp.squaredError(), ToyMlp::copyRows)));
        assertEquals(rank, e.rank());
        assertSame(boom, e.getCause());
        assertTrue(e.getMessage().contains("rank " + rank), e.getMessage());
        for (Throwable other : e.getSuppressed()) {
            assertTrue(other instanceof CommunicationException, "the other ranks stop on communication: " + other);
        }
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("dualpipe-rank-")),
                "no rank thread is left");
    }

    /** A criterion that throws fails the rank that computes the loss. */
    @Test
    void aCriterionThatThrowsFailsTheLossRank() {
        ToyPipeline toy = new ToyPipeline(Variant.DUALPIPE_V, 2, 4, 1);
        RuntimeException boom = new ArithmeticException("bad loss");
        Criterion<double[][]> criterion = (output, labels, withGradient) -> {
            throw boom;
        };
        RankFailedException e = assertTimeoutPreemptively(NO_HANG, () -> assertThrows(RankFailedException.class,
                () -> DualPipe.runAll(Variant.DUALPIPE_V, Mode.TRAIN_PLAIN, 4, toy.setups(true), criterion, ToyMlp::copyRows)));
        assertEquals(0, e.rank());
        assertSame(boom, e.getCause());
    }

    // ---- bad arguments ----

    @Test
    void wrongNumberOfMicroBatchesIsRefusedBeforeAnyWork() {
        ToyPipeline toy = new ToyPipeline(Variant.DUALPIPE, 4, 8, 1);
        AtomicInteger calls = new AtomicInteger();
        List<DualPipe.RankSetup<double[][]>> setups = counting(toy.setups(true), calls);
        DualPipe.RankSetup<double[][]> rank0 = setups.get(0);
        setups.set(0, new DualPipe.RankSetup<>(rank0.stage0(), rank0.stage1(), rank0.inputs().subList(0, 3), rank0.labels()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DualPipe.runAll(Variant.DUALPIPE, Mode.TRAIN_PLAIN, 8, setups, ToyMlp.squaredError(), ToyMlp::copyRows));
        assertTrue(e.getMessage().startsWith("inputs:") && e.getMessage().contains("takes 4"), e.getMessage());
        assertEquals(0, calls.get(), "no stage ran");

        // Inputs on a rank where none enter.
        List<DualPipe.RankSetup<double[][]>> middle = counting(toy.setups(true), calls);
        DualPipe.RankSetup<double[][]> rank1 = middle.get(1);
        middle.set(1, new DualPipe.RankSetup<>(rank1.stage0(), rank1.stage1(), rank0.inputs(), List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> DualPipe.runAll(Variant.DUALPIPE, Mode.TRAIN_PLAIN, 8, middle, ToyMlp.squaredError(), ToyMlp::copyRows));
        assertEquals(0, calls.get(), "no stage ran");
    }

    @Test
    void missingLabelsWhereTheLossIsComputedAreRefusedInTraining() {
        ToyPipeline toy = new ToyPipeline(Variant.DUALPIPE_V, 2, 4, 1);
        AtomicInteger calls = new AtomicInteger();
        List<DualPipe.RankSetup<double[][]>> setups = counting(toy.setups(false), calls);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DualPipe.runAll(Variant.DUALPIPE_V, Mode.TRAIN_PLAIN, 4, setups, ToyMlp.squaredError(), ToyMlp::copyRows));
        assertTrue(e.getMessage().startsWith("labels:"), e.getMessage());
        // Labels without a criterion.
        assertThrows(IllegalArgumentException.class, () -> DualPipe.runAll(Variant.DUALPIPE_V, Mode.INFER, 4,
                counting(toy.setups(true), calls), null, ToyMlp::copyRows));
        assertEquals(0, calls.get(), "no stage ran");
    }

    @Test
    void badConstructorArgumentsAreRefused() {
        List<Communicator<double[][]>> group = InProcessCommunicator.group(4);
        ToyMlp a = ToyMlp.random(2, 1, 1);
        ToyMlp b = ToyMlp.random(2, 1, 2);
        Mode m = Mode.TRAIN_PLAIN;
        Variant dp = Variant.DUALPIPE;
        assertMessage("rank 4 out of [0, 4)", () -> new DualPipe<>(dp, 4, 4, a, b, group.get(0), m));
        assertMessage("rank -1 out of [0, 4)", () -> new DualPipe<>(dp, -1, 4, a, b, group.get(0), m));
        assertMessage("even number of ranks", () -> new DualPipe<>(dp, 0, 3, a, b, group.get(0), m));
        assertMessage("same object", () -> new DualPipe<>(dp, 0, 4, a, a, group.get(0), m));
        assertMessage("stage1 is null", () -> new DualPipe<>(dp, 0, 4, a, null, group.get(0), m));
        assertMessage("communicator is rank 1 of 4", () -> new DualPipe<>(dp, 0, 4, a, b, group.get(1), m));
        assertMessage("mode is null", () -> new DualPipe<>(dp, 0, 4, a, b, group.get(0), null));
        assertMessage("variant is null", () -> new DualPipe<>(null, 0, 4, a, b, group.get(0), m));
    }

    @Test
    void badStepArgumentsAreRefusedBeforeAnyCommunication() {
        // A lone rank of a group of two: any communication would wait for the missing peer.
        List<Communicator<double[][]>> group = InProcessCommunicator.group(2, ToyMlp::copyRows, Duration.ofSeconds(30));
        ToyPipeline toy = new ToyPipeline(Variant.DUALPIPE, 2, 4, 1);
        AtomicInteger calls = new AtomicInteger();
        DualPipe.RankSetup<double[][]> s = counting(toy.setups(true), calls).get(0);
        DualPipe<double[][]> rank0 = new DualPipe<>(Variant.DUALPIPE, 0, 2, s.stage0(), s.stage1(), group.get(0), Mode.TRAIN_PLAIN);
        Criterion<double[][]> loss = ToyMlp.squaredError();
        List<double[][]> withNull = new ArrayList<>(s.inputs());
        withNull.set(1, null);
        assertTimeoutPreemptively(NO_HANG, () -> {
            assertMessage("numChunks=3", () -> rank0.step(3, s.inputs(), s.labels(), loss));
            assertMessage("inputs: DualPipe rank 0 of 2 with 4 chunks takes 2 micro-batches, got 1",
                    () -> rank0.step(4, s.inputs().subList(0, 1), s.labels(), loss));
            assertMessage("labels: DualPipe rank 0 of 2 with 4 chunks computes the loss of 2",
                    () -> rank0.step(4, s.inputs(), List.of(), loss));
            assertMessage("inputs is null", () -> rank0.step(4, null, s.labels(), loss));
            assertMessage("inputs[1] is null", () -> rank0.step(4, withNull, s.labels(), loss));
            assertMessage("criterion is null", () -> rank0.step(4, s.inputs(), s.labels(), null));
        });
        assertEquals(0, calls.get(), "no stage ran");
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
    }

    private static List<DualPipe.RankSetup<double[][]>> counting(List<DualPipe.RankSetup<double[][]>> setups, AtomicInteger calls) {
        List<DualPipe.RankSetup<double[][]>> out = new ArrayList<>();
        for (DualPipe.RankSetup<double[][]> s : setups) {
            out.add(new DualPipe.RankSetup<>(new Failing(s.stage0(), null, null, calls), new Failing(s.stage1(), null, null, calls),
                    s.inputs(), s.labels()));
        }
        return out;
    }

    /** Delegates to a stage; throws {@code error} at its first call of kind {@code where} (null: never); counts calls. */
    private record Failing(PipelineStage<double[][]> inner, Where where, RuntimeException error, AtomicInteger calls)
            implements PipelineStage<double[][]> {
        Failing(PipelineStage<double[][]> inner, Where where, RuntimeException error) {
            this(inner, where, error, new AtomicInteger());
        }

        private void call(Where kind) {
            calls.incrementAndGet();
            if (kind == where) {
                throw error;
            }
        }

        @Override
        public double[][] forward(int microBatch, double[][] input, boolean training) {
            call(Where.FORWARD);
            return inner.forward(microBatch, input, training);
        }

        @Override
        public double[][] backwardInput(int microBatch, double[][] outputGradient, boolean deferWeight) {
            call(Where.BACKWARD_INPUT);
            return inner.backwardInput(microBatch, outputGradient, deferWeight);
        }

        @Override
        public void backwardWeight(int microBatch) {
            call(Where.BACKWARD_WEIGHT);
            inner.backwardWeight(microBatch);
        }
    }
}
