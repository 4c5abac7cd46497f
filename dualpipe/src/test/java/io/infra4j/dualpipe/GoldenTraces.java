package io.infra4j.dualpipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads {@code golden/dualpipe_traces.jsonl} (upstream's recorded schedules, copied from ../shared/golden). */
final class GoldenTraces {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static List<JsonNode> records;

    private GoldenTraces() {}

    static synchronized List<JsonNode> all() {
        if (records == null) {
            List<JsonNode> list = new ArrayList<>();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(
                    GoldenTraces.class.getResourceAsStream("/golden/dualpipe_traces.jsonl"), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.isBlank()) {
                        list.add(JSON.readTree(line));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            records = List.copyOf(list);
        }
        return records;
    }

    static List<JsonNode> ofType(String type) {
        return all().stream().filter(r -> type.equals(r.path("type").asText())).toList();
    }

    static List<List<Op>> ranks(JsonNode trace) {
        List<List<Op>> ranks = new ArrayList<>();
        for (JsonNode rank : trace.get("ranks")) {
            List<Op> ops = new ArrayList<>();
            for (JsonNode op : rank) {
                List<Object> items = new ArrayList<>();
                for (JsonNode x : op) {
                    items.add(x.isTextual() ? x.asText() : (Object) x.intValue());
                }
                ops.add(Op.parse(items));
            }
            ranks.add(ops);
        }
        return ranks;
    }
}
