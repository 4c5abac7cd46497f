package io.infra4j.smallpond;

import java.io.PrintStream;

/**
 * What a {@link Session}'s executor reports while it runs: stages start, tasks finish or are retried. Calls come
 * from the executor's worker threads, one at a time per stage; implementations must be quick.
 */
public interface ProgressListener {
    /** A stage of {@code tasks} tasks starts ({@code name}: what it does, e.g. "02 repartition by hash"). */
    default void stageStarted(String name, int tasks) {}

    /** Task {@code task} of the stage is done; {@code done} tasks of {@code tasks} are. */
    default void taskFinished(String stage, int task, int done, int tasks) {}

    /** Attempt {@code attempt} of a task failed and the task runs again. */
    default void taskRetried(String stage, int task, int attempt, Throwable cause) {}

    default void stageFinished(String name, int tasks, double seconds) {}

    static ProgressListener none() {
        return new ProgressListener() {};
    }

    /** One line per stage and per retry on {@code out}. */
    static ProgressListener lines(PrintStream out) {
        return new ProgressListener() {
            @Override
            public void stageStarted(String name, int tasks) {
                out.println("[pond] " + name + ": " + tasks + " task(s)");
            }

            @Override
            public void taskRetried(String stage, int task, int attempt, Throwable cause) {
                out.println("[pond] " + stage + ": task " + task + " failed (attempt " + attempt + "), retrying: " + cause.getMessage());
            }

            @Override
            public void stageFinished(String name, int tasks, double seconds) {
                out.printf("[pond] %s: done in %.2f s%n", name, seconds);
            }
        };
    }
}
