package io.infra4j.smallpond.graysort;

import static io.infra4j.smallpond.graysort.GensortRecords.RECORD_BYTES;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Generates records {@code 0 ..< records} in parallel: they are split into {@code parts} contiguous ordinal ranges
 * (sizes differing by at most one), each produced by one worker in blocks handed to a {@link PartWriter}.
 */
public final class GensortGenerator {
    /** Records per block by default: 6.4 MB, large enough to amortise a write call, small enough for the caches. */
    public static final int DEFAULT_BLOCK_RECORDS = 64 * 1024;

    private GensortGenerator() {}

    /**
     * Receives the blocks of each part. For one part all calls come from one thread, in order: {@code begin}, the
     * blocks by increasing ordinal, {@code end} (not called if generation fails). Different parts are called
     * concurrently from different threads.
     */
    @FunctionalInterface
    public interface PartWriter {
        default void begin(int part, long firstOrdinal, long recordCount) throws IOException {}

        /** {@code block} holds {@code recordCount} whole records and is valid only during this call (copy it to keep it). */
        void write(int part, MemorySegment block, int recordCount) throws IOException;

        default void end(int part) throws IOException {}
    }

    /** {@link #generate(long, long, int, int, int, PartWriter)} with {@link #DEFAULT_BLOCK_RECORDS}. */
    public static GenerateSummary generate(long records, long seed, int parts, int threads, PartWriter writer) throws IOException {
        return generate(records, seed, parts, threads, DEFAULT_BLOCK_RECORDS, writer);
    }

    /**
     * Generates the records and hands them to {@code writer}; returns their count, bytes and checksum. The first
     * failure of the writer stops the other workers and is rethrown as it was thrown.
     */
    public static GenerateSummary generate(long records, long seed, int parts, int threads, int blockRecords, PartWriter writer)
            throws IOException {
        checkCounts(records, parts, threads);
        if (blockRecords < 1 || blockRecords > Integer.MAX_VALUE / RECORD_BYTES) {
            throw new IllegalArgumentException("block records must be in 1.." + Integer.MAX_VALUE / RECORD_BYTES + ": " + blockRecords);
        }
        Objects.requireNonNull(writer, "writer");
        RecordChecksum total = new RecordChecksum();
        AtomicInteger nextPart = new AtomicInteger();
        // More threads than parts would only idle.
        Workers.run(Math.min(threads, parts), "gensort-", failed -> {
            RecordChecksum mine = new RecordChecksum();
            try (Arena arena = Arena.ofConfined()) { // one buffer per worker, reused for all its blocks
                MemorySegment buf = arena.allocate((long) Math.min(blockRecords, Math.max(1, maxPart(records, parts))) * RECORD_BYTES, 64);
                for (int p; !failed.getAsBoolean() && (p = nextPart.getAndIncrement()) < parts; ) {
                    long start = partStart(records, parts, p);
                    long end = partStart(records, parts, p + 1);
                    writer.begin(p, start, end - start);
                    for (long o = start; o < end && !failed.getAsBoolean(); ) {
                        int n = (int) Math.min(buf.byteSize() / RECORD_BYTES, end - o);
                        MemorySegment block = buf.asSlice(0, n * (long) RECORD_BYTES);
                        GensortRecords.fill(block, o, n, seed);
                        mine.addRecords(block);
                        writer.write(p, block, n);
                        o += n;
                    }
                    if (!failed.getAsBoolean()) {
                        writer.end(p);
                    }
                }
            }
            synchronized (total) {
                total.merge(mine);
            }
        });
        return new GenerateSummary(records, records * RECORD_BYTES, total);
    }

    /**
     * Writes gensort binary files {@code part-00000.dat, part-00001.dat, ...} into {@code dir} (created if missing),
     * {@code files} of them with contiguous ordinal ranges. Each is written under a hidden temporary name and renamed
     * when complete, so a {@code part-*.dat} file is never partial; on failure the temporary files are removed.
     */
    public static GenerateSummary writeFiles(Path dir, long records, int files, long seed, int threads) throws IOException {
        Objects.requireNonNull(dir, "dir");
        checkCounts(records, files, threads);
        Files.createDirectories(dir);
        FileChannel[] open = new FileChannel[files];
        PartWriter writer = new PartWriter() {
            @Override
            public void begin(int part, long firstOrdinal, long recordCount) throws IOException {
                open[part] = FileChannel.open(temporary(dir, part), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE);
            }

            @Override
            public void write(int part, MemorySegment block, int recordCount) throws IOException {
                ByteBuffer buf = block.asByteBuffer();
                while (buf.hasRemaining()) {
                    open[part].write(buf);
                }
            }

            @Override
            public void end(int part) throws IOException {
                open[part].close();
                open[part] = null;
                moveIntoPlace(temporary(dir, part), fileName(dir, part));
            }
        };
        try {
            return generate(records, seed, files, threads, writer);
        } catch (IOException | RuntimeException | Error e) {
            for (int p = 0; p < files; p++) { // the workers have all stopped: nothing else touches these now
                try {
                    if (open[p] != null) {
                        open[p].close();
                    }
                    Files.deleteIfExists(temporary(dir, p));
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        }
    }

    /** The name of file {@code part} of {@link #writeFiles}: {@code part-00007.dat}. */
    public static Path fileName(Path dir, int part) {
        return dir.resolve(String.format("part-%05d.dat", part));
    }

    /** The first ordinal of part {@code p} (and the end of part {@code p-1}): the first {@code records % parts} parts get one extra. */
    public static long partStart(long records, int parts, int p) {
        long base = records / parts;
        long extra = records % parts;
        return p * base + Math.min(p, extra); // no overflow: at most records
    }

    private static long maxPart(long records, int parts) {
        return records / parts + (records % parts == 0 ? 0 : 1);
    }

    private static Path temporary(Path dir, int part) {
        return dir.resolve(String.format(".part-%05d.dat.tmp", part));
    }

    private static void moveIntoPlace(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void checkCounts(long records, int parts, int threads) {
        if (records < 0) {
            throw new IllegalArgumentException("record count must not be negative: " + records);
        }
        if (records > Long.MAX_VALUE / RECORD_BYTES) {
            throw new IllegalArgumentException(records + " records are more bytes than a long counts");
        }
        if (parts < 1) {
            throw new IllegalArgumentException("parts must be at least 1: " + parts);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
    }
}
