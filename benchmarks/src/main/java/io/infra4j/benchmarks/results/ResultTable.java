package io.infra4j.benchmarks.results;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One table of figures: named columns, rows of values in that order. */
public final class ResultTable {
    private final String title;
    private final List<String> columns;
    private final List<Map<String, Object>> rows = new ArrayList<>();

    public ResultTable(String title, String... columns) {
        this.title = title;
        this.columns = List.of(columns);
    }

    /** Adds a row; values in column order. */
    public ResultTable row(Object... values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException("row: expected " + columns.size() + " values " + columns + ", got " + values.length);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            r.put(columns.get(i), values[i]);
        }
        rows.add(r);
        return this;
    }

    public String getTitle() {
        return title;
    }

    public List<String> getColumns() {
        return columns;
    }

    public List<Map<String, Object>> getRows() {
        return rows;
    }
}
