package io.infra4j.ffm.cublas;

/** cuBLASLt was needed but cannot be used here; the message says why (no libcublasLt, or it does not answer). */
public class CublasLtUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public CublasLtUnavailableException(String reason) {
        super("cuBLASLt is not available: " + reason);
    }
}
