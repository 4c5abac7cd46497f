package io.infra4j.cli;

import io.infra4j.smallpond.DataFrame;
import io.infra4j.smallpond.StageTiming;
import io.infra4j.smallpond.WriteSummary;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code infra4j pond --input GLOB --format F --partitions N --hash-by COLS --sql "..." --output DIR}: smallpond's
 * basic job. Read, hash-partition, run the SQL on every partition, write Parquet.
 */
final class PondCommand implements Command {
    static final Option INPUT = Option.builder().longOpt("input").hasArg().argName("GLOB").desc("files to read (DuckDB's glob syntax); repeatable").get();
    static final Option FORMAT = Option.builder().longOpt("format").hasArg().argName("csv|parquet|json").desc("the input format (default: parquet)").get();
    static final Option PARTITIONS = Option.builder().longOpt("partitions").hasArg().argName("N").desc("partitions (default: cores)").get();
    static final Option HASH_BY = Option.builder().longOpt("hash-by").hasArg().argName("COLS")
            .desc("comma-separated columns to hash-partition by (default: deal the files out evenly)").get();
    static final Option SQL = Option.builder().longOpt("sql").hasArg().argName("QUERY").desc("run on every partition, {0} naming it (default: select * from {0})").get();
    static final Option OUTPUT = Option.builder().longOpt("output").hasArg().argName("DIR").desc("folder for part-*.parquet and _SUCCESS").get();
    static final Option WORK = Option.builder().longOpt("work").hasArg().argName("DIR").desc("intermediate files (default: a temporary folder)").get();
    static final Option PARALLELISM = Option.builder().longOpt("parallelism").hasArg().argName("N").desc("tasks at once (default: cores)").get();
    static final Option MEMORY = Option.builder().longOpt("memory-per-task").hasArg().argName("SIZE").desc("DuckDB memory limit per task, e.g. 2GB").get();
    static final Option RESUME = Option.builder().longOpt("resume").desc("reuse the tasks an earlier run in --work committed").get();

    @Override
    public String name() {
        return "pond";
    }

    @Override
    public String summary() {
        return "smallpond: read files, hash-partition, run SQL on every partition in parallel (DuckDB), write Parquet";
    }

    @Override
    public Options options() {
        Options o = new Options();
        for (Option opt : List.of(INPUT, FORMAT, PARTITIONS, HASH_BY, SQL, OUTPUT, WORK, PARALLELISM, MEMORY, RESUME)) {
            o.addOption(opt);
        }
        return o;
    }

    @Override
    public String details() {
        return """
                Reads the files matching --input (csv, parquet or json, DuckDB detecting columns and types),
                hash-partitions the rows by --hash-by into --partitions partitions (equal keys meet in one), runs
                --sql on every partition ({0} names it), and writes one Parquet file per partition into --output
                (part-00000.parquet, ...), then _SUCCESS. Each task runs in a DuckDB of its own; --parallelism tasks
                run at once. Files appear in --output only once complete; with --work and --resume a rerun after a
                crash reuses the tasks the crashed run committed. It prints the rows, files, seconds and stages
                (--json: one object).

                Examples:
                  infra4j pond --input 'logs/*.csv' --format csv --partitions 8 --hash-by host \\
                      --sql "select host, count(*) as hits from {0} group by host" --output hits/
                  infra4j pond --input 'data/*.parquet' --partitions 4 --output copy/ --json
                """;
    }

    @Override
    public int run(CommandLine line, Session session) throws UsageException {
        if (!line.hasOption(INPUT) || !line.hasOption(OUTPUT)) {
            throw new UsageException("pond needs --input GLOB and --output DIR");
        }
        String format = line.getOptionValue(FORMAT, "parquet").toLowerCase(java.util.Locale.ROOT);
        if (!List.of("csv", "parquet", "json").contains(format)) {
            throw new UsageException("--format: expected csv, parquet or json, got '" + format + "'");
        }
        int cores = Runtime.getRuntime().availableProcessors();
        int partitions = Arguments.positive(line, PARTITIONS, cores);
        String sql = line.getOptionValue(SQL, "SELECT * FROM {0}");
        if (!sql.contains("{0}")) {
            throw new UsageException("--sql: the query must name its partition as {0}, e.g. \"select * from {0}\"");
        }
        io.infra4j.smallpond.Session.Builder b = io.infra4j.smallpond.Session.builder().parallelism(Arguments.positive(line, PARALLELISM, cores))
                .progress(PondProgress.of(session)).resume(line.hasOption(RESUME));
        if (line.hasOption(WORK)) {
            b.workDir(Path.of(line.getOptionValue(WORK)));
        } else if (line.hasOption(RESUME)) {
            throw new UsageException("--resume needs --work DIR (the folder of the run to resume)");
        }
        if (line.hasOption(MEMORY)) {
            b.memoryPerTask(line.getOptionValue(MEMORY));
        }
        String[] inputs = line.getOptionValues(INPUT);
        try (io.infra4j.smallpond.Session pond = b.build()) {
            DataFrame df = switch (format) {
                case "csv" -> pond.readCsv(inputs);
                case "json" -> pond.readJson(inputs);
                default -> pond.readParquet(inputs);
            };
            if (line.hasOption(HASH_BY)) {
                String[] cols = Arrays.stream(line.getOptionValue(HASH_BY).split(",")).map(String::strip).filter(s -> !s.isEmpty()).toArray(String[]::new);
                if (cols.length == 0) {
                    throw new UsageException("--hash-by: expected column names separated by commas");
                }
                df = df.repartitionByHash(partitions, cols);
            } else {
                df = df.repartition(partitions);
            }
            session.debug("pond plan:\n" + df.partialSql(sql).explain());
            WriteSummary w = df.partialSql(sql).writeParquet(Path.of(line.getOptionValue(OUTPUT)));
            print(w, session);
        }
        return Main.OK;
    }

    static void print(WriteSummary w, Session session) {
        if (session.json()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("output", w.directory().toString());
            doc.put("files", w.files().stream().map(Path::toString).toList());
            doc.put("rows", w.rows());
            doc.put("seconds", w.seconds());
            doc.put("stages", stages(w.stages()));
            Json.print(doc, session.out());
        } else {
            session.out().printf("%d row(s) in %d file(s) in %s, %.2f s%n", w.rows(), w.files().size(), w.directory(), w.seconds());
            for (StageTiming t : w.stages()) {
                session.out().printf("  %-60s %4d task(s)%s %8.2f s%n", t.name(), t.tasks(), t.reused() > 0 ? " (" + t.reused() + " reused)" : "", t.seconds());
            }
        }
    }

    static List<Map<String, Object>> stages(List<StageTiming> stages) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (StageTiming t : stages) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            m.put("tasks", t.tasks());
            m.put("reused", t.reused());
            m.put("seconds", t.seconds());
            out.add(m);
        }
        return out;
    }
}
