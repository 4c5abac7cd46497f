package io.infra4j.smallpond;

import static io.infra4j.bindings.duckdb.DuckDbLib.C_POINTER;

import io.infra4j.bindings.duckdb.DuckDbLib;
import io.infra4j.bindings.duckdb.duckdb_result;
import io.infra4j.ffm.ResourceTracker;
import io.infra4j.smallpond.arrow.ArrowBatch;
import io.infra4j.smallpond.arrow.ArrowCData;
import io.infra4j.smallpond.arrow.ArrowField;
import io.infra4j.smallpond.arrow.ArrowType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One DuckDB connection ({@code duckdb_connect}): queries run one after another on it, their results read
 * chunk by chunk ({@code duckdb_fetch_chunk}) into Java values; DuckDB's error message becomes a
 * {@link DuckDbException} naming the query. Results also come as Arrow batches ({@link #queryArrow}), and Arrow
 * batches go into tables ({@link #appendArrow}) through DuckDB's appenders. Not for use by two threads at once.
 */
public final class DuckConnection implements AutoCloseable {
    public static final String RESOURCE_KIND = "duckdb-connection";

    private final DuckDb db;
    private final MemorySegment handle; // duckdb_connection*
    private final long trackerId;
    private boolean closed;
    // Open appenders by table, kept across appendArrow calls; flushed and closed before anything else runs.
    private final Map<String, TableAppender> appenders = new LinkedHashMap<>();
    private MemorySegment arrayOut; // the ArrowArray a slice is exported into (DuckDB moves it out)
    private MemorySegment chunkCell;

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
        flushAppends();
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
        flushAppends();
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

    /**
     * Runs {@code sql} and returns its result as Arrow batches (one a DuckDB chunk of up to 2048 rows), with the
     * schema known up front. Close the reader, and each batch it gives. A column of a type Arrow batches do not
     * support here (nested types, ENUM, INTERVAL, ...) is a DuckDbException naming it: cast it in the query.
     */
    public ArrowReader queryArrow(String sql) {
        if (sql == null || sql.isBlank()) {
            throw new IllegalArgumentException("sql: expected a query, got " + (sql == null ? "null" : "an empty string"));
        }
        checkOpen();
        flushAppends();
        Arena arena = Arena.ofShared();
        MemorySegment result = duckdb_result.allocate(arena);
        int state;
        try (Arena a = Arena.ofConfined()) {
            state = DuckDbLib.duckdb_query(handle.get(C_POINTER, 0), a.allocateFrom(sql), result);
        }
        if (state != DuckDbLib.DuckDBSuccess()) {
            MemorySegment err = DuckDbLib.duckdb_result_error(result);
            String text = err.equals(MemorySegment.NULL) ? "unknown error" : err.reinterpret(Long.MAX_VALUE).getString(0);
            DuckDbLib.duckdb_destroy_result(result);
            arena.close();
            throw new DuckDbException(text + " (query: " + abbreviate(sql) + ")");
        }
        return new ArrowReader(this, arena, result, abbreviate(sql));
    }

    /**
     * Creates table {@code table} with a column a field: Arrow types map to DuckDB's (INT64 to BIGINT, UTF8 to
     * VARCHAR, BINARY to BLOB, TIMESTAMP with a time zone to TIMESTAMPTZ, ...), non-nullable fields get NOT NULL.
     */
    public void createTable(String table, List<ArrowField> schema) {
        if (table == null || table.isBlank()) {
            throw new IllegalArgumentException("table: expected a table name, got " + (table == null ? "null" : "an empty string"));
        }
        if (schema == null || schema.isEmpty()) {
            throw new IllegalArgumentException("schema: expected at least one field for table " + table + ", got " + schema);
        }
        StringBuilder sql = new StringBuilder("CREATE TABLE ").append(quote(table)).append(" (");
        for (int i = 0; i < schema.size(); i++) {
            ArrowField f = schema.get(i);
            if (f == null) {
                throw new IllegalArgumentException("schema: field " + i + " of table " + table + " is null");
            }
            sql.append(i == 0 ? "" : ", ").append(quote(f.name())).append(' ').append(sqlType(f.type())).append(f.nullable() ? "" : " NOT NULL");
        }
        query(sql.append(')').toString());
    }

    /** DuckDB's SQL type for an Arrow type. */
    public static String sqlType(ArrowType type) {
        if (type instanceof ArrowType.Primitive p) {
            return switch (p) {
                case BOOL -> "BOOLEAN";
                case INT8 -> "TINYINT";
                case INT16 -> "SMALLINT";
                case INT32 -> "INTEGER";
                case INT64 -> "BIGINT";
                case UINT8 -> "UTINYINT";
                case UINT16 -> "USMALLINT";
                case UINT32 -> "UINTEGER";
                case UINT64 -> "UBIGINT";
                case FLOAT32 -> "FLOAT";
                case FLOAT64 -> "DOUBLE";
                case UTF8, LARGE_UTF8 -> "VARCHAR";
                case BINARY, LARGE_BINARY -> "BLOB";
                case DATE32 -> "DATE";
            };
        } else if (type instanceof ArrowType.FixedSizeBinary) {
            return "BLOB";
        } else if (type instanceof ArrowType.Decimal128 d) {
            return "DECIMAL(" + d.precision() + ", " + d.scale() + ")";
        } else if (type instanceof ArrowType.Time) {
            return "TIME";
        } else if (type instanceof ArrowType.Timestamp ts) {
            if (ts.timezone() != null) {
                return "TIMESTAMPTZ";
            }
            return switch (ts.unit()) {
                case SECOND -> "TIMESTAMP_S";
                case MILLI -> "TIMESTAMP_MS";
                case MICRO -> "TIMESTAMP";
                case NANO -> "TIMESTAMP_NS";
            };
        }
        throw new IllegalArgumentException("no DuckDB type for Arrow type " + type);
    }

    /**
     * Appends the batch's rows to table {@code table} (its name as created, not quoted, in the current schema),
     * column by column in order: DuckDB imports the batch ({@code duckdb_data_chunk_from_arrow}, 2048 rows at a
     * time, without copying on the Java side) and casts to the table's types where it can. The rows are visible
     * to the next query on this connection (pending appends are flushed before any query runs), to other
     * connections after {@link #flushAppends()} or {@link #close()}. The batch stays the caller's to close.
     */
    public void appendArrow(String table, ArrowBatch batch) {
        if (table == null || table.isBlank()) {
            throw new IllegalArgumentException("table: expected a table name, got " + (table == null ? "null" : "an empty string"));
        }
        if (batch == null) {
            throw new IllegalArgumentException("batch: expected an ArrowBatch to append to " + table + ", got null");
        }
        if (batch.isClosed()) {
            throw new IllegalStateException("batch: the Arrow batch to append to " + table + " is closed");
        }
        checkOpen();
        if (arrayOut == null) {
            arrayOut = ArrowCData.allocateArray(Arena.ofAuto());
            chunkCell = Arena.ofAuto().allocate(C_POINTER);
        }
        TableAppender ap = appenders.get(table);
        if (ap == null) {
            ap = TableAppender.open(handle.get(C_POINTER, 0), table);
            appenders.put(table, ap);
        }
        try {
            MemorySegment converted = ap.converted(handle.get(C_POINTER, 0), batch.schema());
            int rows = batch.rowCount();
            for (int from = 0; from < rows; from += CHUNK_ROWS) {
                int n = Math.min(CHUNK_ROWS, rows - from);
                ArrowCData.exportBatch(batch, from, n, arrayOut);
                try {
                    MemorySegment err = DuckDbLib.duckdb_data_chunk_from_arrow(handle.get(C_POINTER, 0), arrayOut, converted, chunkCell);
                    throwIfError(err, "(appending " + n + " rows to table " + table + ")");
                    try {
                        if (DuckDbLib.duckdb_append_data_chunk(ap.handle(), chunkCell.get(C_POINTER, 0)) != DuckDbLib.DuckDBSuccess()) {
                            String msg = errorMessage(DuckDbLib.duckdb_appender_error_data(ap.handle()));
                            throw new DuckDbException((msg == null ? "appending failed" : msg) + " (appending to table " + table + ", columns "
                                    + batch.schema().stream().map(f -> f.name() + " " + f.type().format()).toList() + ")");
                        }
                    } finally {
                        DuckDbLib.duckdb_destroy_data_chunk(chunkCell);
                    }
                } finally {
                    // DuckDB moves the array into its chunk; one it did not take is ours to release.
                    ArrowCData.releaseArray(arrayOut);
                }
            }
        } catch (RuntimeException e) {
            appenders.remove(table);
            String closeError = ap.close();
            if (closeError != null) {
                e.addSuppressed(new DuckDbException(closeError + " (flushing earlier appends to table " + table + ")"));
            }
            throw e;
        }
    }

    /**
     * Flushes and closes the appenders {@link #appendArrow} keeps open, so that other connections see the rows.
     * Runs before every query on this connection. A table whose rows DuckDB refuses (a constraint) is a
     * DuckDbException, those rows lost.
     */
    public void flushAppends() {
        if (appenders.isEmpty()) {
            return;
        }
        DuckDbException failure = null;
        for (Map.Entry<String, TableAppender> e : appenders.entrySet()) {
            String err = e.getValue().close();
            if (err != null && failure == null) {
                failure = new DuckDbException(err + " (flushing appends to table " + e.getKey() + ")");
            }
        }
        appenders.clear();
        if (failure != null) {
            throw failure;
        }
    }

    static final int CHUNK_ROWS = 2048; // DuckDB's STANDARD_VECTOR_SIZE: a data chunk holds no more

    /** An appender of one table, with the converted schema of the batches it was last given. */
    private static final class TableAppender {
        private final MemorySegment cell; // duckdb_appender*
        private final MemorySegment convertedCell; // duckdb_arrow_converted_schema*
        private List<ArrowField> schema;

        private TableAppender(MemorySegment cell) {
            this.cell = cell;
            this.convertedCell = Arena.ofAuto().allocate(C_POINTER);
        }

        static TableAppender open(MemorySegment conn, String table) {
            MemorySegment cell = Arena.ofAuto().allocate(C_POINTER);
            try (Arena a = Arena.ofConfined()) {
                int state = DuckDbLib.duckdb_appender_create_ext(conn, MemorySegment.NULL, MemorySegment.NULL, a.allocateFrom(table), cell);
                if (state != DuckDbLib.DuckDBSuccess()) {
                    String msg = cell.get(C_POINTER, 0).equals(MemorySegment.NULL) ? null
                            : errorMessage(DuckDbLib.duckdb_appender_error_data(cell.get(C_POINTER, 0)));
                    DuckDbLib.duckdb_appender_destroy(cell);
                    throw new DuckDbException((msg == null ? "no appender" : msg) + " (appending to table " + table + ")");
                }
            }
            return new TableAppender(cell);
        }

        MemorySegment handle() {
            return cell.get(C_POINTER, 0);
        }

        // DuckDB's conversion of the batches' schema, kept while the batches keep their schema.
        MemorySegment converted(MemorySegment conn, List<ArrowField> fields) {
            if (fields.equals(schema)) {
                return convertedCell.get(C_POINTER, 0);
            }
            dropConverted();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = ArrowCData.allocateSchema(a);
                ArrowCData.exportSchema(fields, s);
                try {
                    throwIfError(DuckDbLib.duckdb_schema_from_arrow(conn, s, convertedCell), "(the schema of a batch: " + fields + ")");
                } finally {
                    ArrowCData.releaseSchema(s);
                }
            }
            schema = fields;
            return convertedCell.get(C_POINTER, 0);
        }

        private void dropConverted() {
            if (!convertedCell.get(C_POINTER, 0).equals(MemorySegment.NULL)) {
                DuckDbLib.duckdb_destroy_arrow_converted_schema(convertedCell);
                convertedCell.set(C_POINTER, 0, MemorySegment.NULL);
            }
            schema = null;
        }

        /** Flushes, closes and destroys; DuckDB's message if the flush failed. */
        String close() {
            dropConverted();
            String msg = null;
            if (DuckDbLib.duckdb_appender_close(handle()) != DuckDbLib.DuckDBSuccess()) {
                msg = errorMessage(DuckDbLib.duckdb_appender_error_data(handle()));
                if (msg == null) {
                    msg = "the appender could not flush";
                }
            }
            DuckDbLib.duckdb_appender_destroy(cell);
            return msg;
        }
    }

    /** DuckDB's message in {@code errorData} (null when there is no error); the error data is destroyed. */
    static String errorMessage(MemorySegment errorData) {
        if (errorData.equals(MemorySegment.NULL)) {
            return null;
        }
        try (Arena a = Arena.ofConfined()) {
            String msg = null;
            if (DuckDbLib.duckdb_error_data_has_error(errorData)) {
                MemorySegment m = DuckDbLib.duckdb_error_data_message(errorData);
                msg = m.equals(MemorySegment.NULL) ? "unknown error" : m.reinterpret(Long.MAX_VALUE).getString(0);
            }
            MemorySegment cell = a.allocate(C_POINTER);
            cell.set(C_POINTER, 0, errorData);
            DuckDbLib.duckdb_destroy_error_data(cell);
            return msg;
        }
    }

    static void throwIfError(MemorySegment errorData, String what) {
        String msg = errorMessage(errorData);
        if (msg != null) {
            throw new DuckDbException(msg + " " + what);
        }
    }

    /** {@code name} as a quoted SQL identifier. */
    static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    static QueryResult read(MemorySegment result, Arena a) {
        int cols = (int) DuckDbLib.duckdb_column_count(result);
        List<String> names = new ArrayList<>();
        DuckValues.DuckType[] types = new DuckValues.DuckType[cols];
        List<String> typeNames = new ArrayList<>();
        MemorySegment typeCell = a.allocate(C_POINTER);
        for (int c = 0; c < cols; c++) {
            names.add(DuckDbLib.duckdb_column_name(result, c).reinterpret(Long.MAX_VALUE).getString(0));
            typeCell.set(C_POINTER, 0, DuckDbLib.duckdb_column_logical_type(result, c));
            try {
                types[c] = DuckValues.describe(typeCell.get(C_POINTER, 0));
            } finally {
                DuckDbLib.duckdb_destroy_logical_type(typeCell);
            }
            typeNames.add(types[c].name());
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
                    DuckValues.VectorView vec = new DuckValues.VectorView(types[c], DuckDbLib.duckdb_data_chunk_get_vector(chunk, c), n);
                    for (int r = 0; r < n; r++) {
                        block[r][c] = vec.get(r);
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

    /** Flushes pending appends ({@link #flushAppends}) and disconnects; a failed flush is thrown after disconnecting. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        DuckDbException failure = null;
        try {
            db.checkOpen(); // a closed database has taken its appenders with it
            flushAppends();
        } catch (DuckDbException e) {
            failure = e;
        } catch (IllegalStateException e) {
            appenders.clear();
        }
        closed = true;
        DuckDbLib.duckdb_disconnect(handle);
        ResourceTracker.release(trackerId);
        if (failure != null) {
            throw failure;
        }
    }
}
