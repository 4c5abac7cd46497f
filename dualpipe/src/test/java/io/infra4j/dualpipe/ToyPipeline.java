package io.infra4j.dualpipe;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A toy pipeline for executor tests: every (rank, d) has its own {@link ToyMlp}, and the micro-batches
 * of each flow (DualPipe: direction 0 from rank 0, direction 1 from rank N-1; DualPipeV: the whole V
 * from rank 0 and back) come from one batch with uneven micro-batch sizes. The reference runs each
 * flow's whole batch through copies of its stages, one after another.
 */
final class ToyPipeline {
    static final int WIDTH = 3;
    static final int LAYERS = 2;

    final Variant variant;
    final int numRanks;
    final int numChunks;
    final ToyMlp[][] stages; // [rank][d]
    final List<Flow> flows = new ArrayList<>();

    /** A path of (rank, d) stages, its whole batch and labels, and where it enters and meets its loss. */
    record Flow(List<int[]> path, double[][] batch, double[][] labels, int entryRank, int lossRank, int microBatches) {}

    ToyPipeline(Variant variant, int numRanks, int numChunks, long seed) {
        this.variant = variant;
        this.numRanks = numRanks;
        this.numChunks = numChunks;
        this.stages = new ToyMlp[numRanks][2];
        for (int r = 0; r < numRanks; r++) {
            for (int d = 0; d < 2; d++) {
                stages[r][d] = ToyMlp.random(WIDTH, LAYERS, seed * 1000 + r * 2 + d);
            }
        }
        SplittableRandom random = new SplittableRandom(seed);
        if (variant == Variant.DUALPIPE) {
            List<int[]> down = new ArrayList<>();
            List<int[]> up = new ArrayList<>();
            for (int r = 0; r < numRanks; r++) {
                down.add(new int[] {r, 0});
                up.add(new int[] {numRanks - 1 - r, 1});
            }
            flows.add(flow(down, 0, numRanks - 1, numChunks / 2, random));
            flows.add(flow(up, numRanks - 1, 0, numChunks / 2, random));
        } else {
            List<int[]> v = new ArrayList<>();
            for (int r = 0; r < numRanks; r++) {
                v.add(new int[] {r, 0});
            }
            for (int r = numRanks - 1; r >= 0; r--) {
                v.add(new int[] {r, 1});
            }
            flows.add(flow(v, 0, 0, numChunks, random));
        }
    }

    /** Rows: two per micro-batch plus one, so the sizes differ. */
    private static Flow flow(List<int[]> path, int entry, int loss, int microBatches, SplittableRandom random) {
        int rows = 2 * microBatches + 1;
        return new Flow(List.copyOf(path), matrix(rows, random), matrix(rows, random), entry, loss, microBatches);
    }

    static double[][] matrix(int rows, SplittableRandom random) {
        double[][] m = new double[rows][WIDTH];
        for (double[] row : m) {
            for (int i = 0; i < WIDTH; i++) {
                row[i] = random.nextDouble(-1, 1);
            }
        }
        return m;
    }

    /** The flow whose micro-batches enter at {@code rank}, or null. */
    Flow enteringAt(int rank) {
        return flows.stream().filter(f -> f.entryRank() == rank).findFirst().orElse(null);
    }

    /** The flow whose loss is computed at {@code rank}, or null. */
    Flow lossAt(int rank) {
        return flows.stream().filter(f -> f.lossRank() == rank).findFirst().orElse(null);
    }

    List<DualPipe.RankSetup<double[][]>> setups(boolean withLabels) {
        List<DualPipe.RankSetup<double[][]>> setups = new ArrayList<>();
        for (int r = 0; r < numRanks; r++) {
            Flow in = enteringAt(r);
            Flow out = lossAt(r);
            List<double[][]> inputs = in == null ? List.of() : ToyMlp.splitRows(in.batch(), in.microBatches());
            List<double[][]> labels = out == null || !withLabels ? List.of() : ToyMlp.splitRows(out.labels(), out.microBatches());
            setups.add(new DualPipe.RankSetup<>(stages[r][0], stages[r][1], inputs, labels));
        }
        return setups;
    }

    List<StepResult<double[][]>> run(Mode mode) {
        return DualPipe.runAll(variant, mode, numChunks, setups(true), ToyMlp.squaredError(), ToyMlp::copyRows);
    }

    /** The reference: copies of every stage, [rank][d], with the gradients of one sequential step per flow. */
    ToyMlp[][] referenceStages() {
        ToyMlp[][] copies = new ToyMlp[numRanks][2];
        for (int r = 0; r < numRanks; r++) {
            for (int d = 0; d < 2; d++) {
                copies[r][d] = stages[r][d].copy();
            }
        }
        return copies;
    }

    /** Runs {@code flow} sequentially over {@code copies} (labels null: forward only). */
    static ToyMlp.Sequential runReference(Flow flow, ToyMlp[][] copies, boolean withLabels) {
        List<ToyMlp> path = flow.path().stream().map(rd -> copies[rd[0]][rd[1]]).toList();
        return ToyMlp.runSequential(path, flow.batch(), withLabels ? flow.labels() : null);
    }

    /** The reference's loss of each micro-batch: the squared error of its rows of the whole output. */
    static List<Double> microBatchLosses(Flow flow, double[][] output) {
        List<double[][]> outs = ToyMlp.splitRows(output, flow.microBatches());
        List<double[][]> labels = ToyMlp.splitRows(flow.labels(), flow.microBatches());
        List<Double> losses = new ArrayList<>();
        for (int c = 0; c < outs.size(); c++) {
            losses.add(ToyMlp.squaredError().evaluate(outs.get(c), labels.get(c), false).value());
        }
        return losses;
    }

    // ---- comparisons ----

    /** max |a - b| / max |b|: the relative difference of two tensors as a whole. */
    static double relativeDifference(double[][] a, double[][] b) {
        return ToyPipelineSetup.relativeDifference(a, b);
    }

    static double relativeDifference(double a, double b) {
        return ToyPipelineSetup.relativeDifference(a, b);
    }

    static void assertClose(double[][] expected, double[][] actual, String what) {
        double rel = relativeDifference(actual, expected);
        assertTrue(rel <= 1e-12, what + ": relative difference " + rel + " > 1e-12");
    }

    static void assertClose(double expected, double actual, String what) {
        double rel = relativeDifference(actual, expected);
        assertTrue(rel <= 1e-12, what + ": " + actual + " vs reference " + expected + ", relative difference " + rel);
    }

    /** Every parameter gradient of {@code actual} is the reference's, to 1e-12. */
    static void assertSameGradients(ToyMlp expected, ToyMlp actual, String what) {
        for (int l = 0; l < expected.layers(); l++) {
            assertClose(expected.weightGrad(l), actual.weightGrad(l), what + " layer " + l + " weight gradient");
            assertClose(new double[][] {expected.biasGrad(l)}, new double[][] {actual.biasGrad(l)}, what + " layer " + l + " bias gradient");
        }
    }

    /** Non-zero gradients, so that a comparison with the reference means something. */
    static void assertHasGradients(ToyMlp stage, String what) {
        double sum = 0;
        for (int l = 0; l < stage.layers(); l++) {
            for (double[] row : stage.weightGrad(l)) {
                for (double g : row) {
                    sum += Math.abs(g);
                }
            }
        }
        assertTrue(sum > 0, what + " has no gradient");
    }
}
