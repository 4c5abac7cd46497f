package io.infra4j.benchmarks.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GpuTimingTest {
    @Test
    void medianQuantilesAndRates() {
        GpuTiming t = new GpuTiming("x", new double[] {4, 1, 3, 2, 100});
        assertEquals(3.0, t.medianMs());
        assertEquals(1.0, t.minMs());
        assertEquals(100.0, t.maxMs());
        assertEquals(2.0, t.quantileMs(0.25));
        assertEquals(1e9 / 3e-3 / 1e9, t.gbPerSecond(1_000_000_000L), 1e-9);
        assertEquals(2.5, new GpuTiming("even", new double[] {1, 2, 3, 4}).medianMs());
    }

    @Test
    void hostTimesAreOptional() {
        assertEquals(0.02, new GpuTiming("x", new double[] {1, 1, 1}, new double[] {0.05, 0.01, 0.02}).hostMedianMs());
        assertTrue(Double.isNaN(new GpuTiming("x", new double[] {1}).hostMedianMs()));
    }

    @Test
    void needsARun() {
        assertThrows(IllegalArgumentException.class, () -> new GpuTiming("none", new double[0]));
        assertThrows(IllegalArgumentException.class, () -> new GpuBench.Options(0, 0, true));
    }
}
