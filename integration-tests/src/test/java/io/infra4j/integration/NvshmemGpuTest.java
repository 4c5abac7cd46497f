package io.infra4j.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import io.infra4j.ffm.nvshmem.Nvshmem;
import io.infra4j.ffm.nvshmem.NvshmemBuffer;
import io.infra4j.ffm.nvshmem.NvshmemUniqueId;
import io.infra4j.ffm.nvshmem.NvshmemWorld;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * NVSHMEM's host API through FFM in a world of one PE on GPU 0: a unique id through its bytes, the
 * initialisation, symmetric buffers, on-stream puts and gets of random bytes compared bit for bit,
 * {@code nvshmem_ptr}, the checks that refuse bad input before NVSHMEM sees it, and finalisation.
 * NVSHMEM allows one initialisation per process, so the whole class shares one world: made once,
 * finalised by the last test.
 */
@GpuTest
@ExtendWith(NvshmemAvailable.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NvshmemGpuTest {
    static final Device GPU = Device.cuda(0);
    static CudaStream stream;
    static NvshmemUniqueId id;
    static NvshmemWorld world;

    @BeforeAll
    static void open() {
        stream = CudaStream.create(Cuda.device(0));
        // As a rendezvous would: the creator's id travels as bytes and comes back as an id.
        NvshmemUniqueId created = NvshmemUniqueId.create();
        id = NvshmemUniqueId.fromBytes(created.toBytes());
        assertEquals(created, id);
        world = NvshmemWorld.init(id, 0, 1, Cuda.device(0));
        System.out.println("NVSHMEM " + Nvshmem.versionString() + " (OpenSHMEM " + Nvshmem.specVersion() + "): " + world
                + ", environment set by infra4j: " + Nvshmem.environmentDefaults());
    }

    @AfterAll
    static void close() {
        if (world != null) {
            world.close(); // after the last test closed it, nothing
        }
        if (stream != null) {
            stream.close();
        }
    }

    /** Random bytes on the host and the same bytes on the GPU. */
    private static Tensor[] randomBytes(TensorScope s, SplittableRandom r, long n) {
        Tensor host = s.empty(DType.U8, Device.CPU, n);
        GpuTestSupport.randomBits(host, r);
        Tensor dev = s.empty(DType.U8, GPU, n);
        TensorOps.copy(host, dev, stream);
        return new Tensor[] {host, dev};
    }

    private static Tensor poisoned(TensorScope s, long n) {
        Tensor t = s.empty(DType.U8, GPU, n);
        TensorOps.fillBits(t, 0xA5, stream);
        return t;
    }

    private static byte[] bytesOf(Tensor host) {
        return host.segment().toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    @Order(1)
    void theWorldDescribesItself() {
        assertTrue(Nvshmem.version() >= 30000, "NVSHMEM 3 expected, loaded " + Nvshmem.versionString());
        assertEquals(0, world.myPe());
        assertEquals(1, world.nPes());
        assertEquals(0, world.device().ordinal());
        assertEquals(1, ResourceTracker.live(NvshmemWorld.RESOURCE_KIND).size(), "the world is tracked");
    }

    @Test
    @Order(2)
    void aPutAndAGetOnAStreamMoveTheBytesExactly() {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("nvshmem put/get"));
        long n = (1 << 20) + 4093; // not a multiple of any word size
        try (TensorScope s = TensorScope.open(stream);
             NvshmemBuffer a = world.malloc(n);
             NvshmemBuffer b = world.align(4096, 2 * n)) {
            assertEquals(n, a.size());
            assertEquals(0, b.address() % 4096, "nvshmem_align's alignment: 0x" + Long.toHexString(b.address()));
            assertNotEquals(a.address(), b.address());
            Tensor[] src = randomBytes(s, r, n);
            Tensor back = poisoned(s, n);
            world.put(a, 0, src[1].address(), n, 0, stream);
            world.quiet(stream);
            world.get(back.address(), a, 0, n, 0, stream);
            world.barrierAll(stream);
            stream.synchronize();
            assertArrayEquals(bytesOf(src[0]), bytesOf(GpuTestSupport.toHost(back, s, stream)), "put then get of PE 0, " + n + " bytes");

            // At an odd offset of the second buffer, and a part of it back to an odd offset of the destination.
            long at = 12345;
            world.put(b, at, src[1].address(), n, 0, stream);
            Tensor part = poisoned(s, n);
            long from = 999;
            long len = n - 2 * from;
            world.get(part.address() + 7, b, at + from, len, 0, stream);
            world.quiet(stream);
            stream.synchronize();
            byte[] got = bytesOf(GpuTestSupport.toHost(part, s, stream));
            byte[] want = bytesOf(src[0]);
            assertArrayEquals(Arrays.copyOfRange(want, (int) from, (int) (from + len)), Arrays.copyOfRange(got, 7, (int) (7 + len)),
                    "a part of the second buffer, at offsets");
            for (int i = 0; i < 7; i++) {
                assertEquals((byte) 0xA5, got[i], "bytes before the part stay poisoned");
            }
            assertEquals((byte) 0xA5, got[(int) (7 + len)], "the byte after the part stays poisoned");
            world.barrierAll();
        }
        assertEquals(0, world.openBuffers().size(), "closing the buffers freed them");
    }

    @Test
    @Order(3)
    void thisPesPeerAddressIsTheBuffer() {
        try (NvshmemBuffer a = world.malloc(1 << 16)) {
            assertEquals(a.address(), a.peerAddress(0), "nvshmem_ptr(buffer, my PE) is the buffer");
        }
    }

    @Test
    @Order(4)
    void badInputIsRefusedBeforeNvshmemSeesIt() {
        try (TensorScope s = TensorScope.open(stream);
             NvshmemBuffer a = world.malloc(4096)) {
            Tensor t = poisoned(s, 8192);
            IllegalArgumentException pe = assertThrows(IllegalArgumentException.class,
                    () -> world.put(a, 0, t.address(), 64, 1, stream), "PE 1 in a world of one");
            assertTrue(pe.getMessage().contains("0..0") && pe.getMessage().contains("got 1"), pe.getMessage());
            assertThrows(IllegalArgumentException.class, () -> world.get(t.address(), a, 0, 64, 1, stream), "PE 1 in a world of one");
            assertThrows(IllegalArgumentException.class, () -> a.peerAddress(1), "PE 1 in a world of one");
            IllegalArgumentException past = assertThrows(IllegalArgumentException.class,
                    () -> world.put(a, 0, t.address(), 4097, 0, stream), "a size past the buffer");
            assertTrue(past.getMessage().contains("runs past"), past.getMessage());
            assertThrows(IllegalArgumentException.class, () -> world.get(t.address(), a, 4000, 97, 0, stream), "past the end");
            assertThrows(IllegalArgumentException.class, () -> world.put(a, 0, 0, 64, 0, stream), "no source");
            assertThrows(IllegalArgumentException.class, () -> world.put(a, 0, t.address(), 64, 0, null), "no stream");
            NvshmemBuffer freed = world.malloc(256);
            freed.close();
            assertThrows(IllegalStateException.class, () -> world.put(freed, 0, t.address(), 64, 0, stream), "use after close");
            assertThrows(IllegalStateException.class, () -> world.get(t.address(), freed, 0, 64, 0, stream), "use after close");
            assertThrows(IllegalStateException.class, freed::address, "use after close");
            assertThrows(IllegalArgumentException.class, () -> world.malloc(0));
            assertThrows(IllegalArgumentException.class, () -> world.align(3, 64));
        }
        world.barrierAll();
        world.quiet();
    }

    @Test
    @Order(5)
    void aSecondInitialisationIsRefused() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> NvshmemWorld.init(id, 0, 1, Cuda.device(0)));
        assertTrue(e.getMessage().contains("already initialised"), e.getMessage());
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void closingFinalisesReleasesTheBuffersAndForbidsAnotherWorld() {
        NvshmemBuffer left = world.malloc(1 << 12);
        world.close();
        assertTrue(world.isClosed());
        assertTrue(left.isClosed(), "buffers still open are released with the world");
        assertEquals(0, ResourceTracker.live(NvshmemWorld.RESOURCE_KIND).size(), "the world is no longer tracked");
        assertEquals(0, ResourceTracker.live(NvshmemBuffer.RESOURCE_KIND).size(), "nor its buffers");
        assertThrows(IllegalStateException.class, () -> world.malloc(64), "use after close");
        assertThrows(IllegalStateException.class, () -> world.barrierAll(), "use after close");
        IllegalStateException again = assertThrows(IllegalStateException.class, () -> NvshmemWorld.init(id, 0, 1, Cuda.device(0)));
        assertTrue(again.getMessage().contains("one initialisation per process"), again.getMessage());
    }
}
