package io.infra4j.smallpond.graysort;

import static io.infra4j.smallpond.graysort.GensortRecords.KEY_BYTES;
import static io.infra4j.smallpond.graysort.GensortRecords.PAYLOAD_BYTES;
import static io.infra4j.smallpond.graysort.GensortRecords.RECORD_BYTES;

import io.infra4j.smallpond.DataFrame;
import io.infra4j.smallpond.DuckConnection;
import io.infra4j.smallpond.DuckDb;
import io.infra4j.smallpond.Session;
import io.infra4j.smallpond.StageTiming;
import io.infra4j.smallpond.WriteSummary;
import io.infra4j.smallpond.arrow.ArrowBatch;
import io.infra4j.smallpond.arrow.ArrowBatchBuilder;
import io.infra4j.smallpond.arrow.ArrowColumn;
import io.infra4j.smallpond.arrow.ArrowField;
import io.infra4j.smallpond.ArrowReader;
import io.infra4j.smallpond.arrow.ArrowType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

/**
 * GraySort through smallpond: records generated in Java straight into Parquet (a key column of 10 bytes and a
 * payload column of 90), then sorted as smallpond sorts them: every input partition cuts its rows into
 * {@code partitions} key ranges (by the key's first four bytes, keys being uniform), then every range is sorted
 * on its own and written; the ranges in order are the sorted whole. A validator reads the output back in order
 * and checks order, count and the order-independent checksum against the generator's.
 */
public final class GraySort {
    /** The generated table: key BLOB (10 bytes), payload BLOB (90 bytes). */
    public static final List<ArrowField> SCHEMA = List.of(new ArrowField("key", ArrowType.Primitive.BINARY, false),
            new ArrowField("payload", ArrowType.Primitive.BINARY, false));

    private static final int BLOCK_RECORDS = 64 * 1024;

    private GraySort() {}

    /** Records of {@code bytes} (a multiple of 100). */
    public static long records(long bytes) {
        if (bytes <= 0 || bytes % RECORD_BYTES != 0) {
            throw new IllegalArgumentException("size: expected a positive multiple of " + RECORD_BYTES + " bytes (whole records), got " + bytes);
        }
        return bytes / RECORD_BYTES;
    }

    /**
     * Generates {@code records} records (seed {@code seed}) as {@code files} Parquet files in {@code dir}, one
     * task per file through the session; returns their count, bytes and checksum.
     */
    public static GenerateSummary generate(Session session, Path dir, long records, int files, long seed) {
        if (records < 0 || files < 1) {
            throw new IllegalArgumentException("generate: expected records >= 0 and files >= 1, got " + records + " and " + files);
        }
        RecordChecksum total = new RecordChecksum();
        List<List<Object>> parts = IntStream.range(0, files).mapToObj(p -> List.<Object>of(p)).toList();
        session.fromRows("part INTEGER", parts).repartitionByValue(files, "part").mapBatches("gensort seed " + seed + " records " + records, SCHEMA,
                (in, out) -> {
                    for (int r = 0; r < in.rowCount(); r++) {
                        int part = in.column(0).getInt(r);
                        RecordChecksum mine = generatePart(records, files, part, seed, out);
                        synchronized (total) {
                            total.merge(mine);
                        }
                    }
                }).writeParquet(dir);
        return new GenerateSummary(records, records * RECORD_BYTES, total);
    }

    private static RecordChecksum generatePart(long records, int files, int part, long seed, java.util.function.Consumer<ArrowBatch> out) {
        RecordChecksum sum = new RecordChecksum();
        long first = GensortGenerator.partStart(records, files, part);
        long end = GensortGenerator.partStart(records, files, part + 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate((long) BLOCK_RECORDS * RECORD_BYTES);
            for (long at = first; at < end; at += BLOCK_RECORDS) {
                int n = (int) Math.min(BLOCK_RECORDS, end - at);
                MemorySegment recs = block.asSlice(0, (long) n * RECORD_BYTES);
                GensortRecords.fill(recs, at, n, seed);
                sum.addRecords(recs);
                ArrowBatchBuilder b = ArrowBatch.builder(SCHEMA);
                ArrowBatchBuilder.Column keys = b.column(0);
                ArrowBatchBuilder.Column payloads = b.column(1);
                for (int i = 0; i < n; i++) {
                    long off = (long) i * RECORD_BYTES;
                    keys.appendBytes(recs, off, KEY_BYTES);
                    payloads.appendBytes(recs, off + KEY_BYTES, PAYLOAD_BYTES);
                }
                out.accept(b.build());
            }
        }
        return sum;
    }

    /**
     * The partition of a key, 0 to {@code partitions - 1}: the range its first four bytes fall in, ranges of equal
     * width (keys are uniform). A binary search over the range boundaries as blob comparisons, which DuckDB runs
     * as short memcmps, where a conversion of the key's bytes to a number would go through hex text.
     */
    public static String rangeExpression(int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions: expected at least 1, got " + partitions);
        }
        return bucket(0, partitions, partitions);
    }

    private static String bucket(int lo, int hi, int partitions) {
        if (hi - lo == 1) {
            return Integer.toString(lo);
        }
        int mid = (lo + hi) >>> 1;
        return "CASE WHEN key < " + boundary(mid, partitions) + " THEN " + bucket(lo, mid, partitions) + " ELSE " + bucket(mid, hi, partitions) + " END";
    }

    // The smallest 4-byte prefix of range i, as a blob literal: keys starting with it sort at or after it.
    static String boundary(int i, int partitions) {
        long start = (((long) i << 32) + partitions - 1) / partitions;
        StringBuilder sb = new StringBuilder("'");
        for (int b = 3; b >= 0; b--) {
            sb.append(String.format("\\x%02X", (start >>> (8 * b)) & 0xFF));
        }
        return sb.append("'::BLOB").toString();
    }

    /** The sort as a DataFrame: input files dealt to partitions, cut into key ranges, each range sorted. */
    public static DataFrame sortPlan(Session session, Path input, int inputPartitions, int partitions) {
        return session.readParquet(input.resolve("*.parquet").toString()).repartition(inputPartitions)
                .repartitionByValue(partitions, rangeExpression(partitions)).partialSql("SELECT key, payload FROM {0} ORDER BY key");
    }

    /** Sorts the Parquet records in {@code input} into {@code partitions} files in {@code output}. */
    public static WriteSummary sort(Session session, Path input, int inputPartitions, int partitions, Path output) {
        return sortPlan(session, input, inputPartitions, partitions).writeParquet(output);
    }

    /** The one-query peer: DuckDB sorting everything at once ({@code COPY (SELECT ... ORDER BY key) TO ...}). */
    public static double sortWithOneQuery(Path input, Path outputFile, int threads, String memoryLimit, String compression) {
        DuckDb.Config config = DuckDb.Config.defaults().threads(threads).tempDirectory(outputFile.resolveSibling("spill-one-query"));
        if (memoryLimit != null) {
            config = config.memoryLimit(memoryLimit);
        }
        long start = System.nanoTime();
        try (DuckDb db = DuckDb.inMemory(config); DuckConnection c = db.connect()) {
            c.query("COPY (SELECT key, payload FROM read_parquet('" + input.resolve("*.parquet") + "') ORDER BY key) TO '" + outputFile
                    + "' (FORMAT parquet, COMPRESSION " + compression + ")");
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Reads {@code filesInOrder} (Parquet with key and payload) and checks that the records are in key order
     * across all of them; files are read in parallel, each with its own validator, joined in order.
     */
    public static ValidationSummary validate(List<Path> filesInOrder, int threads) {
        if (filesInOrder.isEmpty()) {
            return new SortValidator().summary();
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, filesInOrder.size())));
        try {
            List<Future<SortValidator>> parts = new ArrayList<>();
            for (Path f : filesInOrder) {
                parts.add(pool.submit(() -> validateOne(f)));
            }
            SortValidator joined = null;
            for (Future<SortValidator> p : parts) {
                SortValidator v = p.get();
                joined = joined == null ? v : joined.then(v);
            }
            return joined.summary();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while validating", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("validation of the sorted files failed: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static SortValidator validateOne(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("validate: no file " + file);
        }
        SortValidator v = new SortValidator();
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults().threads(1)); DuckConnection c = db.connect();
                ArrowReader reader = c.queryArrow("SELECT key, payload FROM read_parquet('" + file + "')")) {
            while (reader.hasNext()) {
                try (ArrowBatch b = reader.next()) {
                    ArrowColumn keys = b.column(0);
                    ArrowColumn payloads = b.column(1);
                    for (int r = 0; r < b.rowCount(); r++) {
                        v.accept(keys.valueSegment(r), payloads.valueSegment(r));
                    }
                }
            }
        }
        return v;
    }

    /** Seconds of the stages a run spent, by name. */
    public static String describe(List<StageTiming> stages) {
        StringBuilder sb = new StringBuilder();
        for (StageTiming t : stages) {
            sb.append(String.format("%s: %d task(s), %.2f s%n", t.name(), t.tasks(), t.seconds()));
        }
        return sb.toString();
    }
}
