package io.infra4j.cli;

import io.infra4j.smallpond.WriteSummary;
import io.infra4j.smallpond.graysort.GenerateSummary;
import io.infra4j.smallpond.graysort.GraySort;
import io.infra4j.smallpond.graysort.ValidationSummary;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code infra4j sort --size BYTES --partitions N --work DIR [--validate] [--json]}: GraySort through smallpond. */
final class SortCommand implements Command {
    static final Option SIZE = Option.builder().longOpt("size").hasArg().argName("BYTES").desc("data to sort: 1GB, 500MB, 10GiB, 1000000 (whole 100-byte records)").get();
    static final Option PARTITIONS = Option.builder().longOpt("partitions").hasArg().argName("N").desc("key ranges, one sorted file each (default: cores)").get();
    static final Option INPUT_FILES = Option.builder().longOpt("input-files").hasArg().argName("N").desc("generated files (default: --partitions)").get();
    static final Option WORK = Option.builder().longOpt("work").hasArg().argName("DIR").desc("folder for input/, sorted/ and intermediates").get();
    static final Option VALIDATE = Option.builder().longOpt("validate").desc("read the output back: order, record count, checksum").get();
    static final Option COMPARE = Option.builder().longOpt("compare").desc("also sort with one DuckDB query (COPY ... ORDER BY key) and report the ratio").get();
    static final Option SEED = Option.builder().longOpt("seed").hasArg().argName("S").desc("generator seed (default 1)").get();
    static final Option COMPRESSION = Option.builder().longOpt("compression").hasArg().argName("CODEC")
            .desc("Parquet compression of every file written (default uncompressed: random records do not compress)").get();

    private static final Pattern SIZE_TEXT = Pattern.compile("(?i)\\s*(\\d+(?:\\.\\d+)?)\\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\\s*");

    @Override
    public String name() {
        return "sort";
    }

    @Override
    public String summary() {
        return "GraySort through smallpond: generate 100-byte records, sort by key range in parallel, validate (--json summary)";
    }

    @Override
    public Options options() {
        Options o = new Options();
        for (Option opt : new Option[] {SIZE, PARTITIONS, INPUT_FILES, WORK, VALIDATE, COMPARE, SEED, COMPRESSION, PondCommand.PARALLELISM, PondCommand.MEMORY}) {
            o.addOption(opt);
        }
        return o;
    }

    @Override
    public String details() {
        return """
                Generates --size bytes of gensort-like records (100 bytes: a 10-byte random key, a 90-byte payload)
                in Java as Parquet files in DIR/input, then sorts them through smallpond: each input file cuts its
                rows into --partitions key ranges, each range is sorted by one task (its own DuckDB) and written as
                DIR/sorted/part-0000k.parquet; the files in order are the sorted whole. --validate reads them back
                and checks the order, the record count and the checksum (a sum of every record's CRC32C, as
                valsort's) against the generator's. --compare also runs the same sort as one DuckDB query
                (COPY (SELECT * ... ORDER BY key) TO ...) in this run and prints the ratio of the two times.
                The summary holds records, bytes, seconds (the sort), sorted and checksum (--json: one object).
                Exit code 1 when validation fails.

                Examples:
                  infra4j sort --size 1GB --partitions 8 --work /tmp/graysort --validate
                  infra4j sort --size 10GB --partitions 64 --work /data/gs --validate --compare --json
                """;
    }

    @Override
    public int run(CommandLine line, Session session) throws UsageException {
        if (!line.hasOption(SIZE) || !line.hasOption(WORK)) {
            throw new UsageException("sort needs --size BYTES and --work DIR");
        }
        long bytes = parseSize(line.getOptionValue(SIZE));
        long records = bytes / 100;
        if (records < 1) {
            throw new UsageException("--size: expected at least one 100-byte record, got " + line.getOptionValue(SIZE));
        }
        int cores = Runtime.getRuntime().availableProcessors();
        int partitions = Arguments.positive(line, PARTITIONS, cores);
        int inputFiles = Arguments.positive(line, INPUT_FILES, partitions);
        int parallelism = Arguments.positive(line, PondCommand.PARALLELISM, cores);
        long seed;
        try {
            seed = Long.parseLong(line.getOptionValue(SEED, "1").strip());
        } catch (NumberFormatException e) {
            throw new UsageException("--seed: expected an integer, got '" + line.getOptionValue(SEED) + "'");
        }
        String compression = line.getOptionValue(COMPRESSION, "uncompressed");
        Path work = Path.of(line.getOptionValue(WORK)).toAbsolutePath();
        io.infra4j.smallpond.Session.Builder b = io.infra4j.smallpond.Session.builder().workDir(work.resolve("work")).parallelism(parallelism)
                .progress(PondProgress.of(session)).intermediateCompression(compression).outputCompression(compression);
        if (line.hasOption(PondCommand.MEMORY)) {
            b.memoryPerTask(line.getOptionValue(PondCommand.MEMORY));
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        boolean ok = true;
        try (io.infra4j.smallpond.Session pond = b.build()) {
            long t0 = System.nanoTime();
            GenerateSummary gen = GraySort.generate(pond, work.resolve("input"), records, inputFiles, seed);
            double generateSeconds = (System.nanoTime() - t0) / 1e9;
            WriteSummary sorted = GraySort.sort(pond, work.resolve("input"), inputFiles, partitions, work.resolve("sorted"));
            doc.put("records", gen.records());
            doc.put("bytes", gen.bytes());
            doc.put("seconds", sorted.seconds());
            doc.put("partitions", partitions);
            doc.put("parallelism", parallelism);
            doc.put("threads_per_task", pond.threadsPerTask());
            doc.put("generate_seconds", generateSeconds);
            doc.put("input_checksum", gen.checksum().toHex());
            doc.put("stages", PondCommand.stages(sorted.stages()));
            if (line.hasOption(VALIDATE)) {
                long v0 = System.nanoTime();
                ValidationSummary v = GraySort.validate(sorted.files(), parallelism);
                boolean good = v.sorted() && v.records() == gen.records() && v.checksum().equals(gen.checksum());
                ok &= good;
                doc.put("sorted", good);
                doc.put("checksum", v.checksum().toHex());
                doc.put("validate_seconds", (System.nanoTime() - v0) / 1e9);
                doc.put("validation", Map.of("records", v.records(), "unordered", v.unordered(), "duplicates", v.duplicates(),
                        "first_unordered_record", v.firstUnorderedRecord()));
            } else {
                doc.put("sorted", null);
                doc.put("checksum", gen.checksum().toHex());
            }
            if (line.hasOption(COMPARE)) {
                Path one = work.resolve("one-query.parquet");
                double s = GraySort.sortWithOneQuery(work.resolve("input"), one, cores, null, compression);
                doc.put("one_query_seconds", s);
                doc.put("speedup_vs_one_query", s / sorted.seconds());
                if (line.hasOption(VALIDATE)) {
                    ValidationSummary v = GraySort.validate(java.util.List.of(one), 1);
                    boolean good = v.sorted() && v.records() == gen.records() && v.checksum().equals(gen.checksum());
                    doc.put("one_query_sorted", good);
                    ok &= good;
                }
            }
        }
        if (session.json()) {
            Json.print(doc, session.out());
        } else {
            session.out().printf(Locale.ROOT, "%d records (%d bytes) sorted into %d partition(s) in %.2f s (%.1f MB/s); generated in %.2f s%n",
                    doc.get("records"), doc.get("bytes"), partitions, (double) doc.get("seconds"),
                    (long) doc.get("bytes") / (double) doc.get("seconds") / 1e6, (double) doc.get("generate_seconds"));
            session.out().println("sorted: " + (doc.get("sorted") == null ? "not validated (--validate)" : doc.get("sorted")) + ", checksum " + doc.get("checksum"));
            if (doc.containsKey("one_query_seconds")) {
                session.out().printf(Locale.ROOT, "one DuckDB query: %.2f s; smallpond is %.2fx its speed%n", (double) doc.get("one_query_seconds"),
                        (double) doc.get("speedup_vs_one_query"));
            }
        }
        return ok ? Main.OK : Main.FAILURE;
    }

    static long parseSize(String text) throws UsageException {
        Matcher m = SIZE_TEXT.matcher(text == null ? "" : text);
        if (!m.matches()) {
            throw new UsageException("--size: expected bytes such as 1GB, 500MB, 10GiB or 1000000, got '" + text + "'");
        }
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        double scale = switch (unit) {
            case "kb" -> 1e3;
            case "mb" -> 1e6;
            case "gb" -> 1e9;
            case "tb" -> 1e12;
            case "kib" -> 1024.0;
            case "mib" -> 1024.0 * 1024;
            case "gib" -> 1024.0 * 1024 * 1024;
            case "tib" -> 1024.0 * 1024 * 1024 * 1024;
            default -> 1;
        };
        return (long) (Double.parseDouble(m.group(1)) * scale);
    }
}
