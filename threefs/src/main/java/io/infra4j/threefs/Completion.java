package io.infra4j.threefs;

/**
 * One finished I/O: the ring slot {@link UsrbioRing#prepare} returned, the bytes moved (short at the end
 * of a file) or {@code -errno}, and the caller's tag.
 */
public record Completion(int index, long result, long userData) {
    public boolean failed() {
        return result < 0;
    }

    /** The errno of a failed I/O (positive), 0 for one that moved bytes. */
    public int errno() {
        return result < 0 ? (int) -result : 0;
    }
}
