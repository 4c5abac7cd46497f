package io.infra4j.smallpond.graysort;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.smallpond.DuckConnection;
import io.infra4j.smallpond.DuckDb;
import io.infra4j.smallpond.Session;
import io.infra4j.smallpond.WriteSummary;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GraySort through smallpond: generated into Parquet, sorted by key range, validated; and the peer query. */
class GraySortTest {
    @TempDir
    Path dir;

    @Test
    void generateSortAndValidate() {
        try (Session s = Session.builder().workDir(dir.resolve("work")).parallelism(2).intermediateCompression("uncompressed").build()) {
            GenerateSummary gen = GraySort.generate(s, dir.resolve("input"), 30_011, 3, 7);
            assertEquals(30_011, gen.records());
            ValidationSummary unsorted = GraySort.validate(List.of(dir.resolve("input/part-00000.parquet")), 1);
            assertFalse(unsorted.sorted(), "generated keys are random");

            WriteSummary w = GraySort.sort(s, dir.resolve("input"), 3, 5, dir.resolve("sorted"));
            assertEquals(5, w.files().size());
            assertEquals(30_011, w.rows());
            ValidationSummary v = GraySort.validate(w.files(), 2);
            assertTrue(v.sorted(), v.toString());
            assertEquals(gen.records(), v.records());
            assertEquals(gen.checksum(), v.checksum());

            // the files out of order are not sorted as a whole
            ValidationSummary swapped = GraySort.validate(List.of(w.files().get(1), w.files().get(0)), 2);
            assertFalse(swapped.sorted());

            GraySort.sortWithOneQuery(dir.resolve("input"), dir.resolve("one.parquet"), 2, "1GB", "uncompressed");
            ValidationSummary one = GraySort.validate(List.of(dir.resolve("one.parquet")), 1);
            assertTrue(one.sorted());
            assertEquals(gen.checksum(), one.checksum());
        }
    }

    @Test
    void rangeExpressionPutsEachPrefixInItsRange() {
        Random random = new Random(3);
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            for (int partitions : new int[] {1, 2, 3, 7, 16, 33}) {
                for (int i = 0; i < 40; i++) {
                    long prefix = i == 0 ? 0 : i == 1 ? 0xFFFFFFFFL : random.nextLong() & 0xFFFFFFFFL;
                    if (i == 2) {
                        prefix = (((long) (partitions - 1) << 32) + partitions - 1) / partitions; // exactly a boundary
                    }
                    String key = String.format("'\\x%02X\\x%02X\\x%02X\\x%02X\\x55\\x00\\x00\\x00\\x00\\x00'::BLOB", prefix >>> 24, (prefix >>> 16) & 0xFF,
                            (prefix >>> 8) & 0xFF, prefix & 0xFF);
                    Object got = c.query("SELECT " + GraySort.rangeExpression(partitions).replace("key", key)).rows().get(0)[0];
                    assertEquals(prefix * partitions >>> 32, ((Number) got).longValue(), "prefix " + Long.toHexString(prefix) + " of " + partitions);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> GraySort.rangeExpression(0));
        assertThrows(IllegalArgumentException.class, () -> GraySort.records(150));
    }
}
