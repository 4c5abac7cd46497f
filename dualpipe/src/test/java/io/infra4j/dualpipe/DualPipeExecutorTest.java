package io.infra4j.dualpipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The executor against the non-pipelined reference: same losses, gradients and outputs. */
class DualPipeExecutorTest {
    static Stream<Arguments> configurations() {
        return Stream.of(
                Arguments.of(Variant.DUALPIPE, 2, 4), Arguments.of(Variant.DUALPIPE, 4, 8),
                Arguments.of(Variant.DUALPIPE, 4, 12), Arguments.of(Variant.DUALPIPE, 6, 12),
                Arguments.of(Variant.DUALPIPE_V, 1, 2), Arguments.of(Variant.DUALPIPE_V, 2, 4),
                Arguments.of(Variant.DUALPIPE_V, 3, 7), Arguments.of(Variant.DUALPIPE_V, 4, 8));
    }

    static Stream<Arguments> trainingConfigurations() {
        return configurations().flatMap(a -> Stream.of(Mode.TRAIN_PLAIN, Mode.TRAIN_OVERLAPPED)
                .map(m -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], m)));
    }

    @ParameterizedTest(name = "{0} ranks={1} chunks={2} {3}")
    @MethodSource("trainingConfigurations")
    void trainingMatchesTheReference(Variant variant, int ranks, int chunks, Mode mode) {
        ToyPipeline toy = new ToyPipeline(variant, ranks, chunks, 7);
        List<StepResult<double[][]>> results = toy.run(mode);

        ToyMlp[][] reference = toy.referenceStages();
        for (ToyPipeline.Flow flow : toy.flows) {
            ToyMlp.Sequential ref = ToyPipeline.runReference(flow, reference, true);
            StepResult<double[][]> got = results.get(flow.lossRank());
            ToyPipeline.assertClose(ref.loss(), got.totalLoss(), "loss at rank " + flow.lossRank());
            List<Double> refLosses = ToyPipeline.microBatchLosses(flow, ref.output());
            assertEquals(refLosses.size(), got.losses().size(), "number of losses");
            for (int c = 0; c < refLosses.size(); c++) {
                ToyPipeline.assertClose(refLosses.get(c), got.losses().get(c), "loss of micro-batch " + c);
            }
            assertTrue(got.outputs().isEmpty(), "training returns no outputs");
        }
        for (int r = 0; r < ranks; r++) {
            assertEquals(r, results.get(r).rank());
            if (toy.lossAt(r) == null) {
                assertTrue(results.get(r).losses().isEmpty(), "rank " + r + " computes no loss");
            }
            for (int d = 0; d < 2; d++) {
                String what = "rank " + r + " d=" + d;
                ToyPipeline.assertHasGradients(reference[r][d], what);
                ToyPipeline.assertSameGradients(reference[r][d], toy.stages[r][d], what);
                assertEquals(0, toy.stages[r][d].inFlight(), what + ": micro-batches left in the stage");
            }
        }
    }

    @ParameterizedTest(name = "{0} ranks={1} chunks={2}")
    @MethodSource("configurations")
    void inferenceOutputsAreTheReferences(Variant variant, int ranks, int chunks) {
        ToyPipeline toy = new ToyPipeline(variant, ranks, chunks, 11);
        List<StepResult<double[][]>> withLabels = toy.run(Mode.INFER);
        List<StepResult<double[][]>> withoutLabels = DualPipe.runAll(variant, Mode.INFER, chunks, toy.setups(false), null,
                ToyMlp::copyRows);
        ToyMlp[][] reference = toy.referenceStages();
        for (ToyPipeline.Flow flow : toy.flows) {
            double[][] expected = ToyPipeline.runReference(flow, reference, false).output();
            for (List<StepResult<double[][]>> results : List.of(withLabels, withoutLabels)) {
                StepResult<double[][]> got = results.get(flow.lossRank());
                assertEquals(flow.microBatches(), got.outputs().size(), "outputs at rank " + flow.lossRank());
                // Forward is row by row, so the outputs are the reference's to the bit.
                assertArrayEquals(expected, ToyMlp.concatRows(got.outputs()), "outputs at rank " + flow.lossRank());
            }
            assertEquals(ToyPipeline.microBatchLosses(flow, expected), withLabels.get(flow.lossRank()).losses());
            assertTrue(withoutLabels.get(flow.lossRank()).losses().isEmpty());
        }
        for (int r = 0; r < ranks; r++) {
            for (int d = 0; d < 2; d++) {
                assertEquals(0, toy.stages[r][d].inFlight(), "inference keeps nothing");
                assertArrayEquals(new double[ToyPipeline.WIDTH], toy.stages[r][d].biasGrad(0), "inference computes no gradient");
            }
        }
    }

    @ParameterizedTest(name = "{0} ranks={1} chunks={2}")
    @MethodSource("configurations")
    void twoStepsWithZeroedGradientsAreIdentical(Variant variant, int ranks, int chunks) {
        ToyPipeline toy = new ToyPipeline(variant, ranks, chunks, 3);
        List<StepResult<double[][]>> first = toy.run(Mode.TRAIN_OVERLAPPED);
        List<double[][]> firstGrads = gradients(toy);
        for (ToyMlp[] rank : toy.stages) {
            rank[0].zeroGrad();
            rank[1].zeroGrad();
        }
        List<StepResult<double[][]>> second = toy.run(Mode.TRAIN_OVERLAPPED);
        assertEquals(first, second, "losses");
        List<double[][]> secondGrads = gradients(toy);
        for (int i = 0; i < firstGrads.size(); i++) {
            assertArrayEquals(firstGrads.get(i), secondGrads.get(i), "gradient " + i);
        }
    }

    /** Without zeroing, a second step adds the same gradients again, as PyTorch's .grad does. */
    @ParameterizedTest(name = "{0} ranks={1} chunks={2}")
    @MethodSource("configurations")
    void gradientsAccumulateAcrossSteps(Variant variant, int ranks, int chunks) {
        ToyPipeline toy = new ToyPipeline(variant, ranks, chunks, 5);
        toy.run(Mode.TRAIN_PLAIN);
        List<double[][]> once = gradients(toy);
        toy.run(Mode.TRAIN_PLAIN);
        List<double[][]> twice = gradients(toy);
        for (int i = 0; i < once.size(); i++) {
            double[][] doubled = ToyMlp.copyRows(once.get(i));
            for (double[] row : doubled) {
                for (int j = 0; j < row.length; j++) {
                    row[j] *= 2;
                }
            }
            // Equal up to rounding: the second step adds each micro-batch's share to a non-zero sum.
            ToyPipeline.assertClose(doubled, twice.get(i), "gradient " + i);
        }
    }

    /**
     * TRAIN_OVERLAPPED hands each FB op to the forward stage's hook, TRAIN_PLAIN never does; a hook that
     * runs the backward first changes nothing, since the two halves touch different stages.
     */
    @ParameterizedTest(name = "{0} ranks={1} chunks={2}")
    @MethodSource("configurations")
    void overlappedModeUsesTheHookWithTheSameResults(Variant variant, int ranks, int chunks) {
        List<double[][]> plain = null;
        for (Mode mode : List.of(Mode.TRAIN_PLAIN, Mode.TRAIN_OVERLAPPED)) {
            ToyPipeline toy = new ToyPipeline(variant, ranks, chunks, 13);
            AtomicInteger hookCalls = new AtomicInteger();
            List<DualPipe.RankSetup<double[][]>> setups = toy.setups(true).stream()
                    .map(s -> new DualPipe.RankSetup<double[][]>(new BackwardFirst(s.stage0(), hookCalls),
                            new BackwardFirst(s.stage1(), hookCalls), s.inputs(), s.labels()))
                    .toList();
            DualPipe.runAll(variant, mode, chunks, setups, ToyMlp.squaredError(), ToyMlp::copyRows);
            int fbOps = 0;
            for (int r = 0; r < ranks; r++) {
                fbOps += (int) DualPipeSchedule.generate(variant, ranks, chunks, r, mode).stream()
                        .filter(op -> op instanceof Op.ForwardBackward).count();
            }
            assertEquals(mode == Mode.TRAIN_OVERLAPPED ? fbOps : 0, hookCalls.get(), "hook calls in " + mode);
            if (plain == null) {
                plain = gradients(toy);
            } else {
                List<double[][]> overlapped = gradients(toy);
                for (int i = 0; i < plain.size(); i++) {
                    assertArrayEquals(plain.get(i), overlapped.get(i), "gradient " + i);
                }
            }
        }
    }

    /**
     * Upstream's own check: DualPipe rank r's direction-0 module and rank N-1-r's direction-1 module
     * are copies of model stage r, and the sum of the two copies' gradients is the gradient of the
     * whole model run, non-pipelined, on both directions' micro-batches.
     */
    @ParameterizedTest(name = "DualPipe ranks={0} chunks={1}")
    @MethodSource("mirroredConfigurations")
    void dualPipeCopiesSumToTheModelsGradient(int ranks, int chunks) {
        ToyPipeline toy = new ToyPipeline(Variant.DUALPIPE, ranks, chunks, 17);
        List<ToyMlp> model = new ArrayList<>();
        for (int s = 0; s < ranks; s++) {
            model.add(toy.stages[s][0].copy());
            toy.stages[ranks - 1 - s][1] = toy.stages[s][0].copy();
        }
        List<StepResult<double[][]>> results = toy.run(Mode.TRAIN_OVERLAPPED);

        double[][] batch = ToyMlp.concatRows(List.of(toy.flows.get(0).batch(), toy.flows.get(1).batch()));
        double[][] labels = ToyMlp.concatRows(List.of(toy.flows.get(0).labels(), toy.flows.get(1).labels()));
        ToyMlp.Sequential ref = ToyMlp.runSequential(model, batch, labels);
        ToyPipeline.assertClose(ref.loss(), results.get(0).totalLoss() + results.get(ranks - 1).totalLoss(), "loss");
        for (int s = 0; s < ranks; s++) {
            ToyMlp copy0 = toy.stages[s][0];
            ToyMlp copy1 = toy.stages[ranks - 1 - s][1];
            for (int l = 0; l < ToyPipeline.LAYERS; l++) {
                double[][] sum = copy0.weightGrad(l);
                double[][] other = copy1.weightGrad(l);
                for (int o = 0; o < sum.length; o++) {
                    for (int i = 0; i < sum[o].length; i++) {
                        sum[o][i] += other[o][i];
                    }
                }
                ToyPipeline.assertClose(model.get(s).weightGrad(l), sum, "stage " + s + " layer " + l + " weight gradient");
            }
        }
    }

    static Stream<Arguments> mirroredConfigurations() {
        return Stream.of(Arguments.of(2, 4), Arguments.of(4, 8), Arguments.of(6, 12));
    }

    private static List<double[][]> gradients(ToyPipeline toy) {
        List<double[][]> grads = new ArrayList<>();
        for (ToyMlp[] rank : toy.stages) {
            for (ToyMlp stage : rank) {
                for (int l = 0; l < stage.layers(); l++) {
                    grads.add(stage.weightGrad(l));
                    grads.add(new double[][] {stage.biasGrad(l)});
                }
            }
        }
        return grads;
    }

    /** Delegates to a stage; its overlap hook counts its calls and runs the backward before the forward. */
    private record BackwardFirst(PipelineStage<double[][]> inner, AtomicInteger calls) implements PipelineStage<double[][]> {
        @Override
        public double[][] forward(int microBatch, double[][] input, boolean training) {
            return inner.forward(microBatch, input, training);
        }

        @Override
        public double[][] backwardInput(int microBatch, double[][] outputGradient, boolean deferWeight) {
            return inner.backwardInput(microBatch, outputGradient, deferWeight);
        }

        @Override
        public void backwardWeight(int microBatch) {
            inner.backwardWeight(microBatch);
        }

        @Override
        public Overlapped<double[][]> forwardBackward(int forwardMicroBatch, double[][] input,
                PipelineStage<double[][]> backwardStage, int backwardMicroBatch, double[][] outputGradient) {
            calls.incrementAndGet();
            double[][] inputGradient = backwardStage.backwardInput(backwardMicroBatch, outputGradient, false);
            return new Overlapped<>(forward(forwardMicroBatch, input, true), inputGradient);
        }
    }
}
