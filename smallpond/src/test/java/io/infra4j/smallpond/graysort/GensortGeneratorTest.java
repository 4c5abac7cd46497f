package io.infra4j.smallpond.graysort;

import static io.infra4j.smallpond.graysort.GensortRecords.RECORD_BYTES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Parallel generation in parts: the union of the parts is the sequential generation. */
class GensortGeneratorTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"10000, 1, 1, 65536", "10000, 7, 2, 333", "10001, 4, 3, 1000", "0, 3, 2, 100", "5, 9, 2, 2", "1, 1, 4, 1"})
    void partsTogetherAreTheSequentialRecords(long records, int parts, int threads, int block) throws IOException {
        ConcurrentHashMap<Integer, List<byte[]>> blocks = new ConcurrentHashMap<>();
        ConcurrentHashMap<Integer, long[]> ranges = new ConcurrentHashMap<>();
        AtomicInteger ended = new AtomicInteger();
        GenerateSummary s = GensortGenerator.generate(records, 99, parts, threads, block, new GensortGenerator.PartWriter() {
            @Override
            public void begin(int part, long firstOrdinal, long recordCount) {
                ranges.put(part, new long[] {firstOrdinal, recordCount});
                blocks.put(part, new ArrayList<>());
            }

            @Override
            public void write(int part, MemorySegment b, int n) {
                assertTrue(n >= 1 && n <= block && b.byteSize() == (long) n * RECORD_BYTES);
                blocks.get(part).add(b.toArray(ValueLayout.JAVA_BYTE));
            }

            @Override
            public void end(int part) {
                ended.incrementAndGet();
            }
        });
        assertEquals(parts, ended.get());
        assertEquals(records, s.records());
        assertEquals(records * RECORD_BYTES, s.bytes());
        byte[] sequential = GensortRecords.generate(0, (int) records, 99);
        assertEquals(new RecordChecksum().addRecords(MemorySegment.ofArray(sequential)), s.checksum());
        var joined = new java.io.ByteArrayOutputStream();
        long expectedStart = 0;
        for (int p = 0; p < parts; p++) {
            assertEquals(expectedStart, ranges.get(p)[0]);
            long size = ranges.get(p)[1];
            assertTrue(size == records / parts || size == records / parts + 1, "even split");
            expectedStart += size;
            blocks.get(p).forEach(joined::writeBytes);
        }
        assertEquals(records, expectedStart);
        assertArrayEquals(sequential, joined.toByteArray());
    }

    @Test
    void writesFilesThatValidateWithTheSameChecksum() throws IOException {
        GenerateSummary s = GensortGenerator.writeFiles(dir.resolve("out"), 12345, 4, 5, 2);
        List<Path> files = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            files.add(GensortGenerator.fileName(dir.resolve("out"), p));
        }
        try (Stream<Path> listed = Files.list(dir.resolve("out"))) {
            assertEquals(files.stream().map(Path::getFileName).sorted().toList(), listed.map(Path::getFileName).sorted().toList());
        }
        ValidationSummary v = SortValidator.validateFiles(files, 2);
        assertEquals(12345, v.records());
        assertEquals(s.checksum(), v.checksum());
        assertFalse(v.sorted()); // generated, not sorted yet
        assertArrayEquals(GensortRecords.generate(0, 12345, 5), files.stream().map(GensortGeneratorTest::read)
                .reduce(new byte[0], (a, b) -> { byte[] c = java.util.Arrays.copyOf(a, a.length + b.length); System.arraycopy(b, 0, c, a.length, b.length); return c; }));
    }

    @Test
    void moreFilesThanRecordsGivesEmptyFiles() throws IOException {
        GensortGenerator.writeFiles(dir, 2, 3, 1, 2);
        assertEquals(RECORD_BYTES, Files.size(GensortGenerator.fileName(dir, 0)));
        assertEquals(RECORD_BYTES, Files.size(GensortGenerator.fileName(dir, 1)));
        assertEquals(0, Files.size(GensortGenerator.fileName(dir, 2)));
    }

    @Test
    void aWriterFailureStopsGenerationAndLeavesNoTemporaryFiles() throws IOException {
        IOException boom = new IOException("disk full");
        AtomicInteger calls = new AtomicInteger();
        IOException thrown = assertThrows(IOException.class, () -> GensortGenerator.generate(1_000_000, 1, 100, 2, 100, (p, b, n) -> {
            calls.incrementAndGet();
            throw boom;
        }));
        assertSame(boom, thrown);
        assertTrue(calls.get() <= 2, "stopped after the first failures: " + calls.get());

        Path blocked = dir.resolve("x");
        Files.createDirectories(GensortGenerator.fileName(blocked, 1)); // part 1 cannot be renamed onto a non-empty directory
        Files.createFile(GensortGenerator.fileName(blocked, 1).resolve("keep"));
        assertThrows(IOException.class, () -> GensortGenerator.writeFiles(blocked, 1000, 2, 1, 1));
        try (Stream<Path> listed = Files.list(blocked)) {
            assertTrue(listed.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeAnyWork() {
        GensortGenerator.PartWriter never = (p, b, n) -> { throw new AssertionError("no work expected"); };
        assertThrows(IllegalArgumentException.class, () -> GensortGenerator.generate(-1, 0, 1, 1, never));
        assertThrows(IllegalArgumentException.class, () -> GensortGenerator.generate(10, 0, 0, 1, never));
        assertThrows(IllegalArgumentException.class, () -> GensortGenerator.generate(10, 0, 1, 0, never));
        assertThrows(IllegalArgumentException.class, () -> GensortGenerator.generate(10, 0, 1, 1, 0, never));
        assertThrows(IllegalArgumentException.class, () -> GensortGenerator.writeFiles(dir, -3, 1, 0, 1));
        assertThrows(NullPointerException.class, () -> GensortGenerator.generate(10, 0, 1, 1, null));
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
