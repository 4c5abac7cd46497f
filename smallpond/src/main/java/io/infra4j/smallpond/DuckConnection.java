package io.infra4j.smallpond;

import static io.infra4j.bindings.duckdb.DuckDbLib.C_POINTER;

import io.infra4j.bindings.duckdb.DuckDbLib;
import io.infra4j.bindings.duckdb.duckdb_result;
import io.infra4j.bindings.duckdb.duckdb_string_t;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * One DuckDB connection ({@code duckdb_connect}): queries run one after another on it, their results read
 * chunk by chunk ({@code duckdb_fetch_chunk}) into Java values; DuckDB's error message becomes a
 * {@link DuckDbException} naming the query. Not for use by two threads at once.
 */
public final class DuckConnection implements AutoCloseable {
    public static final String RESOURCE_KIND = "duckdb-connection";

    private final DuckDb db;
    private final MemorySegment handle; // duckdb_connection*
    private final long trackerId;
    private boolean closed;

    DuckConnection(DuckDb db, MemorySegment handle) {
        this.db = db;
        this.handle = handle;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "DuckDB connection", 0);
    }

    /** Runs {@code sql} and reads its whole result. */
    public QueryResult query(String sql) {
        if (sql == null || sql.isBlank()) {
            throw new IllegalArgumentException("sql: expected a query, got " + (sql == null ? "null" : "an empty string"));
        }
        checkOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment result = duckdb_result.allocate(a);
            int state = DuckDbLib.duckdb_query(handle.get(C_POINTER, 0), a.allocateFrom(sql), result);
            try {
                if (state != DuckDbLib.DuckDBSuccess()) {
                    MemorySegment err = DuckDbLib.duckdb_result_error(result);
                    String text = err.equals(MemorySegment.NULL) ? "unknown error" : err.reinterpret(Long.MAX_VALUE).getString(0);
                    throw new DuckDbException(text + " (query: " + abbreviate(sql) + ")");
                }
                return read(result, a);
            } finally {
                DuckDbLib.duckdb_destroy_result(result);
            }
        }
    }

    /**
     * Prepares {@code sql} once ({@code duckdb_prepare}); {@link PreparedQuery#execute} runs it with the
     * parameters {@code ?} or {@code $1} stand for. DuckDB's refusal is a DuckDbException naming the query.
     */
    public PreparedQuery prepare(String sql) {
        if (sql == null || sql.isBlank()) {
            throw new IllegalArgumentException("sql: expected a query, got " + (sql == null ? "null" : "an empty string"));
        }
        checkOpen();
        Arena arena = Arena.ofShared();
        MemorySegment stmt = arena.allocate(C_POINTER);
        try (Arena a = Arena.ofConfined()) {
            int state = DuckDbLib.duckdb_prepare(handle.get(C_POINTER, 0), a.allocateFrom(sql), stmt);
            if (state != DuckDbLib.DuckDBSuccess()) {
                MemorySegment err = DuckDbLib.duckdb_prepare_error(stmt.get(C_POINTER, 0));
                String text = err.equals(MemorySegment.NULL) ? "unknown error" : err.reinterpret(Long.MAX_VALUE).getString(0);
                DuckDbLib.duckdb_destroy_prepare(stmt);
                arena.close();
                throw new DuckDbException(text + " (query: " + abbreviate(sql) + ")");
            }
        }
        return new PreparedQuery(this, arena, stmt, abbreviate(sql));
    }

    static QueryResult read(MemorySegment result, Arena a) {
        int cols = (int) DuckDbLib.duckdb_column_count(result);
        List<String> names = new ArrayList<>();
        int[] types = new int[cols];
        List<String> typeNames = new ArrayList<>();
        for (int c = 0; c < cols; c++) {
            names.add(DuckDbLib.duckdb_column_name(result, c).reinterpret(Long.MAX_VALUE).getString(0));
            types[c] = DuckDbLib.duckdb_column_type(result, c);
            typeNames.add(typeName(types[c]));
        }
        List<Object[]> rows = new ArrayList<>();
        MemorySegment chunkPtr = a.allocate(C_POINTER);
        while (true) {
            MemorySegment chunk = DuckDbLib.duckdb_fetch_chunk(result);
            if (chunk.equals(MemorySegment.NULL)) {
                break;
            }
            try {
                int n = (int) DuckDbLib.duckdb_data_chunk_get_size(chunk);
                if (n == 0) {
                    continue;
                }
                Object[][] block = new Object[n][cols];
                for (int c = 0; c < cols; c++) {
                    MemorySegment vec = DuckDbLib.duckdb_data_chunk_get_vector(chunk, c);
                    MemorySegment data = DuckDbLib.duckdb_vector_get_data(vec).reinterpret((long) n * 16);
                    MemorySegment validity = DuckDbLib.duckdb_vector_get_validity(vec);
                    MemorySegment bits = validity.equals(MemorySegment.NULL) ? null : validity.reinterpret(((n + 63) / 64) * 8L);
                    for (int r = 0; r < n; r++) {
                        boolean valid = bits == null || ((bits.getAtIndex(ValueLayout.JAVA_LONG, r / 64) >>> (r % 64)) & 1) != 0;
                        block[r][c] = valid ? value(types[c], data, r) : null;
                    }
                }
                for (Object[] row : block) {
                    rows.add(row);
                }
            } finally {
                chunkPtr.set(C_POINTER, 0, chunk);
                DuckDbLib.duckdb_destroy_data_chunk(chunkPtr);
            }
        }
        return new QueryResult(List.copyOf(names), List.copyOf(typeNames), rows, DuckDbLib.duckdb_rows_changed(result));
    }

    // One value of a vector's data, by DuckDB's physical layout of the type.
    private static Object value(int type, MemorySegment data, int r) {
        if (type == DuckDbLib.DUCKDB_TYPE_BOOLEAN()) {
            return data.get(ValueLayout.JAVA_BYTE, r) != 0;
        } else if (type == DuckDbLib.DUCKDB_TYPE_TINYINT() || type == DuckDbLib.DUCKDB_TYPE_UTINYINT()) {
            byte v = data.get(ValueLayout.JAVA_BYTE, r);
            return type == DuckDbLib.DUCKDB_TYPE_TINYINT() ? (Object) v : (Object) (short) (v & 0xFF);
        } else if (type == DuckDbLib.DUCKDB_TYPE_SMALLINT() || type == DuckDbLib.DUCKDB_TYPE_USMALLINT()) {
            short v = data.getAtIndex(ValueLayout.JAVA_SHORT, r);
            return type == DuckDbLib.DUCKDB_TYPE_SMALLINT() ? (Object) v : (Object) (v & 0xFFFF);
        } else if (type == DuckDbLib.DUCKDB_TYPE_INTEGER() || type == DuckDbLib.DUCKDB_TYPE_UINTEGER()) {
            int v = data.getAtIndex(ValueLayout.JAVA_INT, r);
            return type == DuckDbLib.DUCKDB_TYPE_INTEGER() ? (Object) v : (Object) Integer.toUnsignedLong(v);
        } else if (type == DuckDbLib.DUCKDB_TYPE_BIGINT() || type == DuckDbLib.DUCKDB_TYPE_UBIGINT()) {
            long v = data.getAtIndex(ValueLayout.JAVA_LONG, r);
            return type == DuckDbLib.DUCKDB_TYPE_BIGINT() ? (Object) v : (Object) new java.math.BigInteger(Long.toUnsignedString(v));
        } else if (type == DuckDbLib.DUCKDB_TYPE_FLOAT()) {
            return data.getAtIndex(ValueLayout.JAVA_FLOAT, r);
        } else if (type == DuckDbLib.DUCKDB_TYPE_DOUBLE()) {
            return data.getAtIndex(ValueLayout.JAVA_DOUBLE, r);
        } else if (type == DuckDbLib.DUCKDB_TYPE_DATE()) {
            return LocalDate.ofEpochDay(data.getAtIndex(ValueLayout.JAVA_INT, r));
        } else if (type == DuckDbLib.DUCKDB_TYPE_TIMESTAMP()) {
            long micros = data.getAtIndex(ValueLayout.JAVA_LONG, r);
            return LocalDateTime.ofEpochSecond(Math.floorDiv(micros, 1_000_000), (int) Math.floorMod(micros, 1_000_000) * 1000, ZoneOffset.UTC);
        } else if (type == HUGEINT || type == UHUGEINT) {
            // 128 bits: the low 64 (unsigned), then the high 64 (signed for HUGEINT)
            long lo = data.getAtIndex(ValueLayout.JAVA_LONG, 2L * r);
            long hi = data.getAtIndex(ValueLayout.JAVA_LONG, 2L * r + 1);
            java.math.BigInteger high = type == HUGEINT ? java.math.BigInteger.valueOf(hi) : new java.math.BigInteger(Long.toUnsignedString(hi));
            return high.shiftLeft(64).add(new java.math.BigInteger(Long.toUnsignedString(lo)));
        } else if (type == DuckDbLib.DUCKDB_TYPE_VARCHAR() || type == DuckDbLib.DUCKDB_TYPE_BLOB()) {
            byte[] b = stringBytes(data.asSlice(16L * r, 16));
            return type == DuckDbLib.DUCKDB_TYPE_VARCHAR() ? new String(b, StandardCharsets.UTF_8) : b;
        }
        throw new DuckDbException("a column of DuckDB type " + typeName(type) + " cannot be read yet: cast it in the query (CAST(x AS VARCHAR))");
    }

    // duckdb_string_t: 4-byte length, then up to 12 bytes inline, or a 4-byte prefix and a pointer.
    private static byte[] stringBytes(MemorySegment s) {
        int len = s.get(ValueLayout.JAVA_INT, 0);
        if (len <= 12) {
            return s.asSlice(4, len).toArray(ValueLayout.JAVA_BYTE);
        }
        MemorySegment ptr = s.get(ValueLayout.ADDRESS_UNALIGNED, 8).reinterpret(len);
        return ptr.toArray(ValueLayout.JAVA_BYTE);
    }

    private static final int HUGEINT = 16; // DUCKDB_TYPE_HUGEINT
    private static final int UHUGEINT = 32; // DUCKDB_TYPE_UHUGEINT

    static String typeName(int t) {
        return switch (t) {
            case 1 -> "BOOLEAN";
            case 2 -> "TINYINT";
            case 3 -> "SMALLINT";
            case 4 -> "INTEGER";
            case 5 -> "BIGINT";
            case 6 -> "UTINYINT";
            case 7 -> "USMALLINT";
            case 8 -> "UINTEGER";
            case 9 -> "UBIGINT";
            case 10 -> "FLOAT";
            case 11 -> "DOUBLE";
            case 12 -> "TIMESTAMP";
            case 13 -> "DATE";
            case 14 -> "TIME";
            case 15 -> "INTERVAL";
            case 16 -> "HUGEINT";
            case 19 -> "DECIMAL";
            case 32 -> "UHUGEINT";
            case 17 -> "VARCHAR";
            case 18 -> "BLOB";
            default -> "TYPE#" + t;
        };
    }

    static String abbreviate(String sql) {
        String one = sql.strip().replaceAll("\\s+", " ");
        return one.length() <= 200 ? one : one.substring(0, 197) + "...";
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this DuckDB connection is closed");
        }
        db.checkOpen();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        DuckDbLib.duckdb_disconnect(handle);
        ResourceTracker.release(trackerId);
    }
}
