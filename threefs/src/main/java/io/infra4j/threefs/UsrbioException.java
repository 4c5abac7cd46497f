package io.infra4j.threefs;

/** A USRBIO call failed: the call, and the errno it reported (as a positive number, with its name). */
public class UsrbioException extends RuntimeException {
    private final int errno;

    public UsrbioException(String call, int errno) {
        super(call + " failed: " + Errno.describe(errno));
        this.errno = errno;
    }

    public UsrbioException(String message) {
        super(message);
        this.errno = 0;
    }

    /** The errno (positive), or 0 where none applies. */
    public int errno() {
        return errno;
    }
}
