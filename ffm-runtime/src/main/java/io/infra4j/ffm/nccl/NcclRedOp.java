package io.infra4j.ffm.nccl;

import io.infra4j.bindings.nccl.NcclLib;

/** NCCL's built-in reductions ({@code ncclRedOp_t}). */
public enum NcclRedOp {
    SUM(NcclLib.ncclSum()),
    PROD(NcclLib.ncclProd()),
    MAX(NcclLib.ncclMax()),
    MIN(NcclLib.ncclMin()),
    /** The sum divided by the number of ranks (floating types only). */
    AVG(NcclLib.ncclAvg());

    private final int code;

    NcclRedOp(int code) {
        this.code = code;
    }

    /** The {@code ncclRedOp_t} value. */
    public int code() {
        return code;
    }
}
