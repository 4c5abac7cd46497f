package io.infra4j.cli;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.MissingArgumentException;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.commons.cli.UnrecognizedOptionException;

/**
 * Turns argv into a command and its options. Global options may stand anywhere; a command's own
 * options are accepted for that command only, so {@code info --size 5} is refused, not ignored.
 */
final class Arguments {
    static final Option JSON = Option.builder().longOpt("json")
            .desc("machine-readable output on stdout (JSON); progress and logs stay on stderr").get();
    static final Option NO_PROGRESS = Option.builder().longOpt("no-progress")
            .desc("no progress bar on stderr").get();
    static final Option VERBOSE = Option.builder("v").longOpt("verbose")
            .desc("more detail; stack traces on errors").get();
    static final Option HELP = Option.builder("h").longOpt("help")
            .desc("show help (of the command, when one is given)").get();
    static final Option VERSION = Option.builder().longOpt("version")
            .desc("print the version and exit").get();

    /** What the command line asks for. {@code command} is null when only --help or --version was given. */
    record Parsed(Command command, CommandLine line, List<String> operands) {
        boolean has(Option o) {
            return line.hasOption(o);
        }
    }

    private Arguments() {}

    static Options globalOptions() {
        Options o = new Options();
        for (Option opt : List.of(JSON, NO_PROGRESS, VERBOSE, HELP, VERSION)) {
            o.addOption(opt);
        }
        return o;
    }

    static Parsed parse(String[] args, List<Command> commands) throws UsageException {
        Options all = globalOptions();
        for (Command c : commands) {
            for (Option opt : c.options().getOptions()) {
                if (!all.hasOption(opt.getLongOpt())) {
                    all.addOption(opt);
                }
            }
        }
        CommandLine line;
        try {
            // No partial matching: "--verb" is a typo to report, not a guess to make.
            line = DefaultParser.builder().setAllowPartialMatching(false).get().parse(all, args, false);
        } catch (UnrecognizedOptionException e) {
            throw new UsageException("unknown option '" + e.getOption() + "'");
        } catch (MissingArgumentException e) {
            throw new UsageException("option " + display(e.getOption()) + " needs a value (" + e.getOption().getArgName() + ")");
        } catch (ParseException e) {
            throw new UsageException(e.getMessage());
        }

        List<String> operands = line.getArgList();
        if (operands.isEmpty()) {
            if (line.hasOption(HELP) || line.hasOption(VERSION)) {
                return new Parsed(null, line, operands);
            }
            throw new UsageException("no command given; commands: " + names(commands));
        }
        Command command = find(operands.get(0), commands);
        Options global = globalOptions();
        for (Option given : line.getOptions()) {
            if (!global.hasLongOption(given.getLongOpt()) && !command.options().hasLongOption(given.getLongOpt())) {
                throw new UsageException("option " + display(given) + " is not an option of '" + command.name() + "'");
            }
        }
        return new Parsed(command, line, operands.subList(1, operands.size()));
    }

    static Command find(String name, List<Command> commands) throws UsageException {
        for (Command c : commands) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        throw new UsageException("unknown command '" + name + "'; commands: " + names(commands));
    }

    static String names(List<Command> commands) {
        return commands.stream().map(Command::name).collect(Collectors.joining(", "));
    }

    static String display(Option o) {
        return o.getLongOpt() != null ? "--" + o.getLongOpt() : "-" + o.getOpt();
    }

    /** The positive integer {@code option} gives, or {@code fallback} when it is absent; anything else is a usage error. */
    static int positive(CommandLine line, Option option, int fallback) throws UsageException {
        if (!line.hasOption(option)) {
            return fallback;
        }
        String text = line.getOptionValue(option);
        int n;
        try {
            n = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + option.getLongOpt() + ": expected an integer, got '" + text + "'");
        }
        if (n < 1) {
            throw new UsageException("--" + option.getLongOpt() + ": expected a positive integer, got " + n);
        }
        return n;
    }
}
