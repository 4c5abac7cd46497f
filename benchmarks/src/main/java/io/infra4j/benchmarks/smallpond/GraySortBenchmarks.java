package io.infra4j.benchmarks.smallpond;

import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import io.infra4j.smallpond.DuckDb;
import io.infra4j.smallpond.ProgressListener;
import io.infra4j.smallpond.Session;
import io.infra4j.smallpond.StageTiming;
import io.infra4j.smallpond.WriteSummary;
import io.infra4j.smallpond.graysort.GenerateSummary;
import io.infra4j.smallpond.graysort.GraySort;
import io.infra4j.smallpond.graysort.ValidationSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * GraySort through smallpond against one DuckDB query doing the same sort ({@code COPY (SELECT ... ORDER BY key)
 * TO ...}) on the same Parquet input, in the same run, the two alternating over rounds (best of each kept); then
 * the partition-parallel stages at 1, 2, 4, ... tasks of one DuckDB thread each, for their scaling with cores, beside the one
 * query on as many threads.
 * Every sorted output is validated (order, count, checksum against the generator's) before its time counts.
 *
 * <pre>java ... GraySortBenchmarks --work DIR [--size BYTES] [--partitions P] [--rounds R] [--scaling-size BYTES]
 *     [--intermediate DIR] [--out DIR] [--commit SHA] [--machine TEXT]</pre>
 *
 * {@code --intermediate}: smallpond's work folder (its intermediate Parquet files), default inside {@code --work}.
 * On a machine with a large tmpfs it is the fair match of the one query, which keeps its sorted runs in memory.
 */
public final class GraySortBenchmarks {
    private GraySortBenchmarks() {}

    /** One timed sort: wall seconds, its stages, and the CPU seconds the process spent in user and kernel mode. */
    record Run(double seconds, List<StageTiming> stages, double userCpu, double systemCpu) {}

    // This process's CPU seconds so far (user, system) from /proc/self/stat: the kernel's share shows what page
    // allocation and file writes cost beside DuckDB's own work. Clock ticks are 100 per second on Linux.
    static double[] processCpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new double[] {Long.parseLong(f[11]) / 100.0, Long.parseLong(f[12]) / 100.0};
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        int cores = Runtime.getRuntime().availableProcessors();
        Path work = Path.of(opt.getOrDefault("--work", System.getProperty("java.io.tmpdir") + "/infra4j-graysort")).toAbsolutePath();
        long bytes = Long.parseLong(opt.getOrDefault("--size", "1000000000"));
        // one or more key-range counts (comma-separated): each is timed; the scaling runs use the first
        List<Integer> partitionCounts = java.util.Arrays.stream(opt.getOrDefault("--partitions", String.valueOf(4 * cores)).split(","))
                .map(String::strip).map(Integer::parseInt).toList();
        int partitions = partitionCounts.get(0);
        // tasks at once (comma-separated): above the core count, tasks waiting on their file writes leave no core idle
        List<Integer> taskCounts = java.util.Arrays.stream(opt.getOrDefault("--tasks", String.valueOf(cores)).split(",")).map(String::strip)
                .map(Integer::parseInt).toList();
        int rounds = Integer.parseInt(opt.getOrDefault("--rounds", "2"));
        long scalingBytes = Long.parseLong(opt.getOrDefault("--scaling-size", String.valueOf(bytes / 4 / 100 * 100)));
        String codec = "uncompressed";
        Path intermediate = Path.of(opt.getOrDefault("--intermediate", work.resolve("pond-work").toString())).toAbsolutePath();
        delete(work);
        delete(intermediate);
        Files.createDirectories(work);
        Files.createDirectories(intermediate);

        // ---- the headline: smallpond at full width against the one query
        Path input = work.resolve("input");
        long records = GraySort.records(bytes);
        GenerateSummary gen;
        double genSeconds;
        try (Session s = session(intermediate.resolve("gen-work"), cores, 1, codec)) {
            long t0 = System.nanoTime();
            gen = GraySort.generate(s, input, records, cores, 1);
            genSeconds = (System.nanoTime() - t0) / 1e9;
        }
        System.out.printf(Locale.ROOT, "generated %d records (%.2f GB) as %d Parquet files in %.2f s%n", records, bytes / 1e9, cores, genSeconds);
        Map<String, Run> ours = new java.util.LinkedHashMap<>(); // each configuration's best round
        Run one = null;
        boolean oursValid = true;
        boolean oneValid = true;
        for (int r = 0; r < rounds; r++) {
            boolean oursFirst = r % 2 == 0;
            for (int k = 0; k < 2; k++) {
                if ((k == 0) == oursFirst) {
                    for (int tasks : taskCounts) for (int p : partitionCounts) {
                        String label = "smallpond (" + p + " key ranges, " + tasks + " tasks x 1 DuckDB thread)";
                        Path out = work.resolve("sorted");
                        Run run;
                        try (Session s = session(intermediate.resolve("sort-work"), tasks, 1, codec)) {
                            double[] cpu0 = processCpuSeconds();
                            WriteSummary w = GraySort.sort(s, input, cores, p, out);
                            double[] cpu1 = processCpuSeconds();
                            run = new Run(w.seconds(), w.stages(), cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]);
                            ValidationSummary v = GraySort.validate(w.files(), cores);
                            oursValid &= v.sorted() && v.records() == records && v.checksum().equals(gen.checksum());
                        }
                        System.out.printf(Locale.ROOT, "round %d %s: %.2f s, CPU %.1f s user + %.1f s system (%s)%n", r, label, run.seconds(),
                                run.userCpu(), run.systemCpu(), oursValid ? "valid" : "INVALID");
                        if (!ours.containsKey(label) || run.seconds() < ours.get(label).seconds()) {
                            ours.put(label, run);
                        }
                        delete(out);
                    }
                } else {
                    Path out = work.resolve("one-query.parquet");
                    double[] cpu0 = processCpuSeconds();
                    double s = GraySort.sortWithOneQuery(input, out, cores, null, codec);
                    double[] cpu1 = processCpuSeconds();
                    ValidationSummary v = GraySort.validate(List.of(out), 1);
                    oneValid &= v.sorted() && v.records() == records && v.checksum().equals(gen.checksum());
                    System.out.printf(Locale.ROOT, "round %d one query: %.2f s, CPU %.1f s user + %.1f s system (%s)%n", r, s, cpu1[0] - cpu0[0],
                            cpu1[1] - cpu0[1], oneValid ? "valid" : "INVALID");
                    if (one == null || s < one.seconds()) {
                        one = new Run(s, List.of(), cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]);
                    }
                    Files.deleteIfExists(out);
                    delete(work.resolve("spill-one-query"));
                }
            }
        }
        delete(input);

        ResultTable headline = new ResultTable(String.format(Locale.ROOT, "GraySort of %.2f GB (%d records of 100 bytes), best of %d rounds, %d cores", bytes / 1e9,
                records, rounds, cores), "engine", "seconds", "GB/s", "valid", "one query's seconds over this", "CPU user s", "CPU system s");
        for (Map.Entry<String, Run> e : ours.entrySet()) {
            Run run = e.getValue();
            headline.row(e.getKey(), fmt(run.seconds()), fmt(bytes / run.seconds() / 1e9), oursValid, fmt(one.seconds() / run.seconds()), fmt(run.userCpu()),
                    fmt(run.systemCpu()));
        }
        headline.row("one DuckDB query, " + cores + " threads (COPY (SELECT ... ORDER BY key) TO ...)", fmt(one.seconds()), fmt(bytes / one.seconds() / 1e9),
                oneValid, "1.00", fmt(one.userCpu()), fmt(one.systemCpu()));
        String best = ours.entrySet().stream().min(Map.Entry.comparingByValue(Comparator.comparingDouble(Run::seconds))).orElseThrow().getKey();
        ResultTable stages = new ResultTable("The stages of the best: " + best, "stage", "tasks", "seconds");
        for (StageTiming t : ours.get(best).stages()) {
            stages.row(t.name().replaceAll("CASE WHEN .* END", "key range"), t.tasks(), fmt(t.seconds()));
        }

        // ---- scaling of the partition-parallel stages with cores
        Path small = work.resolve("scaling-input");
        long scalingRecords = GraySort.records(scalingBytes);
        GenerateSummary sgen;
        try (Session s = session(intermediate.resolve("gen-work"), cores, 1, codec)) {
            sgen = GraySort.generate(s, small, scalingRecords, cores, 2);
        }
        ResultTable scaling = new ResultTable(String.format(Locale.ROOT, "Scaling: GraySort of %.2f GB, %d key ranges, N tasks of 1 DuckDB thread", scalingBytes / 1e9,
                partitions), "tasks (cores)", "partition stage s", "sort stage s", "total s", "speedup partition", "speedup sort", "speedup total", "efficiency",
                "one query at N threads s", "its speedup");
        // one unmeasured run first, so that the one-task baseline does not carry the warm-up of the new input
        try (Session s = session(intermediate.resolve("sort-work"), cores, 1, codec)) {
            GraySort.sort(s, small, cores, partitions, work.resolve("scaling-sorted"));
        }
        delete(work.resolve("scaling-sorted"));
        double[] base = null;
        for (int p = 1; p <= cores; p *= 2) {
            Path out = work.resolve("scaling-sorted");
            WriteSummary w;
            try (Session s = session(intermediate.resolve("sort-work"), p, 1, codec)) {
                w = GraySort.sort(s, small, cores, partitions, out);
                ValidationSummary v = GraySort.validate(w.files(), cores);
                if (!(v.sorted() && v.checksum().equals(sgen.checksum()))) {
                    throw new IllegalStateException("scaling run at " + p + " tasks gave an invalid sort: " + v);
                }
            }
            double part = stage(w, "repartition");
            double sort = stage(w, "write parquet");
            delete(out);
            // the same sort as one query on as many threads: how far this machine lets the sort itself scale
            Path oneOut = work.resolve("scaling-one-query.parquet");
            double oneSeconds = GraySort.sortWithOneQuery(small, oneOut, p, null, codec);
            ValidationSummary ov = GraySort.validate(List.of(oneOut), 1);
            if (!(ov.sorted() && ov.checksum().equals(sgen.checksum()))) {
                throw new IllegalStateException("scaling run of the one query at " + p + " threads gave an invalid sort: " + ov);
            }
            Files.deleteIfExists(oneOut);
            delete(work.resolve("spill-one-query"));
            double[] now = {part, sort, w.seconds(), oneSeconds};
            if (base == null) {
                base = now;
            }
            scaling.row(p, fmt(part), fmt(sort), fmt(w.seconds()), fmt(base[0] / part), fmt(base[1] / sort), fmt(base[2] / w.seconds()),
                    fmt(base[2] / w.seconds() / p), fmt(oneSeconds), fmt(base[3] / oneSeconds));
            System.out.printf(Locale.ROOT, "scaling %2d tasks: partition %.2f s, sort %.2f s, total %.2f s; one query on %d threads %.2f s%n", p, part, sort,
                    w.seconds(), p, oneSeconds);
        }
        delete(small);

        Path md = new ResultsWriter("smallpond-graysort", "GraySort through smallpond (DuckDB through FFM) against one DuckDB query")
                .environment("machine", opt.getOrDefault("--machine", cores + " cores"))
                .environment("commit", opt.getOrDefault("--commit", "?"))
                .environment("duckdb", DuckDb.version())
                .environment("data folder (input, outputs of both engines)", work + " (" + Files.getFileStore(work).type() + ")")
                .environment("smallpond's work folder (intermediate files)", intermediate + " (" + Files.getFileStore(intermediate).type() + ")")
                .environment("generation", String.format(Locale.ROOT, "%.2f s for %.2f GB (%d Parquet files, Java records through Arrow into DuckDB)", genSeconds,
                        bytes / 1e9, cores))
                .table(headline)
                .table(stages)
                .table(scaling)
                .note("Both sorts read the same uncompressed Parquet input (key BLOB of 10 bytes, payload BLOB of 90) and write uncompressed "
                        + "Parquet; both outputs are validated (order, record count, CRC32C-sum checksum against the generator's). smallpond "
                        + "cuts each input file into key ranges (one COPY per file, its rows ordered by range in small row groups), then sorts each "
                        + "range, read from every file with the other ranges' row groups skipped, in a DuckDB of its own. "
                        + "'One query's seconds over this' is smallpond's speed relative to the one query (above 1: faster). CPU: the process's "
                        + "user and kernel seconds during the sort (/proc/self/stat). Efficiency: total speedup over the task count. The scaling "
                        + "table's last columns time the one query on the same cores (threads), the sort's own scaling on this machine.")
                .appendTo(Path.of(opt.getOrDefault("--out", "benchmarks/results")));
        System.out.println("results appended to " + md);
        delete(work);
        delete(intermediate);
    }

    private static Session session(Path work, int parallelism, int threads, String codec) {
        return Session.builder().workDir(work).parallelism(parallelism).threadsPerTask(threads).intermediateCompression(codec).outputCompression(codec)
                .progress(ProgressListener.none()).build();
    }

    private static double stage(WriteSummary w, String prefix) {
        return w.stages().stream().filter(t -> t.name().substring(3).startsWith(prefix)).mapToDouble(StageTiming::seconds).sum();
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

}
