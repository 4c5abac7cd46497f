package io.infra4j.dualpipe;

/** A batch of sends and receives could not complete: a peer failed or left, a timeout, a transport error. */
public class CommunicationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CommunicationException(String message) {
        super(message);
    }

    public CommunicationException(String message, Throwable cause) {
        super(message, cause);
    }
}
