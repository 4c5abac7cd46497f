package io.infra4j.smallpond.arrow;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds an {@link ArrowBatch} in native memory: row by row ({@link #addRow}) or column by column
 * ({@link #column(int)} and its {@code append...} methods, which allocate nothing a value: buffers grow by
 * doubling, and a validity bitmap exists only once a column gets a null). {@link #build()} hands the buffers to the
 * batch; a builder not built frees them on {@link #close()}. Not for use by two threads at once.
 */
public final class ArrowBatchBuilder implements AutoCloseable {
    private final List<ArrowField> schema;
    private final Column[] columns;
    private boolean done;

    ArrowBatchBuilder(List<ArrowField> schema) {
        if (schema == null) {
            throw new IllegalArgumentException("schema: expected a list of fields, got null");
        }
        for (int i = 0; i < schema.size(); i++) {
            if (schema.get(i) == null) {
                throw new IllegalArgumentException("schema: field " + i + " is null");
            }
        }
        this.schema = List.copyOf(schema);
        this.columns = new Column[schema.size()];
        for (int i = 0; i < columns.length; i++) {
            columns[i] = new Column(this, schema.get(i));
        }
    }

    public List<ArrowField> schema() {
        return schema;
    }

    public Column column(int index) {
        checkOpen();
        if (index < 0 || index >= columns.length) {
            throw new IndexOutOfBoundsException("column " + index + ": the schema has " + columns.length + " fields");
        }
        return columns[index];
    }

    /** Rows added so far (the length of column 0; columns appended separately may differ until {@link #build}). */
    public int rowCount() {
        return columns.length == 0 ? 0 : columns[0].count;
    }

    /**
     * Appends one row: a value a column (see {@link Column#appendObject}). A value a column refuses is an
     * IllegalArgumentException, and the row is not added to any column.
     */
    public ArrowBatchBuilder addRow(Object... values) {
        checkOpen();
        if (values == null || values.length != columns.length) {
            throw new IllegalArgumentException("addRow: expected " + columns.length + " values, got " + (values == null ? "null" : values.length));
        }
        int i = 0;
        try {
            for (; i < columns.length; i++) {
                columns[i].appendObject(values[i]);
            }
        } catch (RuntimeException e) {
            for (int j = 0; j < i; j++) {
                columns[j].dropLast();
            }
            throw e;
        }
        return this;
    }

    /** The batch of the rows appended; the builder is spent. Every column must have the same number of rows. */
    public ArrowBatch build() {
        checkOpen();
        int rows = rowCount();
        for (Column c : columns) {
            if (c.count != rows) {
                throw new IllegalStateException("build: column '" + c.field.name() + "' has " + c.count + " rows, column '"
                        + columns[0].field.name() + "' " + rows);
            }
        }
        done = true;
        List<MemorySegment> blocks = new ArrayList<>();
        for (Column c : columns) {
            c.addBlocks(blocks);
        }
        Owner owner = new Owner(() -> blocks.forEach(Native::free));
        return new ArrowBatch(schema, rows, owner, batch -> {
            List<ArrowColumn> cols = ArrowBatch.list(columns.length);
            for (Column c : columns) {
                cols.add(c.toColumn(batch));
            }
            return cols;
        });
    }

    /** Frees the buffers, unless {@link #build()} took them. */
    @Override
    public void close() {
        if (done) {
            return;
        }
        done = true;
        List<MemorySegment> blocks = new ArrayList<>();
        for (Column c : columns) {
            c.addBlocks(blocks);
        }
        blocks.forEach(Native::free);
    }

    void checkOpen() {
        if (done) {
            throw new IllegalStateException("this batch builder is built or closed");
        }
    }

    /** One column being built. */
    public static final class Column {
        private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
        private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

        private final ArrowBatchBuilder owner;
        private final ArrowField field;
        private final ArrowType type;
        private final boolean variable;
        private final boolean large;
        private final int width; // bytes a value; 0 for BOOL and variable size
        private int count;
        private int nullCount;
        private MemorySegment validity; // null until the first null
        private MemorySegment values; // values, bits, or offsets
        private MemorySegment data; // variable size: the bytes
        private long dataLength;

        Column(ArrowBatchBuilder owner, ArrowField field) {
            this.owner = owner;
            this.field = field;
            this.type = field.type();
            this.variable = ArrowType.isVariableSize(type);
            this.large = ArrowType.isLarge(type);
            this.width = type.byteWidth();
            if (variable) {
                values = Native.calloc(64 * (large ? 8 : 4)); // offsets[0] = 0
                data = Native.malloc(1024);
            } else {
                values = Native.calloc(type == ArrowType.BOOL ? 64 : 64L * width);
            }
        }

        public ArrowField field() {
            return field;
        }

        public int rowCount() {
            return count;
        }

        public Column appendNull() {
            owner.checkOpen();
            if (!field.nullable()) {
                throw new IllegalArgumentException("column '" + field.name() + "' is not nullable");
            }
            if (validity == null) {
                validity = Native.malloc(Math.max(64, values.byteSize() / Math.max(1, width)));
                validity.fill((byte) 0xFF); // every row so far is valid
            }
            ensureValidity(count);
            setBit(validity, count, false);
            nullCount++;
            if (variable) {
                ensureOffsets(count + 1);
                if (large) {
                    values.setAtIndex(LONG, count + 1, dataLength);
                } else {
                    values.setAtIndex(INT, count + 1, (int) dataLength);
                }
            } else if (type == ArrowType.BOOL) {
                ensureFixed(count);
                setBit(values, count, false);
            } else {
                ensureFixed(count);
                values.asSlice((long) count * width, width).fill((byte) 0);
            }
            count++;
            return this;
        }

        public Column appendBoolean(boolean v) {
            expect(type == ArrowType.BOOL, "appendBoolean");
            ensureFixed(count);
            setBit(values, count, v);
            return valid();
        }

        /**
         * Integers (checked against the column's range; UINT64 takes the long's bits), DATE32 (days), timestamps and
         * times (in their unit).
         */
        public Column appendLong(long v) {
            owner.checkOpen();
            if (width == 8 && type != ArrowType.FLOAT64 && !(type instanceof ArrowType.FixedSizeBinary)) {
                ensureFixed(count);
                values.setAtIndex(LONG, count, v);
                return valid();
            }
            if (type instanceof ArrowType.Primitive p) {
                switch (p) {
                    case INT8 -> putByte(v, Byte.MIN_VALUE, Byte.MAX_VALUE);
                    case UINT8 -> putByte(v, 0, 255);
                    case INT16 -> putShort(v, Short.MIN_VALUE, Short.MAX_VALUE);
                    case UINT16 -> putShort(v, 0, 65535);
                    case INT32, DATE32 -> putInt(v, Integer.MIN_VALUE, Integer.MAX_VALUE);
                    case UINT32 -> putInt(v, 0, 0xFFFF_FFFFL);
                    default -> throw wrongType("appendLong");
                }
                return valid();
            } else if (type instanceof ArrowType.Time) {
                putInt(v, 0, 86_400_000L);
                return valid();
            }
            throw wrongType("appendLong");
        }

        public Column appendInt(int v) {
            return appendLong(v);
        }

        public Column appendFloat(float v) {
            owner.checkOpen();
            if (type == ArrowType.FLOAT64) {
                return appendDouble(v);
            }
            expect(type == ArrowType.FLOAT32, "appendFloat");
            ensureFixed(count);
            values.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, count, v);
            return valid();
        }

        public Column appendDouble(double v) {
            owner.checkOpen();
            if (type == ArrowType.FLOAT32) {
                return appendFloat((float) v);
            }
            expect(type == ArrowType.FLOAT64, "appendDouble");
            ensureFixed(count);
            values.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, count, v);
            return valid();
        }

        public Column appendString(String v) {
            if (v == null) {
                return appendNull();
            }
            return appendBytes(v.getBytes(StandardCharsets.UTF_8));
        }

        public Column appendBytes(byte[] v) {
            if (v == null) {
                return appendNull();
            }
            return appendBytes(MemorySegment.ofArray(v), 0, v.length);
        }

        /**
         * Appends {@code length} bytes of {@code src} from {@code offset}: a binary or string value (its bytes are
         * not checked to be UTF-8), or a fixed-size binary of exactly its width.
         */
        public Column appendBytes(MemorySegment src, long offset, int length) {
            owner.checkOpen();
            if (variable) {
                long end = dataLength + length;
                if (end > data.byteSize()) {
                    if (!large && end > Integer.MAX_VALUE) {
                        throw new IllegalStateException("column '" + field.name() + "': more than 2 GiB of " + type
                                + " data in one batch; use LARGE_BINARY/LARGE_UTF8 or build smaller batches");
                    }
                    data = Native.realloc(data, Math.max(end, data.byteSize() * 2));
                }
                MemorySegment.copy(src, offset, data, dataLength, length);
                dataLength = end;
                ensureOffsets(count + 1);
                if (large) {
                    values.setAtIndex(LONG, count + 1, end);
                } else {
                    values.setAtIndex(INT, count + 1, (int) end);
                }
                return valid();
            }
            if (type instanceof ArrowType.FixedSizeBinary) {
                if (length != width) {
                    throw new IllegalArgumentException("column '" + field.name() + "' holds " + width + "-byte values, got " + length + " bytes");
                }
                ensureFixed(count);
                MemorySegment.copy(src, offset, values, (long) count * width, length);
                return valid();
            }
            throw wrongType("appendBytes");
        }

        /** A DECIMAL128 value: rescaled to the column's scale (only where no digit is lost) and checked against its precision. */
        public Column appendDecimal(BigDecimal v) {
            if (v == null) {
                return appendNull();
            }
            owner.checkOpen();
            expect(type instanceof ArrowType.Decimal128, "appendDecimal");
            ArrowType.Decimal128 d = (ArrowType.Decimal128) type;
            BigInteger unscaled;
            try {
                unscaled = v.setScale(d.scale(), RoundingMode.UNNECESSARY).unscaledValue();
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("column '" + field.name() + "': " + v + " has more than " + d.scale() + " digits after the point");
            }
            if (unscaled.abs().compareTo(BigInteger.TEN.pow(d.precision())) >= 0) {
                throw new IllegalArgumentException("column '" + field.name() + "': " + v + " has more than " + d.precision() + " digits");
            }
            ensureFixed(count);
            values.setAtIndex(LONG, 2L * count, unscaled.longValue());
            values.setAtIndex(LONG, 2L * count + 1, unscaled.shiftRight(64).longValue());
            return valid();
        }

        /**
         * Appends a Java value: null; Boolean; an integral Number (Byte, Short, Integer, Long, BigInteger) for integer
         * columns; a Number for floats; a CharSequence for strings; byte[] or MemorySegment for binaries (and strings);
         * LocalDate (or days) for DATE32; LocalDateTime (as UTC), Instant, OffsetDateTime (or a count of the unit) for
         * timestamps; LocalTime for times; BigDecimal (or an integral Number) for decimals. Anything else is an
         * IllegalArgumentException naming the column.
         */
        public Column appendObject(Object v) {
            owner.checkOpen();
            if (v == null) {
                return appendNull();
            }
            if (type == ArrowType.BOOL && v instanceof Boolean b) {
                return appendBoolean(b);
            }
            if (type == ArrowType.FLOAT32 || type == ArrowType.FLOAT64) {
                if (v instanceof Number n && !(v instanceof BigInteger) && !(v instanceof BigDecimal)) {
                    return appendDouble(n.doubleValue());
                }
            } else if (type instanceof ArrowType.Decimal128) {
                if (v instanceof BigDecimal bd) {
                    return appendDecimal(bd);
                } else if (v instanceof BigInteger bi) {
                    return appendDecimal(new BigDecimal(bi));
                } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
                    return appendDecimal(BigDecimal.valueOf(((Number) v).longValue()));
                }
            } else if (type == ArrowType.UINT64 && v instanceof BigInteger bi) {
                if (bi.signum() < 0 || bi.bitLength() > 64) {
                    throw outOfRange(bi);
                }
                return appendLong(bi.longValue());
            } else if (type instanceof ArrowType.Primitive p && p.byteWidth() > 0 && p != ArrowType.DATE32
                    && p != ArrowType.FLOAT32 && p != ArrowType.FLOAT64) {
                if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
                    return appendLong(((Number) v).longValue());
                } else if (v instanceof BigInteger bi) {
                    if (bi.bitLength() > 63) {
                        throw outOfRange(bi);
                    }
                    return appendLong(bi.longValue());
                }
            } else if (ArrowType.isVariableSize(type) || type instanceof ArrowType.FixedSizeBinary) {
                if (v instanceof CharSequence cs && (type == ArrowType.UTF8 || type == ArrowType.LARGE_UTF8)) {
                    return appendString(cs.toString());
                } else if (v instanceof byte[] b) {
                    return appendBytes(b);
                } else if (v instanceof MemorySegment m) {
                    if (m.byteSize() > Integer.MAX_VALUE) {
                        throw new IllegalArgumentException("column '" + field.name() + "': a value of " + m.byteSize() + " bytes is too long");
                    }
                    return appendBytes(m, 0, (int) m.byteSize());
                }
            } else if (type == ArrowType.DATE32) {
                if (v instanceof LocalDate d) {
                    return appendLong(d.toEpochDay());
                } else if (v instanceof Integer i) {
                    return appendLong(i);
                }
            } else if (type instanceof ArrowType.Timestamp ts) {
                Instant instant = null;
                if (v instanceof LocalDateTime ldt) {
                    instant = ldt.toInstant(ZoneOffset.UTC);
                } else if (v instanceof Instant i) {
                    instant = i;
                } else if (v instanceof OffsetDateTime odt) {
                    instant = odt.toInstant();
                } else if (v instanceof Long l) {
                    return appendLong(l);
                }
                if (instant != null) {
                    return appendLong(toUnit(instant.getEpochSecond(), instant.getNano(), ts.unit()));
                }
            } else if (type instanceof ArrowType.Time t) {
                if (v instanceof LocalTime lt) {
                    long nanos = lt.toNanoOfDay();
                    long perSecond = t.unit().perSecond();
                    return appendLong(nanos / (1_000_000_000L / perSecond));
                } else if (v instanceof Long || v instanceof Integer) {
                    return appendLong(((Number) v).longValue());
                }
            }
            throw new IllegalArgumentException("column '" + field.name() + "' (" + type.format() + "): cannot hold a " + v.getClass().getSimpleName()
                    + " (" + v + ")");
        }

        private long toUnit(long seconds, int nanos, ArrowType.TimeUnit unit) {
            long per = unit.perSecond();
            try {
                return Math.addExact(Math.multiplyExact(seconds, per), nanos / (1_000_000_000L / per));
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("column '" + field.name() + "': the timestamp is out of range of " + type.format());
            }
        }

        private void putByte(long v, long min, long max) {
            if (v < min || v > max) {
                throw outOfRange(v);
            }
            ensureFixed(count);
            values.set(ValueLayout.JAVA_BYTE, count, (byte) v);
        }

        private void putShort(long v, long min, long max) {
            if (v < min || v > max) {
                throw outOfRange(v);
            }
            ensureFixed(count);
            values.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, count, (short) v);
        }

        private void putInt(long v, long min, long max) {
            if (v < min || v > max) {
                throw outOfRange(v);
            }
            ensureFixed(count);
            values.setAtIndex(INT, count, (int) v);
        }

        // The row just written is valid; it counts.
        private Column valid() {
            if (validity != null) {
                ensureValidity(count);
                setBit(validity, count, true);
            }
            count++;
            return this;
        }

        void dropLast() {
            count--;
            if (validity != null && !ArrowColumn.bit(validity, count)) {
                nullCount--;
            }
            if (variable) {
                dataLength = large ? values.getAtIndex(LONG, count) : values.getAtIndex(INT, count);
            }
        }

        private void ensureFixed(int row) {
            long need = type == ArrowType.BOOL ? row / 8 + 1 : ((long) row + 1) * width;
            if (need > values.byteSize()) {
                long old = values.byteSize();
                values = Native.realloc(values, Math.max(need, old * 2));
                values.asSlice(old).fill((byte) 0);
            }
        }

        private void ensureOffsets(int index) {
            long need = ((long) index + 1) * (large ? 8 : 4);
            if (need > values.byteSize()) {
                values = Native.realloc(values, Math.max(need, values.byteSize() * 2));
            }
        }

        private void ensureValidity(int row) {
            long need = row / 8 + 1;
            if (need > validity.byteSize()) {
                long old = validity.byteSize();
                validity = Native.realloc(validity, Math.max(need, old * 2));
                validity.asSlice(old).fill((byte) 0xFF);
            }
        }

        private static void setBit(MemorySegment bits, long i, boolean on) {
            byte b = bits.get(ValueLayout.JAVA_BYTE, i >>> 3);
            int mask = 1 << (i & 7);
            bits.set(ValueLayout.JAVA_BYTE, i >>> 3, (byte) (on ? b | mask : b & ~mask));
        }

        void addBlocks(List<MemorySegment> blocks) {
            blocks.add(values);
            if (data != null) {
                blocks.add(data);
            }
            if (validity != null) {
                blocks.add(validity);
            }
        }

        ArrowColumn toColumn(ArrowBatch batch) {
            long valuesBytes;
            if (variable) {
                valuesBytes = ((long) count + 1) * (large ? 8 : 4);
            } else if (type == ArrowType.BOOL) {
                valuesBytes = (count + 7L) / 8;
            } else {
                valuesBytes = (long) count * width;
            }
            MemorySegment v = batch.scoped(values.asSlice(0, valuesBytes));
            MemorySegment d = variable ? batch.scoped(data.asSlice(0, dataLength)) : null;
            MemorySegment bits = nullCount == 0 ? null : batch.scoped(validity.asSlice(0, (count + 7L) / 8));
            return new ArrowColumn(batch, field, count, 0, nullCount, bits, v, d);
        }

        private void expect(boolean ok, String what) {
            owner.checkOpen();
            if (!ok) {
                throw wrongType(what);
            }
        }

        private IllegalArgumentException wrongType(String what) {
            return new IllegalArgumentException(what + ": column '" + field.name() + "' is " + type.format() + " (" + type + ")");
        }

        private IllegalArgumentException outOfRange(Object v) {
            return new IllegalArgumentException("column '" + field.name() + "' (" + type + "): " + v + " is out of range");
        }
    }
}
