package io.infra4j.deepgemm;

import static io.infra4j.deepgemm.Bf16Inputs.bf16;
import static io.infra4j.deepgemm.Bf16Inputs.bits;
import static io.infra4j.deepgemm.Bf16Inputs.bytes;
import static io.infra4j.deepgemm.Bf16Inputs.copyOf;
import static io.infra4j.deepgemm.Bf16Inputs.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CPU path of {@link Fp8Quant} against {@link NaiveFp8} (which shares no code with it), on random
 * BF16 inputs and on the groups that decide the rules: all zeros, one huge value, NaN and infinity,
 * a short last group, row-strided and grouped views; and the M-major scale layout.
 */
class Fp8QuantTest {
    private static final CudaStream STREAM = CudaStream.legacyDefault(); // ignored on the CPU
    private static final int FLOOR_SCALE = Float.floatToRawIntBits(1e-4f / 448f);

    @ParameterizedTest(name = "[{0}, {1}]")
    @CsvSource({"1, 16", "1, 128", "3, 384", "5, 144", "2, 272", "130, 272", "129, 128", "257, 48", "0, 256", "4, 0"})
    void perTokenMatchesTheNaiveCast(int rows, int cols) {
        SplittableRandom r = new SplittableRandom(rows * 1000L + cols);
        try (Tensor x = bf16(Bf16Inputs.gaussian(r, rows, cols), rows, cols); Fp8Tensor q = Fp8Quant.perToken(x, STREAM)) {
            assertArrayEquals(new long[] {rows, cols}, q.values().shape());
            assertArrayEquals(new long[] {rows, (cols + 127) / 128}, q.scales().shape());
            Bf16Inputs.assertSame(NaiveFp8.perToken(floats(x), rows, cols), q, "[" + rows + ", " + cols + "]");
        }
    }

    @ParameterizedTest(name = "[{0}, {1}]")
    @CsvSource({"1, 16", "128, 128", "130, 272", "300, 400", "129, 128", "0, 256", "4, 0"})
    void perBlockMatchesTheNaiveCast(int rows, int cols) {
        SplittableRandom r = new SplittableRandom(rows * 1000L + cols + 7);
        try (Tensor x = bf16(Bf16Inputs.gaussian(r, rows, cols), rows, cols); Fp8Tensor q = Fp8Quant.perBlock(x, STREAM)) {
            assertArrayEquals(new long[] {(rows + 127) / 128, (cols + 127) / 128}, q.scales().shape());
            Bf16Inputs.assertSame(NaiveFp8.perBlock(floats(x), rows, cols), q, "[" + rows + ", " + cols + "]");
        }
    }

    @Test
    void allZeroGroupsGetTheFloorScale() {
        float[] v = new float[2 * 256];
        for (int i = 0; i < 128; i++) {
            v[256 + i] = -0f; // row 1, group 0: negative zeros stay negative
        }
        try (Tensor x = bf16(v, 2, 256); Fp8Tensor t = Fp8Quant.perToken(x, STREAM); Fp8Tensor b = Fp8Quant.perBlock(x, STREAM)) {
            assertArrayEquals(new int[] {FLOOR_SCALE, FLOOR_SCALE, FLOOR_SCALE, FLOOR_SCALE}, bits(t.scales()));
            assertArrayEquals(new int[] {FLOOR_SCALE, FLOOR_SCALE}, bits(b.scales()));
            byte[] q = bytes(t.values());
            for (int i = 0; i < q.length; i++) {
                assertEquals(i >= 256 && i < 384 ? (byte) 0x80 : 0, q[i], "value " + i);
            }
            assertArrayEquals(q, bytes(b.values()));
        }
    }

    @Test
    void oneHugeValueTakesTheGroupsRange() {
        float[] v = new float[256];
        Arrays.fill(v, 1f);
        v[5] = -3e38f;
        try (Tensor x = bf16(v, 1, 256); Fp8Tensor q = Fp8Quant.perToken(x, STREAM)) {
            float amax = floats(x)[5] * -1; // the BF16 value
            assertArrayEquals(new int[] {Float.floatToRawIntBits(amax / 448f), Float.floatToRawIntBits(1f / 448f)},
                    bits(q.scales()));
            byte[] b = bytes(q.values());
            assertEquals((byte) 0xFE, b[5], "-448");
            assertEquals(0, b[0], "1 * 448 / 3e38 is far below e4m3's smallest subnormal");
            assertEquals(0x7E, b[200], "the second group is its own: 1 is its amax, so 448");
        }
    }

    @Test
    void nanAndInfinityPropagateThroughTheirGroupOnly() {
        float[] v = new float[2 * 256];
        Arrays.fill(v, 0.5f);
        v[3] = Float.NaN;           // row 0, group 0
        v[256 + 7] = Float.POSITIVE_INFINITY;  // row 1, group 0
        v[256 + 8] = Float.NEGATIVE_INFINITY;
        v[256 + 9] = -2f;
        try (Tensor x = bf16(v, 2, 256); Fp8Tensor q = Fp8Quant.perToken(x, STREAM); Fp8Tensor b = Fp8Quant.perBlock(x, STREAM)) {
            int half = Float.floatToRawIntBits(0.5f / 448f);
            assertArrayEquals(new int[] {0x7FC00000, half, 0x7F800000, half}, bits(q.scales()));
            byte[] t = bytes(q.values());
            for (int c = 0; c < 128; c++) {
                assertEquals(0x7F, t[c], "a NaN group is all NaN, at " + c);
            }
            assertEquals(0x7E, t[128], "the next group is untouched");
            assertEquals(0x7F, t[256 + 7], "+inf * 0 is NaN");
            assertEquals(0x7F, t[256 + 8], "-inf * 0 is NaN");
            assertEquals((byte) 0x80, t[256 + 9], "finite values of an infinite group are signed zeros");
            assertEquals(0, t[256]);
            assertArrayEquals(new int[] {0x7FC00000, half}, bits(b.scales()), "a block holding NaN and infinity is NaN");
            Bf16Inputs.assertSame(NaiveFp8.perToken(floats(x), 2, 256), q, "per token");
            Bf16Inputs.assertSame(NaiveFp8.perBlock(floats(x), 2, 256), b, "per block");
        }
    }

    @Test
    void aRaggedLastGroupIsQuantisedOnItsOwn() {
        float[] v = new float[144];
        Arrays.fill(v, 0, 128, 1000f);
        Arrays.fill(v, 128, 144, 0.25f);
        try (Tensor x = bf16(v, 1, 144); Fp8Tensor q = Fp8Quant.perToken(x, STREAM)) {
            assertArrayEquals(new int[] {Float.floatToRawIntBits(1000f / 448f), Float.floatToRawIntBits(0.25f / 448f)},
                    bits(q.scales()));
            assertEquals(0x7E, bytes(q.values())[143]);
        }
    }

    @Test
    void rowStridedViewsGiveTheSameAsACopy() {
        SplittableRandom r = new SplittableRandom(3);
        try (Tensor big = bf16(Bf16Inputs.gaussian(r, 131, 320), 131, 320);
             Tensor x = big.slice(1, 16, 16 + 272); // row stride 320, starts 32 bytes in
             Tensor dense = copyOf(x);
             Fp8Tensor t = Fp8Quant.perToken(x, STREAM); Fp8Tensor td = Fp8Quant.perToken(dense, STREAM);
             Fp8Tensor b = Fp8Quant.perBlock(x, STREAM); Fp8Tensor bd = Fp8Quant.perBlock(dense, STREAM)) {
            assertArrayEquals(bytes(td.values()), bytes(t.values()));
            assertArrayEquals(bits(td.scales()), bits(t.scales()));
            assertArrayEquals(bytes(bd.values()), bytes(b.values()));
            assertArrayEquals(bits(bd.scales()), bits(b.scales()));
        }
    }

    /** Grouped inputs equal their groups quantised one by one, for every way the groups can lie. */
    @Test
    void groupedInputsEqualTheirGroupsOneByOne() {
        SplittableRandom r = new SplittableRandom(4);
        try (TensorScope s = TensorScope.open()) {
            Tensor whole = s.empty(DType.BF16, Device.CPU, 3, 75, 272);
            whole.copyFromFloats(Bf16Inputs.gaussian(r, 3 * 75, 272));
            Tensor[] views = {
                whole,                                          // contiguous: one call over 225 rows
                whole.slice(1, 2, 72),                          // 70 of 75 rows: one call per group
                whole.slice(1, 4, 5),                           // one row per group: one call, the group stride as ld
                whole.slice(1, 0, 10).slice(2, 0, 144),         // row and group strides both wider than the values
            };
            for (Tensor x : views) {
                for (boolean perBlock : new boolean[] {false, true}) {
                    String what = Arrays.toString(x.shape()) + " strides " + Arrays.toString(x.strides())
                            + (perBlock ? " per block" : " per token");
                    Fp8Tensor q = perBlock ? Fp8Quant.perBlock(x, STREAM) : Fp8Quant.perToken(x, STREAM);
                    try (q) {
                        for (int g = 0; g < 3; g++) {
                            try (Tensor xg = x.select(0, g); Tensor vg = q.values().select(0, g); Tensor sg = q.scales().select(0, g)) {
                                long rows = xg.size(0);
                                long cols = xg.size(1);
                                NaiveFp8.Result e = perBlock ? NaiveFp8.perBlock(floats(xg), (int) rows, (int) cols)
                                        : NaiveFp8.perToken(floats(xg), (int) rows, (int) cols);
                                assertArrayEquals(e.values(), bytes(vg), what + ", group " + g);
                                assertArrayEquals(e.scales(), bits(sg), what + ", group " + g);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void intoWritesEveryOutputByte() {
        SplittableRandom r = new SplittableRandom(5);
        try (TensorScope s = TensorScope.open()) {
            Tensor x = s.empty(DType.BF16, Device.CPU, 2, 131, 400);
            x.copyFromFloats(Bf16Inputs.gaussian(r, 2 * 131, 400));
            Fp8Tensor t = new Fp8Tensor(s.empty(DType.F8_E4M3, Device.CPU, 2, 131, 400), s.empty(DType.F32, Device.CPU, 2, 131, 4));
            Fp8Tensor b = new Fp8Tensor(s.empty(DType.F8_E4M3, Device.CPU, 2, 131, 400), s.empty(DType.F32, Device.CPU, 2, 2, 4));
            for (Fp8Tensor o : new Fp8Tensor[] {t, b}) {
                TensorOps.fillBits(o.values(), 0xFF, STREAM);
                TensorOps.fillBits(o.scales(), 0x7FA5A5A5L, STREAM);
            }
            Fp8Quant.perTokenInto(x, t, STREAM);
            Fp8Quant.perBlockInto(x, b, STREAM);
            try (Fp8Tensor et = Fp8Quant.perToken(x, STREAM); Fp8Tensor eb = Fp8Quant.perBlock(x, STREAM)) {
                assertArrayEquals(bytes(et.values()), bytes(t.values()));
                assertArrayEquals(bits(et.scales()), bits(t.scales()));
                assertArrayEquals(bytes(eb.values()), bytes(b.values()));
                assertArrayEquals(bits(eb.scales()), bits(b.scales()));
            }
        }
    }

    /** e4m3 keeps 3 mantissa bits: within 2^-4 relative, or half the smallest subnormal (2^-10) times the scale. */
    @Test
    void dequantizeRestoresWithinE4m3Rounding() {
        SplittableRandom r = new SplittableRandom(6);
        float[] v = Bf16Inputs.gaussian(r, 130, 272);
        try (Tensor x = bf16(v, 130, 272); Fp8Tensor t = Fp8Quant.perToken(x, STREAM); Fp8Tensor b = Fp8Quant.perBlock(x, STREAM);
             Tensor dt = Fp8Quant.dequantizePerToken(t); Tensor db = Fp8Quant.dequantizePerBlock(b)) {
            float[] xs = floats(x);
            float[] ts = t.scales().toFloatArray();
            float[] bs = b.scales().toFloatArray();
            float[] yt = dt.toFloatArray();
            float[] yb = db.toFloatArray();
            for (int i = 0; i < xs.length; i++) {
                int row = i / 272;
                int k = i % 272 / 128;
                assertClose(xs[i], yt[i], ts[row * 3 + k], "per token, value " + i);
                assertClose(xs[i], yb[i], bs[row / 128 * 3 + k], "per block, value " + i);
            }
        }
    }

    private static void assertClose(float x, float y, float scale, String what) {
        double bound = Math.max(Math.abs(x) * 0x1p-4, scale * 0x1p-10) * 1.0001;
        assertTrue(Math.abs(x - y) <= bound, what + ": " + x + " came back as " + y + " (scale " + scale + ")");
    }

    @Test
    void scaleRowsRoundsUpToFour() {
        assertEquals(0, Fp8Quant.scaleRows(0));
        assertEquals(4, Fp8Quant.scaleRows(1));
        assertEquals(4, Fp8Quant.scaleRows(4));
        assertEquals(8, Fp8Quant.scaleRows(5));
        assertEquals(132, Fp8Quant.scaleRows(130));
        assertEquals(Integer.MAX_VALUE - 3, Fp8Quant.scaleRows(Integer.MAX_VALUE - 3));
        assertThrows(IllegalArgumentException.class, () -> Fp8Quant.scaleRows(-1));
        assertThrows(IllegalArgumentException.class, () -> Fp8Quant.scaleRows(Integer.MAX_VALUE - 2));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {"5, 3", "1, 1", "4, 2", "2, 130, 7", "1, 4, 1", "3, 1, 56", "0, 3", "2, 0, 3"})
    void toMnMajorRoundTrips(String dims) {
        long[] shape = Arrays.stream(dims.split(",")).mapToLong(d -> Long.parseLong(d.trim())).toArray();
        int rank = shape.length;
        long groups = rank == 3 ? shape[0] : 1;
        long m = shape[rank - 2];
        long kb = shape[rank - 1];
        long mPad = Fp8Quant.scaleRows((int) m);
        SplittableRandom r = new SplittableRandom(m * 31 + kb);
        try (TensorScope s = TensorScope.open()) {
            Tensor scales = s.empty(DType.F32, Device.CPU, shape);
            float[] v = new float[(int) scales.numel()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextDouble(1e-6, 10);
            }
            scales.copyFromFloats(v);

            Tensor mn = Fp8Quant.toMnMajor(scales, STREAM);
            assertArrayEquals(shape, mn.shape());
            assertTrue(Fp8Quant.isMnMajor(mn), "toMnMajor's result is M-major: " + mn);
            if (m > 0 && kb > 0) {
                long[] expectedStrides = rank == 2 ? new long[] {1, mPad} : new long[] {kb * mPad, 1, mPad};
                assertArrayEquals(expectedStrides, mn.strides());
            }
            assertArrayEquals(bits(scales), bits(mn), "the same values through the new strides");
            mn.close();

            long[] storageShape = rank == 2 ? new long[] {kb, mPad} : new long[] {groups, kb, mPad};
            Tensor storage = s.empty(DType.F32, Device.CPU, storageShape);
            TensorOps.fillBits(storage, 0x7FA5A5A5L, STREAM);
            Tensor view = Fp8Quant.toMnMajorInto(scales, storage, STREAM);
            assertTrue(view.sharesStorageWith(storage));
            assertArrayEquals(bits(scales), bits(view));
            int[] raw = bits(storage);
            for (int g = 0; g < groups; g++) {
                for (int k = 0; k < kb; k++) {
                    for (int row = 0; row < mPad; row++) {
                        int expected = row < m ? Float.floatToRawIntBits(v[(int) ((g * m + row) * kb + k)]) : 0;
                        assertEquals(expected, raw[(int) ((g * kb + k) * mPad + row)], "[" + g + "][" + k + "][" + row + "]");
                    }
                }
            }
        }
    }

    @Test
    void isMnMajorTellsTheLayouts() {
        try (TensorScope s = TensorScope.open()) {
            assertFalse(Fp8Quant.isMnMajor(s.empty(DType.F32, Device.CPU, 8, 3)), "row-major");
            assertFalse(Fp8Quant.isMnMajor(s.empty(DType.F32, Device.CPU, 8)), "rank 1");
            assertFalse(Fp8Quant.isMnMajor(s.empty(DType.F16, Device.CPU, 3, 8).transpose(0, 1)), "F16");
            assertTrue(Fp8Quant.isMnMajor(s.empty(DType.F32, Device.CPU, 3, 8).transpose(0, 1)),
                    "[kb, 8] transposed: m 8 needs no padding");
            assertFalse(Fp8Quant.isMnMajor(s.empty(DType.F32, Device.CPU, 3, 7).transpose(0, 1)), "[kb, 7]: rows not padded to 8");
            assertTrue(Fp8Quant.isMnMajor(s.empty(DType.F32, Device.CPU, 3, 8).slice(1, 0, 7).transpose(0, 1)), "padded to 8");
            Tensor shifted = s.empty(DType.F32, Device.CPU, 4 * 8 + 1).slice(0, 1, 33).view(4, 8);
            assertFalse(Fp8Quant.isMnMajor(shifted.transpose(0, 1)), "4 bytes into its storage");
            assertTrue(Fp8Quant.isMnMajor(s.empty(DType.F32, Device.CPU, 2, 3, 8).transpose(1, 2)), "grouped");
            assertFalse(Fp8Quant.isMnMajor(s.empty(DType.F32, Device.CPU, 2, 3, 12).slice(2, 0, 8).transpose(1, 2)),
                    "kb stride 12, not 8");
            assertFalse(Fp8Quant.isMnMajor(s.empty(DType.F32, Device.CPU, 3, 3, 8).slice(0, 0, 3, 2).transpose(1, 2)),
                    "group stride 48, not 24");
            assertTrue(Fp8Quant.isMnMajor(s.empty(DType.F32, Device.CPU, 0, 3)), "no elements");
        }
    }
}
