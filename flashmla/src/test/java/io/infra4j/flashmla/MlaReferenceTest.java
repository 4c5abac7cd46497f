package io.infra4j.flashmla;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CPU path (MlaReference, FP32) against the naive double-precision decode on small random
 * problems: causal or not, seqlen_q 1..4, heads_kv 1..3, pages of 16/32/64, BF16 and FP8 caches,
 * zero-length sequences, permuted block tables, NaN in every unused slot and block.
 */
class MlaReferenceTest {
    /** BF16 rounding of the output (2^-9 relative) and FP32 sums over a few hundred keys. */
    private static final double OUT_REL = 0x1p-8;
    private static final double OUT_ABS = 1e-5;
    private static final double LSE_ABS = 2e-5;

    record Case(long seed, int seqlenQ, int headsKv, int groups, int pageSize, int headDim, boolean causal, boolean fp8) {
        @Override
        public String toString() {
            return "s_q=" + seqlenQ + " h_kv=" + headsKv + " h_q=" + headsKv * groups + " page=" + pageSize + " d=" + headDim
                    + (causal ? " causal" : "") + (fp8 ? " fp8" : " bf16") + " seed=" + seed;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        long seed = 42;
        for (int sq = 1; sq <= 4; sq++) {
            for (int hkv = 1; hkv <= 3; hkv++) {
                for (int page : new int[] {16, 32, 64}) {
                    seed++;
                    boolean causal = (seed & 1) == 0;
                    boolean fp8 = seed % 3 == 0;
                    int d = fp8 || seed % 4 == 1 ? 512 : 576;
                    out.add(Arguments.of(new Case(seed, sq, hkv, 1 + (int) (seed % 3), page, d, causal, fp8)));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheNaiveDecode(Case c) {
        SplittableRandom r = new SplittableRandom(c.seed());
        try (TensorScope scope = TensorScope.open()) {
            int[] lens = RandomProblem.lengths(r, 1 + r.nextInt(4), 150, c.seqlenQ(), c.pageSize());
            RandomProblem p = new RandomProblem(scope, r, lens, c.seqlenQ(), c.headsKv() * c.groups(), c.headsKv(),
                    c.headDim(), c.pageSize(), c.fp8());
            MlaOptions options = MlaOptions.defaults().withCausal(c.causal());
            try (MlaPlan plan = MlaDecode.plan(p.seqlens)) {
                MlaResult res = MlaDecode.decode(p.q, p.kv, p.blockTable, p.seqlens, plan, options, scope);
                NaiveMla.Result naive = NaiveMla.decode(p.q, p.kv, p.table, lens, 1 / Math.sqrt(c.headDim()), c.causal());
                assertClose(naive, res, c.toString() + " lens " + Arrays.toString(lens));
            }
        }
    }

    @Test
    void emptySequencesAndRowsThatSeeNoKeyGiveZeroAndInfinity() {
        SplittableRandom r = new SplittableRandom(7);
        try (TensorScope scope = TensorScope.open()) {
            int[] lens = {0, 2, 0, 70};
            RandomProblem p = new RandomProblem(scope, r, lens, 4, 2, 1, 576, 16, false);
            try (MlaPlan plan = MlaDecode.plan(p.seqlens)) {
                MlaResult res = MlaDecode.decode(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(), scope);
                for (int h = 0; h < 2; h++) {
                    for (int i = 0; i < 4; i++) {
                        // Sequence 1 (2 keys, 4 query tokens, causal by default): tokens 0 and 1 see nothing.
                        boolean none = i < 2;
                        for (int s : new int[] {0, 2}) {
                            assertEquals(Float.POSITIVE_INFINITY, res.lse().get(s, h, i), "lse of empty sequence " + s);
                            assertRowZero(res.out(), s, i, h);
                        }
                        if (none) {
                            assertEquals(Float.POSITIVE_INFINITY, res.lse().get(1, h, i));
                            assertRowZero(res.out(), 1, i, h);
                        } else {
                            assertTrue(Double.isFinite(res.lse().get(1, h, i)));
                        }
                    }
                }
                assertClose(NaiveMla.decode(p.q, p.kv, p.table, lens, 1 / Math.sqrt(576), true), res, "corners");
            }
        }
    }

    @Test
    void optionsOverrideScaleAndMasking() {
        SplittableRandom r = new SplittableRandom(11);
        try (TensorScope scope = TensorScope.open()) {
            int[] lens = {37, 90};
            RandomProblem p = new RandomProblem(scope, r, lens, 3, 4, 2, 512, 32, false);
            MlaOptions options = MlaOptions.defaults().withCausal(false).withSoftmaxScale(0.07f);
            try (MlaPlan plan = MlaDecode.plan(p.seqlens)) {
                MlaResult res = MlaDecode.decode(p.q, p.kv, p.blockTable, p.seqlens, plan, options, scope);
                assertClose(NaiveMla.decode(p.q, p.kv, p.table, lens, 0.07f, false), res, "scale 0.07, not causal");
            }
        }
    }

    /** The same logical cache stored in another block order (and another table) decodes to the same bits. */
    @Test
    void blockOrderDoesNotMatter() {
        try (TensorScope scope = TensorScope.open()) {
            int[] lens = {100, 33, 64};
            RandomProblem a = new RandomProblem(scope, new SplittableRandom(3), lens, 2, 2, 1, 576, 16, false);
            RandomProblem b = new RandomProblem(scope, new SplittableRandom(3), lens, 2, 2, 1, 576, 16, false);
            // b: the same values as a, in a reversed block order.
            int n = b.kv.numBlocks();
            for (int s = 0; s < lens.length; s++) {
                for (int p = 0; p * 16 < lens[s]; p++) {
                    int to = n - 1 - a.table[s][p];
                    try (Tensor src = a.kv.data().select(0, a.table[s][p]); Tensor dst = b.kv.data().select(0, to)) {
                        TensorOps.copy(src, dst);
                    }
                    b.blockTable.set(to, s, p);
                }
            }
            try (MlaPlan pa = MlaDecode.plan(a.seqlens); MlaPlan pb = MlaDecode.plan(b.seqlens)) {
                MlaResult ra = MlaDecode.decode(a.q, a.kv, a.blockTable, a.seqlens, pa, MlaOptions.defaults(), scope);
                MlaResult rb = MlaDecode.decode(a.q, b.kv, b.blockTable, b.seqlens, pb, MlaOptions.defaults(), scope);
                assertEquals(Arrays.toString(ra.out().toFloatArray()), Arrays.toString(rb.out().toFloatArray()));
                assertEquals(Arrays.toString(ra.lse().toFloatArray()), Arrays.toString(rb.lse().toFloatArray()));
            }
        }
    }

    /** An FP8 cache decodes to the same bits as a BF16 cache holding its dequantised values, bf16(e4m3 * scale). */
    @Test
    void fp8DecodesAsItsDequantisedBf16Cache() {
        try (TensorScope scope = TensorScope.open()) {
            int[] lens = {90, 0, 33};
            RandomProblem p = new RandomProblem(scope, new SplittableRandom(21), lens, 2, 6, 3, 512, 32, true);
            Tensor deq = scope.empty(DType.BF16, Device.CPU, p.kv.data().shape());
            TensorOps.fill(deq, Double.NaN);
            for (int s = 0; s < lens.length; s++) {
                for (int t = 0; t < lens[s]; t++) {
                    int block = p.table[s][t / 32];
                    for (int h = 0; h < 3; h++) {
                        for (int x = 0; x < 512; x++) {
                            deq.set(NaiveMla.value(p.kv, block, t % 32, h, x), block, t % 32, h, x);
                        }
                    }
                }
            }
            try (MlaPlan plan = MlaDecode.plan(p.seqlens)) {
                MlaResult f8 = MlaDecode.decode(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(), scope);
                MlaResult bf = MlaDecode.decode(p.q, KvCache.bf16(deq), p.blockTable, p.seqlens, plan, MlaOptions.defaults(), scope);
                assertEquals(Arrays.toString(bf.out().toFloatArray()), Arrays.toString(f8.out().toFloatArray()));
                assertEquals(Arrays.toString(bf.lse().toFloatArray()), Arrays.toString(f8.lse().toFloatArray()));
            }
        }
    }

    @Test
    void decodeIntoOverwritesEveryElementOfPoisonedOutputs() {
        SplittableRandom r = new SplittableRandom(5);
        try (TensorScope scope = TensorScope.open()) {
            int[] lens = {0, 17, 64};
            RandomProblem p = new RandomProblem(scope, r, lens, 2, 3, 3, 576, 64, false);
            Tensor out = scope.empty(DType.BF16, Device.CPU, 3, 2, 3, 512);
            Tensor lse = scope.empty(DType.F32, Device.CPU, 3, 3, 2);
            TensorOps.fill(out, Double.NaN);
            TensorOps.fill(lse, Double.NaN);
            try (MlaPlan plan = MlaDecode.plan(p.seqlens)) {
                MlaDecode.decodeInto(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(), out, lse);
            }
            for (float v : out.toFloatArray()) {
                assertTrue(Float.isFinite(v), "out holds " + v);
            }
            for (float v : lse.toFloatArray()) {
                assertTrue(!Float.isNaN(v), "lse holds NaN");
            }
        }
    }

    private static void assertRowZero(Tensor out, int s, int i, int h) {
        for (int x = 0; x < 512; x++) {
            if (out.getBits(s, i, h, x) != 0) {
                fail("out[" + s + ", " + i + ", " + h + ", " + x + "] should be +0, got " + out.get(s, i, h, x));
            }
        }
    }

    /** Every output close to the naive one; no NaN anywhere (NaN fills unused slots and blocks). */
    static void assertClose(NaiveMla.Result e, MlaResult a, String what) {
        double[][][][] eo = e.out();
        for (int s = 0; s < eo.length; s++) {
            for (int i = 0; i < eo[s].length; i++) {
                for (int h = 0; h < eo[s][i].length; h++) {
                    double el = e.lse()[s][h][i];
                    double al = a.lse().get(s, h, i);
                    if (Double.isInfinite(el)) {
                        assertEquals(Double.POSITIVE_INFINITY, al, what + ": lse[" + s + ", " + h + ", " + i + "]");
                    } else if (!(Math.abs(al - el) <= LSE_ABS * Math.max(1, Math.abs(el)))) {
                        fail(what + ": lse[" + s + ", " + h + ", " + i + "] expected " + el + ", got " + al);
                    }
                    for (int x = 0; x < eo[s][i][h].length; x++) {
                        double ev = eo[s][i][h][x];
                        double av = a.out().get(s, i, h, x);
                        if (!(Math.abs(av - ev) <= OUT_ABS + OUT_REL * Math.abs(ev))) {
                            fail(what + ": out[" + s + ", " + i + ", " + h + ", " + x + "] expected " + ev + ", got " + av);
                        }
                    }
                }
            }
        }
    }
}
