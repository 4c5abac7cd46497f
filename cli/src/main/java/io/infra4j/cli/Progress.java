package io.infra4j.cli;

import java.io.PrintStream;
import java.util.function.Supplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of long work as named sub-steps: a bar on stderr, or nothing with {@code --no-progress}.
 * Stages call {@link Task#step} around each sub-step and need not know which.
 */
public interface Progress {
    String JLINE_PIPE_MODE = "org.jline.terminal.exec.redirectPipeCreationMode";

    /** A task of {@code steps} sub-steps; close it when done. */
    Task start(String name, int steps);

    /** One task's progress. */
    interface Task extends AutoCloseable {
        /** Shows {@code what} as running, runs it, and counts one sub-step done. */
        <T> T step(String what, Supplier<T> work);

        default void step(String what, Runnable work) {
            step(what, () -> {
                work.run();
                return null;
            });
        }

        @Override
        void close();
    }

    static Progress none() {
        return (name, steps) -> new Task() {
            @Override
            public <T> T step(String what, Supplier<T> work) {
                return work.get();
            }

            @Override
            public void close() {}
        };
    }

    /** A bar of megabytes on {@code err}, for work measured in bytes ({@code stepBy} the bytes done). */
    static ProgressBar bytes(String name, long total, PrintStream err) {
        if (System.getProperty(JLINE_PIPE_MODE) == null) {
            System.setProperty(JLINE_PIPE_MODE, "reflection");
        }
        return new ProgressBarBuilder().setTaskName(name).setInitialMax(total).setStyle(ProgressBarStyle.ASCII).setUnit(" MB", 1_000_000)
                .setUpdateIntervalMillis(100).setConsumer(new ConsoleProgressBarConsumer(err)).build();
    }

    /** A bar on {@code err} that names the running sub-step. */
    static Progress bar(PrintStream err) {
        // jline (under progressbar) otherwise loads its JNI library to size the terminal: a restricted
        // call JDK 24+ warns about, and JNI we don't need. Its reflective way gives the same width.
        if (System.getProperty(JLINE_PIPE_MODE) == null) {
            System.setProperty(JLINE_PIPE_MODE, "reflection");
        }
        return (name, steps) -> {
            ProgressBar bar = new ProgressBarBuilder()
                    .setTaskName(name)
                    .setInitialMax(steps)
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(100)
                    .continuousUpdate()
                    .hideEta()
                    .setConsumer(new ConsoleProgressBarConsumer(err))
                    .build();
            return new Task() {
                @Override
                public <T> T step(String what, Supplier<T> work) {
                    bar.setExtraMessage(what);
                    T result = work.get();
                    bar.step();
                    return result;
                }

                @Override
                public void close() {
                    bar.setExtraMessage("done");
                    bar.close();
                }
            };
        };
    }
}
