package io.infra4j.cli;

import java.io.PrintStream;

/**
 * Where one invocation writes and how: the report goes to {@code out} (JSON or text), everything
 * else (progress, logs, errors) to {@code err}, so that {@code --json} output can be piped.
 */
record Session(PrintStream out, PrintStream err, boolean json, boolean progress, boolean verbose) {

    /** A line only worth showing with --verbose. */
    void debug(String message) {
        if (verbose) {
            err.println("infra4j: " + message);
        }
    }
}
