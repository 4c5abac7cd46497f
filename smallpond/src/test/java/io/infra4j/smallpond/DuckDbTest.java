package io.infra4j.smallpond;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DuckDB's C API through FFM: values of each type, errors, settings, files, and no growth over many queries. */
class DuckDbTest {
    @TempDir
    Path dir;

    @Test
    void theLibraryAnswersWithItsVersion() {
        assertTrue(DuckDb.version().startsWith("v"), DuckDb.version());
    }

    @Test
    void valuesOfEachTypeComeBackAsJavaValues() {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults().threads(2)); DuckConnection c = db.connect()) {
            QueryResult r = c.query("""
                    SELECT true AS b, 7::TINYINT AS t, -300::SMALLINT AS s, 123456::INTEGER AS i, 1234567890123::BIGINT AS l,
                           1.5::FLOAT AS f, 2.25::DOUBLE AS d, 'short' AS v, 'a string longer than twelve bytes' AS w,
                           DATE '2026-11-29' AS day, TIMESTAMP '2026-11-29 12:34:56.789' AS ts, NULL::INTEGER AS n, '\\x01\\x02'::BLOB AS blob,
                           (-170141183460469231731687303715884105727)::HUGEINT AS h
                    """);
            assertEquals(List.of("b", "t", "s", "i", "l", "f", "d", "v", "w", "day", "ts", "n", "blob", "h"), r.columns());
            assertEquals(List.of("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "VARCHAR", "VARCHAR", "DATE",
                    "TIMESTAMP", "INTEGER", "BLOB", "HUGEINT"), r.types());
            Object[] row = r.rows().get(0);
            assertEquals(true, row[0]);
            assertEquals((byte) 7, row[1]);
            assertEquals((short) -300, row[2]);
            assertEquals(123456, row[3]);
            assertEquals(1234567890123L, row[4]);
            assertEquals(1.5f, row[5]);
            assertEquals(2.25, row[6]);
            assertEquals("short", row[7]);
            assertEquals("a string longer than twelve bytes", row[8]);
            assertEquals(LocalDate.of(2026, 11, 29), row[9]);
            assertEquals(LocalDateTime.of(2026, 11, 29, 12, 34, 56, 789_000_000), row[10]);
            assertNull(row[11]);
            assertArrayEquals(new byte[] {1, 2}, (byte[]) row[12]);
            assertEquals(new java.math.BigInteger("-170141183460469231731687303715884105727"), row[13]);
        }
    }

    @Test
    void manyRowsCrossChunks() {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            QueryResult r = c.query("SELECT i, i % 7 = 0 AS seventh, CASE WHEN i % 5 = 0 THEN NULL ELSE 'x' || i END AS s FROM range(5000) t(i)");
            assertEquals(5000, r.rowCount());
            for (int i = 0; i < 5000; i++) {
                Object[] row = r.rows().get(i);
                assertEquals((long) i, row[0]);
                assertEquals(i % 7 == 0, row[1]);
                assertEquals(i % 5 == 0 ? null : "x" + i, row[2]);
            }
        }
    }

    @Test
    void duckDbsErrorsNameTheQuery() {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            DuckDbException e = assertThrows(DuckDbException.class, () -> c.query("SELECT * FROM no_such_table"));
            assertTrue(e.getMessage().contains("no_such_table") && e.getMessage().contains("(query: SELECT * FROM no_such_table)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> c.query(" "));
            assertEquals(1, c.query("SELECT 1").rowCount(), "the connection works after an error");
        }
        DuckDbException setting = assertThrows(DuckDbException.class, () -> DuckDb.inMemory(DuckDb.Config.defaults().with("no_such_setting", "1")));
        assertTrue(setting.getMessage().contains("no_such_setting"), setting.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DuckDb.Config.defaults().threads(0));
    }

    @Test
    void preparedQueriesRunWithNewParameters() {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            c.query("CREATE TABLE t (k BIGINT, v VARCHAR, x DOUBLE, b BOOLEAN)");
            try (PreparedQuery insert = c.prepare("INSERT INTO t VALUES (?, ?, ?, ?)")) {
                assertEquals(4, insert.parameterCount());
                for (int i = 0; i < 50; i++) {
                    insert.execute(i, i % 3 == 0 ? null : "v" + i, i / 2.0, i % 2 == 0);
                }
                assertThrows(IllegalArgumentException.class, () -> insert.execute(1, "x"));
                assertThrows(IllegalArgumentException.class, () -> insert.execute(1, new Object(), 1.0, true));
            }
            try (PreparedQuery q = c.prepare("SELECT count(*), sum(k), count(v) FROM t WHERE b = $1 AND x >= $2")) {
                Object[] row = q.execute(true, 10.0).rows().get(0);
                assertEquals(15L, row[0]); // k = 20, 22, ..., 48
                assertEquals(java.math.BigInteger.valueOf(510), row[1]); // sum(BIGINT) is a HUGEINT
                assertEquals(10L, row[2]); // the k divisible by 3 have no v
            }
            DuckDbException bad = assertThrows(DuckDbException.class, () -> c.prepare("SELECT * FROM missing WHERE a = ?"));
            assertTrue(bad.getMessage().contains("missing"), bad.getMessage());
        }
    }

    @Test
    void aDatabaseFileKeepsItsTables() throws Exception {
        Path file = dir.resolve("db.duckdb");
        try (DuckDb db = DuckDb.open(file, DuckDb.Config.defaults().memoryLimit("512MB").tempDirectory(dir)); DuckConnection c = db.connect()) {
            c.query("CREATE TABLE t AS SELECT i FROM range(10) r(i)");
            assertEquals(3L, c.query("DELETE FROM t WHERE i < 3").rowsChanged());
        }
        assertTrue(Files.size(file) > 0);
        try (DuckDb db = DuckDb.open(file, DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            assertEquals(7L, c.query("SELECT count(*) FROM t").rows().get(0)[0]);
        }
        DuckConnection[] closed = new DuckConnection[1];
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults())) {
            closed[0] = db.connect();
            closed[0].close();
            assertThrows(IllegalStateException.class, () -> closed[0].query("SELECT 1"));
        }
    }

    @Test
    void tenThousandQueriesLeaveNoNativeMemoryBehind() throws Throwable {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults().threads(1)); DuckConnection c = db.connect()) {
            for (int i = 0; i < 2000; i++) {
                c.query("SELECT i, 'row ' || i || ' with a longer string' FROM range(20) t(i)");
            }
            // malloc'd bytes in use, exact; the resident size also grows with the Java heap's young generation
            // (more so after a test class that made much garbage), so it is a looser bound (NativeMemory).
            long before = residentBytes();
            long mallocBefore = NativeMemory.mallocInUse();
            for (int i = 0; i < 10_000; i++) {
                c.query("SELECT i, 'row ' || i || ' with a longer string' FROM range(20) t(i)");
            }
            long malloced = NativeMemory.mallocInUse() - mallocBefore;
            assertTrue(malloced < 32L << 20, "malloc'd memory in use grew by " + (malloced >> 20) + " MiB over 10k queries");
            long grown = residentBytes() - before;
            assertTrue(grown < 128L << 20, "resident memory grew by " + (grown >> 20) + " MiB over 10k queries");
        }
    }

    private static long residentBytes() throws Exception {
        String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split(" ");
        return Long.parseLong(f[1]) * 4096;
    }
}
