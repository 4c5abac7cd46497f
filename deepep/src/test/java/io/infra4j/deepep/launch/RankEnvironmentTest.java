package io.infra4j.deepep.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RankEnvironmentTest {

    @Test
    void torchrunsVariablesAreRead() {
        RankEnvironment e = RankEnvironment.from(Map.of("RANK", "3", "WORLD_SIZE", "8", "LOCAL_RANK", "1", "MASTER_ADDR", "node0",
                "MASTER_PORT", "29400"));
        assertEquals(new RankEnvironment(3, 8, 1, "node0", 29400), e);
    }

    @Test
    void withoutALauncherItIsAWorldOfOne() {
        assertEquals(RankEnvironment.single(), RankEnvironment.from(Map.of()));
        assertEquals(new RankEnvironment(0, 1, 0, "127.0.0.1", 29500), RankEnvironment.single());
    }

    @Test
    void defaultsFillWhatALauncherMayLeaveOut() {
        RankEnvironment e = RankEnvironment.from(Map.of("RANK", "2", "WORLD_SIZE", "4"));
        assertEquals(2, e.localRank());
        assertEquals("127.0.0.1", e.masterAddr());
        assertEquals(RankEnvironment.DEFAULT_PORT, e.masterPort());
    }

    @Test
    void badValuesNameTheirVariable() {
        assertMessage("RANK is not set", Map.of("WORLD_SIZE", "4"));
        assertMessage("WORLD_SIZE is not set", Map.of("RANK", "0"));
        assertMessage("RANK: expected an integer, got 'x'", Map.of("RANK", "x", "WORLD_SIZE", "4"));
        assertMessage("RANK: expected a rank in [0, 4), got 4", Map.of("RANK", "4", "WORLD_SIZE", "4"));
        assertMessage("WORLD_SIZE: expected at least 1", Map.of("RANK", "0", "WORLD_SIZE", "0"));
        assertMessage("MASTER_PORT: expected a port", Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_PORT", "70000"));
        assertMessage("LOCAL_RANK: expected at least 0", Map.of("RANK", "0", "WORLD_SIZE", "2", "LOCAL_RANK", "-1"));
    }

    private static void assertMessage(String expected, Map<String, String> env) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RankEnvironment.from(env));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
