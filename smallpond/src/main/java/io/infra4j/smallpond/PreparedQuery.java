package io.infra4j.smallpond;

import static io.infra4j.bindings.duckdb.DuckDbLib.C_POINTER;

import io.infra4j.bindings.duckdb.DuckDbLib;
import io.infra4j.bindings.duckdb.duckdb_result;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A prepared DuckDB statement ({@code duckdb_prepare}): run again and again with new parameters. Parameters are
 * Boolean, an integral Number (bound as BIGINT), Float/Double (DOUBLE), CharSequence (VARCHAR) or null (NULL);
 * anything else, or the wrong number of them, is an IllegalArgumentException before DuckDB sees it.
 */
public final class PreparedQuery implements AutoCloseable {
    public static final String RESOURCE_KIND = "duckdb-prepared";

    private final DuckConnection connection;
    private final Arena arena;
    private final MemorySegment stmt; // duckdb_prepared_statement*
    private final String sql;
    private final long trackerId;
    private boolean closed;

    PreparedQuery(DuckConnection connection, Arena arena, MemorySegment stmt, String sql) {
        this.connection = connection;
        this.arena = arena;
        this.stmt = stmt;
        this.sql = sql;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "DuckDB prepared " + sql, 0);
    }

    /** How many parameters the statement takes. */
    public int parameterCount() {
        checkOpen();
        return (int) DuckDbLib.duckdb_nparams(stmt.get(C_POINTER, 0));
    }

    /** Binds {@code params} in order and runs the statement; the result is read whole. */
    public QueryResult execute(Object... params) {
        checkOpen();
        connection.flushAppends();
        int n = parameterCount();
        if (params == null || params.length != n) {
            throw new IllegalArgumentException("params: the query takes " + n + " parameter(s), got " + (params == null ? "null" : params.length)
                    + " (query: " + sql + ")");
        }
        MemorySegment s = stmt.get(C_POINTER, 0);
        DuckDbLib.duckdb_clear_bindings(s);
        try (Arena a = Arena.ofConfined()) {
            for (int i = 0; i < n; i++) {
                Object p = params[i];
                long idx = i + 1; // DuckDB counts parameters from 1
                int state;
                if (p == null) {
                    state = DuckDbLib.duckdb_bind_null(s, idx);
                } else if (p instanceof Boolean b) {
                    state = DuckDbLib.duckdb_bind_boolean(s, idx, b);
                } else if (p instanceof Byte || p instanceof Short || p instanceof Integer || p instanceof Long) {
                    state = DuckDbLib.duckdb_bind_int64(s, idx, ((Number) p).longValue());
                } else if (p instanceof Float || p instanceof Double) {
                    state = DuckDbLib.duckdb_bind_double(s, idx, ((Number) p).doubleValue());
                } else if (p instanceof CharSequence cs) {
                    state = DuckDbLib.duckdb_bind_varchar(s, idx, a.allocateFrom(cs.toString()));
                } else {
                    throw new IllegalArgumentException("params[" + i + "]: a " + p.getClass().getSimpleName()
                            + " cannot be bound (Boolean, integral numbers, Float/Double, strings or null)");
                }
                if (state != DuckDbLib.DuckDBSuccess()) {
                    throw new DuckDbException("DuckDB refused parameter " + idx + " (" + p + ") of query: " + sql);
                }
            }
            MemorySegment result = duckdb_result.allocate(a);
            int state = DuckDbLib.duckdb_execute_prepared(s, result);
            try {
                if (state != DuckDbLib.DuckDBSuccess()) {
                    MemorySegment err = DuckDbLib.duckdb_result_error(result);
                    String text = err.equals(MemorySegment.NULL) ? "unknown error" : err.reinterpret(Long.MAX_VALUE).getString(0);
                    throw new DuckDbException(text + " (query: " + sql + ")");
                }
                return DuckConnection.read(result, a);
            } finally {
                DuckDbLib.duckdb_destroy_result(result);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this prepared query is closed (query: " + sql + ")");
        }
        connection.checkOpen();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        DuckDbLib.duckdb_destroy_prepare(stmt);
        ResourceTracker.release(trackerId);
        arena.close();
    }
}
