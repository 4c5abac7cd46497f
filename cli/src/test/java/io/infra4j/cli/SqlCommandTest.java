package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code infra4j sql}: rows as text or JSON lines, DuckDB's errors as errors. */
class SqlCommandTest {
    @Test
    void rowsAsTextAndAsJsonLines() {
        Cli text = Cli.run("sql", "SELECT 42 AS answer, 'x' AS s, NULL AS n UNION ALL SELECT 7, 'y', NULL ORDER BY answer");
        assertEquals(0, text.code(), text::toString);
        assertEquals("answer\ts\tn\n7\ty\tNULL\n42\tx\tNULL\n", text.out());
        Cli json = Cli.run("sql", "--json", "SELECT i, DATE '2026-01-02' + i::INTEGER AS d FROM range(2) t(i)");
        assertEquals(0, json.code(), json::toString);
        assertEquals("{\"i\":0,\"d\":\"2026-01-02\"}\n{\"i\":1,\"d\":\"2026-01-03\"}\n", json.out());
    }

    @Test
    void duckDbsErrorIsTheError() {
        Cli r = Cli.run("sql", "SELEC 1");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("syntax error"), r::toString);
        Cli none = Cli.run("sql");
        assertEquals(2, none.code(), none::toString);
    }
}
