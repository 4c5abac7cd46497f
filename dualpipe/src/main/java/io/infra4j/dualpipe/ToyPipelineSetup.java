package io.infra4j.dualpipe;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The toy model laid out over a DualPipe or DualPipeV group, for demos and multi-GPU runs: a {@link ToyMlp} per
 * rank and direction (or module), and the flows of micro-batches through them. DualPipe has two
 * flows, direction 0 from rank 0 to rank N-1 and direction 1 back, with half the chunks each;
 * DualPipeV one, from rank 0 down module 0 and back up module 1, with all of them. The reference
 * runs each flow's whole batch through copies of its stages, one after another.
 */
public final class ToyPipelineSetup {
    /** A flow's stages in the order they run ({rank, d} each), its whole batch and labels, and its ends. */
    public record Flow(List<int[]> path, double[][] batch, double[][] labels, int entryRank, int lossRank, int microBatches) {}

    private final ToyMlp[][] stages; // [rank][d]
    private final List<Flow> flows = new ArrayList<>();

    /** Random stages of {@code layers} tanh layers of {@code width}; {@code rows} rows per micro-batch. */
    public ToyPipelineSetup(Variant variant, int ranks, int chunks, int width, int layers, int rows, Random random) {
        stages = new ToyMlp[ranks][2];
        for (int r = 0; r < ranks; r++) {
            for (int d = 0; d < 2; d++) {
                stages[r][d] = ToyMlp.random(width, layers, random.nextLong());
            }
        }
        List<int[]> out = new ArrayList<>();
        List<int[]> back = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            out.add(new int[] {r, 0});
            back.add(new int[] {ranks - 1 - r, 1});
        }
        if (variant == Variant.DUALPIPE) {
            flows.add(flow(out, 0, ranks - 1, chunks / 2, rows, width, random));
            flows.add(flow(back, ranks - 1, 0, chunks / 2, rows, width, random));
        } else {
            List<int[]> v = new ArrayList<>(out);
            v.addAll(back);
            flows.add(flow(v, 0, 0, chunks, rows, width, random));
        }
    }

    private static Flow flow(List<int[]> path, int entry, int loss, int microBatches, int rows, int width, Random random) {
        return new Flow(List.copyOf(path), matrix(microBatches * rows, width, random),
                matrix(microBatches * rows, width, random), entry, loss, microBatches);
    }

    private static double[][] matrix(int rows, int width, Random random) {
        double[][] m = new double[rows][width];
        for (double[] row : m) {
            for (int i = 0; i < width; i++) {
                row[i] = random.nextDouble(-1, 1);
            }
        }
        return m;
    }

    public List<Flow> flows() {
        return flows;
    }

    public ToyMlp stage(int rank, int d) {
        return stages[rank][d];
    }

    public int ranks() {
        return stages.length;
    }

    /** Per rank: its two stages, the inputs of the flow that enters there and the labels of the one that ends there. */
    public List<DualPipe.RankSetup<double[][]>> setups() {
        List<DualPipe.RankSetup<double[][]>> setups = new ArrayList<>();
        for (int r = 0; r < stages.length; r++) {
            List<double[][]> inputs = List.of();
            List<double[][]> labels = List.of();
            for (Flow f : flows) {
                if (f.entryRank() == r) {
                    inputs = ToyMlp.splitRows(f.batch(), f.microBatches());
                }
                if (f.lossRank() == r) {
                    labels = ToyMlp.splitRows(f.labels(), f.microBatches());
                }
            }
            setups.add(new DualPipe.RankSetup<>(stages[r][0], stages[r][1], inputs, labels));
        }
        return setups;
    }

    /** Copies of every stage, [rank][d]: same parameters, no gradients yet. Take them before the pipelined step. */
    public ToyMlp[][] copies() {
        ToyMlp[][] copies = new ToyMlp[stages.length][2];
        for (int r = 0; r < stages.length; r++) {
            for (int d = 0; d < 2; d++) {
                copies[r][d] = stages[r][d].copy();
            }
        }
        return copies;
    }

    /** The non-pipelined step over {@code copies}: every flow's whole batch, one stage after another; the summed loss. */
    public double runReference(ToyMlp[][] copies) {
        double loss = 0;
        for (Flow f : flows) {
            List<ToyMlp> path = f.path().stream().map(rd -> copies[rd[0]][rd[1]]).toList();
            loss += ToyMlp.runSequential(path, f.batch(), f.labels()).loss();
        }
        return loss;
    }

    /**
     * The largest relative difference of any gradient tensor from the reference's, each taken as a
     * whole: max |a - b| / max |b| (an element near zero would make an element-wise ratio mean nothing).
     */
    public double maxGradientDifference(ToyMlp[][] reference) {
        double worst = 0;
        for (int r = 0; r < stages.length; r++) {
            for (int d = 0; d < 2; d++) {
                ToyMlp got = stages[r][d];
                ToyMlp want = reference[r][d];
                for (int l = 0; l < got.layers(); l++) {
                    worst = Math.max(worst, relativeDifference(got.weightGrad(l), want.weightGrad(l)));
                    worst = Math.max(worst, relativeDifference(new double[][] {got.biasGrad(l)},
                            new double[][] {want.biasGrad(l)}));
                }
            }
        }
        return worst;
    }

    /** Whether any stage has a gradient at all: a comparison of zeros with zeros would prove nothing. */
    public static boolean hasGradients(ToyMlp[][] stages) {
        for (ToyMlp[] rank : stages) {
            for (ToyMlp s : rank) {
                for (int l = 0; l < s.layers(); l++) {
                    for (double[] row : s.weightGrad(l)) {
                        for (double g : row) {
                            if (g != 0) {
                                return true;
                            }
                        }
                    }
                }
            }
        }
        return false;
    }

    /** Micro-batches still held by a stage after the step (none, when every backward ran). */
    public int inFlight() {
        int n = 0;
        for (ToyMlp[] rank : stages) {
            for (ToyMlp s : rank) {
                n += s.inFlight();
            }
        }
        return n;
    }

    public static double relativeDifference(double[][] a, double[][] b) {
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                diff = Math.max(diff, Math.abs(a[i][j] - b[i][j]));
                scale = Math.max(scale, Math.abs(b[i][j]));
            }
        }
        return scale == 0 ? diff : diff / scale;
    }

    public static double relativeDifference(double a, double b) {
        return b == 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
    }
}
