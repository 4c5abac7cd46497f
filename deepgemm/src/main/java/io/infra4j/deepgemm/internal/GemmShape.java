package io.infra4j.deepgemm.internal;

/**
 * The sizes of one FP8 GEMM, checked: {@code m} rows of A (per group for {@link GemmKind#MASKED}),
 * {@code n} rows of B per group, {@code k} a multiple of 128.
 */
public record GemmShape(GemmKind kind, int groups, int m, int n, int k) {
    public static final int BLOCK = 128;

    public int kBlocks() {
        return k / BLOCK;
    }

    public int nBlocks() {
        return (n + BLOCK - 1) / BLOCK;
    }

    /** Multiply-adds times two over the rows that are computed: the FLOP count of DeepGEMM's tables. */
    public double flops(long computedRows) {
        return 2.0 * computedRows * n * k;
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase() + (groups > 1 || kind != GemmKind.DENSE ? " groups=" + groups : "") + " m=" + m
                + " n=" + n + " k=" + k;
    }
}
