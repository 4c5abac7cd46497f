package io.infra4j.cli;

import java.util.function.IntConsumer;

/**
 * {@code CaseBatch}'s progress callback (minus the number of cases first, then each case done) as
 * a {@link Progress} task of one step per case. The task opens when the count is known; close this
 * to close it.
 */
final class CaseProgress implements IntConsumer, AutoCloseable {
    private final Progress progress;
    private final String name;
    private Progress.Task task;

    CaseProgress(Progress progress, String name) {
        this.progress = progress;
        this.name = name;
    }

    @Override
    public void accept(int value) {
        if (value < 0) {
            task = progress.start(name, -value);
        } else if (task != null) {
            task.step("planning", () -> {});
        }
    }

    @Override
    public void close() {
        if (task != null) {
            task.close();
        }
    }
}
