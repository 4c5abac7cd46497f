package io.infra4j.ffm.nccl;

/** NCCL was needed but cannot be used here; the message says why (no libnccl, or it does not answer). */
public class NcclUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public NcclUnavailableException(String reason) {
        super("NCCL is not available: " + reason);
    }
}
