package io.infra4j.smallpond;

import io.infra4j.smallpond.plan.LocalExecutor;
import io.infra4j.smallpond.plan.PlanNode;
import io.infra4j.smallpond.plan.Planner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Where DataFrames come from and where their tasks run: a work folder for intermediate Parquet files (a local
 * folder or a shared mount such as 3FS), and a local executor that runs a stage's tasks in parallel, each in a
 * DuckDB of its own with {@link Builder#threadsPerTask} threads and {@link Builder#memoryPerTask} of memory.
 * DataFrames are lazy: nothing runs until an action ({@link DataFrame#count}, {@link DataFrame#toList},
 * {@link DataFrame#writeParquet}, ...).
 */
public final class Session implements AutoCloseable {
    /** Settings; every one has a default that suits this machine. */
    public static final class Builder {
        private Path workDir;
        private int parallelism = Runtime.getRuntime().availableProcessors();
        private int threadsPerTask;
        private String memoryPerTask;
        private int maxAttempts = 3;
        private boolean resume;
        private boolean keepIntermediates;
        private ProgressListener progress = ProgressListener.none();
        private TaskHook hook = TaskHook.none();
        private String intermediateCompression = "snappy";
        private String outputCompression = "snappy";

        private Builder() {}

        /** Where intermediate data go (default: a new temporary folder, deleted on close). */
        public Builder workDir(Path dir) {
            this.workDir = java.util.Objects.requireNonNull(dir, "workDir");
            return this;
        }

        /** How many tasks run at once (default: the number of cores). */
        public Builder parallelism(int tasks) {
            this.parallelism = positive("parallelism", tasks);
            return this;
        }

        /** DuckDB threads per task (default: cores / parallelism, at least 1). */
        public Builder threadsPerTask(int threads) {
            this.threadsPerTask = positive("threadsPerTask", threads);
            return this;
        }

        /** DuckDB's memory limit per task, as DuckDB reads it: {@code 2GB}, {@code 512MB} (default: 70% of RAM / parallelism). */
        public Builder memoryPerTask(String limit) {
            if (limit == null || !limit.strip().matches("(?i)\\d+(\\.\\d+)?\\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)")) {
                throw new IllegalArgumentException("memoryPerTask: expected a size such as 2GB or 512MB, got " + limit);
            }
            this.memoryPerTask = limit.strip();
            return this;
        }

        /** Attempts per task before its stage fails (default 3); bad SQL fails at once. */
        public Builder maxAttempts(int attempts) {
            this.maxAttempts = positive("maxAttempts", attempts);
            return this;
        }

        /**
         * Reuse the committed outputs of an earlier run in the same work folder (default: off, every action
         * starts afresh). A stage is known by what it computes: its SQL, its inputs' files (path, size, time)
         * and, for Java code, the name given to it (a lambda's class otherwise): rename a Java function whose
         * code changed, or its old output is reused.
         */
        public Builder resume(boolean resume) {
            this.resume = resume;
            return this;
        }

        /** Keep each action's intermediate files after it completes (default: deleted, unless resuming). */
        public Builder keepIntermediates(boolean keep) {
            this.keepIntermediates = keep;
            return this;
        }

        public Builder progress(ProgressListener listener) {
            this.progress = java.util.Objects.requireNonNull(listener, "progress");
            return this;
        }

        /** Called before each task's output is committed: for tests and chaos runs. */
        public Builder taskHook(TaskHook hook) {
            this.hook = java.util.Objects.requireNonNull(hook, "taskHook");
            return this;
        }

        /** Parquet compression of intermediate files (default snappy; uncompressed suits incompressible data). */
        public Builder intermediateCompression(String codec) {
            this.intermediateCompression = codec(codec);
            return this;
        }

        /** Parquet compression of {@link DataFrame#writeParquet} files (default snappy). */
        public Builder outputCompression(String codec) {
            this.outputCompression = codec(codec);
            return this;
        }

        public Session build() {
            int cores = Runtime.getRuntime().availableProcessors();
            int threads = threadsPerTask > 0 ? threadsPerTask : Math.max(1, cores / parallelism);
            String memory = memoryPerTask != null ? memoryPerTask : defaultMemory(parallelism);
            boolean ownWorkDir = workDir == null;
            Path dir;
            try {
                dir = ownWorkDir ? Files.createTempDirectory("infra4j-pond-") : Files.createDirectories(workDir);
            } catch (IOException e) {
                throw new UncheckedIOException("could not create the work folder " + workDir, e);
            }
            return new Session(this, dir, ownWorkDir, threads, memory);
        }

        private static int positive(String what, int v) {
            if (v < 1) {
                throw new IllegalArgumentException(what + ": expected at least 1, got " + v);
            }
            return v;
        }

        private static String codec(String c) {
            List<String> known = List.of("uncompressed", "snappy", "zstd", "gzip", "lz4", "lz4_raw", "brotli");
            if (c == null || !known.contains(c.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("compression: expected one of " + known + ", got " + c);
            }
            return c.toLowerCase(java.util.Locale.ROOT);
        }

        private static String defaultMemory(int parallelism) {
            long total = 8L << 30;
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                total = os.getTotalMemorySize();
            }
            return Math.max(256, (long) (total * 0.7 / parallelism) >> 20) + "MB";
        }
    }

    private final Path workDir;
    private final boolean ownWorkDir;
    private final boolean resume;
    private final boolean keepIntermediates;
    private final String intermediateCompression;
    private final String outputCompression;
    private final LocalExecutor executor;
    private final DuckDb driverDb;
    private final DuckConnection driver;
    private final AtomicInteger ids = new AtomicInteger();
    private final AtomicInteger runs = new AtomicInteger();
    private volatile boolean closed;

    private Session(Builder b, Path workDir, boolean ownWorkDir, int threadsPerTask, String memoryPerTask) {
        this.workDir = workDir;
        this.ownWorkDir = ownWorkDir;
        this.resume = b.resume;
        this.keepIntermediates = b.keepIntermediates;
        this.intermediateCompression = b.intermediateCompression;
        this.outputCompression = b.outputCompression;
        this.executor = new LocalExecutor(new LocalExecutor.Settings(b.parallelism, threadsPerTask, memoryPerTask, workDir.resolve("spill"),
                b.maxAttempts, b.resume, b.progress, b.hook));
        this.driverDb = DuckDb.inMemory(DuckDb.Config.defaults().threads(1));
        this.driver = driverDb.connect();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A session with every default. */
    public static Session open() {
        return builder().build();
    }

    public Path workDir() {
        return workDir;
    }

    /** How many tasks run at once. */
    public int parallelism() {
        return executor.settings().parallelism();
    }

    /** DuckDB threads in each task. */
    public int threadsPerTask() {
        return executor.settings().threadsPerTask();
    }

    /** DuckDB's memory limit in each task. */
    public String memoryPerTask() {
        return executor.settings().memoryPerTask();
    }

    /** The stages run so far in this session, in order, with their wall time. */
    public List<StageTiming> stages() {
        return executor.timings();
    }

    /** Parquet files matching the globs (DuckDB's glob syntax: {@code *}, {@code **}, {@code ?}, {@code [..]}), as one partition. */
    public DataFrame readParquet(String... globs) {
        return read("parquet", "", globs);
    }

    /** CSV files, DuckDB detecting the dialect and types; {@link #readCsv(List, String)} passes read_csv options. */
    public DataFrame readCsv(String... globs) {
        return read("csv", "", globs);
    }

    /** CSV files with {@code read_csv} options in DuckDB's syntax, e.g. {@code header = true, delim = ';'}. */
    public DataFrame readCsv(List<String> globs, String options) {
        return read("csv", options, globs.toArray(String[]::new));
    }

    /** Newline-delimited or array JSON files, DuckDB detecting the layout and types. */
    public DataFrame readJson(String... globs) {
        return read("json", "", globs);
    }

    public DataFrame readJson(List<String> globs, String options) {
        return read("json", options, globs.toArray(String[]::new));
    }

    /**
     * Rows given in Java, in one partition. {@code columns} declares them in SQL ({@code id BIGINT, name
     * VARCHAR}); values are Boolean, integral numbers, Float/Double, strings (DuckDB casts them to the declared
     * type: '2024-01-31' into a DATE) or null.
     */
    public DataFrame fromRows(String columns, List<List<Object>> rows) {
        checkOpen();
        if (columns == null || columns.isBlank()) {
            throw new IllegalArgumentException("columns: expected SQL column definitions (id BIGINT, name VARCHAR), got " + columns);
        }
        if (rows == null) {
            throw new IllegalArgumentException("rows: expected a list (maybe empty), got null");
        }
        List<List<Object>> copy = new ArrayList<>(rows.size());
        int width = -1;
        for (int i = 0; i < rows.size(); i++) {
            List<Object> row = rows.get(i);
            if (row == null || (width >= 0 && row.size() != width)) {
                throw new IllegalArgumentException("rows: row " + i + " has " + (row == null ? "no" : row.size()) + " values, expected " + width);
            }
            width = row.size();
            copy.add(java.util.Collections.unmodifiableList(new ArrayList<>(row)));
        }
        return new DataFrame(this, new PlanNode.Rows(nextId(), columns, List.copyOf(copy)));
    }

    private DataFrame read(String format, String options, String... globs) {
        checkOpen();
        if (globs == null || globs.length == 0) {
            throw new IllegalArgumentException("read " + format + ": expected at least one path or glob");
        }
        List<Path> files = new ArrayList<>();
        for (String g : globs) {
            if (g == null || g.isBlank()) {
                throw new IllegalArgumentException("read " + format + ": a path or glob is empty in " + Arrays.toString(globs));
            }
            List<Path> matched = glob(g);
            if (matched.isEmpty()) {
                throw new IllegalArgumentException("read " + format + ": no file matches " + g);
            }
            files.addAll(matched);
        }
        return new DataFrame(this, new PlanNode.Source(nextId(), format, files, options == null ? "" : options));
    }

    // DuckDB's own glob, so that paths mean what they mean in SQL.
    private synchronized List<Path> glob(String pattern) {
        String p = pattern.contains("*") || pattern.contains("?") || pattern.contains("[") ? pattern : Path.of(pattern).toAbsolutePath().toString();
        try (PreparedQuery q = driver.prepare("SELECT file FROM glob(?) ORDER BY file")) {
            return q.execute(p).rows().stream().map(r -> Path.of((String) r[0]).toAbsolutePath()).toList();
        }
    }

    int nextId() {
        return ids.incrementAndGet();
    }

    String outputCompression() {
        return outputCompression;
    }

    /** Runs {@code action} with a planner over a fresh run folder (or the shared one when resuming). */
    <T> T run(Function<Planner, T> action) {
        checkOpen();
        Path runDir = workDir.resolve(resume ? "stages" : String.format("run-%03d-%s", runs.incrementAndGet(), UUID.randomUUID().toString().substring(0, 8)));
        try {
            Files.createDirectories(runDir);
            Files.createDirectories(workDir.resolve("spill"));
        } catch (IOException e) {
            throw new UncheckedIOException("could not create " + runDir, e);
        }
        boolean ok = false;
        try {
            T result = action.apply(new Planner(executor, runDir, intermediateCompression));
            ok = true;
            return result;
        } finally {
            if (ok && !resume && !keepIntermediates) { // a failed run keeps its files, to look at
                LocalExecutor.deleteTree(runDir);
            }
        }
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this smallpond Session is closed");
        }
    }

    /** Stops the executor and closes DuckDB; deletes the work folder when the session made it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        executor.close();
        driver.close();
        driverDb.close();
        if (ownWorkDir) {
            LocalExecutor.deleteTree(workDir);
        }
    }
}
