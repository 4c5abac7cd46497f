package io.infra4j.smallpond.arrow;

import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Rows in Arrow's columnar layout: a schema and one {@link ArrowColumn} a field, over native memory. A batch is
 * built in Java ({@link #builder}), imported from the C Data Interface ({@link ArrowCData#importBatch}), or read
 * from DuckDB. Closing it lets go of its memory: a built batch frees its buffers, an imported one calls its
 * producer's {@code release} once. Batches exported to C ({@link ArrowCData#exportBatch}) keep the memory alive
 * until the consumer releases them too, whatever the order. After close any access is an IllegalStateException.
 */
public final class ArrowBatch implements AutoCloseable {
    public static final String RESOURCE_KIND = "arrow-batch";

    private final List<ArrowField> schema;
    private final int rowCount;
    private final List<ArrowColumn> columns;
    private final Map<String, Integer> byName = new HashMap<>();
    private final Owner owner;
    private final Arena scope; // every segment the columns hand out lives in it: closed with the batch
    private final long trackerId;
    private volatile boolean closed;

    /**
     * {@code columns} makes the columns of the new batch, their segments given to the batch's scope with
     * {@link #scoped}; when it throws, the owner is released and nothing is left behind.
     */
    ArrowBatch(List<ArrowField> schema, int rowCount, Owner owner, Function<ArrowBatch, List<ArrowColumn>> columns) {
        this.schema = List.copyOf(schema);
        this.rowCount = rowCount;
        this.owner = owner;
        this.scope = Arena.ofShared();
        try {
            this.columns = List.copyOf(columns.apply(this));
        } catch (RuntimeException | Error e) {
            scope.close();
            owner.release();
            throw e;
        }
        for (int i = 0; i < this.schema.size(); i++) {
            byName.putIfAbsent(this.schema.get(i).name(), i);
        }
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "Arrow batch of " + rowCount + " rows", 0);
    }

    /** A builder of a batch with these columns. */
    public static ArrowBatchBuilder builder(List<ArrowField> schema) {
        return new ArrowBatchBuilder(schema);
    }

    /** {@code segment} (or null) as a segment of this batch's scope. */
    MemorySegment scoped(MemorySegment segment) {
        return segment == null ? null : segment.reinterpret(scope, null);
    }

    public List<ArrowField> schema() {
        return schema;
    }

    public int rowCount() {
        return rowCount;
    }

    public int columnCount() {
        return columns.size();
    }

    public ArrowColumn column(int index) {
        checkOpen();
        if (index < 0 || index >= columns.size()) {
            throw new IndexOutOfBoundsException("column " + index + ": the batch has " + columns.size() + " columns");
        }
        return columns.get(index);
    }

    /** The first column named {@code name}. */
    public ArrowColumn column(String name) {
        checkOpen();
        Integer i = byName.get(name);
        if (i == null) {
            throw new IllegalArgumentException("no column '" + name + "' in the batch (columns: "
                    + schema.stream().map(ArrowField::name).toList() + ")");
        }
        return columns.get(i);
    }

    /** Row {@code row} as Java objects (see {@link ArrowColumn#getObject}). */
    public Object[] row(int row) {
        checkOpen();
        Object[] r = new Object[columns.size()];
        for (int c = 0; c < r.length; c++) {
            r[c] = columns.get(c).getObject(row);
        }
        return r;
    }

    /** Writes the batch into a C {@code ArrowArray} (a struct array) and its schema into a C {@code ArrowSchema}. */
    public void exportTo(MemorySegment array, MemorySegment schemaOut) {
        ArrowCData.exportSchema(schema, schemaOut);
        try {
            ArrowCData.exportBatch(this, array);
        } catch (RuntimeException e) {
            ArrowCData.releaseSchema(schemaOut);
            throw e;
        }
    }

    Owner owner() {
        return owner;
    }

    List<ArrowColumn> columns() {
        return columns;
    }

    public boolean isClosed() {
        return closed;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this Arrow batch is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        scope.close();
        ResourceTracker.release(trackerId);
        owner.release();
    }

    @Override
    public String toString() {
        return "ArrowBatch(" + rowCount + " rows, " + schema.stream().map(f -> f.name() + ": " + f.type().format()).toList()
                + (closed ? ", closed" : "") + ")";
    }

    static List<ArrowColumn> list(int n) {
        return new ArrayList<>(n);
    }
}
