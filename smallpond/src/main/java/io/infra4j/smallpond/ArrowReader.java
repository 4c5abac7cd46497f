package io.infra4j.smallpond;

import static io.infra4j.bindings.duckdb.DuckDbLib.C_POINTER;

import io.infra4j.bindings.duckdb.DuckDbLib;
import io.infra4j.ffm.ResourceTracker;
import io.infra4j.smallpond.arrow.ArrowBatch;
import io.infra4j.smallpond.arrow.ArrowCData;
import io.infra4j.smallpond.arrow.ArrowField;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A query's result as Arrow batches, one a DuckDB data chunk (up to 2048 rows), converted by DuckDB
 * ({@code duckdb_data_chunk_to_arrow}) and read in place. The schema is known before the first batch, also for a
 * result of no rows. Each batch is the caller's to close (it outlives the reader); closing the reader destroys the
 * result.
 */
public final class ArrowReader implements Iterator<ArrowBatch>, AutoCloseable {
    public static final String RESOURCE_KIND = "duckdb-arrow-reader";

    private final DuckConnection connection;
    private final Arena arena;
    private final MemorySegment result; // duckdb_result
    private final MemorySegment options; // duckdb_arrow_options*
    private final MemorySegment arrayOut; // the ArrowArray DuckDB fills, moved into each batch
    private final MemorySegment chunkCell;
    private final String sql;
    private final List<ArrowField> schema;
    private final long trackerId;
    private ArrowBatch pending;
    private boolean exhausted;
    private boolean closed;

    // Takes the result: on failure it is destroyed here.
    ArrowReader(DuckConnection connection, Arena arena, MemorySegment result, String sql) {
        this.connection = connection;
        this.arena = arena;
        this.result = result;
        this.sql = sql;
        this.options = arena.allocate(C_POINTER);
        this.arrayOut = ArrowCData.allocateArray(arena);
        this.chunkCell = arena.allocate(C_POINTER);
        try {
            options.set(C_POINTER, 0, DuckDbLib.duckdb_result_get_arrow_options(result));
            this.schema = readSchema();
        } catch (RuntimeException e) {
            destroy();
            throw e;
        }
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "Arrow reader of " + sql, 0);
    }

    private List<ArrowField> readSchema() {
        int cols = (int) DuckDbLib.duckdb_column_count(result);
        MemorySegment types = arena.allocate(C_POINTER, Math.max(cols, 1));
        MemorySegment names = arena.allocate(C_POINTER, Math.max(cols, 1));
        for (int c = 0; c < cols; c++) {
            types.setAtIndex(C_POINTER, c, DuckDbLib.duckdb_column_logical_type(result, c));
            names.setAtIndex(C_POINTER, c, DuckDbLib.duckdb_column_name(result, c));
        }
        MemorySegment schemaOut = ArrowCData.allocateSchema(arena);
        MemorySegment err = DuckDbLib.duckdb_to_arrow_schema(options.get(C_POINTER, 0), types, names, cols, schemaOut);
        for (int c = 0; c < cols; c++) {
            DuckDbLib.duckdb_destroy_logical_type(types.asSlice(C_POINTER.byteSize() * c));
        }
        DuckConnection.throwIfError(err, "(query: " + sql + ")");
        try {
            return ArrowCData.importSchema(schemaOut);
        } catch (IllegalArgumentException e) {
            throw new DuckDbException(e.getMessage() + " (query: " + sql + ")");
        } finally {
            ArrowCData.releaseSchema(schemaOut);
        }
    }

    /** The columns of every batch. */
    public List<ArrowField> schema() {
        return schema;
    }

    @Override
    public boolean hasNext() {
        if (pending != null) {
            return true;
        }
        if (exhausted || closed) {
            return false;
        }
        connection.checkOpen();
        while (true) {
            MemorySegment chunk = DuckDbLib.duckdb_fetch_chunk(result);
            if (chunk.equals(MemorySegment.NULL)) {
                exhausted = true;
                return false;
            }
            try {
                if (DuckDbLib.duckdb_data_chunk_get_size(chunk) == 0) {
                    continue;
                }
                MemorySegment err = DuckDbLib.duckdb_data_chunk_to_arrow(options.get(C_POINTER, 0), chunk, arrayOut);
                DuckConnection.throwIfError(err, "(query: " + sql + ")");
                pending = ArrowCData.importBatch(arrayOut, schema); // DuckDB's arrays own copies: the chunk can go
                return true;
            } finally {
                chunkCell.set(C_POINTER, 0, chunk);
                DuckDbLib.duckdb_destroy_data_chunk(chunkCell);
            }
        }
    }

    /** The next batch: the caller closes it. */
    @Override
    public ArrowBatch next() {
        if (closed) {
            throw new IllegalStateException("this Arrow reader is closed (query: " + sql + ")");
        }
        if (!hasNext()) {
            throw new NoSuchElementException("no more batches (query: " + sql + ")");
        }
        ArrowBatch b = pending;
        pending = null;
        return b;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (pending != null) {
            pending.close();
            pending = null;
        }
        destroy();
        ResourceTracker.release(trackerId);
    }

    private void destroy() {
        if (!options.get(C_POINTER, 0).equals(MemorySegment.NULL)) {
            DuckDbLib.duckdb_destroy_arrow_options(options);
        }
        DuckDbLib.duckdb_destroy_result(result);
        arena.close();
    }
}
