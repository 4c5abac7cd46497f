package io.infra4j.smallpond.plan;

import io.infra4j.smallpond.DuckConnection;
import io.infra4j.smallpond.PreparedQuery;
import io.infra4j.smallpond.QueryResult;
import io.infra4j.smallpond.arrow.ArrowBatch;
import io.infra4j.smallpond.ArrowReader;
import io.infra4j.smallpond.plan.PlanNode.Limit;
import io.infra4j.smallpond.plan.PlanNode.MapBatches;
import io.infra4j.smallpond.plan.PlanNode.Query;
import io.infra4j.smallpond.plan.PlanNode.Repartition;
import io.infra4j.smallpond.plan.PlanNode.Rows;
import io.infra4j.smallpond.plan.PlanNode.Source;
import io.infra4j.smallpond.plan.Relation.ScanFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Turns a logical plan into partitions, cutting it into stages of tasks where data must be written. The one
 * optimisation: per-partition SQL ({@link Query}) never runs on its own; it becomes views inside the task that
 * consumes it (a repartition, a Java map, a write, an action), so a chain of maps and filters costs one pass.
 * Data are written (as Parquet in the run's folder) only where rows change partitions, where Java code runs, or
 * where an action needs them.
 */
public final class Planner {
    /** What an executed plan wrote or read, for the caller's summary. */
    public record Written(List<Path> files, long rows) {}

    private static final String PARTITION_COLUMN = "__pond_partition";
    private static final String TARGET = "<target folder>"; // filled in by the task, which alone knows its folder
    // Rows per row group of a keyed repartition's files: small, so that a reader of one key skips most of
    // the others' rows by the row groups' statistics, yet large enough to write at full speed.
    private static final int KEYED_ROW_GROUP = 16_384;

    private final LocalExecutor executor;
    private final Path runDir;
    private final String compression;
    private final Map<Integer, List<Relation>> done = new HashMap<>();
    private final Map<Integer, List<Relation>> written = new HashMap<>();

    public Planner(LocalExecutor executor, Path runDir, String compression) {
        this.executor = executor;
        this.runDir = runDir;
        this.compression = compression;
    }

    /** The node's partitions, running whatever stages they need (each node once per planner). */
    public List<Relation> evaluate(PlanNode node) {
        List<Relation> r = done.get(node.id());
        if (r == null) {
            r = switch (node) {
                case Source s -> List.of(Relation.scan("n" + s.id(), new ScanFiles(s.format(), s.files(), s.options(), null)));
                case Rows rows -> rows(rows);
                case Query q -> query(q);
                case Repartition rp -> repartition(rp);
                case MapBatches mb -> mapBatches(mb);
                case Limit l -> limit(l);
            };
            done.put(node.id(), r);
        }
        return r;
    }

    // ---- nodes

    private List<Relation> query(Query q) {
        List<List<Relation>> inputs = q.inputs().stream().map(this::evaluate).toList();
        List<Relation> out = new ArrayList<>();
        for (int p = 0; p < q.partitions(); p++) {
            int part = p;
            List<Relation> ins = inputs.stream().map(l -> l.get(part)).toList();
            String sql = Sql.fill(q.template(), ins.stream().map(Relation::top).toList());
            out.add(Relation.compose(ins, "n" + q.id(), sql));
        }
        return out;
    }

    private List<Relation> rows(Rows rows) {
        Path stage = stageDir(rows, "rows");
        String insert = "INSERT INTO pond_rows VALUES (" + "?, ".repeat(Math.max(0, width(rows) - 1)) + "?)";
        executor.run("rows", stage, List.of(new LocalExecutor.Task<>(0, "CREATE TABLE pond_rows (" + rows.columns() + ")", (c, out) -> {
            c.query("CREATE TEMP TABLE pond_rows (" + rows.columns() + ")");
            if (!rows.rows().isEmpty()) {
                try (PreparedQuery pq = c.prepare(insert)) {
                    for (List<Object> row : rows.rows()) {
                        pq.execute(row.toArray());
                    }
                }
            }
            c.query(copy("SELECT * FROM pond_rows", out.resolve("data.parquet")));
            return null;
        })));
        return List.of(scanOf(rows, List.of(task(stage, 0).resolve("data.parquet")), null));
    }

    private static int width(Rows rows) {
        // the declared columns decide the width; every row must match it (checked by the caller)
        return rows.rows().isEmpty() ? 1 : rows.rows().get(0).size();
    }

    private List<Relation> repartition(Repartition rp) {
        List<Relation> in = evaluate(rp.input());
        return switch (rp.mode()) {
            case FILES -> byFiles(rp, in);
            case ROWS -> byRows(rp, in);
            case HASH, VALUE -> byKey(rp, in);
        };
    }

    // Whole files dealt out in order: nothing rewritten when the input is already a scan of files.
    private List<Relation> byFiles(Repartition rp, List<Relation> in) {
        List<Relation> scans = plainScans(in) ? in : materialize(rp.input(), in);
        ScanFiles first = scans.get(0).files();
        List<Path> files = new ArrayList<>();
        for (Relation r : scans) {
            files.addAll(r.files().files());
        }
        Path schema = files.isEmpty() ? first.schemaFile() : files.get(0);
        List<Relation> out = new ArrayList<>();
        int n = rp.partitions();
        for (int k = 0; k < n; k++) {
            List<Path> mine = files.subList((int) ((long) k * files.size() / n), (int) ((long) (k + 1) * files.size() / n));
            out.add(Relation.scan("n" + rp.id(), new ScanFiles(first.format(), mine, first.options(), schema)));
        }
        return out;
    }

    // Rows dealt out in order: each output partition reads its range of the (deterministic) scans.
    private List<Relation> byRows(Repartition rp, List<Relation> in) {
        List<Relation> scans = plainScans(in) ? in : materialize(rp.input(), in);
        List<LocalExecutor.Task<Long>> counts = new ArrayList<>();
        for (int j = 0; j < scans.size(); j++) {
            Relation r = scans.get(j);
            String sql = "SELECT count(*) FROM " + r.top();
            counts.add(new LocalExecutor.Task<>(j, r.describe() + " " + sql, (c, out) -> {
                setup(c, r);
                return ((Number) c.query(sql).rows().get(0)[0]).longValue();
            }));
        }
        List<Long> sizes = executor.run("count rows", null, counts);
        long total = sizes.stream().mapToLong(Long::longValue).sum();
        int n = rp.partitions();
        Path stage = stageDir(rp, "rows");
        List<LocalExecutor.Task<Void>> tasks = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            long a = k * total / n;
            long b = (k + 1) * total / n;
            List<Relation> used = new ArrayList<>();
            List<String> slices = new ArrayList<>();
            long offset = 0;
            for (int j = 0; j < scans.size(); j++) {
                long lo = Math.max(a, offset);
                long hi = Math.min(b, offset + sizes.get(j));
                if (lo < hi) {
                    used.add(scans.get(j));
                    slices.add("(SELECT * FROM " + scans.get(j).top() + " LIMIT " + (hi - lo) + " OFFSET " + (lo - offset) + ")");
                }
                offset += sizes.get(j);
            }
            if (slices.isEmpty()) {
                used.add(scans.get(0));
                slices.add("(SELECT * FROM " + scans.get(0).top() + " LIMIT 0)");
            }
            Relation r = Relation.compose(used, "n" + rp.id(), String.join(" UNION ALL ", slices));
            tasks.add(writeTask(k, r));
        }
        executor.run("repartition by rows into " + n, stage, tasks);
        List<Relation> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            out.add(scanOf(rp, List.of(task(stage, k).resolve("data.parquet")), null));
        }
        return out;
    }

    // Each input partition writes one file with its rows ordered by output partition, in small row groups;
    // output partition k reads the rows with key k from every task's file, and DuckDB skips the row groups
    // whose statistics rule k out. A partitioned COPY (PARTITION_BY) was the obvious form, but it buffers all
    // rows before writing and cost twice this ordered write (GraySort, 100 MB per task: 0.78 s against 0.37 s).
    private List<Relation> byKey(Repartition rp, List<Relation> in) {
        int n = rp.partitions();
        String expr;
        if (rp.mode() == PlanNode.Mode.HASH) {
            expr = "CAST(hash(" + String.join(", ", rp.keys().stream().map(Sql::identifier).toList()) + ") % " + n + " AS INTEGER)";
        } else {
            String v = "(" + rp.keys().get(0) + ")";
            expr = "CASE WHEN " + v + " >= 0 AND " + v + " < " + n + " THEN CAST(" + v + " AS INTEGER) ELSE error('repartition by value: "
                    + rp.keys().get(0).replace("'", "''") + " gave ' || coalesce(CAST(" + v + " AS VARCHAR), 'NULL') || ', outside 0.." + (n - 1) + "') END";
        }
        Path stage = stageDir(rp, rp.mode() == PlanNode.Mode.HASH ? "hash" : "value");
        List<LocalExecutor.Task<Void>> tasks = new ArrayList<>();
        for (int j = 0; j < in.size(); j++) {
            Relation r = in.get(j);
            String sql = "COPY (SELECT *, " + expr + " AS " + PARTITION_COLUMN + " FROM " + r.top() + " ORDER BY " + PARTITION_COLUMN + ") TO "
                    + TARGET + " (FORMAT parquet, COMPRESSION " + compression + ", ROW_GROUP_SIZE " + KEYED_ROW_GROUP + ")";
            tasks.add(new LocalExecutor.Task<>(j, r.describe() + " " + sql, (c, out) -> {
                setup(c, r);
                c.query(sql.replace(TARGET, Sql.literal(out.resolve("data.parquet").toString())));
                return null;
            }));
        }
        executor.run("repartition by " + (rp.mode() == PlanNode.Mode.HASH ? "hash of " + rp.keys() : "value of " + rp.keys().get(0)) + " into " + n,
                stage, tasks);
        List<Path> files = new ArrayList<>();
        for (int j = 0; j < in.size(); j++) {
            files.add(task(stage, j).resolve("data.parquet"));
        }
        Relation all = scanOf(rp, files, null);
        List<Relation> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            out.add(Relation.compose(List.of(all), "k" + rp.id(),
                    "SELECT * EXCLUDE (" + PARTITION_COLUMN + ") FROM " + all.top() + " WHERE " + PARTITION_COLUMN + " = " + k));
        }
        return out;
    }

    private List<Relation> mapBatches(MapBatches mb) {
        List<Relation> in = evaluate(mb.input());
        Path stage = stageDir(mb, "batches");
        List<LocalExecutor.Task<Void>> tasks = new ArrayList<>();
        for (int p = 0; p < in.size(); p++) {
            Relation r = in.get(p);
            tasks.add(new LocalExecutor.Task<>(p, r.describe() + " -> Java " + mb.name(), (c, out) -> {
                setup(c, r);
                c.createTable("pond_batches", mb.schema());
                try (ArrowReader reader = c.queryArrow("SELECT * FROM " + r.top())) {
                    while (reader.hasNext()) {
                        try (ArrowBatch batch = reader.next()) {
                            mb.function().apply(batch, result -> {
                                try (result) {
                                    c.appendArrow("pond_batches", result);
                                }
                            });
                        }
                    }
                }
                c.query(copy("SELECT * FROM pond_batches", out.resolve("data.parquet")));
                c.query("DROP TABLE pond_batches"); // the worker's database serves its next task too
                return null;
            }));
        }
        executor.run("map batches with " + mb.name(), stage, tasks);
        List<Relation> out = new ArrayList<>();
        for (int p = 0; p < in.size(); p++) {
            out.add(scanOf(mb, List.of(task(stage, p).resolve("data.parquet")), null));
        }
        return out;
    }

    private List<Relation> limit(Limit l) {
        List<Relation> in = evaluate(l.input());
        String sql = "SELECT * FROM %s LIMIT " + l.limit();
        if (in.size() == 1) {
            return List.of(Relation.compose(in, "n" + l.id(), String.format(sql, in.get(0).top())));
        }
        List<Relation> each = in.stream().map(r -> Relation.compose(List.of(r), "m" + l.id(), String.format(sql, r.top()))).toList();
        List<Relation> written = materialize(l, each);
        List<Path> files = new ArrayList<>();
        written.forEach(r -> files.addAll(r.files().files()));
        Relation all = Relation.scan("g" + l.id(), new ScanFiles("parquet", files, "", null));
        return List.of(Relation.compose(List.of(all), "n" + l.id(), String.format(sql, all.top())));
    }

    // ---- actions

    public long count(PlanNode node) {
        List<Relation> in = evaluate(node);
        List<LocalExecutor.Task<Long>> tasks = new ArrayList<>();
        for (int p = 0; p < in.size(); p++) {
            Relation r = in.get(p);
            String sql = "SELECT count(*) FROM " + r.top();
            tasks.add(new LocalExecutor.Task<>(p, r.describe() + " " + sql, (c, out) -> {
                setup(c, r);
                return ((Number) c.query(sql).rows().get(0)[0]).longValue();
            }));
        }
        return executor.run("count", null, tasks).stream().mapToLong(Long::longValue).sum();
    }

    /** Every row, partition after partition. */
    public QueryResult collect(PlanNode node) {
        List<Relation> in = evaluate(node);
        List<LocalExecutor.Task<QueryResult>> tasks = new ArrayList<>();
        for (int p = 0; p < in.size(); p++) {
            Relation r = in.get(p);
            String sql = "SELECT * FROM " + r.top();
            tasks.add(new LocalExecutor.Task<>(p, r.describe() + " " + sql, (c, out) -> {
                setup(c, r);
                return c.query(sql);
            }));
        }
        List<QueryResult> parts = executor.run("collect", null, tasks);
        List<Object[]> rows = new ArrayList<>();
        parts.forEach(q -> rows.addAll(q.rows()));
        QueryResult first = parts.get(0);
        return new QueryResult(first.columns(), first.types(), rows, rows.size());
    }

    /**
     * Writes every partition as {@code part-0000k.parquet} in {@code dir}. Files appear there only by a rename
     * once complete, and {@code _SUCCESS} only once all are: a crash leaves no partial file under a final name.
     */
    public Written write(PlanNode node, Path dir, String finalCompression) {
        OutputFolders.prepare(dir);
        List<Relation> in = evaluate(node);
        Path stage = stageDir(node, "write");
        List<LocalExecutor.Task<Long>> tasks = new ArrayList<>();
        for (int p = 0; p < in.size(); p++) {
            Relation r = in.get(p);
            String sql = "SELECT * FROM " + r.top();
            // straight into the output folder under a hidden name (a copy from the work folder would cost a
            // second write when the two lie on different file systems); renamed once the whole stage is done
            Path pending = OutputFolders.pending(dir, p);
            tasks.add(new LocalExecutor.Task<>(p, r.describe() + " " + sql, (c, out) -> {
                setup(c, r);
                QueryResult q = c.query(copy(sql, pending, finalCompression));
                return ((Number) q.rows().get(0)[0]).longValue();
            }));
        }
        List<Long> rows = executor.run("write parquet to " + dir, stage, tasks);
        List<Path> files = new ArrayList<>();
        long total = 0;
        try {
            for (int p = 0; p < in.size(); p++) {
                Path target = OutputFolders.part(dir, p);
                OutputFolders.moveInto(OutputFolders.pending(dir, p), target);
                files.add(target);
                Long n = rows.get(p);
                total += n == null ? countRows(target) : n;
            }
            OutputFolders.finish(dir, in.size());
        } catch (IOException e) {
            throw new UncheckedIOException("could not move the written partitions into " + dir, e);
        }
        return new Written(files, total);
    }

    private long countRows(Path parquet) {
        return executor.run("count written rows", null, List.of(new LocalExecutor.Task<Long>(0, null,
                (c, out) -> ((Number) c.query("SELECT count(*) FROM read_parquet(" + Sql.literal(parquet.toString()) + ")").rows().get(0)[0])
                        .longValue()))).get(0);
    }

    // ---- helpers

    private List<Relation> materialize(PlanNode node, List<Relation> in) {
        List<Relation> before = written.get(node.id());
        if (before != null) {
            return before;
        }
        Path stage = stageDir(node, "materialize");
        List<LocalExecutor.Task<Void>> tasks = new ArrayList<>();
        for (int p = 0; p < in.size(); p++) {
            tasks.add(writeTask(p, in.get(p)));
        }
        executor.run("write partitions of node " + node.id(), stage, tasks);
        List<Relation> out = new ArrayList<>();
        for (int p = 0; p < in.size(); p++) {
            out.add(Relation.scan("w" + node.id(), new ScanFiles("parquet", List.of(task(stage, p).resolve("data.parquet")), "", null)));
        }
        written.put(node.id(), out);
        return out;
    }

    private LocalExecutor.Task<Void> writeTask(int index, Relation r) {
        String sql = "SELECT * FROM " + r.top();
        return new LocalExecutor.Task<>(index, r.describe() + " " + sql, (c, out) -> {
            setup(c, r);
            c.query(copy(sql, out.resolve("data.parquet")));
            return null;
        });
    }

    private static boolean plainScans(List<Relation> in) {
        if (in.stream().anyMatch(r -> r.files() == null)) {
            return false;
        }
        ScanFiles f = in.get(0).files();
        return in.stream().allMatch(r -> r.files().format().equals(f.format()) && java.util.Objects.equals(r.files().options(), f.options()));
    }

    private static Relation scanOf(PlanNode node, List<Path> files, Path schema) {
        return Relation.scan("n" + node.id(), new ScanFiles("parquet", files, "", files.isEmpty() ? schema : null));
    }

    static void setup(DuckConnection c, Relation r) {
        for (String s : r.setup()) {
            c.query(s);
        }
    }

    private String copy(String select, Path target) {
        return copy(select, target, compression);
    }

    private static String copy(String select, Path target, String compression) {
        return "COPY (" + select + ") TO " + Sql.literal(target.toString()) + " (FORMAT parquet, COMPRESSION " + compression + ")";
    }

    private Path stageDir(PlanNode node, String kind) {
        return runDir.resolve("n" + node.id() + "-" + kind + "-" + hash(node.descriptor()));
    }

    private static Path task(Path stage, int i) {
        return stage.resolve(String.format("task-%05d", i));
    }

    static String hash(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
