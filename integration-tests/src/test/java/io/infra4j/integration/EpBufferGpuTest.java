package io.infra4j.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.deepep.EpBuffer;
import io.infra4j.deepep.EpReference;
import io.infra4j.deepep.ExpertPlacement;
import io.infra4j.deepep.IntranodeEp;
import io.infra4j.deepep.LowLatencyEp;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaGraph;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link EpBuffer}: low-latency steps into reserved buffers (reused, captured in a CUDA graph), and the
 * group of one rank per visible GPU with peer access (every GPU of the machine: one here, more on a
 * multi-GPU machine), against {@link EpReference} exactly.
 */
@GpuTest
class EpBufferGpuTest {
    static final Device GPU = Device.cuda(0);
    static CudaStream stream;

    @BeforeAll
    static void open() {
        stream = CudaStream.create(Cuda.device(0));
    }

    @AfterAll
    static void close() {
        if (stream != null) {
            stream.close();
        }
    }

    /** Checks one low-latency step against the reference: counts, ranges, source tokens, rows; then its combine. */
    static void assertLowLatency(EpIntranodeGpuTest.Scenario sc, int maxTokens, LowLatencyEp.Dispatched d, List<CudaStream> streams,
            String what) {
        ExpertPlacement p = sc.placement();
        int world = p.worldSize();
        int rows = world * maxTokens;
        int hidden = sc.hidden();
        EpReference.LowLatencyDispatch ref = EpReference.lowLatencyDispatch(sc.reference(), p, maxTokens, Float.NaN);
        List<Tensor> echo = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            EpReference.LowLatencyReceived want = ref.received().get(r);
            LowLatencyEp.Received got = d.received().get(r);
            CudaStream st = streams.get(r);
            long[] count = EpNcclGpuTest.hostLongs(got.count(), st);
            long[] range = EpNcclGpuTest.hostLongs(got.range(), st);
            long[] src = EpNcclGpuTest.hostLongs(got.srcIdx(), st);
            float[] x = EpNcclGpuTest.host(got.x(), st);
            for (int e = 0; e < p.expertsPerRank(); e++) {
                String where = what + ": rank " + r + " expert " + e;
                assertEquals(want.count()[e], count[e], where + ": count");
                for (int s = 0; s < world; s++) {
                    // Blocks of different sources land in arrival order: compare each source's block by its own begin.
                    long got0 = range[e * world + s];
                    assertEquals(want.rangeCount()[e * world + s], got0 & 0xFFFFFFFFL, where + " from rank " + s + ": count");
                    int wantBegin = want.rangeBegin()[e * world + s];
                    int gotBegin = (int) (got0 >>> 32);
                    for (int i = 0; i < want.rangeCount()[e * world + s]; i++) {
                        assertEquals(want.sourceToken()[e * rows + wantBegin + i], src[e * rows + gotBegin + i], where + " row " + i);
                        assertArrayEquals(want.row(e, wantBegin + i),
                                Arrays.copyOfRange(x, (e * rows + gotBegin + i) * hidden, (e * rows + gotBegin + i + 1) * hidden),
                                where + " from rank " + s + " row " + i);
                    }
                }
            }
            echo.add(got.x());
        }
        // Each expert returns its rows as they came: the weighted sums do not depend on where blocks landed.
        List<float[]> want = EpReference.lowLatencyCombine(ref, ref.received().stream().map(EpReference.LowLatencyReceived::rows).toList());
        List<Tensor> out = streams.stream().distinct().count() == 1 ? d.combine(echo, streams.get(0)) : d.combine(echo);
        try {
            for (int s = 0; s < world; s++) {
                float[] w = want.get(s).clone();
                for (int i = 0; i < w.length; i++) {
                    w[i] = EpIntranodeGpuTest.bf16(w[i]);
                }
                assertArrayEquals(w, EpNcclGpuTest.host(out.get(s), streams.get(s)), what + ": combine of rank " + s);
            }
        } finally {
            out.forEach(Tensor::close);
        }
    }

    @Test
    void lowLatencyStepsReuseTheReservedBuffers() {
        int world = 4, maxTokens = 64, hidden = 256;
        EpIntranodeGpuTest.Scenario first = EpIntranodeGpuTest.Scenario.random(81, world, 4, 8, hidden, maxTokens);
        EpIntranodeGpuTest.Scenario second = EpIntranodeGpuTest.Scenario.random(82, world, 4, 8, hidden, maxTokens);
        List<CudaStream> streams = List.of(stream, stream, stream, stream);
        try (TensorScope scope = TensorScope.open(stream);
                EpBuffer buffer = EpBuffer.simulated(first.placement(), stream).reserveLowLatency(maxTokens, hidden, 8, LowLatencyEp.Format.BF16)) {
            LowLatencyEp.Dispatched a = buffer.lowLatencyDispatch(first.onGpu(scope)).verify();
            assertLowLatency(first, maxTokens, a, streams, "step 1");
            Tensor x0 = a.received().get(0).x();
            LowLatencyEp.Dispatched b = buffer.lowLatencyDispatch(second.onGpu(scope)).verify();
            assertLowLatency(second, maxTokens, b, streams, "step 2");
            assertEquals(x0.address(), b.received().get(0).x().address(), "the same rows, reused");
            IllegalStateException stale = assertThrows(IllegalStateException.class, a::received);
            assertTrue(stale.getMessage().contains("reused"), stale.getMessage());
        }
    }

    /** A low-latency step has no host synchronisation: captured once in a CUDA graph, replayed on new routing. */
    @Test
    void aLowLatencyStepReplaysFromACudaGraph() {
        int world = 2, maxTokens = 32, hidden = 256;
        EpIntranodeGpuTest.Scenario first = EpIntranodeGpuTest.Scenario.random(83, world, 4, 4, hidden, maxTokens);
        try (TensorScope scope = TensorScope.open(stream);
                EpBuffer buffer = EpBuffer.simulated(first.placement(), stream).reserveLowLatency(maxTokens, hidden, 4, LowLatencyEp.Format.BF16)) {
            // Fixed input tensors of maxTokens rows each; every replay reads what they hold then.
            List<IntranodeEp.RankInput> fixed = new ArrayList<>();
            for (int s = 0; s < world; s++) {
                fixed.add(IntranodeEp.RankInput.bf16(scope.empty(DType.BF16, GPU, maxTokens, hidden), scope.empty(DType.I64, GPU, maxTokens, 4),
                        scope.empty(DType.F32, GPU, maxTokens, 4)));
                TensorOps.fill(fixed.get(s).topkIdx(), -1, stream);
            }
            stream.synchronize();
            LowLatencyEp.Dispatched[] captured = new LowLatencyEp.Dispatched[1];
            try (CudaGraph graph = CudaGraph.capture(stream, () -> captured[0] = buffer.lowLatencyDispatch(fixed))) {
                assertTrue(graph.nodeCount() >= 3, "nodes captured: " + graph.nodeCount());
                for (long seed = 84; seed < 87; seed++) {
                    // Full batches of maxTokens tokens (the captured shapes), new rows and routing each time.
                    EpIntranodeGpuTest.Scenario sc = EpIntranodeGpuTest.Scenario.full(seed, world, 4, 4, hidden, maxTokens);
                    for (int s = 0; s < world; s++) {
                        IntranodeEp.RankInput now = sc.rankOn(scope, s, GPU);
                        TensorOps.copy(now.x(), fixed.get(s).x(), stream);
                        TensorOps.copy(now.topkIdx(), fixed.get(s).topkIdx(), stream);
                        TensorOps.copy(now.topkWeights(), fixed.get(s).topkWeights(), stream);
                    }
                    graph.launch(stream);
                    assertLowLatency(sc, maxTokens, captured[0].verify(), List.of(stream, stream), "replay " + seed);
                }
            }
        }
    }

    /** One rank per visible GPU, peer access between them: exact in both modes. */
    @Test
    void oneRankPerGpuMatchesTheReference() {
        List<CudaDevice> gpus = Cuda.devices();
        int world = gpus.size();
        List<CudaStream> streams = new ArrayList<>();
        for (CudaDevice g : gpus) {
            streams.add(CudaStream.create(g));
        }
        try {
            EpIntranodeGpuTest.Scenario sc = EpIntranodeGpuTest.Scenario.random(91, world, 8, 8, 512, 200);
            List<TensorScope> scopes = new ArrayList<>();
            try (EpBuffer buffer = EpBuffer.onDevices(sc.placement(), streams).reserveLowLatency(200, 512, 8, LowLatencyEp.Format.BF16)) {
                List<IntranodeEp.RankInput> in = new ArrayList<>();
                for (int r = 0; r < world; r++) {
                    gpus.get(r).makeCurrent();
                    TensorScope s = TensorScope.open(streams.get(r));
                    scopes.add(s);
                    in.add(sc.rankOn(s, r, Device.cuda(gpus.get(r).ordinal())));
                }
                EpReference.Dispatch ref = EpReference.dispatch(sc.reference(), sc.placement(), 1);
                try (IntranodeEp.Dispatched d = buffer.dispatch(in, 1)) {
                    List<Tensor> echo = new ArrayList<>();
                    for (int r = 0; r < world; r++) {
                        assertArrayEquals(ref.received().get(r).rows(), EpNcclGpuTest.host(d.received().get(r).x(), streams.get(r)),
                                "rank " + r + " on " + gpus.get(r) + ": rows");
                        echo.add(d.received().get(r).x());
                    }
                    List<float[]> want = EpReference.combine(ref, ref.received().stream().map(EpReference.Received::rows).toList());
                    List<Tensor> out = d.combine(echo);
                    for (int s = 0; s < world; s++) {
                        float[] w = want.get(s).clone();
                        for (int i = 0; i < w.length; i++) {
                            w[i] = EpIntranodeGpuTest.bf16(w[i]);
                        }
                        assertArrayEquals(w, EpNcclGpuTest.host(out.get(s), streams.get(s)), "combine of rank " + s);
                        out.get(s).close();
                    }
                }
                assertLowLatency(sc, 200, buffer.lowLatencyDispatch(in).verify(), streams, "low-latency over " + world + " GPU(s)");
            } finally {
                scopes.forEach(TensorScope::close);
            }
        } finally {
            streams.forEach(CudaStream::close);
        }
    }

    @Test
    void misuseIsRefusedWithClearErrors() {
        EpIntranodeGpuTest.Scenario sc = EpIntranodeGpuTest.Scenario.random(92, 2, 2, 2, 128, 10);
        try (TensorScope scope = TensorScope.open(stream)) {
            List<IntranodeEp.RankInput> in = sc.onGpu(scope);
            EpBuffer buffer = EpBuffer.simulated(sc.placement(), stream);
            IllegalStateException none = assertThrows(IllegalStateException.class, () -> buffer.lowLatencyDispatch(in));
            assertTrue(none.getMessage().contains("reserveLowLatency"), none.getMessage());
            buffer.reserveLowLatency(16, 256, 2, LowLatencyEp.Format.BF16);
            IllegalArgumentException width = assertThrows(IllegalArgumentException.class, () -> buffer.lowLatencyDispatch(in));
            assertTrue(width.getMessage().contains("rows of 256 values, got 128"), width.getMessage());
            buffer.reserveLowLatency(16, 128, 1, LowLatencyEp.Format.BF16);
            IllegalArgumentException slots = assertThrows(IllegalArgumentException.class, () -> buffer.lowLatencyDispatch(in));
            assertTrue(slots.getMessage().contains("at most 1 slots per token, got 2"), slots.getMessage());
            assertThrows(IllegalArgumentException.class, () -> buffer.reserveLowLatency(16, 100, 2, LowLatencyEp.Format.FP8));
            assertThrows(IllegalArgumentException.class, () -> buffer.layout(2, in.get(0).topkIdx()));
            buffer.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> buffer.dispatch(in, 1));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
            IllegalArgumentException same = assertThrows(IllegalArgumentException.class,
                    () -> EpBuffer.onDevices(sc.placement(), List.of(stream, stream)));
            assertTrue(same.getMessage().contains("one GPU per rank"), same.getMessage());
        }
    }
}
