package io.infra4j.deepgemm.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * One call of fp8_gemm.h's quantisers: {@code rows} rows of x, row stride {@code ld}, starting
 * {@code xOffset} elements into x; its values start {@code outOffset} bytes into the (contiguous)
 * output and its scales {@code scalesOffset} floats into theirs.
 */
public record QuantMatrix(long xOffset, long rows, long ld, long outOffset, long scalesOffset) {

    /**
     * The calls that quantise a BF16 view {@code shape}/{@code strides} ([rows, cols] or
     * [groups, rows, cols], last stride 1): one where the groups lie evenly one after another (or
     * where a per-token group is one row), else one per group, because a block or a row stride
     * cannot straddle two groups placed anywhere.
     */
    public static List<QuantMatrix> of(long[] shape, long[] strides, Granularity granularity) {
        int rank = shape.length;
        long rows = shape[rank - 2];
        long cols = shape[rank - 1];
        long ld = rows <= 1 ? cols : strides[rank - 2]; // one row: its stride is never used
        long groups = rank == 3 ? shape[0] : 1;
        if (groups == 0 || rows == 0 || cols == 0) {
            return List.of();
        }
        if (groups == 1) {
            return List.of(new QuantMatrix(0, rows, ld, 0, 0));
        }
        long groupStride = strides[0];
        if (granularity == Granularity.PER_TOKEN) {
            if (rows * ld == groupStride) {
                return List.of(new QuantMatrix(0, groups * rows, ld, 0, 0));
            }
            if (rows == 1 && groupStride >= cols) {
                return List.of(new QuantMatrix(0, groups, groupStride, 0, 0));
            }
        }
        long scalesPerGroup = granularity.scaleRows(rows) * Fp8QuantReference.ceilDiv(cols, Fp8QuantReference.BLOCK);
        List<QuantMatrix> calls = new ArrayList<>();
        for (long g = 0; g < groups; g++) {
            calls.add(new QuantMatrix(g * groupStride, rows, ld, g * rows * cols, g * scalesPerGroup));
        }
        return calls;
    }
}
