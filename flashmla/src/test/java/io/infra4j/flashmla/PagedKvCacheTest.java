package io.infra4j.flashmla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.memory.DType;
import io.infra4j.memory.DTypeCodec;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The paged KV cache: slots, blocks, the pool, tables, FP8 quantisation, and decoding from it. */
class PagedKvCacheTest {

    private static PagedKvCache.Builder small(DType dtype) {
        return PagedKvCache.builder().dtype(dtype).sequences(3).blocks(10).pageSize(16).headsKv(2).headDim(dtype == DType.BF16 ? 576 : 256);
    }

    private static Tensor tokens(TensorScope scope, SplittableRandom r, DType dtype, int n, int heads, int d) {
        Tensor t = scope.empty(dtype, Device.CPU, n, heads, d);
        RandomProblem.fillNormal(t, r, 2.0);
        return t;
    }

    @Test
    void appendFillsSlotsPageByPage() {
        SplittableRandom r = new SplittableRandom(1);
        try (TensorScope scope = TensorScope.open(); PagedKvCache cache = small(DType.BF16).build()) {
            Tensor a = tokens(scope, r, DType.BF16, 10, 2, 576);
            Tensor b = tokens(scope, r, DType.BF16, 30, 2, 576);
            cache.append(1, a);
            cache.append(1, b); // 40 tokens: 3 pages of 16
            cache.append(0, tokens(scope, r, DType.BF16, 16, 2, 576));
            assertArrayEquals(new int[] {16, 40, 0}, cache.lengths());
            assertEquals(3, cache.blocks(1).length);
            assertEquals(1, cache.blocks(0).length);
            assertEquals(10 - 4, cache.freeBlocks());
            int[] blocks = cache.blocks(1);
            for (int t = 0; t < 40; t++) {
                Tensor src = t < 10 ? a : b;
                int i = t < 10 ? t : t - 10;
                for (int h = 0; h < 2; h++) {
                    for (int x = 0; x < 576; x += 37) {
                        assertEquals(src.getBits(i, h, x), cache.data().getBits(blocks[t / 16], t % 16, h, x), "token " + t);
                    }
                }
            }
        }
    }

    @Test
    void floatTokensAreRoundedToBf16() {
        SplittableRandom r = new SplittableRandom(2);
        try (TensorScope scope = TensorScope.open(); PagedKvCache cache = small(DType.BF16).build()) {
            Tensor f = tokens(scope, r, DType.F32, 5, 2, 576);
            cache.append(2, f);
            int block = cache.blocks(2)[0];
            for (int t = 0; t < 5; t++) {
                for (int x = 0; x < 576; x++) {
                    short expected = DTypeCodec.floatToBf16((float) f.get(t, 1, x));
                    assertEquals(expected & 0xFFFF, cache.data().getBits(block, t, 1, x));
                }
            }
        }
    }

    @Test
    void tablesAndLengthsAsTheDecodeReadsThem() {
        SplittableRandom r = new SplittableRandom(3);
        try (TensorScope scope = TensorScope.open(); PagedKvCache cache = small(DType.BF16).build()) {
            cache.append(0, tokens(scope, r, DType.BF16, 33, 2, 576));
            cache.append(2, tokens(scope, r, DType.BF16, 1, 2, 576));
            Tensor table = cache.blockTable(scope);
            assertArrayEquals(new long[] {3, 3}, table.shape());
            assertEquals(DType.I32, table.dtype());
            int[] b0 = cache.blocks(0);
            for (int p = 0; p < 3; p++) {
                assertEquals(b0[p], (int) table.get(0, p));
                assertEquals(0, (int) table.get(1, p)); // unused: 0
            }
            assertEquals(cache.blocks(2)[0], (int) table.get(2, 0));
            Tensor wide = cache.blockTable(scope, 5, -1);
            assertArrayEquals(new long[] {3, 5}, wide.shape());
            assertEquals(-1, (int) wide.get(0, 3));
            assertEquals(-1, (int) wide.get(1, 0));
            Tensor lens = cache.seqlens(scope);
            assertArrayEquals(new float[] {33, 0, 1}, new float[] {(float) lens.get(0), (float) lens.get(1), (float) lens.get(2)});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cache.blockTable(scope, 2, 0));
            assertTrue(e.getMessage().startsWith("width:"), e.getMessage());
        }
    }

    @Test
    void releaseReturnsBlocksAndAFullPoolChangesNothing() {
        SplittableRandom r = new SplittableRandom(4);
        try (TensorScope scope = TensorScope.open(); PagedKvCache cache = small(DType.BF16).build()) {
            cache.append(0, tokens(scope, r, DType.BF16, 16 * 8, 2, 576));
            assertEquals(2, cache.freeBlocks());
            int[] before = cache.blocks(1);
            IllegalStateException full = assertThrows(IllegalStateException.class,
                    () -> cache.append(1, tokens(scope, r, DType.BF16, 16 * 2 + 1, 2, 576)));
            assertTrue(full.getMessage().contains("needs 3 more blocks") && full.getMessage().contains("2 of 10 are free"),
                    full.getMessage());
            assertEquals(2, cache.freeBlocks());
            assertArrayEquals(before, cache.blocks(1));
            assertEquals(0, cache.length(1));
            cache.release(0);
            assertEquals(10, cache.freeBlocks());
            assertEquals(0, cache.length(0));
            cache.append(1, tokens(scope, r, DType.BF16, 16 * 10, 2, 576));
            assertEquals(0, cache.freeBlocks());
        }
    }

    @Test
    void shuffledPoolGivesPermutedBlocks() {
        SplittableRandom r = new SplittableRandom(5);
        try (TensorScope scope = TensorScope.open(); PagedKvCache cache = small(DType.BF16).build()) {
            cache.shuffleFreeBlocks(new SplittableRandom(99));
            cache.append(0, tokens(scope, r, DType.BF16, 16 * 10, 2, 576));
            int[] blocks = cache.blocks(0);
            assertNotEquals(Arrays.toString(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), Arrays.toString(blocks));
            TreeSet<Integer> all = new TreeSet<>();
            Arrays.stream(blocks).forEach(all::add);
            assertEquals(10, all.size());
            assertEquals(0, all.first());
            assertEquals(9, all.last());
        }
    }

    @Test
    void fp8QuantisesPer128ValuesWithScaleAmaxOver448() {
        SplittableRandom r = new SplittableRandom(6);
        try (TensorScope scope = TensorScope.open(); PagedKvCache cache = small(DType.F8_E4M3).build()) {
            Tensor t = tokens(scope, r, DType.F32, 20, 2, 256);
            for (int x = 128; x < 256; x++) {
                t.set(0.0, 3, 1, x); // an all-zero group: scale 1, zeros
            }
            cache.append(0, t);
            assertArrayEquals(new long[] {10, 16, 2, 2}, cache.scales().shape());
            int[] blocks = cache.blocks(0);
            for (int tok = 0; tok < 20; tok++) {
                int block = blocks[tok / 16];
                int slot = tok % 16;
                for (int h = 0; h < 2; h++) {
                    for (int g = 0; g < 2; g++) {
                        double amax = 0;
                        for (int x = g * 128; x < (g + 1) * 128; x++) {
                            amax = Math.max(amax, Math.abs(t.get(tok, h, x)));
                        }
                        float scale = (float) cache.scales().get(block, slot, h, g);
                        assertEquals(amax == 0 ? 1f : (float) amax / 448f, scale, "scale of token " + tok + " head " + h);
                        for (int x = g * 128; x < (g + 1) * 128; x++) {
                            float v = (float) t.get(tok, h, x);
                            byte e = DTypeCodec.floatToE4m3(v / scale, true);
                            assertEquals(e & 0xFF, cache.data().getBits(block, slot, h, x));
                            double back = DTypeCodec.e4m3ToFloat(e) * scale;
                            assertTrue(Math.abs(back - v) <= amax / 448 + Math.abs(v) / 16, "dequantised " + back + " for " + v);
                        }
                    }
                }
            }
        }
    }

    @Test
    void badArguments() {
        try (TensorScope scope = TensorScope.open(); PagedKvCache cache = small(DType.BF16).build()) {
            SplittableRandom r = new SplittableRandom(7);
            assertName("seq", () -> cache.append(3, tokens(scope, r, DType.BF16, 1, 2, 576)));
            assertName("seq", () -> cache.length(-1));
            assertName("tokens", () -> cache.append(0, tokens(scope, r, DType.BF16, 1, 1, 576)));
            assertName("tokens", () -> cache.append(0, scope.empty(DType.BF16, Device.CPU, 2, 576)));
            assertName("tokens", () -> cache.append(0, scope.empty(DType.I32, Device.CPU, 1, 2, 576)));
            assertName("tokens", () -> cache.append(0, null));
            assertName("scope", () -> cache.seqlens(null));
        }
        assertName("pageSize", () -> small(DType.BF16).pageSize(8).build());
        assertName("headDim", () -> small(DType.F8_E4M3).headDim(520).build()); // not whole 16-value pieces
        assertName("dtype", () -> small(DType.F32).build());
        assertName("blocks", () -> PagedKvCache.builder().sequences(1).pageSize(16).headsKv(1).headDim(512).build());
        assertName("sequences", () -> small(DType.BF16).sequences(0).build());
        try (TensorScope scope = TensorScope.open(); PagedKvCache cache = small(DType.F8_E4M3).build()) {
            Tensor t = tokens(scope, new SplittableRandom(8), DType.F32, 2, 2, 256);
            t.set(Double.NaN, 1, 0, 5);
            assertName("tokens", () -> cache.append(0, t));
            assertEquals(0, cache.length(0));
            assertEquals(10, cache.freeBlocks()); // the blocks taken were given back
        }
    }

    private static void assertName(String name, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(name + ":"), "expected '" + name + ":', got: " + e.getMessage());
    }

    /** Decoding from the cache's tables equals decoding the same tokens laid out by hand. */
    @Test
    void decodingFromTheCacheMatchesTheNaiveDecode() {
        SplittableRandom r = new SplittableRandom(10);
        for (DType dtype : new DType[] {DType.BF16, DType.F8_E4M3}) {
            try (TensorScope scope = TensorScope.open();
                 PagedKvCache cache = PagedKvCache.builder().dtype(dtype).sequences(3).blocks(24).pageSize(32).headsKv(1)
                         .headDim(512).build()) {
                TensorOps.fill(cache.data(), Double.NaN);
                if (cache.scales() != null) {
                    TensorOps.fill(cache.scales(), Double.NaN);
                }
                cache.shuffleFreeBlocks(r);
                int[] lens = {70, 0, 129};
                for (int s = 0; s < 3; s++) {
                    for (int done = 0; done < lens[s]; ) {
                        int n = Math.min(lens[s] - done, 1 + r.nextInt(40)); // appends of odd sizes
                        cache.append(s, tokens(scope, r, DType.F32, n, 1, 512));
                        done += n;
                    }
                }
                Tensor q = scope.empty(DType.BF16, Device.CPU, 3, 2, 4, 512);
                RandomProblem.fillNormal(q, r, 1.0);
                Tensor table = cache.blockTable(scope);
                Tensor seqlens = cache.seqlens(scope);
                int[][] t = new int[3][(int) table.size(1)];
                for (int s = 0; s < 3; s++) {
                    for (int p = 0; p < t[s].length; p++) {
                        t[s][p] = (int) table.get(s, p);
                    }
                }
                try (MlaPlan plan = MlaDecode.plan(seqlens)) {
                    MlaResult res = MlaDecode.decode(q, cache.kvCache(), table, seqlens, plan, MlaOptions.defaults(), scope);
                    MlaReferenceTest.assertClose(NaiveMla.decode(q, cache.kvCache(), t, lens, 1 / Math.sqrt(512), true), res,
                            dtype.toString());
                }
            }
        }
    }
}
