package io.infra4j.benchmarks.jmh;

import io.infra4j.eplb.Eplb;
import io.infra4j.eplb.Plan;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One whole EPLB plan on one thread, for DeepSeek-V3's shapes (58 MoE layers of 256 experts, 288
 * replicas): the prefill layout (8 groups on 4 nodes of 8 GPUs, hierarchical) and the decode layout
 * (144 GPUs on 18 nodes, where 8 groups do not divide over 18 nodes, so the global policy). Loads
 * are skewed token counts (log-normal around 4096 x 8 / 256 tokens per expert).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:ActiveProcessorCount=1", "-XX:+UseSerialGC"})
@State(Scope.Thread)
public class EplbBenchmark {
    public static final int LAYERS = 58;
    public static final int EXPERTS = 256;
    public static final int REPLICAS = 288;

    /** Shape name: groups, nodes, GPUs. */
    @Param({"prefill-hierarchical", "decode-global"})
    public String shape;

    private long[][] counts;
    private int groups;
    private int nodes;
    private int gpus;

    @Setup(Level.Trial)
    public void setUp() {
        switch (shape) {
            case "prefill-hierarchical" -> {
                groups = 8;
                nodes = 4;
                gpus = 32;
            }
            case "decode-global" -> {
                groups = 8;
                nodes = 18;
                gpus = 144;
            }
            default -> throw new IllegalArgumentException("unknown shape " + shape);
        }
        counts = tokenCounts(LAYERS, EXPERTS, 4096L * 8, 42);
    }

    /** Per-layer token counts per expert: log-normal popularity (sigma 1), summing to about tokensTimesTopK. */
    public static long[][] tokenCounts(int layers, int experts, long tokensTimesTopK, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] w = new long[layers][experts];
        for (long[] row : w) {
            double[] p = new double[experts];
            double sum = 0;
            for (int e = 0; e < experts; e++) {
                double u1 = 1 - r.nextDouble();
                double g = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * r.nextDouble());
                p[e] = Math.exp(g);
                sum += p[e];
            }
            for (int e = 0; e < experts; e++) {
                row[e] = Math.round(tokensTimesTopK * p[e] / sum);
            }
        }
        return w;
    }

    @Benchmark
    public Plan rebalance() {
        return Eplb.rebalance(counts, REPLICAS, groups, nodes, gpus);
    }
}
