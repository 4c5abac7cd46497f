package io.infra4j.deepep;

/** A rank waited longer than its timeout for other ranks; the message says which rank and what it waited for. */
public final class EpTimeoutException extends RuntimeException {
    public EpTimeoutException(String message) {
        super(message);
    }
}
