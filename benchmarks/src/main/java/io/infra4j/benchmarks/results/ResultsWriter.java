package io.infra4j.benchmarks.results;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Appends one benchmark run to {@code <dir>/<date>-<name>.md} (a dated Markdown section: the
 * environment, then each table) and {@code <dir>/<date>-<name>.json} (the same figures, as a list of
 * runs), so progress stays visible and can be re-checked.
 */
public final class ResultsWriter {
    private final String name;
    private final String title;
    private final Map<String, Object> environment = new LinkedHashMap<>();
    private final List<ResultTable> tables = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    public ResultsWriter(String name, String title) {
        if (!name.matches("[a-z0-9-]+")) {
            throw new IllegalArgumentException("name: lower-case letters, digits and '-' only, got '" + name + "'");
        }
        this.name = name;
        this.title = title;
    }

    /** An environment fact (GPU, driver, commit, JDK, ...). */
    public ResultsWriter environment(String key, Object value) {
        environment.put(key, value);
        return this;
    }

    public ResultsWriter table(ResultTable table) {
        tables.add(table);
        return this;
    }

    public ResultsWriter note(String note) {
        notes.add(note);
        return this;
    }

    /** Appends this run to the dated files in {@code dir}; returns the Markdown file. */
    public Path appendTo(Path dir) {
        String date = LocalDate.now(ZoneOffset.UTC).toString();
        try {
            Files.createDirectories(dir);
            Path md = dir.resolve(date + "-" + name + ".md");
            Path json = dir.resolve(date + "-" + name + ".json");
            Files.writeString(md, markdown(date, !Files.exists(md)), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode root = Files.exists(json) ? (ObjectNode) mapper.readTree(json.toFile()) : mapper.createObjectNode();
            ArrayNode runs = root.has("runs") ? (ArrayNode) root.get("runs") : root.putArray("runs");
            ObjectNode run = runs.addObject();
            run.put("title", title);
            run.put("date", date);
            run.set("environment", mapper.valueToTree(environment));
            run.set("tables", mapper.valueToTree(tables));
            run.set("notes", mapper.valueToTree(notes));
            mapper.writeValue(json.toFile(), root);
            return md;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write benchmark results to " + dir, e);
        }
    }

    String markdown(String date, boolean newFile) {
        StringBuilder sb = new StringBuilder();
        if (newFile) {
            sb.append("# ").append(title).append(" — ").append(date).append("\n\n");
            sb.append("Runs are appended below; the JSON file beside this one holds the same figures.\n\n");
        }
        sb.append("## Run of ").append(date).append(' ')
                .append(java.time.LocalTime.now(ZoneOffset.UTC).withNano(0)).append(" UTC");
        if (environment.containsKey("commit")) {
            sb.append(" (commit ").append(environment.get("commit")).append(')');
        }
        sb.append("\n\n");
        for (Map.Entry<String, Object> e : environment.entrySet()) {
            sb.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
        }
        sb.append('\n');
        for (ResultTable t : tables) {
            sb.append("### ").append(t.getTitle()).append("\n\n| ");
            sb.append(String.join(" | ", t.getColumns())).append(" |\n|");
            sb.append(" --- |".repeat(t.getColumns().size())).append('\n');
            for (Map<String, Object> r : t.getRows()) {
                sb.append("| ");
                List<String> cells = new ArrayList<>();
                for (String c : t.getColumns()) {
                    cells.add(format(r.get(c)));
                }
                sb.append(String.join(" | ", cells)).append(" |\n");
            }
            sb.append('\n');
        }
        for (String n : notes) {
            sb.append("- ").append(n).append('\n');
        }
        if (!notes.isEmpty()) {
            sb.append('\n');
        }
        return sb.toString();
    }

    static String format(Object v) {
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d)) {
                return "n/a";
            }
            double a = Math.abs(d);
            return a != 0 && (a < 0.01 || a >= 1e6) ? String.format(Locale.ROOT, "%.3e", d)
                    : String.format(Locale.ROOT, a < 10 ? "%.3f" : a < 1000 ? "%.2f" : "%.1f", d);
        }
        return v == null ? "" : v.toString();
    }
}
