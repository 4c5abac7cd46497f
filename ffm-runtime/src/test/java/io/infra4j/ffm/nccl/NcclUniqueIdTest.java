package io.infra4j.ffm.nccl;

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

/** {@link NcclUniqueId}'s bytes: the round trip a rendezvous relies on, and what it refuses. */
class NcclUniqueIdTest {

    private static byte[] randomId(long seed) {
        byte[] b = new byte[NcclUniqueId.BYTES];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void sizeIsNcclUniqueIdBytes() {
        assertEquals(128, NcclUniqueId.BYTES);
    }

    @Test
    void bytesRoundTripExactly() {
        for (long seed = 0; seed < 20; seed++) {
            byte[] b = randomId(seed);
            NcclUniqueId id = NcclUniqueId.fromBytes(b);
            assertArrayEquals(b, id.toBytes());
            assertEquals(id, NcclUniqueId.fromBytes(id.toBytes()));
            assertEquals(id.hashCode(), NcclUniqueId.fromBytes(b).hashCode());
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment struct = id.toSegment(arena);
                assertEquals(NcclUniqueId.BYTES, struct.byteSize());
                assertArrayEquals(b, struct.toArray(ValueLayout.JAVA_BYTE), "the struct NCCL gets holds the same bytes");
            }
        }
        assertNotEquals(NcclUniqueId.fromBytes(randomId(1)), NcclUniqueId.fromBytes(randomId(2)));
    }

    @Test
    void theIdOwnsItsBytes() {
        byte[] b = randomId(7);
        NcclUniqueId id = NcclUniqueId.fromBytes(b);
        b[0] ^= 1;
        assertFalse(id.toBytes()[0] == b[0], "changing the array passed in must not change the id");
        byte[] out = id.toBytes();
        out[1] ^= 1;
        assertFalse(id.toBytes()[1] == out[1], "changing the array handed out must not change the id");
    }

    @Test
    void wrongLengthsAndNullAreRefused() {
        for (int len : new int[] {0, 1, 127, 129, 256}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NcclUniqueId.fromBytes(new byte[len]));
            assertTrue(e.getMessage().contains("expected 128 bytes") && e.getMessage().contains("got " + len), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NcclUniqueId.fromBytes(null));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
    }

    @Test
    void toStringDoesNotPrintTheBytes() {
        byte[] b = randomId(3);
        String s = NcclUniqueId.fromBytes(b).toString();
        assertFalse(s.contains(HexFormat.of().formatHex(b, 0, 4)), "the id holds an address; keep it out of logs: " + s);
    }
}
