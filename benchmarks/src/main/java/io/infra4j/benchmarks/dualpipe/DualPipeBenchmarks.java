package io.infra4j.benchmarks.dualpipe;

import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import io.infra4j.dualpipe.Costs;
import io.infra4j.dualpipe.Mode;
import io.infra4j.dualpipe.PipelineSchedule;
import io.infra4j.dualpipe.ScheduleChecks;
import io.infra4j.dualpipe.Timeline;
import io.infra4j.dualpipe.Variant;
import io.infra4j.benchmarks.jmh.DualPipeStepBenchmark;
import java.nio.file.Path;
import java.util.Collection;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * The schedules' bubbles, simulated from their op lists (communication free), next to the
 * formulas of DualPipe's table, for the pipeline depths people run; then the in-process executor's
 * cost per step ({@link DualPipeStepBenchmark}, JMH). Appended to {@code <out>/<date>-dualpipe.md/.json}.
 *
 * <pre>java -cp 'benchmarks/target/classes:benchmarks/target/lib/*' io.infra4j.benchmarks.dualpipe.DualPipeBenchmarks
 *        [--out benchmarks/results] [--commit SHA] [--no-jmh]</pre>
 */
public final class DualPipeBenchmarks {
    private DualPipeBenchmarks() {}

    public static void main(String[] args) {
        Path out = Path.of("benchmarks/results");
        String commit = "?";
        boolean jmh = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--commit" -> commit = args[++i];
                case "--no-jmh" -> jmh = false;
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; options: --out DIR, --commit SHA, --no-jmh");
            }
        }
        Costs k = Costs.typical();
        ResultTable table = new ResultTable("Largest bubble of any rank, in units of F (F=" + k.f() + ", B=" + k.b() + ", W=" + k.w()
                + ", F&B=" + k.fb() + "); 4 x PP micro-batches",
                "PP", "devices DualPipe / V", "DualPipe", "DualPipeV", "formula (PP/2-1)(F&B+B-3W)", "ZB1P", "formula (PP-1)(F+B-2W)",
                "1F1B", "formula (PP-1)(F+B)", "DualPipe / 1F1B", "checks");
        for (int pp = 4; pp <= 32; pp *= 2) {
            int chunks = 4 * pp;
            PipelineSchedule dual = PipelineSchedule.of(Variant.DUALPIPE, pp, chunks, Mode.TRAIN_OVERLAPPED);
            PipelineSchedule v = PipelineSchedule.of(Variant.DUALPIPE_V, pp / 2, chunks, Mode.TRAIN_OVERLAPPED);
            double d = Timeline.simulate(dual, k).maxBubble();
            double dv = Timeline.simulate(v, k).maxBubble();
            double zb = Timeline.simulate(PipelineSchedule.zb1p(pp, chunks), k).maxBubble();
            double one = Timeline.simulate(PipelineSchedule.oneFOneB(pp, chunks, Mode.TRAIN_PLAIN), k).maxBubble();
            boolean ok = ScheduleChecks.check(dual).ok() && ScheduleChecks.check(v).ok();
            table.row(pp, pp + " / " + pp / 2, d, dv, (pp / 2 - 1) * (k.fb() + k.b() - 3 * k.w()), zb,
                    (pp - 1) * (k.f() + k.b() - 2 * k.w()), one, (pp - 1) * (k.f() + k.b()), Math.round(d / one * 1000) / 1000.0,
                    ok ? "all hold" : "FAILED");
        }
        ResultsWriter writer = new ResultsWriter("dualpipe", "DualPipe: bubbles and executor cost")
                .environment("commit", commit)
                .environment("CPU", io.infra4j.benchmarks.eplb.EplbBenchmarks.cpuModel())
                .environment("JDK", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"))
                .environment("method", "Timeline.simulate: each rank runs its ops in order; an op starts when its rank is free "
                        + "and its inputs exist; communication free")
                .table(table)
                .note("Simulated bubbles equal the published formulas exactly (BubbleTest checks many more cost sets: the "
                        + "DualPipe formula holds when F = B - W and W <= F, the 1F1B and ZB1P ones for any costs).")
                .note("DualPipeV runs the same PP stages on PP/2 devices: its bubble equals DualPipe's.");
        if (jmh) {
            writer.table(executorTable());
        }
        Path md = writer.appendTo(out);
        System.out.println("results appended to " + md);
    }

    /** DualPipeStepBenchmark through JMH: microseconds per step, threads as ranks. */
    static ResultTable executorTable() {
        Collection<RunResult> results;
        try {
            results = new Runner(new OptionsBuilder().include(DualPipeStepBenchmark.class.getName()).build()).run();
        } catch (RunnerException e) {
            throw new IllegalStateException("JMH failed: " + e.getMessage(), e);
        }
        ResultTable t = new ResultTable("In-process executor, one training step of 16 micro-batches (JMH, 1 fork, 5x1 s)",
                "variant", "ranks", "benchmark", "ms per step", "error (99.9%)", "us per op");
        for (RunResult r : results) {
            String variant = r.getParams().getParam("variant");
            Variant v = Variant.parse(variant);
            int ranks = v == Variant.DUALPIPE ? 4 : 2;
            long ops = 0;
            for (var list : io.infra4j.dualpipe.DualPipeSchedule.generateAll(v, ranks, 16, Mode.TRAIN_PLAIN)) {
                ops += list.size();
            }
            String name = r.getParams().getBenchmark().substring(r.getParams().getBenchmark().lastIndexOf('.') + 1);
            double us = r.getPrimaryResult().getScore();
            t.row(variant, ranks, name, Math.round(us) / 1000.0, Math.round(r.getPrimaryResult().getScoreError()) / 1000.0,
                    name.equals("executorOnly") ? Math.round(us / ops * 100) / 100.0 : "");
        }
        return t;
    }
}
