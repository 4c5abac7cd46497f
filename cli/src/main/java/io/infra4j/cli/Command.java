package io.infra4j.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/** One sub-command of {@code infra4j}: its name, its own options, and what it does. */
interface Command {
    String name();

    /** One line for the command list. */
    String summary();

    /** Options this command takes besides the global ones (names must not clash with other commands'). */
    Options options();

    /** Extra help text shown by {@code infra4j help <command>}, or empty. */
    default String details() {
        return "";
    }

    /** The plain arguments in the usage line, such as {@code <benchmark>}, or empty. */
    default String operands() {
        return "";
    }

    /** How many plain arguments may follow the command's name. */
    default int maxOperands() {
        return 0;
    }

    /** Runs the command; returns the exit code (0 success, 1 failure). */
    int run(CommandLine line, Session session) throws UsageException;
}
