package io.infra4j.ffm.cublas;

/**
 * A cuBLASLt call returned a failure: carries the {@code cublasStatus_t} code, its name
 * ({@code CUBLAS_STATUS_NOT_SUPPORTED}), cuBLASLt's description of it and the call that failed,
 * with the arguments that identify it (shapes, types, the device).
 */
public class CublasLtException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String statusName;
    private final String statusString;
    private final String call;

    public CublasLtException(int code, String statusName, String statusString, String call) {
        super(call + " failed: " + statusName + " (" + code + "): " + statusString);
        this.code = code;
        this.statusName = statusName;
        this.statusString = statusString;
        this.call = call;
    }

    /** The {@code cublasStatus_t}. */
    public int code() {
        return code;
    }

    /** The symbolic name of {@link #code()}, e.g. {@code CUBLAS_STATUS_INVALID_VALUE}. */
    public String statusName() {
        return statusName;
    }

    /** cuBLASLt's description of the code ({@code cublasLtGetStatusString}). */
    public String statusString() {
        return statusString;
    }

    /** The cuBLASLt function that failed, with the arguments that identify it. */
    public String call() {
        return call;
    }
}
