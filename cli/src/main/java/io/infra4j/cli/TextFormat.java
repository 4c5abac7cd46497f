package io.infra4j.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Small formatting helpers for the text (non-JSON) output. */
final class TextFormat {
    private TextFormat() {}

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /**
     * A reason in one line. Library-not-found messages list their whole search after "looked in:";
     * that list belongs to {@code infra4j info}, so it is replaced by a pointer there.
     */
    static String reason(String s) {
        String line = firstLine(s);
        if (line.endsWith("; looked in:")) {
            return line.substring(0, line.length() - "; looked in:".length()) + " ('infra4j info' shows where it looked)";
        }
        return line;
    }

    /** 1536 -> "1.5 KiB": binary units, as memory sizes are. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String millis(double ms) {
        return ms >= 1000 ? String.format(Locale.ROOT, "%.2f s", ms / 1000)
                : String.format(Locale.ROOT, "%.1f ms", ms);
    }

    /** A figure as text: doubles with 4 significant digits, everything else as is. */
    static String value(Object v) {
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (d == 0 || Double.isNaN(d) || Double.isInfinite(d)) {
                return String.valueOf(d);
            }
            String s = String.format(Locale.ROOT, "%.4g", d);
            return s.contains("e") || !s.contains(".") ? s : s.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        if (v instanceof Boolean b) {
            return b ? "yes" : "no";
        }
        return String.valueOf(v);
    }

    /** Rows under a header, each column as wide as its widest cell. */
    static List<String> table(List<String> header, List<List<String>> rows) {
        int[] width = new int[header.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = header.get(c).length();
            for (List<String> r : rows) {
                width[c] = Math.max(width[c], r.get(c).length());
            }
        }
        List<String> out = new ArrayList<>();
        out.add(row(header, width));
        for (List<String> r : rows) {
            out.add(row(r, width));
        }
        return out;
    }

    private static String row(List<String> cells, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            sb.append(cell);
            if (c < cells.size() - 1) {
                sb.append(" ".repeat(width[c] - cell.length() + 2));
            }
        }
        return sb.toString();
    }
}
