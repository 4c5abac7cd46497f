package io.infra4j.ffm.nvshmem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link NvshmemUniqueId}'s bytes: the round trip a rendezvous relies on, and what it refuses. */
class NvshmemUniqueIdTest {

    private static byte[] randomId(long seed) {
        byte[] b = new byte[NvshmemUniqueId.BYTES];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void sizeIsTheStructsAndTheVersionItsInitialisers() {
        assertEquals(128, NvshmemUniqueId.BYTES, "nvshmemx_uniqueid_v1 is 128 bytes (the header asserts it)");
        assertEquals((1 << 16) + 128, NvshmemUniqueId.STRUCT_VERSION);
    }

    @Test
    void bytesRoundTripExactly() {
        for (long seed = 0; seed < 20; seed++) {
            byte[] b = randomId(seed);
            NvshmemUniqueId id = NvshmemUniqueId.fromBytes(b);
            assertArrayEquals(b, id.toBytes());
            assertEquals(id, NvshmemUniqueId.fromBytes(id.toBytes()));
            assertEquals(id.hashCode(), NvshmemUniqueId.fromBytes(b).hashCode());
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment struct = id.toSegment(arena);
                assertEquals(NvshmemUniqueId.BYTES, struct.byteSize());
                assertArrayEquals(b, struct.toArray(ValueLayout.JAVA_BYTE), "the struct NVSHMEM reads holds the same bytes");
            }
        }
        assertNotEquals(NvshmemUniqueId.fromBytes(randomId(1)), NvshmemUniqueId.fromBytes(randomId(2)));
    }

    @Test
    void theIdOwnsItsBytes() {
        byte[] b = randomId(7);
        NvshmemUniqueId id = NvshmemUniqueId.fromBytes(b);
        b[0] ^= 1;
        assertFalse(id.toBytes()[0] == b[0], "changing the array passed in must not change the id");
        byte[] out = id.toBytes();
        out[1] ^= 1;
        assertFalse(id.toBytes()[1] == out[1], "changing the array handed out must not change the id");
    }

    @Test
    void wrongLengthsAndNullAreRefused() {
        for (int len : new int[] {0, 1, 127, 129, 256}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NvshmemUniqueId.fromBytes(new byte[len]));
            assertTrue(e.getMessage().contains("expected 128 bytes") && e.getMessage().contains("got " + len), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NvshmemUniqueId.fromBytes(null));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
    }

    @Test
    void toStringDoesNotPrintTheBytes() {
        byte[] b = randomId(3);
        String s = NvshmemUniqueId.fromBytes(b).toString();
        assertFalse(s.contains(HexFormat.of().formatHex(b, 4, 8)), "the id holds an address; keep it out of logs: " + s);
    }
}
