package io.infra4j.smallpond;

/**
 * A task of a DataFrame's plan failed for good (after its retries, or at once for an error that no retry can
 * mend, such as bad SQL). The message names the stage, the task (its partition) and the query it ran.
 */
public final class TaskFailedException extends RuntimeException {
    private final String stage;
    private final int task;
    private final String query;

    public TaskFailedException(String stage, int task, String query, int attempts, Throwable cause) {
        super("task " + task + " of stage '" + stage + "' failed after " + attempts + " attempt(s): " + cause.getMessage()
                + (query == null ? "" : " [task query: " + query + "]"), cause);
        this.stage = stage;
        this.task = task;
        this.query = query;
    }

    public String stage() {
        return stage;
    }

    public int task() {
        return task;
    }

    /** The SQL the task ran, as one line, or null for a task that ran no query. */
    public String query() {
        return query;
    }
}
