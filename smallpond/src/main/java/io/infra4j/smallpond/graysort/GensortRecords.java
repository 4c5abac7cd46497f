package io.infra4j.smallpond.graysort;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Gensort-like 100-byte binary records, written straight into memory.
 *
 * <p>Layout of record {@code i} (all offsets in bytes):
 * <pre>
 *  0..9    key: 10 pseudo-random bytes, a pure function of (seed, i)
 * 10..11   0x00 0x11
 * 12..43   i as a 128-bit number in 32 upper-case hex ASCII digits
 * 44..47   0x88 0x99 0xAA 0xBB
 * 48..95   filler: the low 12 hex digits of i, most significant first, each as the letter
 *          'A' + digit repeated 4 times (so ordinal 0x1F ends "...AAAABBBBPPPP")
 * 96..99   0xCC 0xDD 0xEE 0xFF
 * </pre>
 *
 * <p>The key is counter-based so any range can be generated alone, in any order, on any thread:
 * with {@code mix64} the SplitMix64 finaliser, {@code s1 = mix64(seed)}, {@code s2 = mix64(~seed)} and
 * {@code x = s1 + (i + 1) * 0x9E3779B97F4A7C15}, key bytes 0..7 are {@code mix64(x)} big-endian and bytes 8..9
 * the top 16 bits of {@code mix64(x ^ s2)}. Both steps are bijections of {@code i}, so within one seed no two
 * records share even the first 8 key bytes.
 */
public final class GensortRecords {
    public static final int RECORD_BYTES = 100;
    public static final int KEY_BYTES = 10;
    public static final int PAYLOAD_BYTES = RECORD_BYTES - KEY_BYTES;

    static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfShort SHORT_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    /** Eight ASCII '0': the high 64 bits of a (non-negative long) ordinal are always zero. */
    private static final long ASCII_ZEROS = 0x3030303030303030L;

    private GensortRecords() {}

    /** Writes {@code count} records with ordinals {@code firstOrdinal, firstOrdinal + 1, ...} at the start of {@code dst}. */
    public static void fill(MemorySegment dst, long firstOrdinal, int count, long seed) {
        Objects.requireNonNull(dst, "dst");
        checkRange(firstOrdinal, count);
        long need = (long) count * RECORD_BYTES;
        if (dst.byteSize() < need) {
            throw new IllegalArgumentException(count + " records need " + need + " bytes, the segment has " + dst.byteSize());
        }
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("the destination segment is read-only");
        }
        long s1 = mix64(seed);
        long s2 = mix64(~seed);
        long off = 0;
        for (long i = firstOrdinal, end = firstOrdinal + count; i < end; i++, off += RECORD_BYTES) {
            long x = s1 + (i + 1) * GOLDEN_GAMMA;
            long k1 = mix64(x);
            long k2 = mix64(x ^ s2);
            dst.set(LONG_BE, off, k1);
            dst.set(INT_BE, off + 8, (int) ((k2 >>> 48) << 16) | 0x0011); // key bytes 8..9, then 0x00 0x11
            dst.set(LONG_BE, off + 12, ASCII_ZEROS);
            dst.set(LONG_BE, off + 20, ASCII_ZEROS);
            dst.set(LONG_BE, off + 28, hex8((int) (i >>> 32)));
            dst.set(LONG_BE, off + 36, hex8((int) i));
            dst.set(INT_BE, off + 44, 0x8899AABB);
            for (int g = 0; g < 6; g++) { // 6 longs = 12 groups of 4 letters, two hex digits per long
                int shift = 44 - 8 * g;
                long hiLetter = 'A' + ((i >>> shift) & 0xF);
                long loLetter = 'A' + ((i >>> (shift - 4)) & 0xF);
                dst.set(LONG_BE, off + 48 + 8L * g, (hiLetter * 0x01010101L) << 32 | loLetter * 0x01010101L);
            }
            dst.set(INT_BE, off + 96, 0xCCDDEEFF);
        }
    }

    /** {@link #fill(MemorySegment, long, int, long)} into a byte array, starting at {@code offset}. */
    public static void fill(byte[] dst, int offset, long firstOrdinal, int count, long seed) {
        Objects.requireNonNull(dst, "dst");
        Objects.checkFromToIndex(offset, offset, dst.length);
        fill(MemorySegment.ofArray(dst).asSlice(offset), firstOrdinal, count, seed);
    }

    /** A new array holding records {@code firstOrdinal ..< firstOrdinal + count}. */
    public static byte[] generate(long firstOrdinal, int count, long seed) {
        checkRange(firstOrdinal, count);
        if (count > Integer.MAX_VALUE / RECORD_BYTES) {
            throw new IllegalArgumentException(count + " records do not fit in one byte array");
        }
        byte[] out = new byte[count * RECORD_BYTES];
        fill(MemorySegment.ofArray(out), firstOrdinal, count, seed);
        return out;
    }

    static void checkRange(long firstOrdinal, long count) {
        if (count < 0) {
            throw new IllegalArgumentException("record count must not be negative: " + count);
        }
        if (firstOrdinal < 0 || firstOrdinal > Long.MAX_VALUE - count) {
            throw new IllegalArgumentException("ordinals " + firstOrdinal + " + " + count + " leave the range 0..2^63-1");
        }
    }

    /** SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijection on 64 bits with good avalanche. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The 8 hex digits of {@code v} as upper-case ASCII, most significant digit in the top byte (no table, no branch). */
    static long hex8(int v) {
        long x = v & 0xFFFFFFFFL;
        x = ((x & 0xFFFF0000L) << 16) | (x & 0xFFFFL);
        x = ((x & 0x0000FF000000FF00L) << 8) | (x & 0x000000FF000000FFL);
        x = ((x & 0x00F000F000F000F0L) << 4) | (x & 0x000F000F000F000FL); // one nibble per byte
        long letters = ((x + 0x0606060606060606L) >>> 4) & 0x0101010101010101L; // 1 where the digit is >= 10
        return x + 0x3030303030303030L + letters * 7; // '0'+d, or 'A'+d-10 = '0'+d+7
    }
}
