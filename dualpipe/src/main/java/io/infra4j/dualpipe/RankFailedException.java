package io.infra4j.dualpipe;

/**
 * A rank of an in-process run failed; the cause is what it threw. The failures of other ranks that
 * followed (usually {@link CommunicationException}s because this rank stopped) are suppressed here.
 */
public class RankFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int rank;

    public RankFailedException(int rank, Throwable cause) {
        super("rank " + rank + " failed: " + cause, cause);
        this.rank = rank;
    }

    /** The rank that failed first. */
    public int rank() {
        return rank;
    }
}
