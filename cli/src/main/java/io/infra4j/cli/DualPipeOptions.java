package io.infra4j.cli;

import io.infra4j.dualpipe.Costs;
import io.infra4j.dualpipe.Mode;
import io.infra4j.dualpipe.Variant;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * The options of {@code infra4j dualpipe}. Only the usage is checked here; whether upstream runs the
 * configuration (even ranks, enough chunks) is the schedule's to say, with upstream's words.
 *
 * @param timeline   where to draw the timelines, or null
 * @param costs      the given costs, or {@link Costs#typical()}
 * @param costsGiven whether --costs was given
 */
record DualPipeOptions(Variant variant, int ranks, int chunks, Mode mode, Path timeline, Costs costs, boolean costsGiven) {
    static final Mode DEFAULT_MODE = Mode.TRAIN_OVERLAPPED;
    /** Ops grow with ranks x chunks (and the checks with more): beyond this a run takes minutes and gigabytes. */
    static final long MAX_RANKS_TIMES_CHUNKS = 1L << 18;

    static final Option VARIANT = Option.builder().longOpt("variant").hasArg().argName("VARIANT")
            .desc("DualPipe (micro-batches enter at both ends) or DualPipeV (the V: N ranks run 2N stages)").get();
    static final Option RANKS = Option.builder().longOpt("ranks").hasArg().argName("N")
            .desc("pipeline ranks (devices)").get();
    static final Option CHUNKS = Option.builder().longOpt("chunks").hasArg().argName("C")
            .desc("micro-batches per step (DualPipe: half enter at each end)").get();
    static final Option MODE = Option.builder().longOpt("mode").hasArg().argName("MODE")
            .desc("train_overlapped (default), train_plain (same ops, FB not overlapped), infer (forwards)").get();
    static final Option TIMELINE = Option.builder().longOpt("timeline").hasArg().argName("FILE")
            .desc("draw the simulated step, 1F1B's over as many stages below, to FILE (.svg)").get();
    static final Option COSTS = Option.builder().longOpt("costs").hasArg().argName("F,B,W,FB")
            .desc("times of forward, backward, its weight part, overlapped F&B; default 1,2,1,2.5").get();

    static Options options() {
        Options o = new Options();
        Stream.of(VARIANT, RANKS, CHUNKS, MODE, TIMELINE, COSTS).forEach(o::addOption);
        return o;
    }

    static DualPipeOptions from(CommandLine line) throws UsageException {
        List<String> missing = new ArrayList<>();
        for (Option o : List.of(VARIANT, RANKS, CHUNKS)) {
            if (!line.hasOption(o)) {
                missing.add("--" + o.getLongOpt());
            }
        }
        if (!missing.isEmpty()) {
            throw new UsageException("dualpipe needs --variant, --ranks and --chunks; missing " + String.join(", ", missing));
        }
        Variant variant;
        try {
            variant = Variant.parse(line.getOptionValue(VARIANT).trim());
        } catch (IllegalArgumentException e) {
            throw new UsageException("--variant: expected DualPipe or DualPipeV, got '" + line.getOptionValue(VARIANT) + "'");
        }
        Mode mode = DEFAULT_MODE;
        if (line.hasOption(MODE)) {
            try {
                mode = Mode.parse(line.getOptionValue(MODE).trim());
            } catch (IllegalArgumentException e) {
                throw new UsageException("--mode: expected train_overlapped, train_plain or infer, got '"
                        + line.getOptionValue(MODE) + "'");
            }
        }
        // Any integer parses: zero or negative counts are configurations upstream refuses, so they
        // get its refusal ({"error": ...}, exit 1), not a usage error.
        int ranks = integer(line, RANKS);
        int chunks = integer(line, CHUNKS);
        if ((long) ranks * chunks > MAX_RANKS_TIMES_CHUNKS) {
            throw new UsageException("--ranks x --chunks: at most " + MAX_RANKS_TIMES_CHUNKS + ", got " + ranks + " x " + chunks
                    + " (every rank's ops grow with the chunks)");
        }
        Path timeline = null;
        if (line.hasOption(TIMELINE)) {
            String name = line.getOptionValue(TIMELINE);
            if (!name.toLowerCase(Locale.ROOT).endsWith(".svg")) {
                throw new UsageException("--timeline: expected a file name ending in .svg, got '" + name + "'");
            }
            timeline = Path.of(name);
        }
        boolean costsGiven = line.hasOption(COSTS);
        Costs costs = costsGiven ? costs(line.getOptionValue(COSTS)) : Costs.typical();
        return new DualPipeOptions(variant, ranks, chunks, mode, timeline, costs, costsGiven);
    }

    /** "1,2,1,2.5": four finite numbers, which {@link Costs} then checks against each other. */
    static Costs costs(String text) throws UsageException {
        String[] parts = text.split(",", -1);
        if (parts.length != 4) {
            throw new UsageException("--costs: expected four numbers F,B,W,FB such as 1,2,1,2.5, got '" + text + "'");
        }
        double[] v = new double[4];
        for (int i = 0; i < 4; i++) {
            try {
                v[i] = Double.parseDouble(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--costs: '" + parts[i].trim() + "' is not a number (in '" + text + "')");
            }
            if (!Double.isFinite(v[i])) {
                throw new UsageException("--costs: expected finite numbers, got '" + text + "'");
            }
        }
        try {
            return new Costs(v[0], v[1], v[2], v[3]);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--costs: " + e.getMessage());
        }
    }

    private static int integer(CommandLine line, Option option) throws UsageException {
        String text = line.getOptionValue(option);
        int n;
        try {
            n = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + option.getLongOpt() + ": expected an integer, got '" + text + "'");
        }
        return n;
    }
}
