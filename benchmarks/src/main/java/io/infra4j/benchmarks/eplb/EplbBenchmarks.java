package io.infra4j.benchmarks.eplb;

import io.infra4j.benchmarks.jmh.EplbBenchmark;
import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link EplbBenchmark} (one fork, one thread, the JVM told it has one processor) and appends
 * the figures to {@code <out>/<date>-eplb.md/.json} against the 2 ms target of the eplb issue.
 *
 * <pre>java -cp 'benchmarks/target/classes:benchmarks/target/lib/*' io.infra4j.benchmarks.eplb.EplbBenchmarks
 *        [--out benchmarks/results] [--commit SHA]</pre>
 */
public final class EplbBenchmarks {
    static final double TARGET_MS = 2.0;

    private EplbBenchmarks() {}

    public static void main(String[] args) throws RunnerException {
        Path out = Path.of("benchmarks/results");
        String commit = "?";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[i + 1]);
                case "--commit" -> commit = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; options: --out DIR, --commit SHA");
            }
        }
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(EplbBenchmark.class.getName())
                .threads(1)
                .build()).run();

        ResultTable table = new ResultTable("One plan of " + EplbBenchmark.LAYERS + " layers x " + EplbBenchmark.EXPERTS
                + " experts -> " + EplbBenchmark.REPLICAS + " replicas, one thread",
                "shape", "policy", "groups/nodes/GPUs", "ms per plan", "error (99.9%)", "us per layer", "target ms", "within target");
        for (RunResult r : results) {
            String shape = r.getParams().getParam("shape");
            double us = r.getPrimaryResult().getScore();
            double err = r.getPrimaryResult().getScoreError();
            boolean global = shape.contains("global");
            table.row(shape, global ? "global" : "hierarchical", global ? "8/18/144" : "8/4/32", round(us / 1e3),
                    round(err / 1e3), round(us / EplbBenchmark.LAYERS), TARGET_MS, us / 1e3 < TARGET_MS);
        }
        Path md = new ResultsWriter("eplb", "EPLB planning time (JMH)")
                .environment("CPU", cpuModel())
                .environment("JDK", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"))
                .environment("JMH", "1 fork (-XX:ActiveProcessorCount=1, SerialGC), 5x1 s warm-up, 5x1 s measurement")
                .environment("commit", commit)
                .table(table)
                .note("Loads: seeded log-normal token counts (sigma 1) of 4096 tokens x top-8 per layer "
                        + "(EplbBenchmark.tokenCounts); plans are exact-parity plans, so the work is upstream's algorithm.")
                .appendTo(out);
        System.out.println("results appended to " + md);
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    public static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.toLowerCase(Locale.ROOT).startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip() + " (" + Runtime.getRuntime().availableProcessors()
                            + " CPUs visible)";
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: say so below
        }
        return System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " CPUs";
    }
}
