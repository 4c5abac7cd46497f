package io.infra4j.benchmarks.jmh;

import io.infra4j.dualpipe.Criterion;
import io.infra4j.dualpipe.DualPipe;
import io.infra4j.dualpipe.Mode;
import io.infra4j.dualpipe.PipelineStage;
import io.infra4j.dualpipe.StepResult;
import io.infra4j.dualpipe.ToyMlp;
import io.infra4j.dualpipe.Variant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the in-process executor costs per training step: DualPipe (4 ranks) and DualPipeV (2 ranks)
 * over 16 micro-batches, threads as ranks. {@code executorOnly}: stages that compute nothing, so
 * the time is the executor's own (op dispatch, queues, thread hand-offs). {@code toyPipelined}:
 * the FP64 toy model (2 layers of width 128 per stage, 32 rows per micro-batch);
 * {@code toySequential}: the same stages and batches one after another on one thread.
 */
@BenchmarkMode(org.openjdk.jmh.annotations.Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class DualPipeStepBenchmark {
    static final int CHUNKS = 16;
    static final int WIDTH = 128;
    static final int ROWS = 32;

    @Param({"DualPipe", "DualPipeV"})
    public String variant;

    private Variant v;
    private int ranks;
    private List<double[][]> batches;
    private ToyMlp[][] stages;

    @Setup(Level.Trial)
    public void setUp() {
        v = Variant.parse(variant);
        ranks = v == Variant.DUALPIPE ? 4 : 2;
        stages = new ToyMlp[ranks][2];
        for (int r = 0; r < ranks; r++) {
            for (int d = 0; d < 2; d++) {
                stages[r][d] = ToyMlp.random(WIDTH, 2, 100 + 2 * r + d);
            }
        }
        SplittableRandom random = new SplittableRandom(7);
        batches = new ArrayList<>();
        for (int c = 0; c < CHUNKS; c++) {
            double[][] b = new double[ROWS][WIDTH];
            for (double[] row : b) {
                for (int i = 0; i < WIDTH; i++) {
                    row[i] = random.nextDouble(-1, 1);
                }
            }
            batches.add(b);
        }
    }

    /** Every rank's setup: micro-batches enter (and their labels wait) where the variant says. */
    private List<DualPipe.RankSetup<double[][]>> setups(boolean idle) {
        List<DualPipe.RankSetup<double[][]>> out = new ArrayList<>();
        int next = 0;
        for (int r = 0; r < ranks; r++) {
            int n = DualPipe.microBatchesAt(v, ranks, CHUNKS, r);
            List<double[][]> in = new ArrayList<>(batches.subList(next, next + n));
            next += n;
            PipelineStage<double[][]> s0 = idle ? new Idle() : stages[r][0];
            PipelineStage<double[][]> s1 = idle ? new Idle() : stages[r][1];
            out.add(new DualPipe.RankSetup<>(s0, s1, in, in));
        }
        return out;
    }

    @Benchmark
    public List<StepResult<double[][]>> executorOnly() {
        Criterion<double[][]> none = (y, labels, grad) -> new Criterion.Loss<>(0, y);
        return DualPipe.runAll(v, Mode.TRAIN_PLAIN, CHUNKS, setups(true), none, x -> x);
    }

    @Benchmark
    public List<StepResult<double[][]>> toyPipelined() {
        for (ToyMlp[] pair : stages) {
            pair[0].zeroGrad();
            pair[1].zeroGrad();
        }
        return DualPipe.runAll(v, Mode.TRAIN_PLAIN, CHUNKS, setups(false), ToyMlp.squaredError(), x -> x);
    }

    @Benchmark
    public double toySequential() {
        double loss = 0;
        if (v == Variant.DUALPIPE) {
            List<ToyMlp> down = new ArrayList<>();
            List<ToyMlp> up = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                down.add(stages[r][0]);
                up.add(stages[ranks - 1 - r][1]);
            }
            double[][] a = ToyMlp.concatRows(batches.subList(0, CHUNKS / 2));
            double[][] b = ToyMlp.concatRows(batches.subList(CHUNKS / 2, CHUNKS));
            loss += ToyMlp.runSequential(down, a, a).loss() + ToyMlp.runSequential(up, b, b).loss();
        } else {
            List<ToyMlp> path = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                path.add(stages[r][0]);
            }
            for (int r = ranks - 1; r >= 0; r--) {
                path.add(stages[r][1]);
            }
            double[][] all = ToyMlp.concatRows(batches);
            loss += ToyMlp.runSequential(path, all, all).loss();
        }
        for (ToyMlp[] pair : stages) {
            pair[0].zeroGrad();
            pair[1].zeroGrad();
        }
        return loss;
    }

    /** A stage that passes data through and computes nothing. */
    static final class Idle implements PipelineStage<double[][]> {
        @Override
        public double[][] forward(int microBatch, double[][] input, boolean training) {
            return input;
        }

        @Override
        public double[][] backwardInput(int microBatch, double[][] outputGradient, boolean deferWeight) {
            return outputGradient;
        }

        @Override
        public void backwardWeight(int microBatch) {}
    }
}
