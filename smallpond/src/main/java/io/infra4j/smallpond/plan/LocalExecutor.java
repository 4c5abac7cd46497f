package io.infra4j.smallpond.plan;

import io.infra4j.smallpond.DuckConnection;
import io.infra4j.smallpond.DuckDb;
import io.infra4j.smallpond.DuckDbException;
import io.infra4j.smallpond.ProgressListener;
import io.infra4j.smallpond.StageTiming;
import io.infra4j.smallpond.TaskFailedException;
import io.infra4j.smallpond.TaskHook;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Runs a stage's tasks in parallel on this machine, each in a DuckDB connection of its own, to a database of
 * its worker's (its own threads, memory limit and spill folder), so that tasks share nothing but files. A worker
 * keeps its database from task to task, as its memory stays allocated and mapped (16 databases made and freed
 * for every task would fault fresh pages in, all under one process's memory map); after a failed attempt the
 * worker's database is closed and the next attempt gets a new one. A task writes into a fresh folder and the folder is
 * renamed to its final name only when the task succeeded: a crash at any moment leaves an uncommitted folder
 * (named {@code *.tmp-*}), never a partial result under the final name. Failed attempts are retried, except for
 * errors no retry can mend (bad SQL); the stage then fails with a {@link TaskFailedException}.
 */
public final class LocalExecutor implements AutoCloseable {
    /** How tasks run. {@code memoryPerTask} as DuckDB reads it ({@code 2GB}); {@code resume}: reuse committed outputs. */
    public record Settings(int parallelism, int threadsPerTask, String memoryPerTask, Path spillRoot, int maxAttempts, boolean resume,
            ProgressListener progress, TaskHook hook) {}

    /** A task's work in its own connection; {@code output} is its uncommitted folder (null for stages without). */
    @FunctionalInterface
    public interface TaskBody<T> {
        T run(DuckConnection connection, Path output) throws Exception;
    }

    /** One task: its index in the stage, the query it runs (for errors), and its body. */
    public record Task<T>(int index, String query, TaskBody<T> body) {}

    private final Settings settings;
    private final ExecutorService pool;
    private final AtomicInteger stages = new AtomicInteger();
    private final List<StageTiming> timings = Collections.synchronizedList(new ArrayList<>());
    private final ThreadLocal<DuckDb> workerDatabase = new ThreadLocal<>();
    private final java.util.Set<DuckDb> databases = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public LocalExecutor(Settings settings) {
        this.settings = settings;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(settings.parallelism(), r -> {
            Thread t = new Thread(r, "pond-task-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public Settings settings() {
        return settings;
    }

    /** The stages run so far, in order. */
    public List<StageTiming> timings() {
        synchronized (timings) {
            return List.copyOf(timings);
        }
    }

    /**
     * Runs {@code tasks} and returns their results in task order. With {@code stageDir}, task i commits its
     * output as {@code stageDir/task-0000i}; a committed one is reused when the settings say resume (its result
     * is then null).
     */
    public <T> List<T> run(String what, Path stageDir, List<Task<T>> tasks) {
        String name = String.format("%02d %s", stages.incrementAndGet(), what);
        long start = System.nanoTime();
        settings.progress().stageStarted(name, tasks.size());
        List<T> results = new ArrayList<>(Collections.nCopies(tasks.size(), null));
        AtomicReference<TaskFailedException> failure = new AtomicReference<>();
        AtomicInteger done = new AtomicInteger();
        AtomicInteger reused = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < tasks.size(); i++) {
            int slot = i;
            Task<T> task = tasks.get(i);
            futures.add(pool.submit(() -> {
                if (failure.get() != null) {
                    return; // the stage has failed: start nothing more
                }
                Path committed = stageDir == null ? null : stageDir.resolve(String.format("task-%05d", task.index()));
                if (committed != null && settings.resume() && Files.isDirectory(committed)) {
                    reused.incrementAndGet();
                } else {
                    try {
                        results.set(slot, attempt(name, task, committed));
                    } catch (TaskFailedException e) {
                        failure.compareAndSet(null, e);
                        return;
                    }
                }
                settings.progress().taskFinished(name, task.index(), done.incrementAndGet(), tasks.size());
            }));
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while stage '" + name + "' ran", e);
            } catch (ExecutionException e) {
                failure.compareAndSet(null, new TaskFailedException(name, -1, null, 1, e.getCause()));
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        timings.add(new StageTiming(name, tasks.size(), reused.get(), seconds));
        if (failure.get() != null) {
            throw failure.get();
        }
        settings.progress().stageFinished(name, tasks.size(), seconds);
        return results;
    }

    private <T> T attempt(String stage, Task<T> task, Path committed) {
        for (int attempt = 1; ; attempt++) {
            Path output = committed == null ? null : committed.resolveSibling(committed.getFileName() + ".tmp-" + attempt + "-" + UUID.randomUUID());
            try {
                if (output != null) {
                    Files.createDirectories(output);
                }
                T result;
                try (DuckConnection c = database().connect()) {
                    result = task.body().run(c, output);
                }
                settings.hook().beforeCommit(stage, task.index(), attempt, output);
                if (output != null) {
                    Files.move(output, committed, StandardCopyOption.ATOMIC_MOVE);
                }
                return result;
            } catch (Throwable e) {
                deleteTree(output);
                discardDatabase();
                if (!retryable(e) || attempt >= settings.maxAttempts()) {
                    throw new TaskFailedException(stage, task.index(), task.query(), attempt, e);
                }
                settings.progress().taskRetried(stage, task.index(), attempt, e);
            }
        }
    }

    // This worker's database, opened on its first task with the task settings and a spill folder of its own.
    private DuckDb database() throws IOException {
        DuckDb db = workerDatabase.get();
        if (db == null) {
            Path spill = settings.spillRoot().resolve(UUID.randomUUID().toString());
            Files.createDirectories(spill);
            db = DuckDb.inMemory(DuckDb.Config.defaults().threads(settings.threadsPerTask()).memoryLimit(settings.memoryPerTask()).tempDirectory(spill));
            workerDatabase.set(db);
            databases.add(db);
        }
        return db;
    }

    private void discardDatabase() {
        DuckDb db = workerDatabase.get();
        if (db != null) {
            workerDatabase.remove();
            databases.remove(db);
            db.close();
        }
    }

    // DuckDB's parser, binder and catalog errors depend on the query text only: the same query fails again.
    static boolean retryable(Throwable e) {
        if (e instanceof IllegalArgumentException) {
            return false;
        }
        if (e instanceof DuckDbException d) {
            String m = d.getMessage();
            return !(m.startsWith("Parser Error") || m.startsWith("Binder Error") || m.startsWith("Catalog Error")
                    || m.startsWith("Not implemented Error"));
        }
        return true;
    }

    /** Deletes {@code dir} and everything below it, if it exists. */
    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + dir, e);
        }
    }

    /** Stops the workers, then closes their databases (never under a running query: those are left to exit). */
    @Override
    public void close() {
        pool.shutdownNow();
        try {
            if (!pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        for (DuckDb db : databases) {
            db.close();
        }
        databases.clear();
        deleteTree(settings.spillRoot());
    }
}
