package io.infra4j.smallpond.arrow;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Arrow C Data Interface: the {@code ArrowSchema} and {@code ArrowArray} structs (laid out here from the
 * specification), and batches and schemas moved through them. A batch travels as a struct array, one child a
 * column. Exported structs carry release callbacks (FFM upcall stubs) that free what the export allocated and let
 * go of the batch's memory; imported ones are moved (the caller's struct is marked released) and released once,
 * when the batch closes.
 */
public final class ArrowCData {
    /** {@code struct ArrowSchema} of the specification (72 bytes on 64-bit platforms). */
    public static final StructLayout ARROW_SCHEMA = MemoryLayout.structLayout(
            ValueLayout.ADDRESS.withName("format"),
            ValueLayout.ADDRESS.withName("name"),
            ValueLayout.ADDRESS.withName("metadata"),
            ValueLayout.JAVA_LONG.withName("flags"),
            ValueLayout.JAVA_LONG.withName("n_children"),
            ValueLayout.ADDRESS.withName("children"),
            ValueLayout.ADDRESS.withName("dictionary"),
            ValueLayout.ADDRESS.withName("release"),
            ValueLayout.ADDRESS.withName("private_data")).withName("ArrowSchema");

    /** {@code struct ArrowArray} of the specification (80 bytes on 64-bit platforms). */
    public static final StructLayout ARROW_ARRAY = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("length"),
            ValueLayout.JAVA_LONG.withName("null_count"),
            ValueLayout.JAVA_LONG.withName("offset"),
            ValueLayout.JAVA_LONG.withName("n_buffers"),
            ValueLayout.JAVA_LONG.withName("n_children"),
            ValueLayout.ADDRESS.withName("buffers"),
            ValueLayout.ADDRESS.withName("children"),
            ValueLayout.ADDRESS.withName("dictionary"),
            ValueLayout.ADDRESS.withName("release"),
            ValueLayout.ADDRESS.withName("private_data")).withName("ArrowArray");

    /** {@code ARROW_FLAG_NULLABLE}. */
    public static final long FLAG_NULLABLE = 2;

    static final long S_FORMAT = ARROW_SCHEMA.byteOffset(MemoryLayout.PathElement.groupElement("format"));
    static final long S_NAME = ARROW_SCHEMA.byteOffset(MemoryLayout.PathElement.groupElement("name"));
    static final long S_METADATA = ARROW_SCHEMA.byteOffset(MemoryLayout.PathElement.groupElement("metadata"));
    static final long S_FLAGS = ARROW_SCHEMA.byteOffset(MemoryLayout.PathElement.groupElement("flags"));
    static final long S_N_CHILDREN = ARROW_SCHEMA.byteOffset(MemoryLayout.PathElement.groupElement("n_children"));
    static final long S_CHILDREN = ARROW_SCHEMA.byteOffset(MemoryLayout.PathElement.groupElement("children"));
    static final long S_DICTIONARY = ARROW_SCHEMA.byteOffset(MemoryLayout.PathElement.groupElement("dictionary"));
    static final long S_RELEASE = ARROW_SCHEMA.byteOffset(MemoryLayout.PathElement.groupElement("release"));
    static final long S_PRIVATE = ARROW_SCHEMA.byteOffset(MemoryLayout.PathElement.groupElement("private_data"));
    static final long A_LENGTH = ARROW_ARRAY.byteOffset(MemoryLayout.PathElement.groupElement("length"));
    static final long A_NULL_COUNT = ARROW_ARRAY.byteOffset(MemoryLayout.PathElement.groupElement("null_count"));
    static final long A_OFFSET = ARROW_ARRAY.byteOffset(MemoryLayout.PathElement.groupElement("offset"));
    static final long A_N_BUFFERS = ARROW_ARRAY.byteOffset(MemoryLayout.PathElement.groupElement("n_buffers"));
    static final long A_N_CHILDREN = ARROW_ARRAY.byteOffset(MemoryLayout.PathElement.groupElement("n_children"));
    static final long A_BUFFERS = ARROW_ARRAY.byteOffset(MemoryLayout.PathElement.groupElement("buffers"));
    static final long A_CHILDREN = ARROW_ARRAY.byteOffset(MemoryLayout.PathElement.groupElement("children"));
    static final long A_DICTIONARY = ARROW_ARRAY.byteOffset(MemoryLayout.PathElement.groupElement("dictionary"));
    static final long A_RELEASE = ARROW_ARRAY.byteOffset(MemoryLayout.PathElement.groupElement("release"));
    static final long A_PRIVATE = ARROW_ARRAY.byteOffset(MemoryLayout.PathElement.groupElement("private_data"));

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final java.lang.foreign.AddressLayout ADDR = ValueLayout.ADDRESS_UNALIGNED;

    // What each exported struct allocated, by the id its private_data carries.
    private static final ConcurrentHashMap<Long, Exported> EXPORTED = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_ID = new AtomicLong(1);

    /** Native blocks one exported struct owns, and the batch memory it keeps alive (or null). */
    private record Exported(List<MemorySegment> blocks, MemorySegment children, long nChildren, Owner owner, boolean array) {}

    private static final MemorySegment RELEASE_SCHEMA;
    private static final MemorySegment RELEASE_ARRAY;

    static {
        try {
            MethodType mt = MethodType.methodType(void.class, MemorySegment.class);
            RELEASE_SCHEMA = Linker.nativeLinker().upcallStub(MethodHandles.lookup().findStatic(ArrowCData.class, "releaseSchemaUpcall", mt),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS), Arena.global());
            RELEASE_ARRAY = Linker.nativeLinker().upcallStub(MethodHandles.lookup().findStatic(ArrowCData.class, "releaseArrayUpcall", mt),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS), Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private ArrowCData() {}

    /** A zeroed {@code ArrowSchema} in {@code arena}. */
    public static MemorySegment allocateSchema(Arena arena) {
        return arena.allocate(ARROW_SCHEMA);
    }

    /** A zeroed {@code ArrowArray} in {@code arena}. */
    public static MemorySegment allocateArray(Arena arena) {
        return arena.allocate(ARROW_ARRAY);
    }

    /** Whether the struct (schema or array) was released or moved (its {@code release} is NULL). */
    public static boolean isReleased(MemorySegment struct, boolean array) {
        return struct.reinterpret(array ? ARROW_ARRAY.byteSize() : ARROW_SCHEMA.byteSize()).get(ADDR, array ? A_RELEASE : S_RELEASE)
                .equals(MemorySegment.NULL);
    }

    /** Calls the schema's release callback, unless it is already released. */
    public static void releaseSchema(MemorySegment schema) {
        release(schema.reinterpret(ARROW_SCHEMA.byteSize()), S_RELEASE);
    }

    /** Calls the array's release callback, unless it is already released. */
    public static void releaseArray(MemorySegment array) {
        release(array.reinterpret(ARROW_ARRAY.byteSize()), A_RELEASE);
    }

    private static void release(MemorySegment s, long at) {
        MemorySegment fn = s.get(ADDR, at);
        if (!fn.equals(MemorySegment.NULL)) {
            Native.callRelease(fn, s);
        }
    }

    // ---- schemas

    /**
     * The fields of a batch's schema: a struct ({@code "+s"}) whose children are the columns. The schema is read,
     * not released. An unsupported column type is an {@link UnsupportedArrowTypeException} naming it.
     */
    public static List<ArrowField> importSchema(MemorySegment schema) {
        if (schema == null || schema.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("schema: expected an ArrowSchema, got " + (schema == null ? "null" : "NULL"));
        }
        MemorySegment s = schema.reinterpret(ARROW_SCHEMA.byteSize());
        if (s.get(ADDR, S_RELEASE).equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("schema: the ArrowSchema is released");
        }
        String format = string(s.get(ADDR, S_FORMAT));
        if (!"+s".equals(format)) {
            throw new UnsupportedArrowTypeException("schema: a batch's schema must be a struct ('+s'), got format '" + format + "'");
        }
        long n = s.get(LONG, S_N_CHILDREN);
        MemorySegment children = s.get(ADDR, S_CHILDREN).reinterpret(8 * n);
        List<ArrowField> fields = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            MemorySegment c = children.getAtIndex(ADDR, i).reinterpret(ARROW_SCHEMA.byteSize());
            String name = string(c.get(ADDR, S_NAME));
            if (name == null) {
                name = "";
            }
            String cf = string(c.get(ADDR, S_FORMAT));
            if (!c.get(ADDR, S_DICTIONARY).equals(MemorySegment.NULL)) {
                throw new UnsupportedArrowTypeException("column '" + name + "': Arrow format '" + cf
                        + "' is dictionary-encoded (an ENUM?), which is not supported; cast it to VARCHAR");
            }
            ArrowType type = ArrowType.parse(cf, name);
            if (c.get(LONG, S_N_CHILDREN) != 0) {
                throw new UnsupportedArrowTypeException("column '" + name + "': Arrow format '" + cf + "' has children, which is not supported");
            }
            fields.add(new ArrowField(name, type, (c.get(LONG, S_FLAGS) & FLAG_NULLABLE) != 0));
        }
        return fields;
    }

    /** Writes {@code fields} into {@code out} as a struct schema; the consumer releases it. */
    public static void exportSchema(List<ArrowField> fields, MemorySegment out) {
        if (fields == null) {
            throw new IllegalArgumentException("fields: expected a list of fields, got null");
        }
        MemorySegment s = checkOut(out, ARROW_SCHEMA, "schema");
        int n = fields.size();
        List<MemorySegment> blocks = new ArrayList<>();
        MemorySegment childPtrs = Native.malloc(8L * Math.max(n, 1));
        blocks.add(childPtrs);
        MemorySegment childStructs = Native.calloc(ARROW_SCHEMA.byteSize() * Math.max(n, 1));
        blocks.add(childStructs);
        for (int i = 0; i < n; i++) {
            ArrowField f = fields.get(i);
            MemorySegment c = childStructs.asSlice(ARROW_SCHEMA.byteSize() * i, ARROW_SCHEMA.byteSize());
            MemorySegment format = cString(f.type().format());
            MemorySegment name = cString(f.name());
            c.set(ADDR, S_FORMAT, format);
            c.set(ADDR, S_NAME, name);
            c.set(ADDR, S_METADATA, MemorySegment.NULL);
            c.set(LONG, S_FLAGS, f.nullable() ? FLAG_NULLABLE : 0);
            c.set(LONG, S_N_CHILDREN, 0);
            c.set(ADDR, S_CHILDREN, MemorySegment.NULL);
            c.set(ADDR, S_DICTIONARY, MemorySegment.NULL);
            c.set(ADDR, S_PRIVATE, register(List.of(format, name), MemorySegment.NULL, 0, null, false));
            c.set(ADDR, S_RELEASE, RELEASE_SCHEMA);
            childPtrs.setAtIndex(ADDR, i, c);
        }
        MemorySegment format = cString("+s");
        MemorySegment name = cString("");
        blocks.add(format);
        blocks.add(name);
        s.set(ADDR, S_FORMAT, format);
        s.set(ADDR, S_NAME, name);
        s.set(ADDR, S_METADATA, MemorySegment.NULL);
        s.set(LONG, S_FLAGS, 0);
        s.set(LONG, S_N_CHILDREN, n);
        s.set(ADDR, S_CHILDREN, childPtrs);
        s.set(ADDR, S_DICTIONARY, MemorySegment.NULL);
        s.set(ADDR, S_PRIVATE, register(blocks, childPtrs, n, null, false));
        s.set(ADDR, S_RELEASE, RELEASE_SCHEMA);
    }

    // ---- arrays

    /**
     * Moves a struct array (one child a column, as {@code schema} describes) into a new batch: the caller's
     * {@code array} is marked released and may be freed; the producer's release callback runs when the batch
     * (and any export of it) is closed. A malformed array is an IllegalArgumentException, and is released.
     */
    public static ArrowBatch importBatch(MemorySegment array, List<ArrowField> schema) {
        if (schema == null) {
            throw new IllegalArgumentException("schema: expected the batch's fields, got null");
        }
        if (array == null || array.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("array: expected an ArrowArray, got " + (array == null ? "null" : "NULL"));
        }
        MemorySegment in = array.reinterpret(ARROW_ARRAY.byteSize());
        if (in.get(ADDR, A_RELEASE).equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("array: the ArrowArray is released (or was moved)");
        }
        MemorySegment own = Native.malloc(ARROW_ARRAY.byteSize());
        own.copyFrom(in);
        in.set(ADDR, A_RELEASE, MemorySegment.NULL); // moved: the producer's data is ours to release now
        Owner owner = new Owner(() -> {
            try {
                release(own, A_RELEASE);
            } finally {
                Native.free(own);
            }
        });
        long length = own.get(LONG, A_LENGTH);
        long offset = own.get(LONG, A_OFFSET);
        long nChildren = own.get(LONG, A_N_CHILDREN);
        if (length < 0 || length > Integer.MAX_VALUE || offset < 0 || nChildren != schema.size()) {
            owner.release();
            throw new IllegalArgumentException("array: expected a struct array of " + schema.size() + " columns with 0 <= length <= 2^31-1, got "
                    + nChildren + " children, length " + length + ", offset " + offset);
        }
        MemorySegment children = own.get(ADDR, A_CHILDREN).reinterpret(8 * nChildren);
        return new ArrowBatch(schema, (int) length, owner, batch -> {
            List<ArrowColumn> cols = ArrowBatch.list(schema.size());
            for (int i = 0; i < schema.size(); i++) {
                cols.add(importColumn(batch, schema.get(i), children.getAtIndex(ADDR, i).reinterpret(ARROW_ARRAY.byteSize()), (int) length, offset));
            }
            return cols;
        });
    }

    /** Moves a struct array and its schema into a new batch; the schema is released once read. */
    public static ArrowBatch importBatch(MemorySegment array, MemorySegment schema) {
        List<ArrowField> fields;
        try {
            fields = importSchema(schema);
        } catch (RuntimeException e) {
            if (schema != null && !schema.equals(MemorySegment.NULL)) {
                releaseSchema(schema);
            }
            if (array != null && !array.equals(MemorySegment.NULL)) {
                releaseArray(array);
            }
            throw e;
        }
        releaseSchema(schema);
        return importBatch(array, fields);
    }

    private static ArrowColumn importColumn(ArrowBatch batch, ArrowField f, MemorySegment c, int length, long parentOffset) {
        ArrowType t = f.type();
        long childLength = c.get(LONG, A_LENGTH);
        long childOffset = c.get(LONG, A_OFFSET);
        long nBuffers = c.get(LONG, A_N_BUFFERS);
        long expectedBuffers = ArrowType.isVariableSize(t) ? 3 : 2;
        String where = "column '" + f.name() + "' (" + t.format() + ")";
        if (childOffset < 0 || childLength < parentOffset + length) {
            throw new IllegalArgumentException(where + ": length " + childLength + " and offset " + childOffset + " do not cover the batch's "
                    + length + " rows at offset " + parentOffset);
        }
        if (nBuffers != expectedBuffers || c.get(LONG, A_N_CHILDREN) != 0 || !c.get(ADDR, A_DICTIONARY).equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException(where + ": expected " + expectedBuffers + " buffers and no children nor dictionary, got "
                    + nBuffers + " buffers and " + c.get(LONG, A_N_CHILDREN) + " children");
        }
        long off = parentOffset + childOffset;
        long end = off + length; // rows [off, end) of the buffers are read
        long nullCount = c.get(LONG, A_NULL_COUNT);
        MemorySegment buffers = c.get(ADDR, A_BUFFERS).reinterpret(8 * nBuffers);
        MemorySegment validityPtr = buffers.getAtIndex(ADDR, 0);
        MemorySegment validity = validityPtr.equals(MemorySegment.NULL) || nullCount == 0 ? null
                : batch.scoped(validityPtr.reinterpret((end + 7) / 8));
        MemorySegment valuesPtr = buffers.getAtIndex(ADDR, 1);
        long valuesBytes;
        if (t == ArrowType.BOOL) {
            valuesBytes = (end + 7) / 8;
        } else if (ArrowType.isVariableSize(t)) {
            valuesBytes = (end + 1) * (ArrowType.isLarge(t) ? 8 : 4);
        } else {
            valuesBytes = end * t.byteWidth();
        }
        if (valuesPtr.equals(MemorySegment.NULL) && valuesBytes > 0 && length > 0) {
            throw new IllegalArgumentException(where + ": its values buffer is NULL");
        }
        MemorySegment values = batch.scoped(valuesPtr.reinterpret(valuesPtr.equals(MemorySegment.NULL) ? 0 : valuesBytes));
        MemorySegment data = null;
        if (ArrowType.isVariableSize(t)) {
            long dataBytes = 0;
            if (values.byteSize() > 0) {
                dataBytes = ArrowType.isLarge(t) ? values.getAtIndex(LONG, end) : values.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, end);
            }
            MemorySegment dataPtr = buffers.getAtIndex(ADDR, 2);
            if (dataPtr.equals(MemorySegment.NULL) && dataBytes > 0) {
                throw new IllegalArgumentException(where + ": its data buffer is NULL");
            }
            data = batch.scoped(dataPtr.reinterpret(dataPtr.equals(MemorySegment.NULL) ? 0 : dataBytes));
        }
        return new ArrowColumn(batch, f, length, off, nullCount, validity, values, data);
    }

    /** Writes the whole batch into {@code out} (a struct array); the consumer releases it. */
    public static void exportBatch(ArrowBatch batch, MemorySegment out) {
        if (batch == null) {
            throw new IllegalArgumentException("batch: expected an ArrowBatch, got null");
        }
        exportBatch(batch, 0, batch.rowCount(), out);
    }

    /**
     * Writes rows {@code [fromRow, fromRow + rowCount)} of the batch into {@code out}, without copying them (the
     * columns' Arrow offsets point at the rows). The batch's memory lives on until both the batch is closed and the
     * consumer has released the export.
     */
    public static void exportBatch(ArrowBatch batch, int fromRow, int rowCount, MemorySegment out) {
        if (batch == null) {
            throw new IllegalArgumentException("batch: expected an ArrowBatch, got null");
        }
        batch.checkOpen();
        if (fromRow < 0 || rowCount < 0 || (long) fromRow + rowCount > batch.rowCount()) {
            throw new IndexOutOfBoundsException("rows [" + fromRow + ", " + ((long) fromRow + rowCount) + ") of a batch of " + batch.rowCount());
        }
        MemorySegment a = checkOut(out, ARROW_ARRAY, "array");
        List<ArrowColumn> cols = batch.columns();
        int n = cols.size();
        long size = ARROW_ARRAY.byteSize();
        MemorySegment topBuffers = Native.calloc(8); // a struct array's one buffer: validity, none
        MemorySegment childPtrs = Native.malloc(8L * Math.max(n, 1));
        MemorySegment childStructs = Native.calloc(size * Math.max(n, 1));
        for (int i = 0; i < n; i++) {
            ArrowColumn col = cols.get(i);
            ArrowType t = col.type();
            MemorySegment c = childStructs.asSlice(size * i, size);
            int nb = ArrowType.isVariableSize(t) ? 3 : 2;
            MemorySegment buffers = Native.malloc(8L * nb);
            buffers.setAtIndex(ADDR, 0, col.rawValidity() == null ? MemorySegment.NULL : col.rawValidity());
            buffers.setAtIndex(ADDR, 1, col.rawValues());
            if (nb == 3) {
                buffers.setAtIndex(ADDR, 2, col.rawData());
            }
            c.set(LONG, A_LENGTH, rowCount);
            c.set(LONG, A_NULL_COUNT, col.countNulls(fromRow, rowCount));
            c.set(LONG, A_OFFSET, col.offset() + fromRow);
            c.set(LONG, A_N_BUFFERS, nb);
            c.set(LONG, A_N_CHILDREN, 0);
            c.set(ADDR, A_BUFFERS, buffers);
            c.set(ADDR, A_CHILDREN, MemorySegment.NULL);
            c.set(ADDR, A_DICTIONARY, MemorySegment.NULL);
            batch.owner().retain(); // each column holds the batch's memory: a consumer may move a child out
            c.set(ADDR, A_PRIVATE, register(List.of(buffers), MemorySegment.NULL, 0, batch.owner(), true));
            c.set(ADDR, A_RELEASE, RELEASE_ARRAY);
            childPtrs.setAtIndex(ADDR, i, c);
        }
        a.set(LONG, A_LENGTH, rowCount);
        a.set(LONG, A_NULL_COUNT, 0);
        a.set(LONG, A_OFFSET, 0);
        a.set(LONG, A_N_BUFFERS, 1);
        a.set(LONG, A_N_CHILDREN, n);
        a.set(ADDR, A_BUFFERS, topBuffers);
        a.set(ADDR, A_CHILDREN, childPtrs);
        a.set(ADDR, A_DICTIONARY, MemorySegment.NULL);
        a.set(ADDR, A_PRIVATE, register(List.of(topBuffers, childPtrs, childStructs), childPtrs, n, null, true));
        a.set(ADDR, A_RELEASE, RELEASE_ARRAY);
    }

    /** How many exported structs (schemas and arrays, children included) their consumers have not yet released: for leak checks. */
    public static int liveExports() {
        return EXPORTED.size();
    }

    // ---- release callbacks

    private static MemorySegment register(List<MemorySegment> blocks, MemorySegment children, long nChildren, Owner owner, boolean array) {
        long id = NEXT_ID.getAndIncrement();
        EXPORTED.put(id, new Exported(List.copyOf(blocks), children, nChildren, owner, array));
        return MemorySegment.ofAddress(id);
    }

    // Called by the consumer, on any thread: it must never throw into C.
    private static void releaseSchemaUpcall(MemorySegment schema) {
        try {
            releaseExported(schema.reinterpret(ARROW_SCHEMA.byteSize()), false);
        } catch (Throwable t) {
            System.err.println("infra4j: releasing an exported ArrowSchema failed: " + t);
        }
    }

    private static void releaseArrayUpcall(MemorySegment array) {
        try {
            releaseExported(array.reinterpret(ARROW_ARRAY.byteSize()), true);
        } catch (Throwable t) {
            System.err.println("infra4j: releasing an exported ArrowArray failed: " + t);
        }
    }

    private static void releaseExported(MemorySegment s, boolean array) {
        long releaseAt = array ? A_RELEASE : S_RELEASE;
        Exported e = EXPORTED.remove(s.get(ADDR, array ? A_PRIVATE : S_PRIVATE).address());
        s.set(ADDR, releaseAt, MemorySegment.NULL);
        if (e == null) {
            return; // released already
        }
        try {
            // Children the consumer did not move out are released with their parent.
            MemorySegment children = e.children().reinterpret(8 * e.nChildren());
            long size = array ? ARROW_ARRAY.byteSize() : ARROW_SCHEMA.byteSize();
            for (long i = 0; i < e.nChildren(); i++) {
                MemorySegment child = children.getAtIndex(ADDR, i).reinterpret(size);
                if (!child.get(ADDR, releaseAt).equals(MemorySegment.NULL)) {
                    releaseExported(child, array);
                }
            }
        } finally {
            for (MemorySegment b : e.blocks()) {
                Native.free(b);
            }
            if (e.owner() != null) {
                e.owner().release();
            }
        }
    }

    private static MemorySegment checkOut(MemorySegment out, StructLayout layout, String what) {
        if (out == null || out.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException(what + ": expected memory for an " + layout.name().orElseThrow() + ", got "
                    + (out == null ? "null" : "NULL"));
        }
        return out.byteSize() >= layout.byteSize() ? out : out.reinterpret(layout.byteSize());
    }

    private static MemorySegment cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        MemorySegment m = Native.malloc(b.length + 1L);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        m.set(ValueLayout.JAVA_BYTE, b.length, (byte) 0);
        return m;
    }

    private static String string(MemorySegment p) {
        return p.equals(MemorySegment.NULL) ? null : p.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_8);
    }
}
