package io.infra4j.smallpond;

import java.util.List;

/**
 * A query's result, read into Java: column names, DuckDB type names ({@code INTEGER}, {@code DECIMAL(18,3)},
 * {@code VARCHAR[]}, {@code STRUCT(a INTEGER, b VARCHAR)}, ...), and the rows, one Object per column, or null:
 * <ul>
 * <li>BOOLEAN: Boolean; TINYINT, SMALLINT, INTEGER, BIGINT: Byte, Short, Integer, Long; UTINYINT, USMALLINT,
 * UINTEGER: Short, Integer, Long; UBIGINT, HUGEINT, UHUGEINT: BigInteger; FLOAT, DOUBLE: Float, Double;
 * DECIMAL: BigDecimal (of the column's scale)</li>
 * <li>VARCHAR: String; BLOB: byte[]; UUID: java.util.UUID; ENUM: its String</li>
 * <li>DATE: LocalDate; TIME: LocalTime; TIME WITH TIME ZONE: OffsetTime; TIMESTAMP, TIMESTAMP_S, _MS, _NS:
 * LocalDateTime; TIMESTAMP WITH TIME ZONE: OffsetDateTime at UTC; INTERVAL: {@link DuckInterval}</li>
 * <li>LIST and ARRAY: an unmodifiable List of the element values (nulls kept); STRUCT: a LinkedHashMap from field
 * name to value; MAP: a LinkedHashMap from key to value; nested types nest</li>
 * </ul>
 * Other types (UNION, BIT, BIGNUM, ...) are a DuckDbException: cast them in the query.
 */
public record QueryResult(List<String> columns, List<String> types, List<Object[]> rows, long rowsChanged) {
    public int rowCount() {
        return rows.size();
    }
}
