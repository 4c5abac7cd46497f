package io.infra4j.ffm.nvshmem;

/** NVSHMEM was needed but cannot be used here; the message says why (no libnvshmem_host, or it does not answer). */
public class NvshmemUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public NvshmemUnavailableException(String reason) {
        super("NVSHMEM is not available: " + reason);
    }
}
