package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.dualpipe.NcclCommunicator;
import io.infra4j.dualpipe.NcclCommunicator.TensorSpec;
import io.infra4j.dualpipe.Transfer;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import io.infra4j.ffm.nccl.Nccl;
import io.infra4j.ffm.nccl.NcclComm;
import io.infra4j.ffm.nccl.NcclDataType;
import io.infra4j.ffm.nccl.NcclRedOp;
import io.infra4j.ffm.nccl.NcclUniqueId;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * NCCL through FFM with one rank on GPU 0: a send to itself, an all-reduce, the DualPipe NCCL
 * communicator, and the checks and lifetimes around them. Fresh random data, destinations poisoned.
 */
@GpuTest
@ExtendWith(NcclAvailable.class)
class NcclGpuTest {
    static CudaStream stream;
    static NcclComm comm;

    @BeforeAll
    static void open() {
        stream = CudaStream.create(Cuda.device(0));
        comm = NcclComm.initAll(List.of(Cuda.device(0))).get(0);
        System.out.println("NCCL " + Nccl.versionString() + ": " + comm);
    }

    @AfterAll
    static void close() {
        if (comm != null) {
            comm.close();
        }
        if (stream != null) {
            stream.close();
        }
    }

    /** A device tensor of random bits and its host original. */
    private static Tensor[] randomOnDevice(TensorScope s, DType dtype, SplittableRandom r, long... shape) {
        Tensor host = s.empty(dtype, Device.CPU, shape);
        GpuTestSupport.randomBits(host, r);
        Tensor dev = s.empty(dtype, GPU, shape);
        TensorOps.copy(host, dev, stream);
        return new Tensor[] {host, dev};
    }

    private static Tensor poisoned(TensorScope s, DType dtype, long... shape) {
        Tensor t = s.empty(dtype, GPU, shape);
        TensorOps.fillBits(t, GpuTestSupport.poison(dtype), stream);
        return t;
    }

    @Test
    void theCommunicatorDescribesItself() {
        assertTrue(Nccl.version() >= 22800, "NCCL 2.28 or later expected, loaded " + Nccl.versionString());
        assertEquals(0, comm.rank());
        assertEquals(1, comm.size());
        assertEquals(0, comm.device().ordinal());
        assertDoesNotThrow(comm::checkAsyncError);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "U8", "I64", "F8_E4M3"})
    void aSendToItselfArrivesBitForBit(DType dtype) {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("nccl self send " + dtype));
        try (TensorScope s = TensorScope.open(stream)) {
            Tensor[] src = randomOnDevice(s, dtype, r, 1000, 37);
            Tensor dst = poisoned(s, dtype, 1000, 37);
            NcclDataType type = NcclCommunicator.ncclType(dtype);
            NcclComm.group(() -> {
                comm.send(src[1].address(), src[1].numel(), type, 0, stream);
                comm.recv(dst.address(), dst.numel(), type, 0, stream);
            });
            GpuTestSupport.assertSameBits(src[0], GpuTestSupport.toHost(dst, s, stream), "self send " + dtype);
        }
        comm.checkAsyncError();
    }

    @Test
    void anAllReduceSumOverOneRankIsTheInput() {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("nccl all-reduce, one rank"));
        int n = 1 << 16;
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) ((r.nextDouble() * 2 - 1) * Math.scalb(1.0, r.nextInt(-20, 20)));
        }
        try (TensorScope s = TensorScope.open(stream)) {
            Tensor host = s.ofFloats(DType.F32, values, n);
            Tensor src = s.empty(DType.F32, GPU, n);
            TensorOps.copy(host, src, stream);
            Tensor dst = poisoned(s, DType.F32, n);
            comm.allReduce(src.address(), dst.address(), n, NcclDataType.FLOAT32, NcclRedOp.SUM, stream);
            GpuTestSupport.assertSameBits(host, GpuTestSupport.toHost(dst, s, stream), "all-reduce sum, 1 rank");
            comm.allReduce(src.address(), src.address(), n, NcclDataType.FLOAT32, NcclRedOp.MAX, stream);
            GpuTestSupport.assertSameBits(host, GpuTestSupport.toHost(src, s, stream), "in-place all-reduce max, 1 rank");
        }
    }

    @Test
    void theDualPipeCommunicatorExchangesWithItself() {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("nccl communicator"));
        List<TensorSpec> specs = List.of(TensorSpec.of(DType.F32, 4, 33), TensorSpec.of(DType.BF16, 7, 5, 3));
        try (TensorScope s = TensorScope.open(stream);
             NcclCommunicator c = new NcclCommunicator(comm, stream, specs)) {
            Tensor[] a = randomOnDevice(s, DType.F32, r, 4, 33);
            Tensor[] b = randomOnDevice(s, DType.BF16, r, 7, 5, 3);
            Tensor[] a2 = randomOnDevice(s, DType.F32, r, 4, 33);
            Tensor[] b2 = randomOnDevice(s, DType.BF16, r, 7, 5, 3);
            // Two messages to itself in one batch: they must arrive in the order sent.
            List<List<Tensor>> got = c.exchange(List.of(
                    Transfer.send(0, List.of(a[1], b[1])), Transfer.recv(0),
                    Transfer.send(0, List.of(a2[1], b2[1])), Transfer.recv(0)));
            assertEquals(2, got.size());
            for (int m = 0; m < 2; m++) {
                List<Tensor> msg = got.get(m);
                try {
                    assertEquals(2, msg.size());
                    assertEquals(GPU, msg.get(0).device());
                    GpuTestSupport.assertSameBits(m == 0 ? a[0] : a2[0], GpuTestSupport.toHost(msg.get(0), s, stream), "F32 of message " + m);
                    GpuTestSupport.assertSameBits(m == 0 ? b[0] : b2[0], GpuTestSupport.toHost(msg.get(1), s, stream), "BF16 of message " + m);
                } finally {
                    msg.forEach(Tensor::close);
                }
            }
            assertEquals(List.of(), c.exchange(List.of()), "an empty batch returns at once");
        }
    }

    @Test
    void badInputIsRefusedBeforeNcclSeesIt() {
        try (TensorScope s = TensorScope.open(stream)) {
            Tensor t = s.empty(DType.F32, GPU, 64);
            IllegalArgumentException peer = assertThrows(IllegalArgumentException.class,
                    () -> comm.send(t.address(), 64, NcclDataType.FLOAT32, 1, stream));
            assertTrue(peer.getMessage().contains("peer") && peer.getMessage().contains("got 1"), peer.getMessage());
            assertThrows(IllegalArgumentException.class, () -> comm.recv(t.address(), -1, NcclDataType.FLOAT32, 0, stream));
            assertThrows(IllegalArgumentException.class, () -> comm.recv(t.address(), 64, NcclDataType.FLOAT32, 0, null));

            NcclCommunicator c = new NcclCommunicator(comm, stream, List.of(TensorSpec.of(DType.F32, 64)));
            assertThrows(IllegalArgumentException.class, () -> c.exchange(List.of(Transfer.send(1, List.of(t)))), "peer 1 of 1");
            Tensor wrongShape = s.empty(DType.F32, GPU, 8, 8);
            assertThrows(IllegalArgumentException.class, () -> c.exchange(List.of(Transfer.send(0, List.of(wrongShape)))));
            Tensor strided = s.empty(DType.F32, GPU, 128).slice(0, 0, 128, 2);
            IllegalArgumentException contiguous = assertThrows(IllegalArgumentException.class,
                    () -> c.exchange(List.of(Transfer.send(0, List.of(strided)))));
            assertTrue(contiguous.getMessage().contains("contiguous"), contiguous.getMessage());
            Tensor onHost = s.empty(DType.F32, Device.CPU, 64);
            assertThrows(IllegalArgumentException.class, () -> c.exchange(List.of(Transfer.send(0, List.of(onHost)))));
            c.close();
            assertThrows(IllegalStateException.class, () -> c.exchange(List.of(Transfer.recv(0))));
            assertEquals(0, Cuda.takeLastError(), "nothing reached the GPU");
        }
        comm.checkAsyncError();
    }

    @Test
    void aCommunicatorFromAUniqueIdClosesOnceAndLeaksNothing() {
        int before = ResourceTracker.live().size();
        NcclUniqueId id = NcclUniqueId.create();
        assertEquals(NcclUniqueId.BYTES, id.toBytes().length);
        NcclComm one = NcclComm.initRank(1, NcclUniqueId.fromBytes(id.toBytes()), 0, Cuda.device(0));
        assertEquals(before + 1, ResourceTracker.live().size(), "the communicator is tracked: " + ResourceTracker.live());
        try (TensorScope s = TensorScope.open(stream)) {
            Tensor t = s.full(DType.I32, GPU, 7, 256);
            one.allReduce(t.address(), t.address(), 256, NcclDataType.INT32, NcclRedOp.SUM, stream);
            assertEquals(7.0, GpuTestSupport.toHost(t, s, stream).get(255));
        }
        one.close();
        assertDoesNotThrow(one::close, "closing twice is harmless");
        assertThrows(IllegalStateException.class, () -> one.send(1, 1, NcclDataType.UINT8, 0, stream));
        assertEquals(before, ResourceTracker.live().size(), "nothing left open: " + ResourceTracker.report());
    }
}
