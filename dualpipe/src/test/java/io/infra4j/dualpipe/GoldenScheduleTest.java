package io.infra4j.dualpipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every recorded configuration: each rank's ops identical to upstream's, op for op; every refused one refused. */
class GoldenScheduleTest {
    @TestFactory
    Stream<DynamicTest> everyTraceIsReproducedExactly() {
        return GoldenTraces.ofType("trace").stream().map(t -> {
            Variant variant = Variant.parse(t.get("variant").asText());
            int ranks = t.get("num_ranks").intValue();
            int chunks = t.get("num_chunks").intValue();
            Mode mode = Mode.parse(t.get("mode").asText());
            return DynamicTest.dynamicTest(variant + " ranks=" + ranks + " chunks=" + chunks + " " + mode.upstreamName(), () -> {
                List<List<Op>> expected = GoldenTraces.ranks(t);
                assertEquals(ranks, expected.size());
                for (int r = 0; r < ranks; r++) {
                    List<Op> got = DualPipeSchedule.generate(variant, ranks, chunks, r, mode);
                    assertOps(expected.get(r), got, "rank " + r);
                }
            });
        });
    }

    @TestFactory
    Stream<DynamicTest> everyInvalidConfigurationIsRefused() {
        return GoldenTraces.ofType("invalid").stream().map((JsonNode t) -> DynamicTest.dynamicTest(
                t.get("variant").asText() + " ranks=" + t.get("num_ranks") + " chunks=" + t.get("num_chunks"),
                () -> assertThrows(IllegalArgumentException.class, () -> DualPipeSchedule.generateAll(
                        Variant.parse(t.get("variant").asText()), t.get("num_ranks").intValue(),
                        t.get("num_chunks").intValue(), Mode.TRAIN_PLAIN))));
    }

    /** Reports the first differing op with its neighbourhood, which says far more than two long lists. */
    static void assertOps(List<Op> expected, List<Op> got, String what) {
        int n = Math.min(expected.size(), got.size());
        for (int i = 0; i < n; i++) {
            if (!expected.get(i).equals(got.get(i))) {
                int from = Math.max(0, i - 4);
                throw new AssertionError(what + ": op " + i + " differs: expected " + expected.get(i).toList() + ", got "
                        + got.get(i).toList() + "\n  expected " + str(expected.subList(from, Math.min(expected.size(), i + 5)))
                        + "\n  got      " + str(got.subList(from, Math.min(got.size(), i + 5))));
            }
        }
        assertEquals(expected.size(), got.size(), what + ": number of ops");
    }

    private static String str(List<Op> ops) {
        return ops.stream().map(o -> o.toList().toString()).toList().toString();
    }
}
