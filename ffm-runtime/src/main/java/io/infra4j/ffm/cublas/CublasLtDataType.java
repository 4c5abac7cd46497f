package io.infra4j.ffm.cublas;

import io.infra4j.bindings.cublaslt.CublasLtLib;

/** The element types infra4j hands cuBLASLt ({@code cudaDataType_t}), with their sizes. */
public enum CublasLtDataType {
    F8_E4M3(CublasLtLib.CUDA_R_8F_E4M3(), 1),
    BF16(CublasLtLib.CUDA_R_16BF(), 2),
    F32(CublasLtLib.CUDA_R_32F(), 4);

    private final int code;
    private final int byteSize;

    CublasLtDataType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** The {@code cudaDataType_t} value. */
    public int code() {
        return code;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }
}
