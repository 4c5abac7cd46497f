package io.infra4j.deepgemm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How a view is cut into the ABI's calls: as few as the layout allows, offsets in each buffer's units. */
class QuantMatrixTest {
    private static List<QuantMatrix> calls(long[] shape, long[] strides, Granularity g) {
        return QuantMatrix.of(shape, strides, g);
    }

    @Test
    void aMatrixIsOneCall() {
        assertEquals(List.of(new QuantMatrix(0, 130, 320, 0, 0)),
                calls(new long[] {130, 272}, new long[] {320, 1}, Granularity.PER_TOKEN));
        assertEquals(List.of(new QuantMatrix(0, 1, 272, 0, 0)),
                calls(new long[] {1, 272}, new long[] {5, 1}, Granularity.PER_BLOCK), "one row: its stride is moot");
    }

    @Test
    void nothingToDoIsNoCall() {
        assertEquals(List.of(), calls(new long[] {0, 272}, new long[] {272, 1}, Granularity.PER_TOKEN));
        assertEquals(List.of(), calls(new long[] {4, 0}, new long[] {0, 1}, Granularity.PER_TOKEN));
        assertEquals(List.of(), calls(new long[] {0, 4, 16}, new long[] {64, 16, 1}, Granularity.PER_BLOCK));
    }

    @Test
    void evenlySpacedGroupsAreOneCallPerToken() {
        assertEquals(List.of(new QuantMatrix(0, 3 * 70, 300, 0, 0)),
                calls(new long[] {3, 70, 272}, new long[] {70 * 300, 300, 1}, Granularity.PER_TOKEN));
        assertEquals(List.of(new QuantMatrix(0, 3, 20400, 0, 0)),
                calls(new long[] {3, 1, 272}, new long[] {20400, 272, 1}, Granularity.PER_TOKEN), "one row per group");
    }

    @Test
    void otherwiseOneCallPerGroup() {
        // per token, groups 75 rows apart holding 70: [g * 20400 elements, 70 rows, ld 272, g * 70 * 272 bytes, g * 70 * 3 floats]
        assertEquals(List.of(new QuantMatrix(0, 70, 272, 0, 0), new QuantMatrix(20400, 70, 272, 19040, 210)),
                calls(new long[] {2, 70, 272}, new long[] {20400, 272, 1}, Granularity.PER_TOKEN));
        // per block, always: each group's blocks start at its row 0; its scales are [1, 3]
        assertEquals(List.of(new QuantMatrix(0, 70, 272, 0, 0), new QuantMatrix(19040, 70, 272, 19040, 3)),
                calls(new long[] {2, 70, 272}, new long[] {19040, 272, 1}, Granularity.PER_BLOCK));
    }
}
