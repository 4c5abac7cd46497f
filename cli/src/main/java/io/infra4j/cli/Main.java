package io.infra4j.cli;

import java.io.PrintStream;
import java.util.List;

/**
 * The {@code infra4j} command: parses the command line, runs one command and maps the outcome to
 * an exit code (0 success, 1 failure, 2 bad command line). Nothing here calls System.exit except
 * {@link #main}, so tests run commands in-process through {@link #run}.
 */
public final class Main {
    static final int OK = 0;
    static final int FAILURE = 1;
    static final int USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        System.out.flush();
        System.err.flush();
        System.exit(code);
    }

    /** Runs one invocation and returns its exit code; all output goes to {@code out} and {@code err}. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        List<Command> commands = commands();
        Arguments.Parsed parsed;
        try {
            parsed = Arguments.parse(args, commands);
            if (parsed.command() != null && parsed.operands().size() > parsed.command().maxOperands()) {
                throw new UsageException("unexpected argument '" + parsed.operands().get(parsed.command().maxOperands())
                        + "' after '" + parsed.command().name() + "'");
            }
        } catch (UsageException e) {
            return usageError(e, err);
        }
        Session session = new Session(out, err, parsed.has(Arguments.JSON), !parsed.has(Arguments.NO_PROGRESS),
                parsed.has(Arguments.VERBOSE));

        if (parsed.has(Arguments.VERSION)) {
            out.println("infra4j " + Version.get());
            return OK;
        }
        if (parsed.command() == null) {
            out.print(Usage.general(commands));
            return OK;
        }
        if (parsed.has(Arguments.HELP)) {
            out.print(Usage.of(parsed.command()));
            return OK;
        }
        try {
            return parsed.command().run(parsed.line(), session);
        } catch (UsageException e) {
            return usageError(e, err);
        } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
            return failure(e, session);
        } finally {
            out.flush();
            err.flush();
        }
    }

    static List<Command> commands() {
        InfoCommand info = new InfoCommand();
        DemoCommand demo = new DemoCommand();
        EplbCommand eplb = new EplbCommand();
        DualPipeCommand dualPipe = new DualPipeCommand();
        BenchCommand bench = new BenchCommand();
        ReadCommand read = new ReadCommand();
        SqlCommand sql = new SqlCommand();
        PondCommand pond = new PondCommand();
        SortCommand sort = new SortCommand();
        List<Command> all = List.of(info, demo, eplb, dualPipe, bench, read, sql, pond, sort);
        List<Command> withHelp = new java.util.ArrayList<>(all);
        withHelp.add(new HelpCommand(all));
        return List.copyOf(withHelp);
    }

    private static int usageError(UsageException e, PrintStream err) {
        err.println("infra4j: " + e.getMessage());
        err.println(Usage.hint());
        return USAGE;
    }

    /** One line unless --verbose: the message is for users, the stack trace for whoever files the bug. */
    private static int failure(Throwable e, Session session) {
        String message = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        if (session.verbose()) {
            session.err().println("infra4j: error: " + message);
            e.printStackTrace(session.err());
        } else {
            session.err().println("infra4j: error: " + TextFormat.firstLine(message) + " (--verbose shows details)");
        }
        return FAILURE;
    }
}
