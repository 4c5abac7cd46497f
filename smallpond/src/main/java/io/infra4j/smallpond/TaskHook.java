package io.infra4j.smallpond;

import java.nio.file.Path;

/**
 * Called when a task's output is written but not yet committed (renamed into place): a place to inject a
 * failure in tests or chaos runs. Throwing fails the attempt exactly as a crash at that moment would.
 */
@FunctionalInterface
public interface TaskHook {
    void beforeCommit(String stage, int task, int attempt, Path uncommittedOutput) throws Exception;

    static TaskHook none() {
        return (stage, task, attempt, out) -> {};
    }
}
