package io.infra4j.ffm.nccl;

import io.infra4j.bindings.nccl.NcclLib;

/** NCCL's element types ({@code ncclDataType_t}); the codes are read from the generated bindings. */
public enum NcclDataType {
    INT8(NcclLib.ncclInt8(), 1),
    UINT8(NcclLib.ncclUint8(), 1),
    INT32(NcclLib.ncclInt32(), 4),
    UINT32(NcclLib.ncclUint32(), 4),
    INT64(NcclLib.ncclInt64(), 8),
    UINT64(NcclLib.ncclUint64(), 8),
    FLOAT16(NcclLib.ncclFloat16(), 2),
    FLOAT32(NcclLib.ncclFloat32(), 4),
    FLOAT64(NcclLib.ncclFloat64(), 8),
    BFLOAT16(NcclLib.ncclBfloat16(), 2),
    /** FP8 e4m3 (NCCL 2.24 and later; reductions on it need sm_90). */
    FLOAT8_E4M3(NcclLib.ncclFloat8e4m3(), 1),
    /** FP8 e5m2 (NCCL 2.24 and later; reductions on it need sm_90). */
    FLOAT8_E5M2(NcclLib.ncclFloat8e5m2(), 1);

    private final int code;
    private final int byteSize;

    NcclDataType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** The {@code ncclDataType_t} value. */
    public int code() {
        return code;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }
}
