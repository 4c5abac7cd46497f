package io.infra4j.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.deepep.DispatchLayout;
import io.infra4j.deepep.EpReference;
import io.infra4j.deepep.GpuDispatchLayout;
import io.infra4j.deepgemm.internal.Fp8QuantReference;
import io.infra4j.deepep.ExpertPlacement;
import io.infra4j.deepep.IntranodeEp;
import io.infra4j.deepep.LowLatencyEp;
import io.infra4j.deepep.RankTokens;
import io.infra4j.deepep.Routing;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Dispatch and combine, normal and low-latency modes, of W simulated ranks on one GPU (each rank its own tensors, the
 * kernels writing into the others' by address) against {@link EpReference}, exactly: random BF16 rows
 * (or FP8 bytes with their scales), random top-k with -1 slots, ranks sending nothing, experts receiving
 * nothing.
 */
@GpuTest
class EpIntranodeGpuTest {
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

    /** Host inputs of one scenario: per rank BF16 rows (as floats), top-k ids and weights. */
    record Scenario(ExpertPlacement placement, int hidden, int topK, List<float[]> rows, List<Routing> routings) {
        static Scenario random(long seed, int world, int expertsPerRank, int topK, int hidden, int maxTokens) {
            return generate(seed, world, expertsPerRank, topK, hidden, maxTokens, false);
        }

        /** As random, with every rank sending exactly {@code tokens} tokens. */
        static Scenario full(long seed, int world, int expertsPerRank, int topK, int hidden, int tokens) {
            return generate(seed, world, expertsPerRank, topK, hidden, tokens, true);
        }

        private static Scenario generate(long seed, int world, int expertsPerRank, int topK, int hidden, int maxTokens, boolean full) {
            SplittableRandom r = new SplittableRandom(seed);
            ExpertPlacement p = new ExpertPlacement(world * expertsPerRank, world);
            int usable = 1 + r.nextInt(p.numExperts()); // experts above are never chosen
            List<float[]> rows = new ArrayList<>();
            List<Routing> routings = new ArrayList<>();
            for (int s = 0; s < world; s++) {
                int t = full ? maxTokens : s == 1 ? 0 : r.nextInt(maxTokens + 1); // rank 1 sends nothing
                long[] ids = new long[t * topK];
                float[] w = new float[t * topK];
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < topK; j++) {
                        long e = r.nextInt(4) == 0 ? -1 : r.nextInt(usable);
                        for (int q = 0; q < j && e >= 0; q++) {
                            if (ids[i * topK + q] == e) {
                                e = -1;
                            }
                        }
                        ids[i * topK + j] = e;
                        w[i * topK + j] = (float) r.nextDouble();
                    }
                }
                float[] x = new float[t * hidden];
                for (int i = 0; i < x.length; i++) {
                    x[i] = bf16((float) r.nextGaussian());
                }
                rows.add(x);
                routings.add(new Routing(t, topK, ids, w));
            }
            return new Scenario(p, hidden, topK, rows, routings);
        }

        List<RankTokens> reference() {
            List<RankTokens> out = new ArrayList<>();
            for (int s = 0; s < rows.size(); s++) {
                out.add(new RankTokens(rows.get(s), hidden, routings.get(s)));
            }
            return out;
        }

        List<IntranodeEp.RankInput> onGpu(TensorScope scope) {
            List<IntranodeEp.RankInput> out = new ArrayList<>();
            for (int s = 0; s < rows.size(); s++) {
                out.add(rankOn(scope, s, GPU));
            }
            return out;
        }

        /** Rank s's input on {@code device}. */
        IntranodeEp.RankInput rankOn(TensorScope scope, int s, Device device) {
            Routing rt = routings.get(s);
            int t = rt.numTokens();
            Tensor x = scope.empty(DType.BF16, Device.CPU, t, hidden);
            x.copyFromFloats(rows.get(s));
            Tensor ids = scope.empty(DType.I64, Device.CPU, t, topK);
            for (int i = 0; i < t * topK; i++) {
                ids.setBits(rt.expertIds()[i], i / topK, i % topK);
            }
            Tensor w = scope.empty(DType.F32, Device.CPU, t, topK);
            w.copyFromFloats(rt.weights());
            return IntranodeEp.RankInput.bf16(TensorOps.to(x, device, scope), TensorOps.to(ids, device, scope), TensorOps.to(w, device, scope));
        }
    }

    static float bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        bits += 0x7FFF + ((bits >>> 16) & 1); // round to nearest even
        return Float.intBitsToFloat(bits & 0xFFFF0000);
    }

    static float[] host(Tensor t) {
        try (TensorScope scope = TensorScope.open(stream)) {
            Tensor h = scope.empty(t.dtype(), Device.CPU, t.shape());
            TensorOps.copy(t, h, stream);
            return h.toFloatArray();
        }
    }

    static long[] hostBits(Tensor t) {
        try (TensorScope scope = TensorScope.open(stream)) {
            Tensor h = scope.empty(t.dtype(), Device.CPU, t.shape());
            TensorOps.copy(t, h, stream);
            long[] out = new long[(int) h.numel()];
            long cols = h.rank() == 2 ? h.size(1) : 1;
            for (int i = 0; i < out.length; i++) {
                out[i] = h.rank() == 2 ? h.getBits(i / cols, i % cols) : h.getBits(i);
            }
            return out;
        }
    }

    /** Each source rank's combined BF16 tokens against the reference's float sums rounded to BF16; closes them. */
    static void assertCombined(List<float[]> want, List<Tensor> out, String what) {
        try {
            for (int s = 0; s < want.size(); s++) {
                float[] w = want.get(s).clone();
                for (int i = 0; i < w.length; i++) {
                    w[i] = bf16(w[i]);
                }
                assertArrayEquals(w, host(out.get(s)), what + " of rank " + s);
            }
        } finally {
            out.forEach(Tensor::close);
        }
    }

    @ParameterizedTest(name = "W={0} seed={1}")
    @CsvSource({"1,71", "4,72", "8,73", "64,74"})
    void theGpuLayoutIsTheCpuLayout(int world, long seed) {
        Scenario sc = Scenario.random(seed, world, 4, 8, 128, 500);
        try (TensorScope scope = TensorScope.open(stream)) {
            List<IntranodeEp.RankInput> in = sc.onGpu(scope);
            for (int s = 0; s < world; s++) {
                DispatchLayout want = DispatchLayout.of(sc.routings().get(s), sc.placement());
                try (GpuDispatchLayout got = GpuDispatchLayout.compute(in.get(s).topkIdx(), sc.placement(), stream)) {
                    DispatchLayout back = got.toHost();
                    assertArrayEquals(want.tokensPerRank(), back.tokensPerRank(), "rank " + s + ": tokens per rank");
                    assertArrayEquals(want.tokensPerExpert(), back.tokensPerExpert(), "rank " + s + ": tokens per expert");
                    assertArrayEquals(want.tokenInRank(), back.tokenInRank(), "rank " + s + ": token in rank");
                }
            }
            Tensor ids = scope.empty(DType.I64, Device.CPU, 1, 2);
            ids.setBits(3, 0, 0);
            ids.setBits(-2, 0, 1);
            try (GpuDispatchLayout bad = GpuDispatchLayout.compute(TensorOps.to(ids, GPU, scope), sc.placement(), stream)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad::toHost);
                assertTrue(e.getMessage().startsWith("topkIdx: 1 expert ids outside"), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> GpuDispatchLayout.compute(ids, sc.placement(), stream));
        }
    }

    @ParameterizedTest(name = "W={0} seed={1}")
    @CsvSource({"2,1", "2,2", "4,3", "4,4", "8,5", "8,6", "16,7"})
    void dispatchAndCombineMatchTheReference(int world, long seed) {
        Scenario sc = Scenario.random(seed, world, 4, 8, 256, 300);
        EpReference.Dispatch ref = EpReference.dispatch(sc.reference(), sc.placement(), 4);
        try (TensorScope scope = TensorScope.open(stream);
                IntranodeEp.Dispatched d = IntranodeEp.dispatch(sc.onGpu(scope), sc.placement(), 4, stream)) {
            List<Tensor> identity = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                EpReference.Received want = ref.received().get(r);
                IntranodeEp.Received got = d.received().get(r);
                String where = "rank " + r;
                assertEquals(want.numRows(), got.numRows(), where + ": rows");
                assertArrayEquals(want.rows(), host(got.x()), where + ": rows' values");
                assertArrayEquals(want.localExpertIds(), hostBits(got.topkIdx()), where + ": local expert ids");
                assertArrayEquals(want.weights(), host(got.topkWeights()), where + ": weights");
                assertArrayEquals(want.sourceToken(), java.util.Arrays.stream(hostBits(got.srcIdx())).mapToInt(v -> (int) v).toArray(),
                        where + ": source tokens");
                assertArrayEquals(want.rankBegin(), got.rankBegin(), where + ": blocks");
                assertArrayEquals(want.tokensPerLocalExpert(), got.tokensPerLocalExpert(), where + ": per-expert counts");
                identity.add(got.x());
            }
            for (int s = 0; s < world; s++) {
                assertArrayEquals(ref.layouts().get(s).tokensPerRank(), d.layouts().get(s).tokensPerRank());
                assertArrayEquals(ref.layouts().get(s).tokensPerExpert(), d.layouts().get(s).tokensPerExpert());
                assertArrayEquals(ref.layouts().get(s).tokenInRank(), d.layouts().get(s).tokenInRank());
            }
            // Each rank returns what it received: every token comes back times the ranks that got it.
            List<float[]> want = EpReference.combine(ref, ref.received().stream().map(EpReference.Received::rows).toList());
            assertCombined(want, d.combine(identity, stream), "combine");
        }
    }

    @Test
    void aCachedDispatchMovesNewRowsWithTheSameRouting() {
        Scenario sc = Scenario.random(21, 4, 4, 8, 256, 150);
        List<float[]> other = new ArrayList<>();
        for (float[] rows : sc.rows()) {
            float[] o = new float[rows.length];
            for (int i = 0; i < o.length; i++) {
                o[i] = bf16(rows[i] * -3f + 1f);
            }
            other.add(o);
        }
        Scenario again = new Scenario(sc.placement(), sc.hidden(), sc.topK(), other, sc.routings());
        EpReference.Dispatch ref = EpReference.dispatch(again.reference(), sc.placement(), 1);
        try (TensorScope scope = TensorScope.open(stream);
                IntranodeEp.Dispatched d = IntranodeEp.dispatch(sc.onGpu(scope), sc.placement(), 1, stream)) {
            assertTrue(d == d.redispatch(again.onGpu(scope)));
            for (int r = 0; r < 4; r++) {
                assertArrayEquals(ref.received().get(r).rows(), host(d.received().get(r).x()), "rank " + r + ": the new rows");
            }
            Scenario shorter = Scenario.random(22, 4, 4, 8, 256, 150);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.redispatch(shorter.onGpu(scope)));
            assertTrue(e.getMessage().contains("a cached dispatch needs"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "W={0} seed={1}")
    @CsvSource({"2,31", "4,32", "8,33", "8,34", "16,35"})
    void lowLatencyMatchesTheReference(int world, long seed) {
        int maxTokens = 128;
        Scenario sc = Scenario.random(seed, world, 4, 8, 256, 100);
        ExpertPlacement p = sc.placement();
        int rows = world * maxTokens;
        EpReference.LowLatencyDispatch ref = EpReference.lowLatencyDispatch(sc.reference(), p, maxTokens, Float.NaN);
        try (TensorScope scope = TensorScope.open(stream);
                LowLatencyEp.Dispatched d = LowLatencyEp.dispatch(sc.onGpu(scope), p, maxTokens, stream)) {
            d.verify(stream);
            List<Tensor> echo = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                EpReference.LowLatencyReceived want = ref.received().get(r);
                LowLatencyEp.Received got = d.received().get(r);
                long[] count = hostBits(got.count());
                long[] range = hostBits(got.range());
                long[] src = hostBits(got.srcIdx());
                float[] x = host(got.x());
                for (int e = 0; e < p.expertsPerRank(); e++) {
                    String where = "rank " + r + " expert " + e;
                    assertEquals(want.count()[e], count[e], where + ": count");
                    for (int s = 0; s < world; s++) {
                        // Sources run one after another on the stream: their blocks come in rank order, as the reference's.
                        assertEquals(want.rangeBegin()[e * world + s], range[e * world + s] >>> 32, where + " from rank " + s + ": begin");
                        assertEquals(want.rangeCount()[e * world + s], range[e * world + s] & 0xFFFFFFFFL, where + " from rank " + s + ": count");
                    }
                    for (int i = 0; i < want.count()[e]; i++) {
                        assertEquals(want.sourceToken()[e * rows + i], src[e * rows + i], where + " row " + i + ": source token");
                        assertArrayEquals(want.row(e, i), java.util.Arrays.copyOfRange(x, (e * rows + i) * 256, (e * rows + i + 1) * 256),
                                where + " row " + i);
                    }
                }
                echo.add(got.x());
            }
            // Each expert returns its rows: every token comes back weighted by its slots (unwritten rows never read).
            List<float[]> want = EpReference.lowLatencyCombine(ref, ref.received().stream().map(EpReference.LowLatencyReceived::rows).toList());
            assertCombined(want, d.combine(echo, stream), "low-latency combine");
        }
    }

    @ParameterizedTest(name = "W={0} seed={1}")
    @CsvSource({"2,51", "8,52"})
    void lowLatencyFp8RowsAreTheSendersPerTokenQuantisation(int world, long seed) {
        int maxTokens = 64, hidden = 512, groups = hidden / 128;
        Scenario sc = Scenario.random(seed, world, 4, 8, hidden, 60);
        ExpertPlacement p = sc.placement();
        int rows = world * maxTokens;
        EpReference.LowLatencyDispatch ref = EpReference.lowLatencyDispatch(sc.reference(), p, maxTokens, Float.NaN);
        try (TensorScope scope = TensorScope.open(stream);
                LowLatencyEp.Dispatched d = LowLatencyEp.dispatch(sc.onGpu(scope), p, maxTokens, LowLatencyEp.Format.FP8, stream)) {
            d.verify(stream);
            for (int r = 0; r < world; r++) {
                EpReference.LowLatencyReceived want = ref.received().get(r);
                LowLatencyEp.Received got = d.received().get(r);
                assertEquals(DType.F8_E4M3, got.x().dtype());
                assertArrayEquals(new long[] {p.expertsPerRank(), rows, groups}, got.scales().shape());
                byte[] values = hostBytes(got.x());
                byte[] scales = hostBytes(got.scales());
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment bf16 = arena.allocate(2L * hidden);
                    MemorySegment q = arena.allocate(hidden);
                    MemorySegment qs = arena.allocate(4L * groups);
                    for (int e = 0; e < p.expertsPerRank(); e++) {
                        for (int i = 0; i < want.count()[e]; i++) {
                            float[] row = want.row(e, i);
                            for (int c = 0; c < hidden; c++) {
                                bf16.setAtIndex(ValueLayout.JAVA_SHORT, c, (short) (Float.floatToRawIntBits(row[c]) >>> 16));
                            }
                            Fp8QuantReference.perToken(bf16, 1, hidden, hidden, q, qs);
                            long cell = (long) e * rows + i;
                            String where = "rank " + r + " expert " + e + " row " + i;
                            assertArrayEquals(q.toArray(ValueLayout.JAVA_BYTE),
                                    java.util.Arrays.copyOfRange(values, (int) (cell * hidden), (int) ((cell + 1) * hidden)), where + ": e4m3 values");
                            assertArrayEquals(qs.toArray(ValueLayout.JAVA_BYTE),
                                    java.util.Arrays.copyOfRange(scales, (int) (cell * groups * 4), (int) ((cell + 1) * groups * 4)), where + ": scales");
                        }
                    }
                }
            }
        }
    }

    @Test
    void lowLatencyFp8RefusesWhatItCannotQuantise() {
        Scenario sc = Scenario.random(53, 2, 2, 2, 64, 10); // hidden 64: no whole 1 x 128 group
        try (TensorScope scope = TensorScope.open(stream)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LowLatencyEp.dispatch(sc.onGpu(scope), sc.placement(), 16, LowLatencyEp.Format.FP8, stream));
            assertTrue(e.getMessage().contains("multiple of 128"), e.getMessage());
        }
    }

    static byte[] hostBytes(Tensor t) {
        try (TensorScope scope = TensorScope.open(stream)) {
            Tensor h = scope.empty(t.dtype(), Device.CPU, t.shape());
            TensorOps.copy(t, h, stream);
            return h.segment().toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void lowLatencyReportsBadIdsAndRefusesTooManyTokens() {
        Scenario sc = Scenario.random(41, 2, 2, 2, 128, 10);
        try (TensorScope scope = TensorScope.open(stream)) {
            List<IntranodeEp.RankInput> in = sc.onGpu(scope);
            Tensor ids = scope.empty(DType.I64, Device.CPU, 2, 2);
            ids.setBits(0, 0, 0);
            ids.setBits(7, 0, 1); // E = 4
            ids.setBits(-1, 1, 0);
            ids.setBits(2, 1, 1);
            Tensor x = TensorOps.to(scope.empty(DType.BF16, Device.CPU, 2, 128), GPU, scope);
            Tensor w = TensorOps.to(scope.empty(DType.F32, Device.CPU, 2, 2), GPU, scope);
            List<IntranodeEp.RankInput> bad = List.of(IntranodeEp.RankInput.bf16(x, TensorOps.to(ids, GPU, scope), w), in.get(1));
            try (LowLatencyEp.Dispatched d = LowLatencyEp.dispatch(bad, sc.placement(), 16, stream)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.verify(stream));
                assertTrue(e.getMessage().contains("ranks[0].topkIdx: 1 slots skipped"), e.getMessage());
            }
            IllegalArgumentException many = assertThrows(IllegalArgumentException.class,
                    () -> LowLatencyEp.dispatch(List.of(IntranodeEp.RankInput.bf16(x, TensorOps.to(ids, GPU, scope), w), in.get(1)),
                            sc.placement(), 1, stream));
            assertTrue(many.getMessage().contains("more than maxTokens 1"), many.getMessage());
        }
    }

    @Test
    void fp8RowsAndTheirScalesArriveUnchanged() {
        int world = 4, hidden = 256, topK = 4;
        Scenario sc = Scenario.random(11, world, 2, topK, hidden, 100);
        SplittableRandom r = new SplittableRandom(12);
        try (TensorScope scope = TensorScope.open(stream)) {
            List<IntranodeEp.RankInput> bf = sc.onGpu(scope);
            List<IntranodeEp.RankInput> in = new ArrayList<>();
            List<RankTokens> refRows = new ArrayList<>();
            for (int s = 0; s < world; s++) {
                int t = sc.routings().get(s).numTokens();
                Tensor x = scope.empty(DType.F8_E4M3, Device.CPU, t, hidden);
                Tensor scales = scope.empty(DType.F32, Device.CPU, t, hidden / 128);
                float[] both = new float[t * (hidden + hidden / 128)];
                float[] sv = new float[t * hidden / 128];
                for (int i = 0; i < t; i++) {
                    for (int c = 0; c < hidden; c++) {
                        int v = r.nextInt(256);
                        x.setBits(v, i, c);
                        both[i * (hidden + hidden / 128) + c] = v;
                    }
                    for (int c = 0; c < hidden / 128; c++) {
                        float v = (float) r.nextDouble();
                        sv[i * hidden / 128 + c] = v;
                        both[i * (hidden + hidden / 128) + hidden + c] = v;
                    }
                }
                scales.copyFromFloats(sv);
                in.add(new IntranodeEp.RankInput(TensorOps.to(x, GPU, scope), TensorOps.to(scales, GPU, scope), bf.get(s).topkIdx(),
                        bf.get(s).topkWeights()));
                refRows.add(new RankTokens(both, hidden + hidden / 128, sc.routings().get(s)));
            }
            EpReference.Dispatch ref = EpReference.dispatch(refRows, sc.placement(), 1);
            try (IntranodeEp.Dispatched d = IntranodeEp.dispatch(in, sc.placement(), 1, stream)) {
                for (int rank = 0; rank < world; rank++) {
                    float[] want = ref.received().get(rank).rows();
                    long[] values = hostBits(d.received().get(rank).x());
                    float[] scales = host(d.received().get(rank).scales());
                    int rows = d.received().get(rank).numRows();
                    for (int i = 0; i < rows; i++) {
                        for (int c = 0; c < hidden; c++) {
                            assertEquals((long) want[i * (hidden + 2) + c], values[i * hidden + c] & 0xFF);
                        }
                        for (int c = 0; c < 2; c++) {
                            assertEquals(want[i * (hidden + 2) + hidden + c], scales[i * 2 + c]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void badInputIsRefusedInJava() {
        Scenario sc = Scenario.random(21, 2, 2, 2, 128, 10);
        try (TensorScope scope = TensorScope.open(stream)) {
            List<IntranodeEp.RankInput> in = sc.onGpu(scope);
            // An expert id beyond E, on the device: found by the layout kernel, reported before any row moves.
            Tensor ids = scope.empty(DType.I64, Device.CPU, 3, 2);
            ids.setBits(0, 0, 0);
            ids.setBits(-1, 0, 1);
            ids.setBits(4, 1, 0); // E = 4
            ids.setBits(1, 1, 1);
            ids.setBits(2, 2, 0);
            ids.setBits(3, 2, 1);
            Tensor x = TensorOps.to(scope.empty(DType.BF16, Device.CPU, 3, 128), GPU, scope);
            Tensor w = TensorOps.to(scope.empty(DType.F32, Device.CPU, 3, 2), GPU, scope);
            List<IntranodeEp.RankInput> bad = List.of(IntranodeEp.RankInput.bf16(x, TensorOps.to(ids, GPU, scope), w), in.get(1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> IntranodeEp.dispatch(bad, sc.placement(), 1, stream));
            assertTrue(e.getMessage().contains("ranks[0].topkIdx: 1 expert ids outside [-1, 4)"), e.getMessage());
            // Shapes and kinds.
            assertThrows(IllegalArgumentException.class, () -> IntranodeEp.dispatch(in.subList(0, 1), sc.placement(), 1, stream));
            assertThrows(IllegalArgumentException.class, () -> IntranodeEp.dispatch(in, new ExpertPlacement(32, 16), 1, stream));
            Tensor f8 = TensorOps.to(scope.empty(DType.F8_E4M3, Device.CPU, 3, 96), GPU, scope);
            IllegalArgumentException hidden = assertThrows(IllegalArgumentException.class, () -> IntranodeEp.dispatch(
                    List.of(new IntranodeEp.RankInput(f8, null, in.get(0).topkIdx(), in.get(0).topkWeights()), in.get(1)),
                    sc.placement(), 1, stream));
            assertTrue(hidden.getMessage().contains("multiple of 128"), hidden.getMessage());
            Tensor cpuX = scope.empty(DType.BF16, Device.CPU, 3, 128);
            assertThrows(IllegalArgumentException.class, () -> IntranodeEp.dispatch(
                    List.of(IntranodeEp.RankInput.bf16(cpuX, in.get(0).topkIdx(), in.get(0).topkWeights()), in.get(1)), sc.placement(), 1,
                    stream));
            try (IntranodeEp.Dispatched d = IntranodeEp.dispatch(in, sc.placement(), 1, stream)) {
                Tensor wrong = TensorOps.to(scope.empty(DType.BF16, Device.CPU, d.received().get(0).numRows() + 1, 128), GPU, scope);
                assertThrows(IllegalArgumentException.class, () -> d.combine(List.of(wrong, d.received().get(1).x()), stream));
            }
        }
    }
}
