package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.ResourceTracker;
import io.infra4j.memory.Device;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The demo's expert-parallel stage on the CPU path (CI has no GPU): both modes of the reference. */
class EpStageTest {
    @Test
    void passesOnTheCpuWithItsFiguresAndClosesEverything() {
        Set<Long> before = new HashSet<>();
        ResourceTracker.live().forEach(e -> before.add(e.id()));
        StageResult r = new EpStage().run(new DemoContext(new DeviceChoice(Device.CPU, "test"),
                new DemoOptions(1000, "cpu", 7, "ep"), Progress.none()));
        assertTrue(r.passed(), r::toString);
        assertEquals(List.of(), ResourceTracker.live().stream().filter(e -> !before.contains(e.id()))
                .map(ResourceTracker.Entry::toString).toList());
        var f = r.figures();
        for (String key : List.of("ranks", "experts", "top_k", "hidden", "tokens_per_rank", "rows_received", "runs_on")) {
            assertTrue(f.containsKey(key), () -> key + " missing from " + f.keySet());
        }
        assertEquals(EpStage.RANKS, ((List<?>) f.get("rows_received")).size());
    }
}
