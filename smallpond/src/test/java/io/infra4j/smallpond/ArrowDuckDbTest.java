package io.infra4j.smallpond;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.ResourceTracker;
import io.infra4j.smallpond.arrow.ArrowBatch;
import io.infra4j.smallpond.arrow.ArrowBatchBuilder;
import io.infra4j.smallpond.arrow.ArrowCData;
import io.infra4j.smallpond.arrow.ArrowField;
import io.infra4j.smallpond.arrow.ArrowType;
import io.infra4j.smallpond.arrow.ArrowType.TimeUnit;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Arrow batches out of DuckDB (queryArrow) and into it (appendArrow), compared value by value with query(). */
class ArrowDuckDbTest {
    // Every type queryArrow supports, with NULLs in a different pattern a column, over more than two chunks.
    static final String ALL_TYPES = """
            SELECT i AS k, (i % 2 = 0) AS b, (i % 100 - 50)::TINYINT AS i8, (i * 7 - 10000)::SMALLINT AS i16, (i * 1000 - 2000000)::INTEGER AS i32,
                   (i * 1000000007 - 99)::BIGINT AS i64, (i % 250)::UTINYINT AS u8, (i * 11)::USMALLINT AS u16, (i * 400000)::UINTEGER AS u32,
                   (i::UBIGINT * 3000000000000000) AS u64, (i / 4)::FLOAT AS f32, (i / 3)::DOUBLE AS f64,
                   'str ' || i || repeat('x', i % 20) AS s, ('\\x00\\xFF' || i::VARCHAR)::BLOB AS bin, DATE '1969-12-25' + i::INTEGER AS day,
                   TIMESTAMP '1969-12-31 23:59:00' + to_microseconds(i * 1234567) AS ts, TIMESTAMP_S '2001-02-03 04:05:06' AS ts_s,
                   TIMESTAMP_MS '2001-02-03 04:05:06.789' AS ts_ms, TIMESTAMP_NS '2001-02-03 04:05:06.123456789' AS ts_ns,
                   TIMESTAMPTZ '2026-11-29 12:34:56.5+00' + to_seconds(i) AS tz, TIME '00:00:01' + to_microseconds(i * 3) AS t,
                   (i * 1.001)::DECIMAL(9,3) AS dec9, (i * -123456789.123)::DECIMAL(18,3) AS dec18,
                   (i::HUGEINT * 1000000000000000000000 + 0.5)::DECIMAL(38,2) AS dec38, i::HUGEINT * 100000000000000000000 AS huge,
                   ('00000000-0000-0000-0000-' || lpad(i::VARCHAR, 12, '0'))::UUID AS u
            FROM range(5000) r(i)
            """;

    static String withNulls(String sql) {
        // Each column but k is NULL on rows where (k + its position) % 7 == 0.
        return "SELECT k, " + String.join(", ", nullable(sql)) + " FROM (" + sql + ")";
    }

    private static List<String> nullable(String sql) {
        List<String> out = new ArrayList<>();
        String[] cols = {"b", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "s", "bin", "day", "ts", "ts_s", "ts_ms", "ts_ns",
                "tz", "t", "dec9", "dec18", "dec38", "huge", "u"};
        for (int p = 0; p < cols.length; p++) {
            out.add("CASE WHEN (k + " + p + ") % 7 = 0 THEN NULL ELSE " + cols[p] + " END AS " + cols[p]);
        }
        return out;
    }

    @Test
    void queryArrowGivesWhatQueryGives() {
        String sql = withNulls(ALL_TYPES) + " ORDER BY k";
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            QueryResult expected = c.query(sql);
            int row = 0;
            int batches = 0;
            try (ArrowReader r = c.queryArrow(sql)) {
                assertEquals(expected.columns(), r.schema().stream().map(ArrowField::name).toList());
                assertEquals(ArrowType.decimal128(9, 3), r.schema().get(21).type());
                while (r.hasNext()) {
                    try (ArrowBatch b = r.next()) {
                        batches++;
                        assertTrue(b.rowCount() <= 2048);
                        for (int i = 0; i < b.rowCount(); i++, row++) {
                            Object[] want = expected.rows().get(row);
                            for (int col = 0; col < want.length; col++) {
                                assertSame(want[col], b.column(col).getObject(i), expected.columns().get(col) + " at row " + row);
                                assertEquals(want[col] == null, b.column(col).isNull(i));
                            }
                        }
                    }
                }
            }
            assertEquals(5000, row);
            assertTrue(batches >= 3, batches + " batches");
        }
    }

    /** The same value, as query() and Arrow give it: timestamps with a zone, HUGEINT, UUID and bytes differ in form only. */
    static void assertSame(Object want, Object got, String where) {
        if (want instanceof byte[] w) {
            assertArrayEquals(w, (byte[]) got, where);
        } else if (want instanceof OffsetDateTime odt && got instanceof Instant i) {
            assertEquals(odt.toInstant(), i, where);
        } else if (want instanceof BigInteger bi && got instanceof BigDecimal bd) {
            assertEquals(bi, bd.toBigIntegerExact(), where);
        } else if (want instanceof UUID u) {
            assertEquals(u.toString(), got, where);
        } else {
            assertEquals(want, got, where);
        }
    }

    @Test
    void batchesBuiltInJavaGoIntoTablesAndComeBack() {
        List<ArrowField> schema = List.of(new ArrowField("k", ArrowType.INT64, false), ArrowField.of("b", ArrowType.BOOL),
                ArrowField.of("i8", ArrowType.INT8), ArrowField.of("i16", ArrowType.INT16), ArrowField.of("i32", ArrowType.INT32),
                ArrowField.of("u8", ArrowType.UINT8), ArrowField.of("u16", ArrowType.UINT16), ArrowField.of("u32", ArrowType.UINT32),
                ArrowField.of("u64", ArrowType.UINT64), ArrowField.of("f32", ArrowType.FLOAT32), ArrowField.of("f64", ArrowType.FLOAT64),
                ArrowField.of("s", ArrowType.UTF8), ArrowField.of("ls", ArrowType.LARGE_UTF8), ArrowField.of("bin", ArrowType.BINARY),
                ArrowField.of("lbin", ArrowType.LARGE_BINARY), ArrowField.of("fix", ArrowType.fixedSizeBinary(4)),
                ArrowField.of("day", ArrowType.DATE32), ArrowField.of("ts", ArrowType.timestamp(TimeUnit.MICRO, null)),
                ArrowField.of("ts_ms", ArrowType.timestamp(TimeUnit.MILLI, null)), ArrowField.of("ts_ns", ArrowType.timestamp(TimeUnit.NANO, null)),
                ArrowField.of("tz", ArrowType.timestamp(TimeUnit.MICRO, "UTC")), ArrowField.of("t", ArrowType.time(TimeUnit.MICRO)),
                ArrowField.of("dec", ArrowType.decimal128(18, 3)), ArrowField.of("dec38", ArrowType.decimal128(38, 10)));
        int rows = 5000;
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect();
                ArrowBatchBuilder builder = ArrowBatch.builder(schema)) {
            for (int i = 0; i < rows; i++) {
                Object[] v = {(long) i, i % 3 == 0, (byte) (i % 128), (short) -i, i * 1000, (short) (i % 256), i % 65536, (long) i * 100000,
                        BigInteger.ONE.shiftLeft(63).add(BigInteger.valueOf(i)), i / 8f, i / 3.0, "s" + i + "é", "large " + i,
                        ("b" + i).getBytes(StandardCharsets.UTF_8), new byte[i % 5], new byte[] {1, 2, 3, (byte) i}, LocalDate.of(2000, 1, 1).plusDays(i),
                        LocalDateTime.of(1999, 12, 31, 23, 59, 59, 123_456_000).plusSeconds(i), LocalDateTime.of(2020, 1, 1, 0, 0, 0, 5_000_000),
                        LocalDateTime.of(2020, 1, 1, 0, 0, 0, 123_456_789), Instant.ofEpochSecond(1_700_000_000L + i, 250_000_000),
                        LocalTime.ofSecondOfDay(i * 17L), new BigDecimal(i).multiply(new BigDecimal("-1.5")),
                        new BigDecimal("1234567890123456789012345678.0123456789").add(BigDecimal.valueOf(i))};
                for (int col = 1; col < v.length; col++) {
                    if ((i + col) % 11 == 0) {
                        v[col] = null;
                    }
                }
                builder.addRow(v);
            }
            try (ArrowBatch batch = builder.build()) {
                c.createTable("t", schema);
                c.appendArrow("t", batch);
                QueryResult back = c.query("SELECT * FROM t ORDER BY k");
                assertEquals(rows, back.rowCount());
                assertEquals(List.of("BIGINT", "BOOLEAN", "TINYINT"), back.types().subList(0, 3));
                for (int i = 0; i < rows; i++) {
                    Object[] want = batch.row(i);
                    Object[] got = back.rows().get(i);
                    for (int col = 0; col < want.length; col++) {
                        String where = schema.get(col).name() + " at row " + i;
                        if (got[col] instanceof OffsetDateTime odt) {
                            assertEquals(want[col], odt.toInstant(), where);
                        } else {
                            assertSame(want[col], got[col], where);
                        }
                    }
                }
                assertEquals(new BigDecimal("-7.500"), back.rows().get(5)[22]);
                // appended twice: the appender stays open between calls, and the next query sees both
                c.appendArrow("t", batch);
                c.appendArrow("t", batch);
                assertEquals((long) rows * 3, c.query("SELECT count(*) FROM t").rows().get(0)[0]);
            }
        }
    }

    @Test
    void queryArrowIntoAnotherTableIsIdentical() {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            c.query("CREATE TABLE src AS " + withNulls(ALL_TYPES));
            c.query("CREATE TABLE dst AS SELECT * FROM src LIMIT 0");
            try (ArrowReader r = c.queryArrow("SELECT * FROM src")) {
                while (r.hasNext()) {
                    try (ArrowBatch b = r.next()) {
                        c.appendArrow("dst", b);
                    }
                }
            }
            assertEquals(5000L, c.query("SELECT count(*) FROM dst").rows().get(0)[0]);
            assertEquals(0, c.query("SELECT * FROM src EXCEPT ALL SELECT * FROM dst").rowCount());
            assertEquals(0, c.query("SELECT * FROM dst EXCEPT ALL SELECT * FROM src").rowCount());
            // a batch of more than 2048 rows, built from imported batches' values, in one call
            c.query("CREATE TABLE big (k BIGINT, s VARCHAR)");
            List<ArrowField> f = List.of(ArrowField.of("k", ArrowType.INT64), ArrowField.of("s", ArrowType.UTF8));
            try (ArrowBatchBuilder bb = ArrowBatch.builder(f)) {
                for (int i = 0; i < 10_000; i++) {
                    bb.column(0).appendLong(i);
                    bb.column(1).appendString(i % 3 == 0 ? null : "v" + i);
                }
                try (ArrowBatch b = bb.build()) {
                    c.appendArrow("big", b);
                }
            }
            Object[] agg = c.query("SELECT count(*), count(s), sum(k), max(s) FROM big").rows().get(0);
            assertEquals(10_000L, agg[0]);
            assertEquals(6666L, agg[1]);
            assertEquals(BigInteger.valueOf(49_995_000), agg[2]);
            assertEquals("v9998", agg[3]);
        }
    }

    @Test
    void anEmptyResultHasASchemaAndNoBatches() {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect();
                ArrowReader r = c.queryArrow("SELECT 1::INTEGER AS a, 'x' AS b WHERE false")) {
            assertEquals(List.of(ArrowField.of("a", ArrowType.INT32), ArrowField.of("b", ArrowType.UTF8)), r.schema());
            assertFalse(r.hasNext());
            assertThrows(java.util.NoSuchElementException.class, r::next);
        }
    }

    @Test
    void badInputIsAClearJavaException() {
        List<ArrowField> two = List.of(ArrowField.of("a", ArrowType.INT64), ArrowField.of("b", ArrowType.UTF8));
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect();
                ArrowBatchBuilder bb = ArrowBatch.builder(two)) {
            bb.addRow(1L, "one").addRow(2L, null);
            try (ArrowBatch batch = bb.build()) {
                DuckDbException missing = assertThrows(DuckDbException.class, () -> c.appendArrow("no_such_table", batch));
                assertTrue(missing.getMessage().contains("no_such_table"), missing.getMessage());
                c.query("CREATE TABLE three (a BIGINT, b VARCHAR, c DOUBLE)");
                DuckDbException columns = assertThrows(DuckDbException.class, () -> c.appendArrow("three", batch));
                assertTrue(columns.getMessage().contains("three"), columns.getMessage());
                c.query("CREATE TABLE ints (a BIGINT, b INTEGER)");
                DuckDbException types = assertThrows(DuckDbException.class, () -> c.appendArrow("ints", batch));
                assertTrue(types.getMessage().contains("ints"), types.getMessage());
                assertThrows(IllegalArgumentException.class, () -> c.appendArrow(null, batch));
                assertThrows(IllegalArgumentException.class, () -> c.appendArrow(" ", batch));
                assertThrows(IllegalArgumentException.class, () -> c.appendArrow("three", null));
                assertThrows(IllegalArgumentException.class, () -> c.createTable("x", null));
                assertThrows(IllegalArgumentException.class, () -> c.createTable(null, two));
                assertThrows(IllegalArgumentException.class, () -> c.queryArrow(null));
                DuckDbException nested = assertThrows(DuckDbException.class, () -> c.queryArrow("SELECT [1, 2] AS list_col"));
                assertTrue(nested.getMessage().contains("list_col") && nested.getMessage().contains("+l"), nested.getMessage());
                DuckDbException sqlError = assertThrows(DuckDbException.class, () -> c.queryArrow("SELECT * FROM nowhere"));
                assertTrue(sqlError.getMessage().contains("nowhere"), sqlError.getMessage());
                // the connection works on, and a good append after the failures lands
                c.createTable("good table \"quoted\"", two);
                c.appendArrow("good table \"quoted\"", batch);
                assertEquals(2L, c.query("SELECT count(*) FROM \"good table \"\"quoted\"\"\"").rows().get(0)[0]);
            }
            ArrowBatch[] closed = new ArrowBatch[1];
            try (ArrowBatchBuilder b2 = ArrowBatch.builder(two)) {
                closed[0] = b2.addRow(1L, "x").build();
            }
            closed[0].close();
            assertThrows(IllegalStateException.class, () -> c.appendArrow("ints", closed[0]));
            assertThrows(IllegalArgumentException.class, () -> ArrowBatch.builder(two).addRow("not a long", "x"));
        }
    }

    @Test
    void tenThousandArrowRoundTripsLeaveNoNativeMemoryBehind() throws Throwable {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults().threads(1)); DuckConnection c = db.connect()) {
            c.query("CREATE TABLE sink (i BIGINT, s VARCHAR, b BLOB)");
            String sql = "SELECT i, 'row ' || i || ' with a longer string' AS s, 'bytes'::BLOB AS b FROM range(20) t(i)";
            for (int i = 0; i < 3000; i++) {
                cycle(c, sql, i);
            }
            // Exported structs, imported arrays, DuckDB's appenders and conversions all come from malloc (NativeMemory).
            long before = mallocInUse();
            long rssBefore = residentBytes();
            for (int i = 0; i < 10_000; i++) {
                cycle(c, sql, i);
            }
            long grown = mallocInUse() - before;
            System.out.println("10k queryArrow + appendArrow cycles: malloc'd memory in use grew by " + (grown >> 10) + " KiB, resident memory by "
                    + ((residentBytes() - rssBefore) >> 10) + " KiB");
            long resident = residentBytes() - rssBefore;
            assertTrue(grown < 32L << 20, "malloc'd memory in use grew by " + (grown >> 20) + " MiB over 10k cycles");
            assertTrue(resident < 256L << 20, "resident memory grew by " + (resident >> 20) + " MiB over 10k cycles");
            assertEquals(0, ArrowCData.liveExports(), "exported structs not released");
            assertEquals(0, ResourceTracker.live(ArrowBatch.RESOURCE_KIND).size(), "batches left open");
            assertEquals(0, ResourceTracker.live(ArrowReader.RESOURCE_KIND).size(), "readers left open");
        }
    }

    private static void cycle(DuckConnection c, String sql, int i) {
        try (ArrowReader r = c.queryArrow(sql)) {
            while (r.hasNext()) {
                try (ArrowBatch b = r.next()) {
                    c.appendArrow("sink", b);
                }
            }
        }
        if (i % 1000 == 999) {
            c.query("DROP TABLE sink"); // a DELETE would keep the rows' storage
            c.query("CREATE TABLE sink (i BIGINT, s VARCHAR, b BLOB)");
        }
    }

    private static long mallocInUse() throws Throwable {
        return NativeMemory.mallocInUse();
    }

    private static long residentBytes() throws Exception {
        return NativeMemory.residentBytes();
    }
}
