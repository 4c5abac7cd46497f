package io.infra4j.smallpond;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The DuckDB types beyond the common ones, each read against the Java value it must give. */
class DuckValuesTest {
    @Test
    void decimalsOfEachStorageWidth() {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            QueryResult r = c.query("SELECT 12.3::DECIMAL(4,1) AS a, -12345.678::DECIMAL(9,3) AS b, -1234567890.12345678::DECIMAL(18,8) AS c, "
                    + "12345678901234567890.123456::DECIMAL(38,6) AS d, NULL::DECIMAL(10,2) AS e");
            assertEquals(List.of("DECIMAL(4,1)", "DECIMAL(9,3)", "DECIMAL(18,8)", "DECIMAL(38,6)", "DECIMAL(10,2)"), r.types());
            Object[] row = r.rows().get(0);
            assertEquals(new BigDecimal("12.3"), row[0]);
            assertEquals(new BigDecimal("-12345.678"), row[1]);
            assertEquals(new BigDecimal("-1234567890.12345678"), row[2]);
            assertEquals(new BigDecimal("12345678901234567890.123456"), row[3]);
            assertNull(row[4]);
        }
    }

    @Test
    void timesIntervalsTimestampsOfEveryUnitAndUuids() {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            Object[] row = c.query("""
                    SELECT TIME '12:34:56.789' AS t, INTERVAL '1 year 2 months 3 days 04:05:06.000007' AS i,
                           TIMESTAMPTZ '2026-11-29 12:34:56.789+02' AS tz, TIMESTAMP_S '2026-11-29 12:34:56' AS s,
                           TIMESTAMP_MS '2026-11-29 12:34:56.789' AS ms, TIMESTAMP_NS '2026-11-29 12:34:56.123456789' AS ns,
                           UUID '123e4567-e89b-12d3-a456-426614174000' AS u, UUID 'f23e4567-e89b-12d3-a456-426614174000' AS u2,
                           TIMETZ '12:34:56+02:00' AS ttz, TIMESTAMP '1960-01-01 00:00:00.5' AS before_epoch
                    """).rows().get(0);
            assertEquals(LocalTime.of(12, 34, 56, 789_000_000), row[0]);
            assertEquals(new DuckInterval(14, 3, ((4 * 60 + 5) * 60 + 6) * 1_000_000L + 7), row[1]);
            assertEquals(OffsetDateTime.of(2026, 11, 29, 10, 34, 56, 789_000_000, ZoneOffset.UTC), row[2]);
            assertEquals(LocalDateTime.of(2026, 11, 29, 12, 34, 56), row[3]);
            assertEquals(LocalDateTime.of(2026, 11, 29, 12, 34, 56, 789_000_000), row[4]);
            assertEquals(LocalDateTime.of(2026, 11, 29, 12, 34, 56, 123_456_789), row[5]);
            assertEquals(UUID.fromString("123e4567-e89b-12d3-a456-426614174000"), row[6]);
            assertEquals(UUID.fromString("f23e4567-e89b-12d3-a456-426614174000"), row[7]);
            assertEquals(OffsetTime.of(12, 34, 56, 0, ZoneOffset.ofHours(2)), row[8]);
            assertEquals(LocalDateTime.of(1960, 1, 1, 0, 0, 0, 500_000_000), row[9]);
        }
    }

    @Test
    void listsStructsMapsArraysAndEnumsNest() {
        try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
            c.query("CREATE TYPE mood AS ENUM ('sad', 'happy')");
            QueryResult r = c.query("""
                    SELECT [1, NULL, 3] AS l, {'a': 1, 'b': 'x', 'c': [2.5]} AS s, MAP {'k': 1, 'j': NULL} AS m,
                           [[1, 2], [], NULL, [3]] AS ll, [1, 2, 3]::INTEGER[3] AS arr, 'happy'::mood AS e,
                           [{'x': 'long string beyond twelve bytes'}, NULL] AS ls, []::VARCHAR[] AS empty
                    FROM range(3000)
                    """);
            assertEquals(List.of("INTEGER[]", "STRUCT(a INTEGER, b VARCHAR, c DECIMAL(2,1)[])", "MAP(VARCHAR, INTEGER)", "INTEGER[][]",
                    "INTEGER[3]", "ENUM", "STRUCT(x VARCHAR)[]", "VARCHAR[]"), r.types());
            assertEquals(3000, r.rowCount());
            for (Object[] row : r.rows()) { // across chunks: child vectors are per chunk
                assertEquals(Arrays.asList(1, null, 3), row[0]);
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("a", 1);
                s.put("b", "x");
                s.put("c", List.of(new BigDecimal("2.5")));
                assertEquals(s, row[1]);
                Map<Object, Object> m = new LinkedHashMap<>();
                m.put("k", 1);
                m.put("j", null);
                assertEquals(m, row[2]);
                assertEquals(Arrays.asList(List.of(1, 2), List.of(), null, List.of(3)), row[3]);
                assertEquals(List.of(1, 2, 3), row[4]);
                assertEquals("happy", row[5]);
                assertEquals(Arrays.asList(Map.of("x", "long string beyond twelve bytes"), null), row[6]);
                assertEquals(List.of(), row[7]);
            }
        }
    }
}
