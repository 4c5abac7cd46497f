package io.infra4j.smallpond.graysort;

import static io.infra4j.smallpond.graysort.GensortRecords.LONG_BE;
import static io.infra4j.smallpond.graysort.GensortRecords.RECORD_BYTES;
import static io.infra4j.smallpond.graysort.GensortRecords.SHORT_BE;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Streaming valsort-like check: feed the records in their claimed sorted order (across any number of files or
 * partitions) and read the {@link #summary()}. Keys compare as unsigned bytes, left to right.
 *
 * <p>Not thread-safe. To check parts in parallel, give each part its own validator and join them in order with
 * {@link #then(SortValidator)}, which also compares the keys at each boundary.
 */
public final class SortValidator {
    /** Bytes mapped at a time when reading files: a whole number of records, large enough to amortise the mapping. */
    static final long FILE_BLOCK_BYTES = 640_000L * RECORD_BYTES;

    private final RecordChecksum checksum = new RecordChecksum();
    private long records;
    private long unordered;
    private long duplicates;
    private long firstUnordered = -1;
    // A key as a big-endian long (bytes 0..7) and the unsigned value of bytes 8..9: compares like the bytes do.
    private long firstHigh;
    private int firstLow;
    private long lastHigh;
    private int lastLow;

    /** Accepts the next record, given whole (100 bytes). */
    public void accept(MemorySegment record) {
        RecordChecksum.requireSize(record, RECORD_BYTES, "record");
        checksum.add(record);
        nextKey(record.get(LONG_BE, 0), record.get(SHORT_BE, 8) & 0xFFFF);
    }

    /** Accepts the next record, given as its 10-byte key and 90-byte payload. */
    public void accept(MemorySegment key, MemorySegment payload) {
        checksum.add(key, payload); // checks both sizes
        nextKey(key.get(LONG_BE, 0), key.get(SHORT_BE, 8) & 0xFFFF);
    }

    /** Accepts a block of whole records, in order. */
    public void acceptRecords(MemorySegment block) {
        checksum.addRecords(block); // checks the size is a whole number of records
        for (long off = 0, size = block.byteSize(); off < size; off += RECORD_BYTES) {
            nextKey(block.get(LONG_BE, off), block.get(SHORT_BE, off + 8) & 0xFFFF);
        }
    }

    private void nextKey(long high, int low) {
        if (records == 0) {
            firstHigh = high;
            firstLow = low;
        } else {
            compareWithLast(high, low, records);
        }
        lastHigh = high;
        lastLow = low;
        records++;
    }

    private void compareWithLast(long high, int low, long position) {
        int c = Long.compareUnsigned(lastHigh, high);
        if (c == 0) {
            c = Integer.compare(lastLow, low);
        }
        if (c > 0) {
            if (unordered++ == 0) {
                firstUnordered = position;
            }
        } else if (c == 0) {
            duplicates++;
        }
    }

    /**
     * Appends what {@code next} saw (the records directly following this validator's) to this one, counting the
     * boundary pair between this one's last key and {@code next}'s first.
     */
    public SortValidator then(SortValidator next) {
        Objects.requireNonNull(next, "next");
        if (next == this) {
            throw new IllegalArgumentException("a validator cannot follow itself");
        }
        if (next.records == 0) {
            return this;
        }
        if (records == 0) {
            firstHigh = next.firstHigh;
            firstLow = next.firstLow;
        } else {
            compareWithLast(next.firstHigh, next.firstLow, records);
        }
        if (next.unordered > 0 && unordered == 0) {
            firstUnordered = records + next.firstUnordered;
        }
        unordered += next.unordered;
        duplicates += next.duplicates;
        checksum.merge(next.checksum);
        records += next.records;
        lastHigh = next.lastHigh;
        lastLow = next.lastLow;
        return this;
    }

    public ValidationSummary summary() {
        return new ValidationSummary(records, checksum, unordered, duplicates, firstUnordered);
    }

    /** {@link #validateFiles(List, int)} on one thread. */
    public static ValidationSummary validateFiles(List<Path> filesInOrder) throws IOException {
        return validateFiles(filesInOrder, 1);
    }

    /**
     * Validates gensort binary files whose concatenation, in the given order, should be sorted. Each file is read
     * through memory maps of {@value #FILE_BLOCK_BYTES} bytes; files are spread over {@code threads} threads and
     * their results joined in order.
     *
     * @throws NoSuchFileException when a file is missing, before any file is read
     * @throws IllegalArgumentException when a file's length is not a whole number of records, before any file is read
     */
    public static ValidationSummary validateFiles(List<Path> filesInOrder, int threads) throws IOException {
        Objects.requireNonNull(filesInOrder, "filesInOrder");
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        List<Path> files = List.copyOf(filesInOrder);
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new NoSuchFileException(f.toString(), null, "not a regular file or missing");
            }
            long size = Files.size(f);
            if (size % RECORD_BYTES != 0) {
                throw new IllegalArgumentException(f + ": " + size + " bytes is not a whole number of " + RECORD_BYTES
                        + "-byte records (" + size % RECORD_BYTES + " bytes left over)");
            }
        }
        SortValidator[] parts = new SortValidator[files.size()];
        AtomicInteger next = new AtomicInteger();
        Workers.run(Math.min(threads, Math.max(1, files.size())), "valsort-", failed -> {
            for (int i; !failed.getAsBoolean() && (i = next.getAndIncrement()) < parts.length; ) {
                parts[i] = validateFile(files.get(i));
            }
        });
        SortValidator all = new SortValidator();
        for (SortValidator p : parts) {
            all.then(p);
        }
        return all.summary();
    }

    private static SortValidator validateFile(Path file) throws IOException {
        SortValidator v = new SortValidator();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            for (long pos = 0; pos < size; pos += FILE_BLOCK_BYTES) {
                long n = Math.min(FILE_BLOCK_BYTES, size - pos);
                try (Arena arena = Arena.ofConfined()) { // closing the arena unmaps the block now, not at GC
                    v.acceptRecords(ch.map(FileChannel.MapMode.READ_ONLY, pos, n, arena));
                }
            }
        }
        return v;
    }
}
