package io.infra4j.ffm.cublas;

import io.infra4j.bindings.cublaslt.CublasLtLib;

/**
 * How cuBLASLt reads an operand's scale pointer ({@code cublasLtMatmulMatrixScale_t}). The block
 * modes exist since cuBLAS 12.9 and, for FP8, run on Hopper (compute capability 9.0) only.
 */
public enum CublasLtScaleMode {
    /** One FP32 for the whole matrix (the default). */
    SCALAR_32F(CublasLtLib.CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F()),
    /** One FP32 per row of A, or per column of B (row-wise scaling). */
    OUTER_VEC_32F(CublasLtLib.CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F()),
    /** One FP32 per 128 values along the inner (K) dimension: DeepSeek's 1 x 128 activation scales. */
    VEC128_32F(CublasLtLib.CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F()),
    /** One FP32 per 128 x 128 block: DeepSeek's weight scales. */
    BLK128X128_32F(CublasLtLib.CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F());

    private final int code;

    CublasLtScaleMode(int code) {
        this.code = code;
    }

    /** The {@code cublasLtMatmulMatrixScale_t} value. */
    public int code() {
        return code;
    }
}
