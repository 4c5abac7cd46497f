package io.infra4j.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/** {@code infra4j info}: the JDK, OS, CUDA, GPUs and native libraries, as text or JSON. */
final class InfoCommand implements Command {
    @Override
    public String name() {
        return "info";
    }

    @Override
    public String summary() {
        return "what this machine offers: JDK, OS, CUDA, GPUs, native libraries, kernels";
    }

    @Override
    public Options options() {
        return new Options();
    }

    @Override
    public int run(CommandLine line, Session session) {
        InfoReport report = InfoCollector.collect();
        if (session.json()) {
            Json.print(report, session.out());
        } else {
            InfoText.print(report, session.verbose(), session.out());
        }
        return Main.OK;
    }
}
