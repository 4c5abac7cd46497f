package io.infra4j.smallpond;

import io.infra4j.smallpond.arrow.ArrowField;
import io.infra4j.smallpond.plan.BatchFunction;
import io.infra4j.smallpond.plan.PlanNode;
import io.infra4j.smallpond.plan.Planner;
import io.infra4j.smallpond.plan.Sql;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A lazy, partitioned table, as smallpond has it: every operation returns a new DataFrame holding a bigger
 * logical plan, and nothing runs until an action ({@link #count}, {@link #take}, {@link #toList},
 * {@link #collect}, {@link #writeParquet}). Then the plan is cut into stages of tasks, one task per partition,
 * each in a DuckDB of its own; per-partition SQL is fused into the task that consumes it.
 *
 * <p>SQL operations run on each partition alone ({@link #partialSql}): an aggregate gives one result per
 * partition, so partition by the grouping keys first ({@link #repartitionByHash}) for a global one.
 */
public final class DataFrame {
    private final Session session;
    private final PlanNode node;

    DataFrame(Session session, PlanNode node) {
        this.session = session;
        this.node = node;
    }

    /** How many partitions this DataFrame has (known without running anything). */
    public int partitions() {
        return node.partitions();
    }

    // ---- repartitioning

    /** {@code n} partitions, whole files dealt out in order (no data rewritten when this is a scan of files). */
    public DataFrame repartition(int n) {
        return new DataFrame(session, new PlanNode.Repartition(session.nextId(), node, count(n), PlanNode.Mode.FILES, List.of()));
    }

    /** {@code n} partitions of equal row counts (±1), rows kept in order. */
    public DataFrame repartitionByRows(int n) {
        return new DataFrame(session, new PlanNode.Repartition(session.nextId(), node, count(n), PlanNode.Mode.ROWS, List.of()));
    }

    /** {@code n} partitions by a hash of {@code columns}: rows with equal keys meet in one partition. */
    public DataFrame repartitionByHash(int n, String... columns) {
        if (columns == null || columns.length == 0) {
            throw new IllegalArgumentException("repartitionByHash: expected at least one column to hash");
        }
        for (String c : columns) {
            if (c == null || c.isBlank()) {
                throw new IllegalArgumentException("repartitionByHash: a column name is empty");
            }
        }
        return new DataFrame(session, new PlanNode.Repartition(session.nextId(), node, count(n), PlanNode.Mode.HASH, List.of(columns)));
    }

    /**
     * {@code n} partitions by value: {@code expression} (a column, or any SQL expression over the row) gives
     * each row's partition index, 0 to n-1; a row whose value falls outside fails its task, naming the value.
     */
    public DataFrame repartitionByValue(int n, String expression) {
        if (expression == null || expression.isBlank()) {
            throw new IllegalArgumentException("repartitionByValue: expected a column or expression giving the partition index");
        }
        return new DataFrame(session, new PlanNode.Repartition(session.nextId(), node, count(n), PlanNode.Mode.VALUE, List.of(expression)));
    }

    // ---- per-partition SQL

    /** {@code sql} run on every partition, {@code {0}} naming it: {@code select host, count(*) from {0} group by host}. */
    public DataFrame partialSql(String sql) {
        checkTemplate(sql, 1);
        return new DataFrame(session, new PlanNode.Query(session.nextId(), sql, List.of(node), "sql"));
    }

    /** {@code sql} over partition i of this ({@code {0}}) and of {@code other} ({@code {1}}): both need as many partitions. */
    public DataFrame partialSql(String sql, DataFrame other) {
        checkTemplate(sql, 2);
        if (other == null || other.session != session) {
            throw new IllegalArgumentException("partialSql: the second DataFrame must come from the same Session");
        }
        if (other.partitions() != partitions()) {
            throw new IllegalArgumentException("partialSql: {0} has " + partitions() + " partitions and {1} has " + other.partitions()
                    + ": repartition one of them to match");
        }
        return new DataFrame(session, new PlanNode.Query(session.nextId(), sql, List.of(node, other.node), "sql"));
    }

    /** The SQL select list {@code expressions} per row: {@code map("id, price * qty AS total")}. */
    public DataFrame map(String expressions) {
        if (expressions == null || expressions.isBlank()) {
            throw new IllegalArgumentException("map: expected SQL expressions (a select list), got " + expressions);
        }
        return new DataFrame(session, new PlanNode.Query(session.nextId(), "SELECT " + expressions + " FROM {0}", List.of(node), "map"));
    }

    /** The rows for which the SQL condition holds: {@code filter("price > 10")}. */
    public DataFrame filter(String condition) {
        if (condition == null || condition.isBlank()) {
            throw new IllegalArgumentException("filter: expected a SQL condition, got " + condition);
        }
        return new DataFrame(session, new PlanNode.Query(session.nextId(), "SELECT * FROM {0} WHERE " + condition, List.of(node), "filter"));
    }

    /** At most {@code n} rows, in one partition. */
    public DataFrame limit(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("limit: expected 0 or more rows, got " + n);
        }
        return new DataFrame(session, new PlanNode.Limit(session.nextId(), node, n));
    }

    // ---- Java code

    /**
     * Java code over the Arrow batches of every partition, producing batches of {@code schema}: the fastest way
     * to run Java on the rows. {@code name} identifies the code when a run resumes.
     */
    public DataFrame mapBatches(String name, List<ArrowField> schema, BatchFunction function) {
        if (name == null || name.isBlank() || schema == null || schema.isEmpty() || function == null) {
            throw new IllegalArgumentException("mapBatches: expected a name, an output schema of at least one field and a function");
        }
        return new DataFrame(session, new PlanNode.MapBatches(session.nextId(), node, schema, function, name));
    }

    /** One input row (column name to value) to any number of output rows (values in {@code schema}'s order). */
    @FunctionalInterface
    public interface RowFunction {
        List<List<Object>> apply(Map<String, Object> row) throws Exception;
    }

    /** Java code per row, giving zero or more rows each: built on {@link #mapBatches}. */
    public DataFrame flatMap(String name, List<ArrowField> schema, RowFunction function) {
        if (function == null) {
            throw new IllegalArgumentException("flatMap: expected a function");
        }
        return mapBatches(name, schema, RowBatches.flatMap(schema, function));
    }

    // ---- actions

    /** The number of rows. */
    public long count() {
        return session.run(p -> p.count(node));
    }

    /** Every row, partition after partition, with the column names and types. */
    public QueryResult collect() {
        return session.run(p -> p.collect(node));
    }

    /** Every row as column name to value, partition after partition. */
    public List<Map<String, Object>> toList() {
        return rowsOf(collect());
    }

    /** The first {@code n} rows found (partition order; within a partition, scan order). */
    public List<Map<String, Object>> take(int n) {
        return limit(n).toList();
    }

    /**
     * Writes every partition as {@code part-0000k.parquet} in {@code dir} (an empty or new folder, or one an
     * earlier write filled) and then {@code _SUCCESS}; nothing appears under a final name before it is complete.
     */
    public WriteSummary writeParquet(Path dir) {
        if (dir == null) {
            throw new IllegalArgumentException("writeParquet: expected a folder, got null");
        }
        long start = System.nanoTime();
        int before = session.stages().size();
        Planner.Written w = session.run(p -> p.write(node, dir.toAbsolutePath(), session.outputCompression()));
        List<StageTiming> stages = session.stages();
        return new WriteSummary(dir.toAbsolutePath(), w.files(), w.rows(), (System.nanoTime() - start) / 1e9, stages.subList(before, stages.size()));
    }

    /** The plan as text: which nodes run as stages of their own and which are fused into the task that reads them. */
    public String explain() {
        StringBuilder sb = new StringBuilder();
        explain(node, 0, sb);
        return sb.toString();
    }

    private static void explain(PlanNode n, int depth, StringBuilder sb) {
        sb.append("  ".repeat(depth));
        switch (n) {
            case PlanNode.Source s -> sb.append("read ").append(s.format()).append(": ").append(s.files().size()).append(" file(s), 1 partition");
            case PlanNode.Rows r -> sb.append("rows (").append(r.columns()).append("): ").append(r.rows().size()).append(", 1 partition [stage]");
            case PlanNode.Query q -> sb.append(q.kind()).append(": ").append(q.template()).append(" [fused into its reader]");
            case PlanNode.Repartition rp -> sb.append("repartition ").append(rp.mode().name().toLowerCase()).append(rp.keys().isEmpty() ? "" : " " + rp.keys())
                    .append(" into ").append(rp.partitions()).append(rp.mode() == PlanNode.Mode.FILES ? " [no stage for a scan of files]" : " [stage]");
            case PlanNode.MapBatches m -> sb.append("map batches with ").append(m.name()).append(" [stage]");
            case PlanNode.Limit l -> sb.append("limit ").append(l.limit()).append(" [stage when more than 1 partition]");
        }
        sb.append('\n');
        List<PlanNode> inputs = switch (n) {
            case PlanNode.Query q -> q.inputs();
            case PlanNode.Repartition rp -> List.of(rp.input());
            case PlanNode.MapBatches m -> List.of(m.input());
            case PlanNode.Limit l -> List.of(l.input());
            default -> List.of();
        };
        for (PlanNode in : inputs) {
            explain(in, depth + 1, sb);
        }
    }

    static List<Map<String, Object>> rowsOf(QueryResult r) {
        List<Map<String, Object>> out = new ArrayList<>(r.rowCount());
        for (Object[] row : r.rows()) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (int i = 0; i < row.length; i++) {
                m.put(r.columns().get(i), row[i]);
            }
            out.add(m);
        }
        return out;
    }

    private static int count(int n) {
        if (n < 1 || n > 1_000_000) {
            throw new IllegalArgumentException("partitions: expected 1 to 1000000, got " + n);
        }
        return n;
    }

    private static void checkTemplate(String sql, int inputs) {
        if (sql == null || sql.isBlank()) {
            throw new IllegalArgumentException("partialSql: expected a query using {0}, got " + sql);
        }
        int max = Sql.maxPlaceholder(sql);
        if (max < 0) {
            throw new IllegalArgumentException("partialSql: the query never names its input: use {0} where the partition goes (select * from {0})");
        }
        if (max >= inputs) {
            throw new IllegalArgumentException("partialSql: the query uses {" + max + "} but has " + inputs + " input(s)");
        }
    }

    @Override
    public String toString() {
        return "DataFrame(" + partitions() + " partition(s))\n" + explain();
    }
}
