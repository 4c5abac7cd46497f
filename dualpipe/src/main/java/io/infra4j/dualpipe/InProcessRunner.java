package io.infra4j.dualpipe;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.UnaryOperator;

/** {@link DualPipe#runAll}: one thread per rank over an in-process group; the first failure stops them all. */
final class InProcessRunner {
    private InProcessRunner() {}

    static <T> List<StepResult<T>> run(Variant variant, Mode mode, int numChunks, List<DualPipe.RankSetup<T>> ranks,
            Criterion<T> criterion, UnaryOperator<T> payloadCopy) {
        if (ranks == null || ranks.isEmpty()) {
            throw new IllegalArgumentException("ranks is " + (ranks == null ? "null" : "empty") + "; give one setup per rank");
        }
        if (payloadCopy == null) {
            throw new IllegalArgumentException("payloadCopy is null (use UnaryOperator.identity() for immutable payloads)");
        }
        int n = ranks.size();
        List<Communicator<T>> communicators = InProcessCommunicator.group(n, payloadCopy, InProcessCommunicator.DEFAULT_TIMEOUT);
        List<DualPipe<T>> executors = new ArrayList<>();
        // Every rank's arguments are checked here, so that a bad one fails before any thread starts.
        for (int r = 0; r < n; r++) {
            DualPipe.RankSetup<T> setup = ranks.get(r);
            if (setup == null) {
                throw new IllegalArgumentException("ranks[" + r + "] is null");
            }
            DualPipe<T> executor = new DualPipe<>(variant, r, n, setup.stage0(), setup.stage1(), communicators.get(r), mode);
            executor.checkStep(numChunks, setup.inputs(), setup.labels(), criterion);
            executors.add(executor);
        }

        AtomicReferenceArray<StepResult<T>> results = new AtomicReferenceArray<>(n);
        AtomicReference<RankFailedException> first = new AtomicReference<>();
        List<Throwable> later = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            int rank = r;
            DualPipe.RankSetup<T> setup = ranks.get(r);
            threads.add(Thread.ofPlatform().name("dualpipe-rank-" + r).daemon().start(() -> {
                try {
                    results.set(rank, executors.get(rank).step(numChunks, setup.inputs(), setup.labels(), criterion));
                } catch (Throwable t) {
                    if (first.compareAndSet(null, new RankFailedException(rank, t))) {
                        // Stop everyone now rather than letting each wait run into its timeout.
                        communicators.forEach(Communicator::close);
                    } else {
                        synchronized (later) {
                            later.add(t);
                        }
                    }
                } finally {
                    communicators.get(rank).close();
                }
            }));
        }
        joinAll(threads, communicators);
        RankFailedException failure = first.get();
        if (failure != null) {
            later.forEach(failure::addSuppressed);
            throw failure;
        }
        List<StepResult<T>> list = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            list.add(results.get(r));
        }
        return List.copyOf(list);
    }

    /** Joins every thread; if this thread is interrupted, stops the ranks first and passes the interrupt on. */
    private static <T> void joinAll(List<Thread> threads, List<Communicator<T>> communicators) {
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                    communicators.forEach(Communicator::close);
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            throw new CommunicationException("interrupted while waiting for the ranks; they were stopped");
        }
    }
}
