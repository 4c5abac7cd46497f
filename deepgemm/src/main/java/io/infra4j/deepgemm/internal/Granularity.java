package io.infra4j.deepgemm.internal;

/** What one FP8 scale covers: 1 x 128 values of a row (activations, A) or a 128 x 128 block (weights, B). */
public enum Granularity {
    PER_TOKEN,
    PER_BLOCK;

    /** Rows of scales for {@code rows} rows of values. */
    public long scaleRows(long rows) {
        return this == PER_TOKEN ? rows : Fp8QuantReference.ceilDiv(rows, Fp8QuantReference.BLOCK);
    }

    /** The shape of the scales of values shaped {@code shape} ([rows, cols] or [groups, rows, cols]). */
    public long[] scaleShape(long[] shape) {
        long[] s = shape.clone();
        int r = s.length;
        s[r - 2] = scaleRows(shape[r - 2]);
        s[r - 1] = Fp8QuantReference.ceilDiv(shape[r - 1], Fp8QuantReference.BLOCK);
        return s;
    }
}
