package io.infra4j.ffm;

/**
 * A CUDA runtime call, or one of infra4j's own native functions, returned a failure status.
 * Carries the status code, its name (e.g. {@code cudaErrorInvalidConfiguration}), the runtime's
 * message, and the call that failed.
 */
public class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String errorName;
    private final String errorMessage;
    private final String call;

    public CudaException(int code, String errorName, String errorMessage, String call) {
        super(call + " failed: " + errorName + " (" + code + "): " + errorMessage);
        this.code = code;
        this.errorName = errorName;
        this.errorMessage = errorMessage;
        this.call = call;
    }

    /** The status: a {@code cudaError_t} when positive, an {@code INFRA4J_ERROR_*} code when negative. */
    public int code() {
        return code;
    }

    /** The symbolic name of {@link #code()}. */
    public String errorName() {
        return errorName;
    }

    /** The runtime's description of the error. */
    public String errorMessage() {
        return errorMessage;
    }

    /** The native function that failed. */
    public String call() {
        return call;
    }
}
