package io.infra4j.eplb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.infra4j.eplb.io.CaseBatch;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of upstream's recorded outputs ({@code golden/eplb_cases.jsonl.gz}, copied from
 * ../shared/golden): identical phy2log, log2phy and logcnt, or a rejection where upstream rejected.
 */
class GoldenParityTest {
    static Path goldenFile() {
        try {
            return Path.of(GoldenParityTest.class.getResource("/golden/eplb_cases.jsonl.gz").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<JsonNode> cases() {
        return CaseBatch.readRecords(goldenFile()).stream().filter(CaseBatch::isCase).toList();
    }

    @TestFactory
    Stream<DynamicTest> everyGoldenCase() {
        return cases().stream().map(c -> DynamicTest.dynamicTest(
                "case " + c.get("id") + " (" + c.get("source").asText() + ", " + c.get("weight_kind").asText() + ")", () -> {
                    JsonNode answer = CaseBatch.solve(c);
                    if (c.has("error")) {
                        assertTrue(answer.has("error"), () -> "upstream rejected this case (" + c.get("error").asText()
                                + "), the port planned it");
                        return;
                    }
                    assertTrue(!answer.has("error"), () -> "rejected: " + answer.get("error").asText());
                    assertEquals(c.get("logcnt"), answer.get("logcnt"), "logcnt");
                    assertEquals(c.get("phy2log"), answer.get("phy2log"), "phy2log");
                    assertEquals(c.get("log2phy"), answer.get("log2phy"), "log2phy");
                }));
    }

    @Test
    void goldenFileHoldsTheExpectedMix() {
        List<JsonNode> cases = cases();
        assertEquals(1027, cases.size());
        assertTrue(cases.stream().anyMatch(c -> c.path("flags").path("seq_sum_differs").asBoolean()));
        assertTrue(cases.stream().anyMatch(c -> "global".equals(c.get("policy").asText())));
    }
}
