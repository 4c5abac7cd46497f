package io.infra4j.deepgemm.internal;

/** The three layouts of fp8_gemm.h; the codes are INFRA4J_FP8_GEMM_*. */
public enum GemmKind {
    DENSE(0), CONTIGUOUS(1), MASKED(2);

    private final int code;

    GemmKind(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
