package io.infra4j.smallpond;

import java.util.List;

/**
 * A query's result, read into Java: column names, DuckDB type names, and the rows (one Object per column:
 * Boolean, Byte/Short/Integer/Long, BigInteger for UBIGINT and (U)HUGEINT, Float/Double, String, byte[] for
 * BLOB, LocalDate, LocalDateTime, or null; other types (DECIMAL, TIME, INTERVAL, nested ones) through a cast
 * in the query, for now).
 */
public record QueryResult(List<String> columns, List<String> types, List<Object[]> rows, long rowsChanged) {
    public int rowCount() {
        return rows.size();
    }
}
