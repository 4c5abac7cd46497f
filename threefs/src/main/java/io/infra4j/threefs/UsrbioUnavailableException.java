package io.infra4j.threefs;

/** A USRBIO library cannot be loaded here; the message says which and why. */
public final class UsrbioUnavailableException extends UsrbioException {
    public UsrbioUnavailableException(String message) {
        super(message);
    }
}
