package io.infra4j.ffm;

/** CUDA was needed but cannot be used here; the message says why (no library, driver or GPU). */
public class CudaUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public CudaUnavailableException(String reason) {
        super("CUDA is not available: " + reason);
    }
}
