package io.infra4j.eplb.io;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Expert loads {@code [layers][experts]} from JSON or CSV, converted to float32 exactly as upstream
 * converts its tensor: each value is read at full precision (integers as integers, decimals as
 * doubles) and rounded once to the nearest float32, ties to even. Double rounding through a double
 * would change large integers.
 */
public final class Weights {
    static final JsonMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // NaN and Infinity, as Python writes them
            .build();

    private Weights() {}

    /** Reads a file by its extension: {@code .json} or {@code .csv}. */
    public static float[][] read(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".json")) {
            return readJson(file);
        }
        if (name.endsWith(".csv")) {
            return readCsv(file);
        }
        throw new IllegalArgumentException(file + ": expected a .json or .csv file of loads [layers][experts]");
    }

    /** A JSON array of layers ({@code [[...], ...]}), or an object with such an array under "weight". */
    public static float[][] readJson(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        if (root != null && root.isObject() && root.has("weight")) {
            root = root.get("weight");
        }
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * One line per layer, loads separated by commas. Blank lines and lines starting with '#' are
     * skipped; a first line that is not numeric (a header) is skipped too.
     */
    public static float[][] readCsv(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        List<float[]> rows = new ArrayList<>();
        boolean first = true;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] cells = line.split(",", -1);
            if (first && !isNumber(cells[0].strip())) {
                first = false;
                continue; // header
            }
            first = false;
            float[] row = new float[cells.length];
            for (int e = 0; e < cells.length; e++) {
                String cell = cells[e].strip();
                try {
                    row[e] = toFloat(cell, rows.size(), e);
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException(file + " line " + (i + 1) + ", column " + (e + 1) + ": '" + cell
                            + "' is not a number");
                }
            }
            rows.add(row);
        }
        return rows.toArray(float[][]::new);
    }

    /** Parses {@code [[...], ...]}; numbers only; every row the same length. */
    public static float[][] fromJson(JsonNode array) {
        if (array == null || !array.isArray()) {
            throw new IllegalArgumentException("weight must be an array of layers, each an array of loads");
        }
        float[][] w = new float[array.size()][];
        for (int l = 0; l < w.length; l++) {
            JsonNode row = array.get(l);
            if (!row.isArray()) {
                throw new IllegalArgumentException("weight[" + l + "] is not an array of loads");
            }
            w[l] = new float[row.size()];
            for (int e = 0; e < w[l].length; e++) {
                w[l][e] = toFloat(row.get(e), l, e);
            }
        }
        return w;
    }

    /** One JSON number rounded once to float32; NaN and negatives are refused. */
    static float toFloat(JsonNode v, int layer, int expert) {
        if (!v.isNumber()) {
            if (v.isTextual() && v.asText().equals("NaN")) {
                throw new IllegalArgumentException("weight[" + layer + "][" + expert + "] is NaN: loads must be numbers");
            }
            throw new IllegalArgumentException("weight[" + layer + "][" + expert + "] is " + v + ", not a number");
        }
        if (v.isIntegralNumber()) {
            if (v.bigIntegerValue().signum() < 0) {
                throw negative(v.asText(), layer, expert);
            }
            // long (or BigInteger) to float rounds once, to nearest even.
            return v.canConvertToLong() ? (float) v.longValue() : v.bigIntegerValue().floatValue();
        }
        // A JSON decimal is a float64 (Python writes the shortest repr that reads back exactly): to float64, then once to float32.
        double d = v.doubleValue();
        if (Double.isNaN(d)) {
            throw new IllegalArgumentException("weight[" + layer + "][" + expert + "] is NaN: loads must be numbers");
        }
        if (d < 0) {
            throw negative(v.asText(), layer, expert);
        }
        return (float) d;
    }

    /** A CSV cell: integers exactly (then once to float32), decimals as float64 first, as numpy would read them. */
    private static float toFloat(String cell, int layer, int expert) {
        BigDecimal exact = new BigDecimal(cell); // throws NumberFormatException for junk
        if (exact.signum() < 0) {
            throw negative(cell, layer, expert);
        }
        if (cell.chars().allMatch(c -> c == '+' || Character.isDigit(c))) {
            return exact.toBigIntegerExact().floatValue();
        }
        return (float) Double.parseDouble(cell);
    }

    private static IllegalArgumentException negative(String v, int layer, int expert) {
        return new IllegalArgumentException("weight[" + layer + "][" + expert + "] = " + v + ": loads must not be negative");
    }

    private static boolean isNumber(String s) {
        try {
            new BigDecimal(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
