package io.infra4j.cli;

import java.util.Comparator;
import java.util.List;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** The help text, written by hand from the Options so that it reads like a man page synopsis. */
final class Usage {
    private Usage() {}

    static String general(List<Command> commands) {
        StringBuilder sb = new StringBuilder();
        sb.append("usage: infra4j [global options] <command> [command options]\n\n");
        sb.append("DeepSeek's AI infrastructure for Java 22+, through the FFM API.\n\n");
        sb.append("Commands:\n");
        for (Command c : commands) {
            sb.append(String.format("  %-8s %s%n", c.name(), c.summary()));
        }
        sb.append("\nGlobal options:\n");
        sb.append(options(Arguments.globalOptions()));
        sb.append("\nRun 'infra4j help <command>' for a command's options.\n");
        sb.append("Exit codes: 0 success, 1 failure, 2 bad command line.\n");
        return sb.toString();
    }

    static String of(Command command) {
        StringBuilder sb = new StringBuilder();
        sb.append("usage: infra4j [global options] ").append(command.name());
        if (!command.operands().isEmpty()) {
            sb.append(' ').append(command.operands());
        }
        if (!command.options().getOptions().isEmpty()) {
            sb.append(" [options]");
        }
        sb.append("\n\n").append(command.summary()).append('\n');
        if (!command.options().getOptions().isEmpty()) {
            sb.append("\nOptions:\n").append(options(command.options()));
        }
        if (!command.details().isEmpty()) {
            sb.append('\n').append(command.details());
            if (!command.details().endsWith("\n")) {
                sb.append('\n');
            }
        }
        sb.append("\nGlobal options:\n").append(options(Arguments.globalOptions()));
        return sb.toString();
    }

    /** Text that tells the user where to look after a usage error. */
    static String hint() {
        return "Run 'infra4j help' for usage.";
    }

    private static String options(Options options) {
        List<Option> list = options.getOptions().stream()
                .sorted(Comparator.comparing(Option::getLongOpt)).toList();
        List<String> flags = list.stream().map(o -> (o.getOpt() != null ? "-" + o.getOpt() + ", " : "    ") + "--"
                + o.getLongOpt() + (o.hasArg() ? " <" + o.getArgName() + ">" : "")).toList();
        int width = Math.max(22, flags.stream().mapToInt(String::length).max().orElse(0));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < list.size(); i++) {
            sb.append(String.format("  %-" + width + "s  %s%n", flags.get(i), list.get(i).getDescription()));
        }
        return sb.toString();
    }
}
