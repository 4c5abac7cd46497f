package io.infra4j.deepep.launch;

/** A rendezvous that could not complete: who waited, for whom, and how long. */
public final class RendezvousException extends RuntimeException {
    public RendezvousException(String message) {
        super(message);
    }

    public RendezvousException(String message, Throwable cause) {
        super(message, cause);
    }
}
