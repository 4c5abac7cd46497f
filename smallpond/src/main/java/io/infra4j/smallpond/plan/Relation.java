package io.infra4j.smallpond.plan;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How one partition's rows are reached inside a task's own DuckDB: temporary views to create in order, the
 * last of which ({@link #top}) holds the rows. SQL nodes over SQL nodes compose by adding views, so a chain of
 * per-partition queries runs as one query in the task that consumes it, with nothing written in between.
 *
 * @param files the files this partition scans when it is a plain scan of files (for zero-copy repartitioning
 *              by files), or null when it is a query
 */
public record Relation(Map<String, String> views, String top, ScanFiles files) {
    /** A partition that is a plain scan of files of one format (parquet, csv, json) with DuckDB options. */
    public record ScanFiles(String format, List<Path> files, String options, Path schemaFile) {
        public ScanFiles {
            files = List.copyOf(files);
        }
    }

    public Relation {
        views = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(views));
    }

    /** A plain scan of {@code files}; with none, a zero-row scan of {@code schemaFile} (same columns). */
    public static Relation scan(String viewName, ScanFiles scan) {
        return new Relation(Map.of(viewName, scanSql(scan)), viewName, scan);
    }

    static String scanSql(ScanFiles s) {
        String reader = switch (s.format()) {
            case "parquet" -> "read_parquet";
            case "csv" -> "read_csv";
            case "json" -> "read_json";
            default -> throw new IllegalArgumentException("format: expected parquet, csv or json, got " + s.format());
        };
        String opts = s.options() == null || s.options().isBlank() ? "" : ", " + s.options();
        if (s.files().isEmpty()) {
            if (s.schemaFile() == null) {
                throw new IllegalStateException("an empty partition needs a file that gives its columns");
            }
            return "SELECT * FROM " + reader + "(" + Sql.literal(s.schemaFile().toString()) + opts + ") LIMIT 0";
        }
        StringBuilder list = new StringBuilder("[");
        for (int i = 0; i < s.files().size(); i++) {
            list.append(i == 0 ? "" : ", ").append(Sql.literal(s.files().get(i).toString()));
        }
        return "SELECT * FROM " + reader + "(" + list.append(']') + opts + ")";
    }

    /** This relation's views, then {@code name} defined by {@code sql} over them. */
    public static Relation compose(List<Relation> inputs, String name, String sql) {
        Map<String, String> views = new LinkedHashMap<>();
        for (Relation r : inputs) {
            views.putAll(r.views());
        }
        views.put(name, sql);
        return new Relation(views, name, null);
    }

    /** The statements that create this relation's views in a task's connection. */
    public List<String> setup() {
        return views.entrySet().stream().map(e -> "CREATE OR REPLACE TEMP VIEW " + e.getKey() + " AS " + e.getValue()).toList();
    }

    /** The whole relation as one readable text, for error messages and explain(). */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : views.entrySet()) {
            sb.append(e.getKey()).append(" := ").append(e.getValue()).append("; ");
        }
        return sb.toString().strip();
    }
}
