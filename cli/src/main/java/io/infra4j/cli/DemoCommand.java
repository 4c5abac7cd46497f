package io.infra4j.cli;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/** {@code infra4j demo}: picks a device, runs the registered stages, reports them as text or JSON. */
final class DemoCommand implements Command {
    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "run the demo stages end to end on a GPU, or on the CPU path without one";
    }

    @Override
    public Options options() {
        return DemoOptions.options();
    }

    @Override
    public String details() {
        return DemoStages.describe();
    }

    @Override
    public int run(CommandLine line, Session session) throws UsageException {
        DemoOptions options = DemoOptions.from(line);
        List<DemoStage> stages = DemoStages.select(options.stage());
        DeviceChoice choice = DeviceChoice.choose(options.device());
        session.debug("device " + choice.device() + ": " + choice.reason());

        Progress progress = session.progress() ? Progress.bar(session.err()) : Progress.none();
        DemoReport report = DemoRunner.run(stages, new DemoContext(choice, options, progress), session);

        if (session.json()) {
            Json.print(report, session.out());
        } else {
            DemoText.print(report, session.out());
        }
        if (report.passed()) {
            return Main.OK;
        }
        String failed = report.stages().stream().filter(s -> !s.passed())
                .map(s -> s.name() + " (" + String.join("; ", s.failures()) + ")")
                .collect(Collectors.joining(", "));
        session.err().println("infra4j: error: demo failed"
                + (failed.isEmpty() ? "" : ": " + failed)
                + (report.leaks().isEmpty() ? "" : "; " + report.leaks().size() + " native resource(s) left open"));
        return Main.FAILURE;
    }
}
