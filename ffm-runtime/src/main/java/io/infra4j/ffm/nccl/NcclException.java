package io.infra4j.ffm.nccl;

/**
 * An NCCL call returned a failure: carries the {@code ncclResult_t} code, its name
 * ({@code ncclInvalidArgument}), NCCL's description of it, the last error NCCL recorded (often the
 * useful part: which argument, which peer) and the call that failed.
 */
public class NcclException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String errorName;
    private final String errorString;
    private final String lastError;
    private final String call;

    public NcclException(int code, String errorName, String errorString, String lastError, String call) {
        super(call + " failed: " + errorName + " (" + code + "): " + errorString
                + (lastError.isBlank() ? "" : "; last NCCL error: " + lastError.strip()));
        this.code = code;
        this.errorName = errorName;
        this.errorString = errorString;
        this.lastError = lastError;
        this.call = call;
    }

    /** The {@code ncclResult_t}. */
    public int code() {
        return code;
    }

    /** The symbolic name of {@link #code()}, e.g. {@code ncclInvalidArgument}. */
    public String errorName() {
        return errorName;
    }

    /** NCCL's description of the code ({@code ncclGetErrorString}). */
    public String errorString() {
        return errorString;
    }

    /** NCCL's last error text ({@code ncclGetLastError}), empty when it had none. */
    public String lastError() {
        return lastError;
    }

    /** The NCCL function that failed, with the arguments that identify it. */
    public String call() {
        return call;
    }
}
