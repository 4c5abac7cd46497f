package io.infra4j.cli;

import java.util.ArrayList;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/** {@code infra4j help [command]}: the general usage, or one command's. */
final class HelpCommand implements Command {
    private final List<Command> others;

    HelpCommand(List<Command> others) {
        this.others = List.copyOf(others);
    }

    @Override
    public String name() {
        return "help";
    }

    @Override
    public String summary() {
        return "show this help, or a command's options: help <command>";
    }

    @Override
    public Options options() {
        return new Options();
    }

    @Override
    public int maxOperands() {
        return 1;
    }

    @Override
    public int run(CommandLine line, Session session) throws UsageException {
        List<Command> all = new ArrayList<>(others);
        all.add(this);
        List<String> operands = line.getArgList();
        if (operands.size() > 1) {
            session.out().print(Usage.of(Arguments.find(operands.get(1), all)));
        } else {
            session.out().print(Usage.general(all));
        }
        return Main.OK;
    }
}
