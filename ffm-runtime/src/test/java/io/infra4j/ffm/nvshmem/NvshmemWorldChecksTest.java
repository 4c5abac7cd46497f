package io.infra4j.ffm.nvshmem;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The Java-side checks of {@link NvshmemWorld} and {@link NvshmemBuffer}, which must refuse bad input
 * before any native call: run on a world with no NVSHMEM behind it, so they need neither a GPU nor
 * libnvshmem_host. A check that let bad input through would reach the unbound world's guard, which
 * raises a different message ("no NVSHMEM behind it"), and the assertions on the message would fail.
 */
class NvshmemWorldChecksTest {
    private static final long PTR = 0x7f00_0000_1000L;
    private static final long HEAP = 0x7e00_0000_0000L;
    private static final CudaStream STREAM = CudaStream.legacyDefault();

    private static void assertRefused(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
    }

    private static void assertIllegalState(Executable call, String... fragments) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
        assertFalse(e.getMessage().contains("no NVSHMEM behind it"), "refused by the check, not the guard: " + e.getMessage());
    }

    @Test
    void initChecksItsArgumentsFirst() {
        NvshmemUniqueId id = NvshmemUniqueId.fromBytes(new byte[NvshmemUniqueId.BYTES]);
        assertRefused(() -> NvshmemWorld.init(id, 0, 0, null), "nranks", "at least 1", "got 0");
        assertRefused(() -> NvshmemWorld.init(id, 0, -3, null), "nranks", "got -3");
        assertRefused(() -> NvshmemWorld.init(id, 1, 1, null), "rank", "0..0", "got 1");
        assertRefused(() -> NvshmemWorld.init(id, -1, 4, null), "rank", "0..3", "got -1");
        assertRefused(() -> NvshmemWorld.init(null, 0, 1, null), "id", "null");
        assertRefused(() -> NvshmemWorld.init(id, 0, 1, null), "device", "null");
        assertTrue(NvshmemWorld.initPhase().startsWith("NONE"), "refused arguments leave initialisation possible");
    }

    @Test
    void pesOutOfRangeAreRefused() {
        try (NvshmemWorld w = NvshmemWorld.unbound(0, 1)) {
            NvshmemBuffer b = w.unboundBuffer(HEAP, 4096);
            for (int pe : new int[] {-1, 1, 2, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
                assertRefused(() -> w.put(b, 0, PTR, 16, pe, STREAM), "pe", "0..0", "got " + pe);
                assertRefused(() -> w.get(PTR, b, 0, 16, pe, STREAM), "pe", "0..0", "got " + pe);
                assertRefused(() -> b.peerAddress(pe), "pe", "0..0", "got " + pe);
            }
        }
    }

    @Test
    void rangesMustLieInsideTheBuffer() {
        try (NvshmemWorld w = NvshmemWorld.unbound(1, 4)) {
            NvshmemBuffer b = w.unboundBuffer(HEAP, 4096);
            assertRefused(() -> w.put(b, 0, PTR, 4097, 0, STREAM), "destOffset + bytes", "0 + 4097", "4096 bytes");
            assertRefused(() -> w.put(b, 4000, PTR, 97, 3, STREAM), "destOffset + bytes", "4000 + 97");
            assertRefused(() -> w.put(b, 4097, PTR, 0, 3, STREAM), "destOffset + bytes", "4097 + 0");
            assertRefused(() -> w.put(b, 8, PTR, Long.MAX_VALUE, 0, STREAM), "runs past");
            assertRefused(() -> w.put(b, Long.MAX_VALUE, PTR, 8, 0, STREAM), "runs past");
            assertRefused(() -> w.put(b, -1, PTR, 8, 0, STREAM), "destOffset", "got -1");
            assertRefused(() -> w.put(b, 0, PTR, -8, 0, STREAM), "bytes", "got -8");
            assertRefused(() -> w.get(PTR, b, 0, 4097, 2, STREAM), "sourceOffset + bytes", "0 + 4097");
            assertRefused(() -> w.get(PTR, b, 4095, 2, 2, STREAM), "sourceOffset + bytes", "4095 + 2");
            assertRefused(() -> w.get(PTR, b, -4, 2, 2, STREAM), "sourceOffset", "got -4");
            assertRefused(() -> w.get(PTR, b, 0, -1, 2, STREAM), "bytes", "got -1");
        }
    }


    @Test
    void emptyRangesAtTheEndAreFineAndNeedNoNativeCall() {
        try (NvshmemWorld w = NvshmemWorld.unbound(0, 2)) {
            NvshmemBuffer b = w.unboundBuffer(HEAP, 4096);
            // Zero bytes: checked, then nothing to do (no call reaches NVSHMEM, or the guard would throw).
            assertDoesNotThrow(() -> w.put(b, 4096, PTR, 0, 1, STREAM));
            assertDoesNotThrow(() -> w.get(PTR, b, 0, 0, 0, STREAM));
            assertDoesNotThrow(() -> w.put(b, 0, 0, 0, 1, STREAM), "no source needed for nothing");
        }
    }

    @Test
    void addressesAndStreamsAreChecked() {
        try (NvshmemWorld w = NvshmemWorld.unbound(0, 2)) {
            NvshmemBuffer b = w.unboundBuffer(HEAP, 4096);
            assertRefused(() -> w.put(b, 0, 0, 8, 1, STREAM), "source", "device address", "got 0");
            assertRefused(() -> w.get(0, b, 0, 8, 1, STREAM), "dest", "device address", "got 0");
            assertRefused(() -> w.put(b, 0, PTR, 8, 1, null), "stream", "null");
            assertRefused(() -> w.get(PTR, b, 0, 8, 1, null), "stream", "null");
            assertRefused(() -> w.barrierAll(null), "stream", "null");
            assertRefused(() -> w.quiet(null), "stream", "null");
            assertRefused(() -> w.put(null, 0, PTR, 8, 1, STREAM), "dest", "null");
            assertRefused(() -> w.get(PTR, null, 0, 8, 1, STREAM), "source", "null");
        }
    }

    @Test
    void allocationsAreChecked() {
        try (NvshmemWorld w = NvshmemWorld.unbound(0, 2)) {
            assertRefused(() -> w.malloc(0), "bytes", "at least 1", "got 0");
            assertRefused(() -> w.malloc(-5), "bytes", "got -5");
            assertRefused(() -> w.align(0, 64), "alignment", "power of two", "got 0");
            assertRefused(() -> w.align(48, 64), "alignment", "power of two", "got 48");
            assertRefused(() -> w.align(-64, 64), "alignment", "got -64");
            assertRefused(() -> w.align(256, 0), "bytes", "got 0");
        }
    }

    @Test
    void aBufferOfAnotherWorldIsRefused() {
        try (NvshmemWorld w = NvshmemWorld.unbound(0, 2); NvshmemWorld other = NvshmemWorld.unbound(0, 2)) {
            NvshmemBuffer foreign = other.unboundBuffer(HEAP, 4096);
            assertRefused(() -> w.put(foreign, 0, PTR, 8, 1, STREAM), "dest", "belongs to another world");
            assertRefused(() -> w.get(PTR, foreign, 0, 8, 1, STREAM), "source", "belongs to another world");
        }
    }

    @Test
    void closedBuffersAreRefused() {
        try (NvshmemWorld w = NvshmemWorld.unbound(0, 2)) {
            NvshmemBuffer b = w.unboundBuffer(HEAP, 4096);
            assertEquals(HEAP, b.address());
            assertEquals(4096, b.size());
            b.close();
            assertTrue(b.isClosed());
            assertDoesNotThrow(b::close, "closing twice does nothing");
            assertIllegalState(b::address, "closed");
            assertIllegalState(() -> w.put(b, 0, PTR, 8, 1, STREAM), "dest", "closed");
            assertIllegalState(() -> w.get(PTR, b, 0, 8, 1, STREAM), "source", "closed");
            assertIllegalState(() -> b.peerAddress(0), "closed");
            assertEquals(List.of(), w.openBuffers());
        }
    }

    @Test
    void aClosedWorldRefusesEverythingAndReleasesItsBuffers() {
        NvshmemWorld w = NvshmemWorld.unbound(0, 2);
        NvshmemBuffer a = w.unboundBuffer(HEAP, 4096);
        NvshmemBuffer b = w.unboundBuffer(HEAP + 4096, 128);
        assertEquals(List.of(a, b), w.openBuffers(), "oldest first");
        long liveBuffers = ResourceTracker.live(NvshmemBuffer.RESOURCE_KIND).stream()
                .filter(e -> e.description().equals("symmetric buffer of PE 0 of 2")).count();
        assertTrue(liveBuffers >= 2, "buffers are tracked");
        w.close();
        assertTrue(w.isClosed());
        assertDoesNotThrow(w::close, "closing twice does nothing");
        assertTrue(a.isClosed() && b.isClosed(), "closing the world releases its buffers");
        assertDoesNotThrow(a::close, "and closing them afterwards does nothing");
        assertEquals(List.of(), w.openBuffers());
        assertIllegalState(() -> w.malloc(64), "world", "closed");
        assertIllegalState(() -> w.align(64, 64), "world", "closed");
        assertIllegalState(w::barrierAll, "closed");
        assertIllegalState(() -> w.barrierAll(STREAM), "closed");
        assertIllegalState(w::quiet, "closed");
        assertIllegalState(() -> w.quiet(STREAM), "closed");
        assertIllegalState(() -> w.put(a, 0, PTR, 8, 1, STREAM), "closed");
        assertIllegalState(() -> w.get(PTR, a, 0, 8, 1, STREAM), "closed");
        assertTrue(w.toString().contains("closed"), w.toString());
    }

    @Test
    void worldsAreTrackedUntilClosed() {
        long before = ResourceTracker.live(NvshmemWorld.RESOURCE_KIND).size();
        NvshmemWorld w = NvshmemWorld.unbound(3, 8);
        assertEquals(before + 1, ResourceTracker.live(NvshmemWorld.RESOURCE_KIND).size());
        assertEquals(3, w.myPe());
        assertEquals(8, w.nPes());
        w.close();
        assertEquals(before, ResourceTracker.live(NvshmemWorld.RESOURCE_KIND).size());
    }
}
