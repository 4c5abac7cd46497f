package io.infra4j.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@link DemoReport} as text: a line per stage, its figures (lists of rows as tables), the verdict. */
final class DemoText {
    private DemoText() {}

    static void print(DemoReport r, PrintStream out) {
        out.println("infra4j demo on " + r.device() + ": " + r.deviceReason());
        out.println("size " + r.size() + " elements, seed " + r.seed());
        for (DemoReport.Stage s : r.stages()) {
            out.println();
            out.printf("[%s] %s on %s, %s: %s%n", s.passed() ? "PASS" : "FAIL", s.name(), s.device(),
                    TextFormat.millis(s.durationMs()), s.description());
            figures(s.figures(), "  ", out);
            for (String f : s.failures()) {
                out.println("  failed: " + f);
            }
        }
        out.println();
        if (r.leaks().isEmpty()) {
            out.println("leaks: none (every tensor, stream and event was closed)");
        } else {
            out.println("leaks: " + r.leaks().size() + " native resource(s) left open:");
            r.leaks().forEach(l -> out.println("  " + l));
        }
        long failed = r.stages().stream().filter(s -> !s.passed()).count();
        out.println(r.passed() ? "demo passed: " + r.stages().size() + " stage(s)"
                : "demo FAILED: " + failed + " of " + r.stages().size() + " stage(s) failed"
                        + (r.leaks().isEmpty() ? "" : ", " + r.leaks().size() + " leak(s)"));
    }

    private static void figures(Map<String, Object> figures, String indent, PrintStream out) {
        for (Map.Entry<String, Object> e : figures.entrySet()) {
            Object v = e.getValue();
            if (v instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(x -> x instanceof Map)) {
                out.println(indent + e.getKey() + ":");
                for (String line : table(list)) {
                    out.println(indent + "  " + line);
                }
            } else if (v instanceof Map<?, ?> m) {
                out.println(indent + e.getKey() + ":");
                @SuppressWarnings("unchecked")
                Map<String, Object> nested = (Map<String, Object>) m;
                figures(nested, indent + "  ", out);
            } else {
                out.println(indent + e.getKey() + ": " + TextFormat.value(v));
            }
        }
    }

    /** Rows of maps as a table; the columns are the first row's keys. */
    private static List<String> table(List<?> rows) {
        List<String> header = new ArrayList<>();
        ((Map<?, ?>) rows.get(0)).keySet().forEach(k -> header.add(String.valueOf(k)));
        List<List<String>> cells = new ArrayList<>();
        for (Object row : rows) {
            Map<?, ?> m = (Map<?, ?>) row;
            List<String> line = new ArrayList<>();
            for (String h : header) {
                line.add(m.containsKey(h) ? TextFormat.value(m.get(h)) : "");
            }
            cells.add(line);
        }
        return TextFormat.table(header, cells);
    }
}
