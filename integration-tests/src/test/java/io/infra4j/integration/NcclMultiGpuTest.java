package io.infra4j.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.infra4j.dualpipe.NcclCommunicator;
import io.infra4j.dualpipe.NcclCommunicator.TensorSpec;
import io.infra4j.dualpipe.Transfer;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import io.infra4j.ffm.nccl.NcclComm;
import io.infra4j.ffm.nccl.NcclDataType;
import io.infra4j.ffm.nccl.NcclRedOp;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * NCCL across every visible GPU, one rank each, made with ncclCommInitAll in this process: an
 * all-reduce and an all-to-all (grouped sends and receives), checked against sums on the CPU, and
 * the DualPipe communicator passing messages around a ring, one thread per rank. Skipped, visibly,
 * with fewer than two GPUs.
 */
@GpuTest
@Tag(GpuSuite.MULTI_GPU_TAG)
@ExtendWith(NcclAvailable.class)
class NcclMultiGpuTest {
    static List<NcclComm> comms = List.of();
    static List<CudaStream> streams = new ArrayList<>();
    static int n;

    @BeforeAll
    static void open() {
        assumeTrue(Cuda.deviceCount() >= 2, "skipped, needs 2 GPUs or more: " + Cuda.deviceCount() + " here");
        n = Cuda.deviceCount();
        comms = NcclComm.initAll(Cuda.devices());
        for (int r = 0; r < n; r++) {
            streams.add(CudaStream.create(Cuda.device(r)));
        }
        System.out.println("NCCL over " + n + " GPUs: " + comms);
    }

    @AfterAll
    static void close() {
        comms.forEach(NcclComm::close);
        streams.forEach(CudaStream::close);
        assertEquals(List.of(), ResourceTracker.live(NcclComm.RESOURCE_KIND), "communicators left open");
    }

    /** Host int32 values to device {@code r}, ordered on its stream. */
    private static Tensor toDevice(TensorScope s, int r, int[] values) {
        Tensor host = s.empty(DType.I32, Device.CPU, values.length);
        host.segment().copyFrom(MemorySegment.ofArray(values));
        Tensor dev = s.empty(DType.I32, Device.cuda(r), values.length);
        TensorOps.copy(host, dev, streams.get(r));
        return dev;
    }

    private static int[] toInts(TensorScope s, int r, Tensor dev) {
        Tensor host = GpuTestSupport.toHost(dev, s, streams.get(r));
        return host.segment().toArray(ValueLayout.JAVA_INT);
    }

    @Test
    void allReduceSumsOverEveryGpu() {
        SplittableRandom random = new SplittableRandom(GpuTestSupport.freshSeed("nccl all-reduce, " + n + " GPUs"));
        int count = 1 << 18;
        int[][] inputs = new int[n][count];
        long[] expected = new long[count];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < count; i++) {
                inputs[r][i] = random.nextInt(-1_000_000, 1_000_000);
                expected[i] += inputs[r][i];
            }
        }
        List<TensorScope> scopes = new ArrayList<>();
        try {
            List<Tensor> bufs = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                scopes.add(TensorScope.open(streams.get(r)));
                bufs.add(toDevice(scopes.get(r), r, inputs[r]));
            }
            // One thread drives every GPU: the collectives of all ranks go in one group.
            NcclComm.group(() -> {
                for (int r = 0; r < n; r++) {
                    Tensor b = bufs.get(r);
                    comms.get(r).allReduce(b.address(), b.address(), count, NcclDataType.INT32, NcclRedOp.SUM, streams.get(r));
                }
            });
            for (int r = 0; r < n; r++) {
                int[] got = toInts(scopes.get(r), r, bufs.get(r));
                for (int i = 0; i < count; i++) {
                    assertEquals((int) expected[i], got[i], "rank " + r + ", element " + i);
                }
            }
        } finally {
            scopes.forEach(TensorScope::close);
        }
    }

    @Test
    void allToAllAsGroupedSendsAndReceives() {
        int chunk = 4099; // odd, so that no chunk is aligned to anything in particular
        List<TensorScope> scopes = new ArrayList<>();
        try {
            List<Tensor> send = new ArrayList<>();
            List<Tensor> recv = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                scopes.add(TensorScope.open(streams.get(r)));
                int[] values = new int[n * chunk];
                for (int j = 0; j < n; j++) {
                    for (int i = 0; i < chunk; i++) {
                        values[j * chunk + i] = code(r, j, i); // chunk j of rank r goes to rank j
                    }
                }
                send.add(toDevice(scopes.get(r), r, values));
                Tensor out = scopes.get(r).empty(DType.I32, Device.cuda(r), (long) n * chunk);
                TensorOps.fillBits(out, GpuTestSupport.poison(DType.I32), streams.get(r));
                recv.add(out);
            }
            long bytes = (long) chunk * Integer.BYTES;
            NcclComm.group(() -> {
                for (int r = 0; r < n; r++) {
                    for (int peer = 0; peer < n; peer++) {
                        comms.get(r).send(send.get(r).address() + peer * bytes, chunk, NcclDataType.INT32, peer, streams.get(r));
                        comms.get(r).recv(recv.get(r).address() + peer * bytes, chunk, NcclDataType.INT32, peer, streams.get(r));
                    }
                }
            });
            for (int r = 0; r < n; r++) {
                int[] got = toInts(scopes.get(r), r, recv.get(r));
                for (int j = 0; j < n; j++) {
                    for (int i = 0; i < chunk; i++) {
                        assertEquals(code(j, r, i), got[j * chunk + i], "rank " + r + " from rank " + j + ", element " + i);
                    }
                }
            }
        } finally {
            scopes.forEach(TensorScope::close);
        }
    }

    private static int code(int from, int to, int i) {
        return (from << 24) | (to << 16) | (i & 0xFFFF);
    }

    /** Each rank sends its message to the next and receives the previous one's, in one batch, one thread per rank. */
    @Test
    void theDualPipeCommunicatorPassesMessagesAroundARing() throws Exception {
        List<TensorSpec> specs = List.of(TensorSpec.of(DType.I32, 3, 1000));
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<int[]>> results = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    try (TensorScope s = TensorScope.open(streams.get(rank));
                         NcclCommunicator c = new NcclCommunicator(comms.get(rank), streams.get(rank), specs)) {
                        int[] mine = new int[3000];
                        Arrays.fill(mine, 1000 + rank);
                        Tensor payload = toDevice(s, rank, mine).view(3, 1000);
                        List<List<Tensor>> got = c.exchange(List.of(
                                Transfer.send((rank + 1) % n, List.of(payload)), Transfer.recv((rank + n - 1) % n)));
                        Tensor in = got.get(0).get(0);
                        try {
                            return toInts(s, rank, in);
                        } finally {
                            in.close();
                        }
                    }
                }));
            }
            for (int r = 0; r < n; r++) {
                int[] got = results.get(r).get();
                int from = (r + n - 1) % n;
                assertEquals(3000, got.length);
                for (int v : got) {
                    assertEquals(1000 + from, v, "rank " + r + " should hold rank " + from + "'s message");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
