package io.infra4j.cli;

import java.io.PrintStream;
import java.util.Map;

/**
 * Where one invocation writes and how: the report goes to {@code out} (JSON or text), everything
 * else (progress, logs, errors) to {@code err}, so that {@code --json} output can be piped.
 */
record Session(PrintStream out, PrintStream err, boolean json, boolean progress, boolean verbose) {

    /**
     * Work refused for a reason the user should read (no GPU, a configuration upstream refuses):
     * {"error": reason} on stdout with --json, so scripts get JSON either way; else a line on stderr.
     * Returns the failure exit code.
     */
    int refused(String reason) {
        if (json) {
            Json.print(Map.of("error", reason), out);
        } else {
            err.println("infra4j: error: " + reason);
        }
        return Main.FAILURE;
    }

    /** A line only worth showing with --verbose. */
    void debug(String message) {
        if (verbose) {
            err.println("infra4j: " + message);
        }
    }
}
