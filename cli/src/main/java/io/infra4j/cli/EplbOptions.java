package io.infra4j.cli;

import io.infra4j.eplb.LoadChart;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * The options of {@code infra4j eplb}, which has two modes: plan one set of loads ({@link Single})
 * or answer a file of cases ({@link Batch}). Only the usage is checked here; whether the numbers
 * make a valid plan is the planner's to say.
 */
sealed interface EplbOptions {
    Option INPUT = Option.builder().longOpt("input").hasArg().argName("FILE")
            .desc("loads [layers][experts] to plan: .json ([[...], ...] or {\"weight\": ...}) or .csv (a line per layer)").get();
    Option REPLICAS = Option.builder().longOpt("replicas").hasArg().argName("R")
            .desc("physical expert slots per layer, a multiple of --gpus (with --input)").get();
    Option GROUPS = Option.builder().longOpt("groups").hasArg().argName("G")
            .desc("expert groups of group-limited routing (with --input)").get();
    Option NODES = Option.builder().longOpt("nodes").hasArg().argName("N")
            .desc("server nodes; --groups % --nodes == 0 selects the hierarchical policy (with --input)").get();
    Option GPUS = Option.builder().longOpt("gpus").hasArg().argName("P")
            .desc("GPUs in all (with --input)").get();
    Option CHART = Option.builder().longOpt("chart").hasArg().argName("FILE")
            .desc("also draw per-GPU load before/after to FILE, .svg or .png (with --input)").get();
    Option CASES = Option.builder().longOpt("cases").hasArg().argName("FILE")
            .desc("batch mode: plan every case of a .jsonl or .jsonl.gz file of cases").get();
    Option OUT = Option.builder().longOpt("out").hasArg().argName("FILE")
            .desc("where batch mode writes its answers, one JSON line per case (with --cases)").get();

    /** Options that describe one plan, so batch mode (whose cases carry their own) refuses them. */
    List<Option> PLAN_OPTIONS = List.of(REPLICAS, GROUPS, NODES, GPUS, CHART);

    /** Plan {@code input} with these arguments; {@code chart} is null when none is asked for. */
    record Single(Path input, int replicas, int groups, int nodes, int gpus, Path chart) implements EplbOptions {}

    /** Answer every case of {@code cases} into {@code out}. */
    record Batch(Path cases, Path out) implements EplbOptions {}

    static Options options() {
        Options o = new Options();
        Stream.of(INPUT, REPLICAS, GROUPS, NODES, GPUS, CHART, CASES, OUT).forEach(o::addOption);
        return o;
    }

    static EplbOptions from(CommandLine line) throws UsageException {
        boolean single = line.hasOption(INPUT);
        boolean batch = line.hasOption(CASES);
        if (single && batch) {
            throw new UsageException("eplb: --input and --cases are two modes, give one: --input plans one set of loads, "
                    + "--cases a file of cases");
        }
        if (!single && !batch) {
            throw new UsageException("eplb needs --input FILE (plan one set of loads) or --cases FILE (plan a file of cases)");
        }
        return single ? single(line) : batch(line);
    }

    private static Single single(CommandLine line) throws UsageException {
        if (line.hasOption(OUT)) {
            throw new UsageException("eplb: --out goes with --cases; --input prints its plan (--json for the whole plan)");
        }
        List<String> missing = new ArrayList<>();
        for (Option o : List.of(REPLICAS, GROUPS, NODES, GPUS)) {
            if (!line.hasOption(o)) {
                missing.add("--" + o.getLongOpt());
            }
        }
        if (!missing.isEmpty()) {
            throw new UsageException("eplb --input needs --replicas, --groups, --nodes and --gpus; missing "
                    + String.join(", ", missing));
        }
        Path chart = null;
        if (line.hasOption(CHART)) {
            chart = Path.of(line.getOptionValue(CHART));
            try {
                LoadChart.Format.of(chart);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--chart: expected a file name ending in .svg or .png, got '"
                        + line.getOptionValue(CHART) + "'");
            }
        }
        return new Single(Path.of(line.getOptionValue(INPUT)), integer(line, REPLICAS), integer(line, GROUPS),
                integer(line, NODES), integer(line, GPUS), chart);
    }

    private static Batch batch(CommandLine line) throws UsageException {
        if (!line.hasOption(OUT)) {
            throw new UsageException("eplb --cases needs --out FILE for the answers");
        }
        List<String> given = PLAN_OPTIONS.stream().filter(line::hasOption).map(o -> "--" + o.getLongOpt()).toList();
        if (!given.isEmpty()) {
            throw new UsageException("eplb: " + String.join(", ", given)
                    + (given.size() == 1 ? " goes" : " go") + " with --input; each case of --cases carries its own");
        }
        return new Batch(Path.of(line.getOptionValue(CASES)), Path.of(line.getOptionValue(OUT)));
    }

    /** An int as written; its range (positive, multiples) is the planner's to check, with its own messages. */
    private static int integer(CommandLine line, Option option) throws UsageException {
        String text = line.getOptionValue(option);
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + option.getLongOpt() + ": expected an integer, got '" + text + "'");
        }
    }
}
