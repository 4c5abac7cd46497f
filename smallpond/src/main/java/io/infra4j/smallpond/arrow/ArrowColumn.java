package io.infra4j.smallpond.arrow;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * One column of an {@link ArrowBatch}, read in place: rows count from 0 to {@link #length()}, the Arrow
 * {@code offset} already applied. Values of null rows are undefined for the primitive getters; {@link #getObject}
 * gives null. The raw buffers ({@link #validityBuffer}, {@link #valueBuffer}, {@link #offsetBuffer},
 * {@link #dataBuffer}) are the whole Arrow buffers, where row {@code r} sits at index {@link #offset()} + r;
 * they are valid until the batch closes (then any access is an IllegalStateException).
 */
public final class ArrowColumn {
    private final ArrowBatch batch;
    private final ArrowField field;
    private final ArrowType type;
    private final int length;
    private final long offset;
    private long nullCount; // -1 until counted
    private final MemorySegment validity; // null: no nulls
    private final MemorySegment values; // values, bits (BOOL) or offsets (variable size)
    private final MemorySegment data; // variable size only
    private final int width;

    ArrowColumn(ArrowBatch batch, ArrowField field, int length, long offset, long nullCount, MemorySegment validity, MemorySegment values,
            MemorySegment data) {
        this.batch = batch;
        this.field = field;
        this.type = field.type();
        this.length = length;
        this.offset = offset;
        this.validity = validity;
        this.nullCount = validity == null ? 0 : nullCount;
        this.values = values;
        this.data = data;
        this.width = type.byteWidth();
    }

    public ArrowField field() {
        return field;
    }

    public String name() {
        return field.name();
    }

    public ArrowType type() {
        return field.type();
    }

    /** Rows in the column (the batch's row count). */
    public int length() {
        return length;
    }

    /** Where row 0 sits in the raw buffers (the Arrow {@code offset}). */
    public long offset() {
        return offset;
    }

    /** How many rows are null. */
    public long nullCount() {
        batch.checkOpen();
        if (nullCount < 0) {
            nullCount = countNulls(0, length);
        }
        return nullCount;
    }

    long countNulls(int from, int count) {
        if (validity == null) {
            return 0;
        }
        long nulls = 0;
        for (int r = from; r < from + count; r++) {
            if (!bit(validity, offset + r)) {
                nulls++;
            }
        }
        return nulls;
    }

    public boolean isNull(int row) {
        check(row);
        return validity != null && !bit(validity, offset + row);
    }

    public boolean getBoolean(int row) {
        check(row);
        expect(type == ArrowType.BOOL, "getBoolean");
        return bit(values, offset + row);
    }

    /** Integers of up to 32 bits (UINT32 only through {@link #getLong}), DATE32 (days), 32-bit times. */
    public int getInt(int row) {
        check(row);
        long i = offset + row;
        if (type instanceof ArrowType.Primitive p) {
            switch (p) {
                case INT8: return values.get(ValueLayout.JAVA_BYTE, i);
                case UINT8: return values.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
                case INT16: return values.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i);
                case UINT16: return values.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i) & 0xFFFF;
                case INT32, DATE32: return values.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * i);
                default: break;
            }
        } else if (type instanceof ArrowType.Time && width == 4) {
            return values.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * i);
        }
        throw wrongType("getInt");
    }

    /** Any integer (UINT64 as its bits), DATE32 (days), timestamps and times (in their unit). */
    public long getLong(int row) {
        check(row);
        long i = offset + row;
        if (width == 8 && (type == ArrowType.INT64 || type == ArrowType.UINT64 || type instanceof ArrowType.Timestamp
                || type instanceof ArrowType.Time)) {
            return values.get(ValueLayout.JAVA_LONG_UNALIGNED, 8 * i);
        }
        if (type == ArrowType.UINT32) {
            return Integer.toUnsignedLong(values.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * i));
        }
        return getInt(row);
    }

    public float getFloat(int row) {
        check(row);
        expect(type == ArrowType.FLOAT32, "getFloat");
        return values.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * (offset + row));
    }

    /** FLOAT64 or FLOAT32. */
    public double getDouble(int row) {
        check(row);
        if (type == ArrowType.FLOAT32) {
            return values.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * (offset + row));
        }
        expect(type == ArrowType.FLOAT64, "getDouble");
        return values.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, 8 * (offset + row));
    }

    /** UTF8 or LARGE_UTF8 (null for a null row). */
    public String getString(int row) {
        expect(type == ArrowType.UTF8 || type == ArrowType.LARGE_UTF8, "getString");
        if (isNull(row)) {
            return null;
        }
        MemorySegment v = valueSegment(row);
        return new String(v.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** DECIMAL128 (null for a null row). */
    public BigDecimal getDecimal(int row) {
        expect(type instanceof ArrowType.Decimal128, "getDecimal");
        if (isNull(row)) {
            return null;
        }
        long at = 16 * (offset + row);
        long lo = values.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
        long hi = values.get(ValueLayout.JAVA_LONG_UNALIGNED, at + 8);
        BigInteger unscaled = BigInteger.valueOf(hi).shiftLeft(64).or(new BigInteger(Long.toUnsignedString(lo)));
        return new BigDecimal(unscaled, ((ArrowType.Decimal128) type).scale());
    }

    /** The bytes of a binary, string or fixed-size binary value, copied (null for a null row). */
    public byte[] getBytes(int row) {
        if (isNull(row)) {
            return null;
        }
        return valueSegment(row).toArray(ValueLayout.JAVA_BYTE);
    }

    /** Copies the value's bytes to {@code dst} at {@code dstOffset}; returns how many (0 for a null row). */
    public int getBytes(int row, MemorySegment dst, long dstOffset) {
        Objects.requireNonNull(dst, "dst");
        if (isNull(row)) {
            return 0;
        }
        MemorySegment v = valueSegment(row);
        MemorySegment.copy(v, 0, dst, dstOffset, v.byteSize());
        return (int) v.byteSize();
    }

    /** The value's bytes in place (no copy; valid until the batch closes): binaries, strings, fixed-size binaries. */
    public MemorySegment valueSegment(int row) {
        check(row);
        long i = offset + row;
        if (type instanceof ArrowType.FixedSizeBinary) {
            return values.asSlice(i * width, width);
        }
        expect(ArrowType.isVariableSize(type), "valueSegment");
        long start;
        long end;
        if (ArrowType.isLarge(type)) {
            start = values.get(ValueLayout.JAVA_LONG_UNALIGNED, 8 * i);
            end = values.get(ValueLayout.JAVA_LONG_UNALIGNED, 8 * i + 8);
        } else {
            start = values.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * i);
            end = values.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * i + 4);
        }
        return data.asSlice(start, end - start);
    }

    /**
     * The value as a Java object, or null: Boolean, Byte/Short/Integer/Long (unsigned types widen: UINT8 to Short,
     * UINT16 to Integer, UINT32 to Long, UINT64 to BigInteger), Float/Double, String, byte[] for binaries,
     * LocalDate, LocalDateTime for timestamps without a time zone and Instant for those with one, LocalTime,
     * BigDecimal for decimals.
     */
    public Object getObject(int row) {
        if (isNull(row)) {
            return null;
        }
        if (type instanceof ArrowType.Primitive p) {
            return switch (p) {
                case BOOL -> getBoolean(row);
                case INT8 -> (byte) getInt(row);
                case INT16 -> (short) getInt(row);
                case INT32 -> getInt(row);
                case INT64 -> getLong(row);
                case UINT8 -> (short) getInt(row);
                case UINT16 -> getInt(row);
                case UINT32 -> getLong(row);
                case UINT64 -> new BigInteger(Long.toUnsignedString(getLong(row)));
                case FLOAT32 -> getFloat(row);
                case FLOAT64 -> getDouble(row);
                case UTF8, LARGE_UTF8 -> getString(row);
                case BINARY, LARGE_BINARY -> getBytes(row);
                case DATE32 -> LocalDate.ofEpochDay(getInt(row));
            };
        } else if (type instanceof ArrowType.FixedSizeBinary) {
            return getBytes(row);
        } else if (type instanceof ArrowType.Decimal128) {
            return getDecimal(row);
        } else if (type instanceof ArrowType.Timestamp ts) {
            long v = getLong(row);
            long per = ts.unit().perSecond();
            long seconds = Math.floorDiv(v, per);
            int nanos = (int) (Math.floorMod(v, per) * (1_000_000_000L / per));
            return ts.timezone() == null ? LocalDateTime.ofEpochSecond(seconds, nanos, ZoneOffset.UTC) : Instant.ofEpochSecond(seconds, nanos);
        } else if (type instanceof ArrowType.Time t) {
            long v = getLong(row);
            return LocalTime.ofNanoOfDay(v * (1_000_000_000L / t.unit().perSecond()));
        }
        throw wrongType("getObject");
    }

    /** The validity bitmap (bit set: a value), or null when no row is null. */
    public MemorySegment validityBuffer() {
        batch.checkOpen();
        return validity;
    }

    /** Fixed-size values (bits for BOOL); the offsets for strings and binaries. */
    public MemorySegment valueBuffer() {
        batch.checkOpen();
        return values;
    }

    /** The offsets of strings and binaries (int32, int64 for the large ones); null for other types. */
    public MemorySegment offsetBuffer() {
        batch.checkOpen();
        return ArrowType.isVariableSize(type) ? values : null;
    }

    /** The bytes of strings and binaries; null for other types. */
    public MemorySegment dataBuffer() {
        batch.checkOpen();
        return data;
    }

    MemorySegment rawValidity() {
        return validity;
    }

    MemorySegment rawValues() {
        return values;
    }

    MemorySegment rawData() {
        return data;
    }

    static boolean bit(MemorySegment bits, long i) {
        return ((bits.get(ValueLayout.JAVA_BYTE, i >>> 3) >>> (i & 7)) & 1) != 0;
    }

    private void check(int row) {
        batch.checkOpen();
        Objects.checkIndex(row, length);
    }

    private void expect(boolean ok, String what) {
        if (!ok) {
            throw wrongType(what);
        }
    }

    private IllegalStateException wrongType(String what) {
        return new IllegalStateException(what + ": column '" + field.name() + "' is " + type.format() + " (" + type + ")");
    }

    @Override
    public String toString() {
        return "ArrowColumn(" + field.name() + ": " + type.format() + ", " + length + " rows)";
    }
}
