package io.infra4j.ffm.nccl;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The Java-side checks of {@link NcclComm}, which must refuse bad input before any native call: run
 * on a communicator with no native handle, so they need neither a GPU nor libnccl. Any check that
 * let bad input through would reach NCCL here and fail with a linkage error instead.
 */
class NcclCommChecksTest {
    private static final long PTR = 0x7f00_0000_1000L;
    private static final CudaStream STREAM = CudaStream.legacyDefault();

    private static void assertRefused(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
    }

    @Test
    void peersOutOfRangeAreRefused() {
        try (NcclComm comm = NcclComm.unbound(0, 2)) {
            for (int peer : new int[] {-1, 2, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
                assertRefused(() -> comm.send(PTR, 16, NcclDataType.FLOAT32, peer, STREAM), "peer", "0..1", "got " + peer);
                assertRefused(() -> comm.recv(PTR, 16, NcclDataType.FLOAT32, peer, STREAM), "peer", "0..1", "got " + peer);
                assertRefused(() -> comm.broadcast(PTR, PTR, 16, NcclDataType.FLOAT32, peer, STREAM), "root", "0..1");
            }
        }
    }

    @Test
    void countsBuffersTypesAndStreamsAreChecked() {
        try (NcclComm comm = NcclComm.unbound(1, 4)) {
            assertRefused(() -> comm.send(PTR, -1, NcclDataType.FLOAT32, 0, STREAM), "count", "got -1");
            assertRefused(() -> comm.recv(PTR, Long.MIN_VALUE, NcclDataType.BFLOAT16, 0, STREAM), "count");
            assertRefused(() -> comm.send(0, 8, NcclDataType.FLOAT32, 0, STREAM), "buffer", "got 0");
            assertRefused(() -> comm.recv(0, 1, NcclDataType.UINT8, 0, STREAM), "buffer");
            assertRefused(() -> comm.send(PTR, 8, null, 0, STREAM), "type", "null");
            assertRefused(() -> comm.send(PTR, 8, NcclDataType.FLOAT32, 0, null), "stream", "null");
            assertRefused(() -> comm.recv(PTR, 8, NcclDataType.FLOAT32, 0, null), "stream", "null");
            assertRefused(() -> comm.allReduce(PTR, 0, 8, NcclDataType.FLOAT32, NcclRedOp.SUM, STREAM), "recvBuffer");
            assertRefused(() -> comm.allReduce(0, PTR, 8, NcclDataType.FLOAT32, NcclRedOp.SUM, STREAM), "sendBuffer");
            assertRefused(() -> comm.allReduce(PTR, PTR, -5, NcclDataType.FLOAT32, NcclRedOp.SUM, STREAM), "count");
            assertRefused(() -> comm.allReduce(PTR, PTR, 8, NcclDataType.FLOAT32, null, STREAM), "op", "null");
            assertRefused(() -> comm.allGather(PTR, 0, 8, NcclDataType.INT32, STREAM), "recvBuffer");
            assertRefused(() -> comm.reduceScatter(0, PTR, 8, NcclDataType.INT32, NcclRedOp.MAX, STREAM), "sendBuffer");
            // Only the root's send buffer is read: the root must give one.
            assertRefused(() -> comm.broadcast(0, PTR, 8, NcclDataType.INT64, 1, STREAM), "sendBuffer");
        }
    }

    @Test
    void aClosedCommunicatorRefusesEverythingAndClosesTwiceHarmlessly() {
        int before = ResourceTracker.live(NcclComm.RESOURCE_KIND).size();
        NcclComm comm = NcclComm.unbound(0, 2);
        assertEquals(before + 1, ResourceTracker.live(NcclComm.RESOURCE_KIND).size(), "an open communicator is tracked");
        comm.close();
        assertEquals(before, ResourceTracker.live(NcclComm.RESOURCE_KIND).size(), "closing releases it");
        assertDoesNotThrow(comm::close, "closing twice is harmless");
        assertDoesNotThrow(comm::abort, "aborting a closed communicator is harmless");
        assertEquals(before, ResourceTracker.live(NcclComm.RESOURCE_KIND).size());
        assertTrue(comm.isClosed());
        List<Executable> calls = List.of(
                () -> comm.send(PTR, 8, NcclDataType.FLOAT32, 1, STREAM),
                () -> comm.recv(PTR, 8, NcclDataType.FLOAT32, 1, STREAM),
                () -> comm.allReduce(PTR, PTR, 8, NcclDataType.FLOAT32, NcclRedOp.SUM, STREAM),
                () -> comm.send(PTR, 8, NcclDataType.FLOAT32, 5, STREAM), // closed wins over a bad peer
                comm::checkAsyncError,
                comm::handle);
        for (Executable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertTrue(e.getMessage().contains("closed") && e.getMessage().contains("rank 0 of 2"), e.getMessage());
        }
    }

    @Test
    void abortReleasesOnce() {
        int before = ResourceTracker.live(NcclComm.RESOURCE_KIND).size();
        NcclComm comm = NcclComm.unbound(1, 2);
        comm.abort();
        assertDoesNotThrow(comm::close);
        assertEquals(before, ResourceTracker.live(NcclComm.RESOURCE_KIND).size());
    }

    @Test
    void initArgumentsAreCheckedBeforeNccl() {
        NcclUniqueId id = NcclUniqueId.fromBytes(new byte[NcclUniqueId.BYTES]);
        assertRefused(() -> NcclComm.initRank(0, id, 0, null), "nranks", "got 0");
        assertRefused(() -> NcclComm.initRank(2, id, 2, null), "rank", "0..1", "got 2");
        assertRefused(() -> NcclComm.initRank(2, id, -1, null), "rank", "got -1");
        assertRefused(() -> NcclComm.initRank(2, null, 0, null), "id", "null");
        assertRefused(() -> NcclComm.initRank(2, id, 0, null), "device", "null");
        assertRefused(() -> NcclComm.initAll(null), "devices");
        assertRefused(() -> NcclComm.initAll(List.of()), "devices", "at least one");
        assertRefused(() -> NcclComm.group(null), "body");
    }

    @Test
    void toStringNamesRankAndState() {
        NcclComm comm = NcclComm.unbound(3, 8);
        assertEquals("NcclComm(rank 3 of 8)", comm.toString());
        comm.close();
        assertEquals("NcclComm(rank 3 of 8, closed)", comm.toString());
    }
}
