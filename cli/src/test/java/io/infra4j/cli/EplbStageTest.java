package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.memory.Device;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EplbStageTest {
    private static DemoContext context(long size, long seed) {
        return new DemoContext(new DeviceChoice(Device.CPU, "test"), new DemoOptions(size, "cpu", seed, "eplb"),
                Progress.none());
    }

    @Test
    void routerPlacesTopKTokensPerLayerAndFavoursPopularExperts() {
        MoeRouter router = new MoeRouter(3, 32, 4, 2, 4, 1.0);
        long[][] counts = router.route(5000, new Random(3));
        assertEquals(3, counts.length);
        for (long[] layer : counts) {
            assertEquals(32, layer.length);
            assertEquals(5000L * 4, Arrays.stream(layer).sum());
            long max = Arrays.stream(layer).max().orElseThrow();
            assertTrue(max > 2 * 5000 * 4 / 32, "a skewed router has hot experts: " + Arrays.toString(layer));
        }
    }

    @Test
    void routingDependsOnTheSeedOnly() {
        MoeRouter router = new MoeRouter(2, 16, 4, 2, 2, 0.5);
        long[][] a = router.route(10_000, new Random(7)); // several chunks, routed in parallel
        long[][] b = router.route(10_000, new Random(7));
        assertArrayEquals(a, b);
    }

    @Test
    void refusesARouterThatCannotPickItsExperts() {
        assertThrows(IllegalArgumentException.class, () -> new MoeRouter(1, 10, 4, 2, 2, 1)); // 4 does not divide 10
        assertThrows(IllegalArgumentException.class, () -> new MoeRouter(1, 16, 4, 1, 5, 1)); // 5 experts from one group of 4
    }

    @Test
    void tokensFollowSizeWithinBounds() {
        assertEquals(EplbStage.MIN_TOKENS, EplbStage.tokens(1000));
        assertEquals(8192, EplbStage.tokens(8192L * 256));
        assertEquals(EplbStage.MAX_TOKENS, EplbStage.tokens(16L << 20));
        assertEquals(EplbStage.MAX_TOKENS, EplbStage.tokens(DemoOptions.MAX_SIZE));
    }

    @Test
    void planBalancesTheRoutersLoad() {
        StageResult r = new EplbStage().run(context(100_000, 42));
        assertTrue(r.passed(), r::toString);
        Map<String, Object> f = r.figures();
        assertEquals(EplbStage.MIN_TOKENS, f.get("tokens"));
        assertEquals(288, f.get("replicas"));
        assertEquals("hierarchical", f.get("policy"));
        double before = (double) f.get("gpu_imbalance_before");
        double after = (double) f.get("gpu_imbalance_after");
        assertTrue(before > 1.5 && after < 1.3 && after >= 1, f::toString);
        assertTrue((double) f.get("node_imbalance_after") <= (double) f.get("node_imbalance_before"), f::toString);
        assertTrue((int) f.get("max_replicas") >= 2, f::toString);
        assertEquals(8, ((List<?>) f.get("per_layer")).size());
    }

    @Test
    void sameSeedSameFigures() {
        Map<String, Object> a = new EplbStage().run(context(5000, 9)).figures();
        Map<String, Object> b = new EplbStage().run(context(5000, 9)).figures();
        for (String k : List.of("gpu_imbalance_before", "gpu_imbalance_after", "node_imbalance_after", "per_layer")) {
            assertEquals(a.get(k), b.get(k), k);
        }
    }
}
