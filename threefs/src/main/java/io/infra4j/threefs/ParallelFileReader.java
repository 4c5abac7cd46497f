package io.infra4j.threefs;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Reads many ranges of many files through USRBIO, in parallel: each worker thread has its own ring and
 * iov, takes whole ranges one after another, keeps up to {@code queueDepth} chunks of one range in flight
 * and hands the chunks to a {@link ChunkSink} in file order. Files are opened and registered once.
 */
public final class ParallelFileReader implements AutoCloseable {
    /** Bytes {@code [offset, offset + length)} of {@code file}; {@code length} -1: to the end of the file. */
    public record Range(Path file, long offset, long length) {
        public Range {
            if (file == null || offset < 0 || length < -1) {
                throw new IllegalArgumentException("range: expected a file, offset >= 0 and length >= -1, got " + file + ", " + offset
                        + ", " + length);
            }
        }

        public static Range whole(Path file) {
            return new Range(file, 0, -1);
        }
    }

    /**
     * Where the chunks go. {@code accept} runs on a worker thread, for each range's chunks in order; the
     * data are valid until {@link #release} for that half of the worker's iov (or the call's end when
     * release does nothing). A sink that copies asynchronously (to a GPU) waits in {@code release}: it runs
     * after every chunk read into that half has been accepted, and before anything is read into it again.
     */
    public interface ChunkSink {
        void accept(int range, long offsetInRange, MemorySegment data, int worker);

        /** The worker is about to reuse the half {@code half} (0 or 1) of its iov. */
        default void release(int worker, int half) {}

        /** A range is complete. */
        default void rangeDone(int range, long bytes, int worker) {}
    }

    /** @param threads workers; queueDepth chunks in flight per worker; chunkBytes per I/O (a multiple of 4096 for O_DIRECT). */
    public record Options(int threads, int queueDepth, int chunkBytes, boolean pinForCuda) {
        public Options {
            if (threads < 1 || queueDepth < 2 || queueDepth % 2 != 0 || chunkBytes < 4096 || chunkBytes % 4096 != 0) {
                throw new IllegalArgumentException("options: threads >= 1, an even queueDepth >= 2, chunkBytes a multiple of 4096; got "
                        + threads + ", " + queueDepth + ", " + chunkBytes);
            }
        }

        public static Options defaults() {
            return new Options(Math.min(8, Runtime.getRuntime().availableProcessors()), 16, 1 << 20, false);
        }
    }

    private final Usrbio usrbio;
    private final Options options;
    private final ExecutorService pool;
    private final List<UsrbioRing> rings = new ArrayList<>();
    private final List<UsrbioIov> iovs = new ArrayList<>();
    private final Map<Path, RegisteredFile> files = new LinkedHashMap<>();
    private final String mountPoint;
    private boolean closed;

    private ParallelFileReader(Usrbio usrbio, Options options, String mountPoint) {
        this.usrbio = usrbio;
        this.options = options;
        this.mountPoint = mountPoint;
        this.pool = Executors.newFixedThreadPool(options.threads(), r -> {
            Thread t = new Thread(r, "infra4j-usrbio-reader");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int w = 0; w < options.threads(); w++) {
                UsrbioIov iov = usrbio.createIov(mountPoint, (long) options.queueDepth() * options.chunkBytes(), 0, -1);
                iovs.add(iov);
                if (options.pinForCuda()) {
                    iov.pinForCuda();
                }
                rings.add(usrbio.createRing(mountPoint, options.queueDepth(), true, 0, Duration.ZERO, -1, 0));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** A reader for files under {@code anyFile}'s file system, with the backend {@link Usrbio#forPath} picks. */
    public static ParallelFileReader open(Path anyFile, Options options) {
        Usrbio u = Usrbio.forPath(anyFile);
        return new ParallelFileReader(u, options, u.mountPointOf(anyFile));
    }

    public Usrbio usrbio() {
        return usrbio;
    }

    public Options options() {
        return options;
    }

    /** The worker iovs (pinned when the options say so): a GPU sink copies from their segments. */
    public List<UsrbioIov> iovs() {
        return List.copyOf(iovs);
    }

    /**
     * Reads every range, calling {@code sink} with its chunks; returns the bytes read per range (short where
     * a file ends first). {@code progress}, if not null, hears of each chunk's bytes.
     */
    public long[] read(List<Range> ranges, ChunkSink sink, LongConsumer progress) {
        if (closed) {
            throw new IllegalStateException("this reader is closed");
        }
        if (ranges == null || sink == null) {
            throw new IllegalArgumentException("ranges and sink: expected both");
        }
        long[] lengths = new long[ranges.size()];
        for (int i = 0; i < ranges.size(); i++) {
            Range r = ranges.get(i);
            if (!Files.isRegularFile(r.file())) {
                throw new IllegalArgumentException("ranges[" + i + "]: " + r.file() + " is not a regular file");
            }
            try {
                long size = Files.size(r.file());
                lengths[i] = r.length() < 0 ? Math.max(0, size - r.offset()) : r.length();
            } catch (java.io.IOException e) {
                throw new UsrbioException("size of " + r.file() + ": " + e.getMessage());
            }
            synchronized (files) {
                files.computeIfAbsent(r.file().toAbsolutePath().normalize(), p -> usrbio.register(p, RegisteredFile.Mode.READ));
            }
        }
        long[] got = new long[ranges.size()];
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < options.threads(); w++) {
            int worker = w;
            done.add(pool.submit(() -> {
                for (int i = next.getAndIncrement(); i < ranges.size(); i = next.getAndIncrement()) {
                    got[i] = readRange(worker, i, ranges.get(i), lengths[i], sink, progress);
                    sink.rangeDone(i, got[i], worker);
                }
                return null;
            }));
        }
        RuntimeException failure = null;
        for (Future<?> f : done) {
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable c = e.getCause();
                if (failure == null) {
                    failure = c instanceof RuntimeException re ? re : new UsrbioException("reader failed: " + c);
                }
            } catch (InterruptedException e) {
                // The workers are inside native calls on rings this reader owns: stop them and wait before leaving.
                done.forEach(x -> x.cancel(false));
                Thread.currentThread().interrupt();
                throw new UsrbioException("interrupted while reading");
            }
        }
        if (failure != null) {
            throw failure;
        }
        return got;
    }

    // One range on one worker: chunks go out in order of the iov's slots, come back in any order, leave in file order.
    private long readRange(int worker, int index, Range r, long length, ChunkSink sink, LongConsumer progress) {
        UsrbioRing ring = rings.get(worker);
        UsrbioIov iov = iovs.get(worker);
        RegisteredFile file;
        synchronized (files) {
            file = files.get(r.file().toAbsolutePath().normalize());
        }
        int depth = options.queueDepth();
        long chunk = options.chunkBytes();
        long chunks = (length + chunk - 1) / chunk;
        Map<Long, Long> ready = new HashMap<>(); // chunk -> bytes read, arrived out of order
        long[] counts = new long[3]; // sent, completed, delivered: what a failure must still drain
        try {
            return readChunks(worker, index, r, length, sink, progress, ring, iov, file, depth, chunk, chunks, ready, counts);
        } finally {
            // A failure (a sink that threw, a failed read) leaves I/Os in flight: take their completions, so that
            // the ring's next range starts clean and no read lands in a slot that is handed out again.
            long inFlight = counts[0] - counts[1];
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (inFlight > 0 && System.nanoTime() < deadline && !ring.isClosed()) {
                inFlight -= ring.await(1, Duration.ofSeconds(5)).size();
            }
        }
    }

    private long readChunks(int worker, int index, Range r, long length, ChunkSink sink, LongConsumer progress, UsrbioRing ring,
            UsrbioIov iov, RegisteredFile file, int depth, long chunk, long chunks, Map<Long, Long> ready, long[] counts) {
        long sent = 0, delivered = 0, total = 0;
        AtomicLong shortAt = new AtomicLong(-1);
        while (delivered < chunks) {
            while (sent < chunks && sent - delivered < depth) {
                int slot = (int) (sent % depth);
                if (slot == 0 || slot == depth / 2) {
                    if (sent - delivered > depth / 2) {
                        break; // the half still has chunks the sink has not had: release must cover them all, so wait
                    }
                    sink.release(worker, slot == 0 ? 0 : 1);
                }
                long off = sent * chunk;
                long len = Math.min(chunk, length - off);
                if (ring.prepare(iov, slot * chunk, file, r.offset() + off, len, sent) < 0) {
                    break; // cannot happen: at most depth in flight
                }
                sent++;
                counts[0] = sent;
            }
            ring.submit();
            for (Completion c : ring.await(1, Duration.ofMinutes(5))) {
                counts[1]++;
                if (c.failed()) {
                    throw new UsrbioException("read of " + r.file() + " at " + (r.offset() + c.userData() * chunk), c.errno());
                }
                ready.put(c.userData(), c.result());
            }
            while (ready.containsKey(delivered)) {
                long n = ready.remove(delivered);
                if (n > 0) {
                    sink.accept(index, delivered * chunk, iov.segment().asSlice((delivered % depth) * chunk, n), worker);
                    if (progress != null) {
                        progress.accept(n);
                    }
                }
                total += n;
                long expected = Math.min(chunk, length - delivered * chunk);
                if (n < expected && shortAt.get() < 0) {
                    shortAt.set(delivered); // the file ended early: later chunks read nothing more
                }
                delivered++;
            }
        }
        return total;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        pool.shutdownNow();
        boolean stopped;
        try {
            stopped = pool.awaitTermination(2, java.util.concurrent.TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = false;
        }
        if (!stopped) {
            // A worker still inside a native call on a ring: freeing the ring under it would crash the JVM.
            throw new IllegalStateException("reader workers did not stop within 2 minutes; their rings and iovs are left open");
        }
        rings.forEach(UsrbioRing::close);
        iovs.forEach(UsrbioIov::close);
        files.values().forEach(RegisteredFile::close);
    }
}
