package io.infra4j.eplb.io;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.infra4j.eplb.Eplb;
import io.infra4j.eplb.Plan;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.zip.GZIPInputStream;

/**
 * The golden-case batch format (one JSON object per line, as in {@code eplb_cases.jsonl[.gz]}):
 * every {@code {"type":"case", "id", "weight", "num_replicas", "num_groups", "num_nodes",
 * "num_gpus", ...}} line is planned, and answered by one line {@code {"id", "phy2log", "log2phy",
 * "logcnt"}} or {@code {"id", "error"}}. Other record types (meta) are skipped; a line that is not
 * JSON is an error of the whole batch, since the file is then not what it claims to be.
 */
public final class CaseBatch {
    /** What a batch did. */
    public record Summary(int cases, int planned, int rejected, int skipped) {}

    private CaseBatch() {}

    /** Reads every JSON line of a {@code .jsonl} file, gzip-compressed or not (told by its magic bytes). */
    public static List<JsonNode> readRecords(Path file) {
        List<JsonNode> records = new ArrayList<>();
        try (BufferedReader in = open(file)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    records.add(Weights.JSON.readTree(line));
                } catch (IOException e) {
                    throw new IllegalArgumentException(file + " line " + number + " is not JSON: " + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        return records;
    }

    /** True for {@code {"type":"case", ...}} records. */
    public static boolean isCase(JsonNode record) {
        return record.isObject() && "case".equals(record.path("type").asText());
    }

    /** Plans one case record; the answer holds its id and either the plan or the reason it was refused. */
    public static ObjectNode solve(JsonNode record) {
        ObjectNode answer = Weights.JSON.createObjectNode();
        answer.set("id", record.get("id"));
        try {
            Plan plan = Eplb.rebalance(Weights.fromJson(record.get("weight")), intField(record, "num_replicas"),
                    intField(record, "num_groups"), intField(record, "num_nodes"), intField(record, "num_gpus"));
            answer.set("phy2log", Weights.JSON.valueToTree(plan.phy2log()));
            answer.set("log2phy", Weights.JSON.valueToTree(plan.log2phy()));
            answer.set("logcnt", Weights.JSON.valueToTree(plan.logcnt()));
        } catch (IllegalArgumentException e) {
            answer.put("error", e.getMessage());
        }
        return answer;
    }

    /**
     * Plans every case of {@code in} and writes the answers to {@code out}, one line each in input
     * order. {@code progress} is told the number of cases first (negated), then each one done.
     */
    public static Summary run(Path in, Path out, IntConsumer progress) {
        List<JsonNode> records = readRecords(in);
        long cases = records.stream().filter(CaseBatch::isCase).count();
        progress.accept((int) -cases);
        int planned = 0;
        int rejected = 0;
        int skipped = 0;
        int done = 0;
        Path parent = out.toAbsolutePath().getParent();
        try {
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try (Writer w = new BufferedWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8));
                 JsonGenerator gen = Weights.JSON.createGenerator(w)) {
                gen.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                for (JsonNode record : records) {
                    if (!isCase(record)) {
                        skipped++;
                        continue;
                    }
                    ObjectNode answer = solve(record);
                    if (answer.has("error")) {
                        rejected++;
                    } else {
                        planned++;
                    }
                    Weights.JSON.writeTree(gen, answer);
                    gen.flush();
                    w.write('\n');
                    progress.accept(++done);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": " + e.getMessage(), e);
        }
        return new Summary(planned + rejected, planned, rejected, skipped);
    }

    private static int intField(JsonNode record, String name) {
        JsonNode v = record.get(name);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException("\"" + name + "\" must be an integer, got " + v);
        }
        return v.intValue();
    }

    private static BufferedReader open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file));
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        InputStream in = b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(raw, 1 << 16) : raw;
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
    }
}
