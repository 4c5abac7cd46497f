package io.infra4j.smallpond.graysort;

import static io.infra4j.smallpond.graysort.GensortRecords.RECORD_BYTES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The valsort-like validator, in memory and on files. */
class ValsortValidatorTest {
    @TempDir
    Path dir;

    /** Records sorted by unsigned key, in Java, as the reference a sort must match. */
    static List<byte[]> sortedRecords(int n, long seed) {
        byte[] all = GensortRecords.generate(0, n, seed);
        List<byte[]> recs = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            recs.add(Arrays.copyOfRange(all, r * RECORD_BYTES, (r + 1) * RECORD_BYTES));
        }
        recs.sort((a, b) -> Arrays.compareUnsigned(a, 0, 10, b, 0, 10));
        return recs;
    }

    static ValidationSummary validate(List<byte[]> recs) {
        SortValidator v = new SortValidator();
        recs.forEach(r -> v.accept(MemorySegment.ofArray(r)));
        return v.summary();
    }

    @Test
    void sortedRecordsPassWithTheGeneratorsChecksum() throws IOException {
        GenerateSummary gen = GensortGenerator.generate(3000, 11, 3, 2, (p, b, n) -> {});
        List<byte[]> recs = sortedRecords(3000, 11);
        ValidationSummary s = validate(recs);
        assertTrue(s.sorted());
        assertEquals(3000, s.records());
        assertEquals(gen.checksum(), s.checksum());
        assertEquals(0, s.duplicates());
        assertEquals(-1, s.firstUnorderedRecord());

        SortValidator split = new SortValidator(); // the key/payload form, as a sorted table stores records
        recs.forEach(r -> split.accept(MemorySegment.ofArray(r).asSlice(0, 10), MemorySegment.ofArray(r).asSlice(10, 90)));
        assertEquals(s, split.summary());
    }

    @Test
    void aSwappedPairIsOneUnorderedPairAtItsPosition() {
        List<byte[]> recs = sortedRecords(1000, 12);
        byte[] t = recs.get(400);
        recs.set(400, recs.get(401));
        recs.set(401, t);
        ValidationSummary s = validate(recs);
        assertFalse(s.sorted());
        assertEquals(1, s.unordered());
        assertEquals(401, s.firstUnorderedRecord());
        assertEquals(validate(sortedRecords(1000, 12)).checksum(), s.checksum());
    }

    @Test
    void droppedOrDuplicatedRecordsChangeCountAndChecksum() {
        List<byte[]> good = sortedRecords(1000, 13);
        ValidationSummary ok = validate(good);
        List<byte[]> dropped = new ArrayList<>(good);
        dropped.remove(500);
        ValidationSummary d = validate(dropped);
        assertEquals(999, d.records());
        assertNotEquals(ok.checksum(), d.checksum());
        assertTrue(d.sorted());

        List<byte[]> duplicated = new ArrayList<>(good);
        duplicated.add(500, good.get(500));
        ValidationSummary u = validate(duplicated);
        assertEquals(1001, u.records());
        assertNotEquals(ok.checksum(), u.checksum());
        assertEquals(1, u.duplicates());
        assertTrue(u.sorted());
    }

    @Test
    void joiningPartsInOrderEqualsOneValidator() {
        List<byte[]> recs = sortedRecords(900, 14);
        byte[] t = recs.get(300); // an unordered pair right at the boundary of the 2nd and 3rd part
        recs.set(300, recs.get(299));
        recs.set(299, t);
        SortValidator joined = new SortValidator();
        for (int from = 0; from < 900; from += 150) {
            joined.then(new SortValidator()); // an empty part changes nothing
            SortValidator part = new SortValidator();
            recs.subList(from, from + 150).forEach(r -> part.accept(MemorySegment.ofArray(r)));
            joined.then(part);
        }
        assertEquals(validate(recs), joined.summary());
        assertEquals(300, joined.summary().firstUnorderedRecord()); // the first record of the third part
        assertEquals(1, joined.summary().unordered());
    }

    @Test
    void filesRoundTripAndBadFilesAreRefusedBeforeReading() throws IOException {
        List<byte[]> recs = sortedRecords(2500, 15);
        List<Path> files = new ArrayList<>();
        for (int f = 0; f < 3; f++) { // uneven files: 1000, 1000, 500 records, plus an empty one
            Path p = dir.resolve("sorted-" + f);
            try (var out = Files.newOutputStream(p)) {
                for (byte[] r : recs.subList(f * 1000, Math.min(2500, f * 1000 + 1000))) {
                    out.write(r);
                }
            }
            files.add(p);
        }
        Path empty = Files.createFile(dir.resolve("empty"));
        files.add(1, empty);
        assertEquals(validate(recs), SortValidator.validateFiles(files));
        assertEquals(validate(recs), SortValidator.validateFiles(files, 3));

        Path bad = dir.resolve("bad");
        Files.write(bad, new byte[250]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SortValidator.validateFiles(List.of(files.get(0), bad)));
        assertTrue(e.getMessage().contains("bad") && e.getMessage().contains("250"), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> SortValidator.validateFiles(List.of(files.get(0), dir.resolve("missing"))));
        assertThrows(IllegalArgumentException.class, () -> SortValidator.validateFiles(files, 0));
    }

    @Test
    void wrongRecordSizesAreRefused() {
        SortValidator v = new SortValidator();
        assertThrows(IllegalArgumentException.class, () -> v.accept(MemorySegment.ofArray(new byte[99])));
        assertThrows(IllegalArgumentException.class, () -> v.accept(MemorySegment.ofArray(new byte[10]), MemorySegment.ofArray(new byte[89])));
        assertThrows(IllegalArgumentException.class, () -> v.acceptRecords(MemorySegment.ofArray(new byte[150])));
        assertEquals(0, v.summary().records());
    }
}
