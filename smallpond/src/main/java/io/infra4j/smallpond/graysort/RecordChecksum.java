package io.infra4j.smallpond.graysort;

import static io.infra4j.smallpond.graysort.GensortRecords.KEY_BYTES;
import static io.infra4j.smallpond.graysort.GensortRecords.PAYLOAD_BYTES;
import static io.infra4j.smallpond.graysort.GensortRecords.RECORD_BYTES;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * An order-independent checksum of a set of 100-byte records, like valsort's: the sum of the CRC32C of each
 * record, as an unsigned 128-bit number. A sum (not a XOR) so a duplicated record changes it too.
 *
 * <p>Mutable and not thread-safe: keep one per thread and {@link #merge} them.
 */
public final class RecordChecksum {
    private long high;
    private long low;
    private final CRC32C crc = new CRC32C();
    private byte[] scratch; // only for heap segments that are not byte[]-backed

    public RecordChecksum() {}

    private RecordChecksum(long high, long low) {
        this.high = high;
        this.low = low;
    }

    /** The checksum whose {@link #toHex()} is {@code hex} (32 hex digits), e.g. to compare with a stored value. */
    public static RecordChecksum parse(String hex) {
        Objects.requireNonNull(hex, "hex");
        if (hex.length() != 32) {
            throw new IllegalArgumentException("a checksum is 32 hex digits, not '" + hex + "'");
        }
        return new RecordChecksum(HexFormat.fromHexDigitsToLong(hex, 0, 16), HexFormat.fromHexDigitsToLong(hex, 16, 32));
    }

    /** Adds one whole 100-byte record. */
    public RecordChecksum add(MemorySegment record) {
        requireSize(record, RECORD_BYTES, "record");
        crc.reset();
        update(record);
        addCrc();
        return this;
    }

    /** Adds one record stored as its 10-byte key and 90-byte payload; same result as {@link #add(MemorySegment)} of the whole. */
    public RecordChecksum add(MemorySegment key, MemorySegment payload) {
        requireSize(key, KEY_BYTES, "key");
        requireSize(payload, PAYLOAD_BYTES, "payload");
        crc.reset();
        update(key);
        update(payload);
        addCrc();
        return this;
    }

    /** Adds every record of a block of whole records (one buffer view for the block, none per record). */
    public RecordChecksum addRecords(MemorySegment records) {
        Objects.requireNonNull(records, "records");
        long size = records.byteSize();
        if (size % RECORD_BYTES != 0) {
            throw new IllegalArgumentException(size + " bytes is not a whole number of " + RECORD_BYTES + "-byte records");
        }
        if (size == 0) {
            return this;
        }
        if (!viewable(records) || size > Integer.MAX_VALUE) {
            for (long off = 0; off < size; off += RECORD_BYTES) {
                add(records.asSlice(off, RECORD_BYTES));
            }
            return this;
        }
        ByteBuffer buf = records.asByteBuffer();
        for (int off = 0; off < size; off += RECORD_BYTES) {
            buf.limit(off + RECORD_BYTES).position(off);
            crc.reset();
            crc.update(buf);
            addCrc();
        }
        return this;
    }

    /** Adds another checksum (of a disjoint part of the records) into this one. */
    public RecordChecksum merge(RecordChecksum other) {
        Objects.requireNonNull(other, "other");
        long sum = low + other.low;
        high += other.high + (Long.compareUnsigned(sum, low) < 0 ? 1 : 0);
        low = sum;
        return this;
    }

    /** An independent copy holding the same sum. */
    public RecordChecksum copy() {
        return new RecordChecksum(high, low);
    }

    /** The upper 64 bits of the 128-bit sum. */
    public long high() {
        return high;
    }

    /** The lower 64 bits of the 128-bit sum. */
    public long low() {
        return low;
    }

    /** The sum as 32 lower-case hex digits. */
    public String toHex() {
        HexFormat hex = HexFormat.of();
        return hex.toHexDigits(high) + hex.toHexDigits(low);
    }

    @Override
    public String toString() {
        return toHex();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RecordChecksum c && c.high == high && c.low == low;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(high) * 31 + Long.hashCode(low);
    }

    private void addCrc() {
        long sum = low + crc.getValue(); // CRC is 0..2^32-1, so a carry shows as the sum wrapping below low
        if (Long.compareUnsigned(sum, low) < 0) {
            high++;
        }
        low = sum;
    }

    private void update(MemorySegment part) {
        if (viewable(part)) {
            crc.update(part.asByteBuffer());
        } else {
            int n = (int) part.byteSize();
            if (scratch == null) {
                scratch = new byte[RECORD_BYTES];
            }
            MemorySegment.copy(part, 0, MemorySegment.ofArray(scratch), 0, n);
            crc.update(scratch, 0, n);
        }
    }

    /** asByteBuffer works for native segments and byte[]-backed heap segments only. */
    private static boolean viewable(MemorySegment s) {
        return s.isNative() || s.heapBase().map(b -> b instanceof byte[]).orElse(false);
    }

    static void requireSize(MemorySegment s, int bytes, String what) {
        Objects.requireNonNull(s, what);
        if (s.byteSize() != bytes) {
            throw new IllegalArgumentException("a " + what + " is " + bytes + " bytes, not " + s.byteSize());
        }
    }
}
