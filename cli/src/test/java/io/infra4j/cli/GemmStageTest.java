package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.ResourceTracker;
import io.infra4j.memory.Device;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The demo's FP8 GEMM stage on the CPU path (CI has no GPU): the reference against the BF16 product. */
class GemmStageTest {
    @Test
    void passesOnTheCpuWithItsFiguresAndClosesEverything() {
        Set<Long> before = new HashSet<>();
        ResourceTracker.live().forEach(e -> before.add(e.id()));
        StageResult r = new GemmStage().run(new DemoContext(new DeviceChoice(Device.CPU, "test"),
                new DemoOptions(1000, "cpu", 7, "gemm"), Progress.none()));
        assertTrue(r.passed(), r::toString);
        assertEquals(List.of(), ResourceTracker.live().stream().filter(e -> !before.contains(e.id()))
                .map(ResourceTracker.Entry::toString).toList());
        var f = r.figures();
        for (String key : List.of("tokens", "experts", "tokens_per_expert", "rows_padded", "k", "n", "quantise_ms",
                "grouped_ms", "dense_ms", "timing", "grouped_calc_diff", "dense_calc_diff", "runs_on")) {
            assertTrue(f.containsKey(key), () -> key + " missing from " + f.keySet());
        }
        assertEquals(GemmStage.TOKENS, ((List<?>) f.get("tokens_per_expert")).stream().mapToInt(o -> (Integer) o).sum());
        assertTrue((Integer) f.get("rows_padded") % 128 == 0);
        assertTrue((Double) f.get("grouped_calc_diff") < GemmStage.CALC_DIFF_BOUND, f::toString);
        assertTrue((Double) f.get("dense_calc_diff") < GemmStage.CALC_DIFF_BOUND, f::toString);
    }
}
