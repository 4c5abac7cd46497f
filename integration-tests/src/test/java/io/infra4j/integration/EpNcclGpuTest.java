package io.infra4j.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.deepep.EpReference;
import io.infra4j.deepep.ExpertPlacement;
import io.infra4j.deepep.IntranodeEp;
import io.infra4j.deepep.NcclEp;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.nccl.NcclComm;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Normal-mode dispatch and combine over NCCL ({@link NcclEp}), one rank per visible GPU, one thread per
 * rank: a world of one on a one-GPU machine, every GPU of a larger one. Exact against
 * {@link EpReference}, as the intranode kernels are.
 */
@GpuTest
@ExtendWith(NcclAvailable.class)
class EpNcclGpuTest {
    static List<CudaDevice> devices;
    static List<NcclComm> comms;
    static List<CudaStream> streams;
    static ExecutorService pool;

    @BeforeAll
    static void open() {
        devices = Cuda.devices();
        comms = NcclComm.initAll(devices);
        streams = new ArrayList<>();
        for (CudaDevice d : devices) {
            streams.add(CudaStream.create(d));
        }
        pool = Executors.newFixedThreadPool(devices.size());
        System.out.println("NcclEp over " + devices.size() + " GPU(s)");
    }

    @AfterAll
    static void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
        if (comms != null) {
            comms.forEach(NcclComm::close);
        }
        if (streams != null) {
            streams.forEach(CudaStream::close);
        }
    }

    interface RankBody<T> {
        T run(int rank, TensorScope scope, CudaStream stream) throws Exception;
    }

    /** Runs body on every rank at once (NCCL calls are collective), one thread each; returns each rank's result. */
    static <T> List<T> onEveryRank(RankBody<T> body) throws Exception {
        List<Future<T>> futures = new ArrayList<>();
        for (int r = 0; r < devices.size(); r++) {
            int rank = r;
            futures.add(pool.submit(() -> {
                Cuda.useDevice(devices.get(rank).ordinal());
                try (TensorScope scope = TensorScope.open(streams.get(rank))) {
                    return body.run(rank, scope, streams.get(rank));
                }
            }));
        }
        List<T> out = new ArrayList<>();
        for (Future<T> f : futures) {
            out.add(f.get());
        }
        return out;
    }

    static Device gpu(int rank) {
        return Device.cuda(devices.get(rank).ordinal());
    }

    static float[] host(Tensor t, CudaStream stream) {
        try (TensorScope scope = TensorScope.open(stream)) {
            Tensor h = scope.empty(t.dtype(), Device.CPU, t.shape());
            TensorOps.copy(t, h, stream);
            return h.toFloatArray();
        }
    }

    static long[] hostLongs(Tensor t, CudaStream stream) {
        try (TensorScope scope = TensorScope.open(stream)) {
            Tensor flat = t.view(t.numel());
            Tensor h = scope.empty(t.dtype(), Device.CPU, t.numel());
            TensorOps.copy(flat, h, stream);
            flat.close();
            long[] out = new long[(int) h.numel()];
            for (int i = 0; i < out.length; i++) {
                out[i] = t.dtype() == DType.I32 ? (int) h.getBits(i) : h.getBits(i);
            }
            return out;
        }
    }

    @ParameterizedTest(name = "seed={0} alignment={1}")
    @CsvSource({"61,1", "62,4", "63,128"})
    void dispatchAndCombineMatchTheReference(long seed, int alignment) throws Exception {
        int world = devices.size();
        EpIntranodeGpuTest.Scenario sc = EpIntranodeGpuTest.Scenario.random(seed, world, 8, 4, 256, 300);
        EpReference.Dispatch ref = EpReference.dispatch(sc.reference(), sc.placement(), alignment);
        List<float[]> want = EpReference.combine(ref, ref.received().stream().map(EpReference.Received::rows).toList());
        List<String> done = onEveryRank((r, scope, stream) -> {
            IntranodeEp.RankInput in = sc.rankOn(scope, r, gpu(r));
            try (NcclEp.Dispatched d = NcclEp.dispatch(comms.get(r), in, sc.placement(), alignment, stream)) {
                EpReference.Received exp = ref.received().get(r);
                IntranodeEp.Received got = d.received();
                String where = "rank " + r;
                assertEquals(exp.numRows(), got.numRows(), where + ": rows");
                assertArrayEquals(exp.rows(), host(got.x(), stream), where + ": rows' values");
                assertArrayEquals(exp.localExpertIds(), hostLongs(got.topkIdx(), stream), where + ": local expert ids");
                assertArrayEquals(exp.weights(), host(got.topkWeights(), stream), where + ": weights");
                assertArrayEquals(exp.sourceToken(), java.util.Arrays.stream(hostLongs(got.srcIdx(), stream)).mapToInt(v -> (int) v).toArray(),
                        where + ": source tokens");
                assertArrayEquals(exp.rankBegin(), got.rankBegin(), where + ": blocks");
                assertArrayEquals(exp.tokensPerLocalExpert(), got.tokensPerLocalExpert(), where + ": per-expert counts");
                assertArrayEquals(ref.layouts().get(r).tokensPerRank(), d.tokensPerRank(), where + ": tokens per rank");
                assertArrayEquals(ref.layouts().get(r).tokensPerExpert(), d.tokensPerExpert(), where + ": tokens per expert");
                // Every rank returns what it received: each token comes back times the ranks that got it.
                try (Tensor out = d.combine(got.x(), stream)) {
                    NcclEp.await(comms.get(r), stream, java.time.Duration.ofSeconds(60), "the combine");
                    float[] w = want.get(r).clone();
                    for (int i = 0; i < w.length; i++) {
                        w[i] = EpIntranodeGpuTest.bf16(w[i]);
                    }
                    assertArrayEquals(w, host(out, stream), where + ": combine");
                }
            }
            return "ok";
        });
        assertEquals(world, done.size());
    }

    @Test
    void fp8RowsAndScalesTravelWithTheirTokens() throws Exception {
        int world = devices.size();
        int hidden = 256;
        EpIntranodeGpuTest.Scenario sc = EpIntranodeGpuTest.Scenario.random(64, world, 4, 4, hidden, 200);
        EpReference.Dispatch ref = EpReference.dispatch(sc.reference(), sc.placement(), 1);
        onEveryRank((r, scope, stream) -> {
            IntranodeEp.RankInput bf = sc.rankOn(scope, r, gpu(r));
            int t = (int) bf.x().size(0);
            // FP8 values: the BF16 rows' high bytes (any bits travel as they are); scales: the token index.
            Tensor hostX = scope.empty(DType.BF16, Device.CPU, t, hidden);
            TensorOps.copy(bf.x(), hostX, stream);
            Tensor f8 = scope.empty(DType.F8_E4M3, Device.CPU, t, hidden);
            Tensor scales = scope.empty(DType.F32, Device.CPU, t, hidden / 128);
            for (int i = 0; i < t; i++) {
                for (int c = 0; c < hidden; c++) {
                    f8.setBits(hostX.getBits(i, c) >>> 8, i, c);
                }
                for (int g = 0; g < hidden / 128; g++) {
                    scales.setBits(Float.floatToRawIntBits(r * 10000 + i + g / 4f), i, g);
                }
            }
            IntranodeEp.RankInput in = new IntranodeEp.RankInput(TensorOps.to(f8, gpu(r), scope), TensorOps.to(scales, gpu(r), scope),
                    bf.topkIdx(), bf.topkWeights());
            try (NcclEp.Dispatched d = NcclEp.dispatch(comms.get(r), in, sc.placement(), 1, stream)) {
                IntranodeEp.Received got = d.received();
                float[] want = ref.received().get(r).rows();
                long[] values = hostLongs(got.x(), stream);
                float[] sc2 = host(got.scales(), stream);
                int[] src = java.util.Arrays.stream(hostLongs(got.srcIdx(), stream)).mapToInt(v -> (int) v).toArray();
                for (int row = 0; row < got.numRows(); row++) {
                    int from = 0;
                    while (got.rankBegin()[from + 1] <= row) {
                        from++;
                    }
                    for (int c = 0; c < hidden; c++) {
                        long bits = (Float.floatToRawIntBits(want[row * hidden + c]) >>> 24) & 0xFF;
                        assertEquals(bits, values[row * hidden + c], "rank " + r + " row " + row + " column " + c);
                    }
                    for (int g = 0; g < hidden / 128; g++) {
                        assertEquals(from * 10000 + src[row] + g / 4f, sc2[row * (hidden / 128) + g], "rank " + r + " row " + row + " scale " + g);
                    }
                }
            }
            return null;
        });
    }

    @Test
    void badInputIsRefusedBeforeAnyNcclCall() throws Exception {
        int world = devices.size();
        EpIntranodeGpuTest.Scenario sc = EpIntranodeGpuTest.Scenario.random(65, world, 2, 2, 128, 10);
        onEveryRank((r, scope, stream) -> {
            IntranodeEp.RankInput in = sc.rankOn(scope, r, gpu(r));
            NcclComm comm = comms.get(r);
            IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
                    () -> NcclEp.dispatch(comm, in, new ExpertPlacement(4 * (world + 1), world + 1), 1, stream));
            assertTrue(w.getMessage().contains("the communicator has " + world), w.getMessage());
            IllegalArgumentException a = assertThrows(IllegalArgumentException.class,
                    () -> NcclEp.dispatch(comm, in, sc.placement(), 0, stream));
            assertTrue(a.getMessage().contains("expertAlignment"), a.getMessage());
            Tensor cpuX = scope.empty(DType.BF16, Device.CPU, in.x().shape());
            IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
                    () -> NcclEp.dispatch(comm, IntranodeEp.RankInput.bf16(cpuX, in.topkIdx(), in.topkWeights()), sc.placement(), 1, stream));
            assertTrue(c.getMessage().startsWith("input.x"), c.getMessage());
            return null;
        });
        // An expert id past E on one rank: after the counts' all-gather every rank refuses, none waits.
        List<String> messages = onEveryRank((r, scope, stream) -> {
            Tensor ids = scope.empty(DType.I64, Device.CPU, 2, 2);
            ids.setBits(0, 0, 0);
            ids.setBits(r == 0 ? 99 : 1, 0, 1);
            ids.setBits(-1, 1, 0);
            ids.setBits(1, 1, 1);
            Tensor x = TensorOps.to(scope.empty(DType.BF16, Device.CPU, 2, 128), gpu(r), scope);
            Tensor w = TensorOps.to(scope.empty(DType.F32, Device.CPU, 2, 2), gpu(r), scope);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NcclEp.dispatch(comms.get(r),
                    IntranodeEp.RankInput.bf16(x, TensorOps.to(ids, gpu(r), scope), w), new ExpertPlacement(2 * world, world), 1, stream));
            return e.getMessage();
        });
        assertTrue(messages.get(0).startsWith("input.topkIdx: 1 expert ids outside"), messages.get(0));
        for (int r = 1; r < messages.size(); r++) {
            assertTrue(messages.get(r).startsWith("rank 0's input.topkIdx"), messages.get(r));
        }
    }
}
