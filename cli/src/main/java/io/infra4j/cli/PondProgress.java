package io.infra4j.cli;

import io.infra4j.smallpond.ProgressListener;
import java.io.PrintStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** smallpond's stage and task events as one progress bar per stage on stderr (tasks done of the stage's tasks). */
final class PondProgress implements ProgressListener {
    private final PrintStream err;
    private ProgressBar bar;

    PondProgress(PrintStream err) {
        this.err = err;
        if (System.getProperty(Progress.JLINE_PIPE_MODE) == null) {
            System.setProperty(Progress.JLINE_PIPE_MODE, "reflection");
        }
    }

    /** A bar on {@code session}'s stderr, or nothing with --no-progress / --json. */
    static ProgressListener of(Session session) {
        return session.progress() ? new PondProgress(session.err()) : ProgressListener.none();
    }

    @Override
    public synchronized void stageStarted(String name, int tasks) {
        closeBar();
        bar = new ProgressBarBuilder().setTaskName(name).setInitialMax(tasks).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200)
                .continuousUpdate().setConsumer(new ConsoleProgressBarConsumer(err)).build();
    }

    @Override
    public synchronized void taskFinished(String stage, int task, int done, int tasks) {
        if (bar != null) {
            bar.stepTo(done);
        }
    }

    @Override
    public synchronized void taskRetried(String stage, int task, int attempt, Throwable cause) {
        if (bar != null) {
            bar.setExtraMessage("task " + task + " retried");
        }
    }

    @Override
    public synchronized void stageFinished(String name, int tasks, double seconds) {
        closeBar();
    }

    private void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
