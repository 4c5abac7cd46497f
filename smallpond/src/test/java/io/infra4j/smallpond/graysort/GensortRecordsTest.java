package io.infra4j.smallpond.graysort;

import static io.infra4j.smallpond.graysort.GensortRecords.RECORD_BYTES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** The record layout, the key as a pure function of (seed, ordinal), and argument checks. */
class GensortRecordsTest {
    @Test
    void fixedBytesOrdinalAndFillerAreWhereTheFormatSays() {
        long first = 0x1234_5678_9ABCL;
        byte[] recs = GensortRecords.generate(first, 20, 42);
        for (int r = 0; r < 20; r++) {
            byte[] rec = Arrays.copyOfRange(recs, r * RECORD_BYTES, (r + 1) * RECORD_BYTES);
            long ordinal = first + r;
            assertArrayEquals(new byte[] {0x00, 0x11}, Arrays.copyOfRange(rec, 10, 12));
            assertArrayEquals(new byte[] {(byte) 0x88, (byte) 0x99, (byte) 0xAA, (byte) 0xBB}, Arrays.copyOfRange(rec, 44, 48));
            assertArrayEquals(new byte[] {(byte) 0xCC, (byte) 0xDD, (byte) 0xEE, (byte) 0xFF}, Arrays.copyOfRange(rec, 96, 100));
            assertEquals(String.format("%032X", ordinal), new String(rec, 12, 32, StandardCharsets.US_ASCII));
            StringBuilder filler = new StringBuilder();
            for (char digit : String.format("%012X", ordinal).toCharArray()) {
                filler.repeat((char) ('A' + Character.digit(digit, 16)), 4);
            }
            assertEquals(filler.toString(), new String(rec, 48, 48, StandardCharsets.US_ASCII));
        }
    }

    @Test
    void hexDigitsCoverAllSixteenValues() {
        for (int v : new int[] {0, 0x01234567, 0x89ABCDEF, -1, 0xA0B1C2D3}) {
            byte[] text = new byte[8];
            MemorySegment.ofArray(text).set(GensortRecords.LONG_BE, 0, GensortRecords.hex8(v));
            assertEquals(String.format("%08X", v), new String(text, StandardCharsets.US_ASCII));
        }
    }

    @Property(tries = 50)
    void aRangeEqualsTheSameSliceOfABiggerFill(@ForAll @LongRange(min = 0, max = 1L << 40) long base,
            @ForAll @IntRange(min = 0, max = 300) int from, @ForAll @IntRange(min = 0, max = 200) int count, @ForAll long seed) {
        byte[] big = GensortRecords.generate(base, 500, seed);
        byte[] part = GensortRecords.generate(base + from, count, seed);
        assertArrayEquals(Arrays.copyOfRange(big, from * RECORD_BYTES, (from + count) * RECORD_BYTES), part);
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherKeys() {
        byte[] a = GensortRecords.generate(0, 1000, 7);
        assertArrayEquals(a, GensortRecords.generate(0, 1000, 7));
        byte[] b = GensortRecords.generate(0, 1000, 8);
        for (int r = 0; r < 1000; r++) {
            int off = r * RECORD_BYTES;
            assertFalse(Arrays.equals(a, off, off + 10, b, off, off + 10), "record " + r);
            assertArrayEquals(Arrays.copyOfRange(a, off + 10, off + 100), Arrays.copyOfRange(b, off + 10, off + 100));
        }
    }

    @Test
    void keysOfOneSeedAreDistinct() {
        byte[] a = GensortRecords.generate(0, 100_000, 0);
        Set<String> keys = new HashSet<>();
        for (int r = 0; r < 100_000; r++) {
            keys.add(Arrays.toString(Arrays.copyOfRange(a, r * RECORD_BYTES, r * RECORD_BYTES + 10)));
        }
        assertEquals(100_000, keys.size());
    }

    @Test
    void fillsNativeMemoryAndByteArraysAlike() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(64L * RECORD_BYTES);
            GensortRecords.fill(seg, 1000, 64, 3);
            byte[] arr = new byte[5 + 64 * RECORD_BYTES];
            GensortRecords.fill(arr, 5, 1000, 64, 3);
            assertArrayEquals(seg.toArray(ValueLayout.JAVA_BYTE), Arrays.copyOfRange(arr, 5, arr.length));
        }
    }

    @Test
    void badArgumentsFailBeforeWriting() {
        byte[] small = new byte[RECORD_BYTES * 2];
        assertThrows(IllegalArgumentException.class, () -> GensortRecords.fill(small, 0, 0, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> GensortRecords.fill(small, 0, -5, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> GensortRecords.fill(small, 0, Long.MAX_VALUE, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> GensortRecords.fill(small, 0, 0, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> GensortRecords.fill(MemorySegment.ofArray(small).asReadOnly(), 0, 1, 0));
        assertArrayEquals(new byte[RECORD_BYTES * 2], small);
    }
}
