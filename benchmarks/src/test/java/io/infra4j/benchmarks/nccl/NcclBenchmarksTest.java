package io.infra4j.benchmarks.nccl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** nccl-tests' bus-bandwidth factors and the median of the slowest ranks' times (no GPU). */
class NcclBenchmarksTest {
    @Test
    void busBandwidthFactors() {
        assertEquals(1.0, NcclBenchmarks.Op.ALL_REDUCE.busFactor(2), 1e-12);
        assertEquals(1.75, NcclBenchmarks.Op.ALL_REDUCE.busFactor(8), 1e-12);
        assertEquals(0.5, NcclBenchmarks.Op.ALL_TO_ALL.busFactor(2), 1e-12);
        assertEquals(0.875, NcclBenchmarks.Op.ALL_TO_ALL.busFactor(8), 1e-12);
    }

    @Test
    void medianOfTheRuns() {
        assertEquals(2.0, new NcclBenchmarks.Measured(NcclBenchmarks.Op.ALL_REDUCE, 1, new double[] {3, 1, 2}, true).medianMs());
        assertEquals(2.5, new NcclBenchmarks.Measured(NcclBenchmarks.Op.ALL_TO_ALL, 1, new double[] {4, 1, 2, 3}, true).medianMs());
        assertEquals("all_to_all/1024", NcclBenchmarks.key(NcclBenchmarks.Op.ALL_TO_ALL, 1024));
    }
}
