package io.infra4j.cli;

import io.infra4j.eplb.Eplb;
import io.infra4j.eplb.LoadChart;
import io.infra4j.eplb.LoadReport;
import io.infra4j.eplb.LoadStats;
import io.infra4j.eplb.Plan;
import io.infra4j.eplb.io.CaseBatch;
import io.infra4j.eplb.io.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * {@code infra4j eplb}: plans expert replicas from a file of loads (text, or the plan as JSON),
 * or answers a file of cases in the golden batch format.
 */
final class EplbCommand implements Command {
    @Override
    public String name() {
        return "eplb";
    }

    @Override
    public String summary() {
        return "plan expert replicas with DeepSeek's EPLB, from a file of loads or a file of cases";
    }

    @Override
    public Options options() {
        return EplbOptions.options();
    }

    @Override
    public String details() {
        return """
                Plans are identical to upstream's rebalance_experts (deepseek-ai/EPLB), ties included.
                Physical slot s lives on GPU s / (R / P), GPU g on node g * N / P. Imbalance is the
                max/mean load of a layer's GPUs (or nodes), averaged over layers; "before" is the
                layout without EPLB: expert e alone on GPU e * P / E.

                A file of cases (--cases) holds one JSON object per line, gzip-compressed or not:
                {"type":"case","id":..,"weight":[[..]],"num_replicas":..,"num_groups":..,
                "num_nodes":..,"num_gpus":..}; other lines are skipped. --out gets one line per
                case: {"id","phy2log","log2phy","logcnt"}, or {"id","error"} for a refused one.

                Examples:
                  infra4j eplb --input weights.json --replicas 16 --groups 4 --nodes 2 --gpus 8
                  infra4j eplb --input weights.csv --replicas 288 --groups 8 --nodes 4 --gpus 32 --chart load.svg
                  infra4j eplb --input weights.json --replicas 16 --groups 4 --nodes 2 --gpus 8 --json > plan.json
                  infra4j eplb --cases eplb_cases.jsonl.gz --out answers.jsonl
                """;
    }

    @Override
    public int run(CommandLine line, Session session) throws UsageException {
        return switch (EplbOptions.from(line)) {
            case EplbOptions.Single single -> plan(single, session);
            case EplbOptions.Batch batch -> batch(batch, session);
        };
    }

    private static int plan(EplbOptions.Single o, Session session) {
        float[][] weight = Weights.read(existing(o.input(), "--input"));
        Plan plan = Eplb.rebalance(weight, o.replicas(), o.groups(), o.nodes(), o.gpus());
        LoadReport stats = LoadStats.of(weight, plan, o.nodes(), o.gpus());
        if (o.chart() != null) {
            LoadChart.write(stats, o.chart());
        }
        if (session.json()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("policy", plan.policy().name().toLowerCase(Locale.ROOT));
            doc.put("phy2log", plan.phy2log());
            doc.put("log2phy", plan.log2phy());
            doc.put("logcnt", plan.logcnt());
            doc.put("stats", stats.toMap());
            if (o.chart() != null) {
                doc.put("chart", o.chart().toString());
            }
            Json.print(doc, session.out());
        } else {
            EplbText.print(o, plan, stats, session.verbose(), session.out());
        }
        return Main.OK;
    }

    private static int batch(EplbOptions.Batch o, Session session) {
        Path in = existing(o.cases(), "--cases");
        Progress progress = session.progress() ? Progress.bar(session.err()) : Progress.none();
        long t0 = System.nanoTime();
        CaseBatch.Summary s;
        try (CaseProgress cases = new CaseProgress(progress, "eplb cases")) {
            s = CaseBatch.run(in, o.out(), cases);
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        if (session.json()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("cases", s.cases());
            doc.put("planned", s.planned());
            doc.put("rejected", s.rejected());
            doc.put("skipped", s.skipped());
            doc.put("input", in.toString());
            doc.put("output", o.out().toString());
            doc.put("duration_ms", ms);
            Json.print(doc, session.out());
        } else {
            session.out().println("eplb: " + s.cases() + (s.cases() == 1 ? " case" : " cases") + ": " + s.planned()
                    + " planned, " + s.rejected() + " rejected, " + s.skipped() + " other record(s) skipped -> "
                    + o.out() + " in " + TextFormat.millis(ms));
        }
        return Main.OK;
    }

    /** A missing file, said plainly (the readers would report it as an I/O error). */
    private static Path existing(Path file, String option) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(option + " " + file + ": no such file");
        }
        return file;
    }
}
