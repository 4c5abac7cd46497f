package io.infra4j.cli;

/** The command line itself is wrong (unknown command or option, bad value): exit code 2, no stack trace. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
