package io.infra4j.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.ResourceTracker;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Element access (get/set, raw bits) for every dtype, and the float[] round trips. */
class TensorElementsTest {

    private static final String HOST = Storage.trackerKind(MemoryKind.HOST);
    private long before;

    @BeforeEach
    void remember() {
        before = ResourceTracker.liveBytes(HOST);
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(before, ResourceTracker.liveBytes(HOST), "host memory leaked by the test");
    }

    /** Every pattern of a narrow dtype, decoded: values that the dtype represents exactly. */
    private static float[] representable(DType dt) {
        int n = 1 << (8 * dt.byteSize());
        float[] out = new float[n];
        for (int p = 0; p < n; p++) {
            out[p] = Float.intBitsToFloat(DTypeCodec.toF32Bits(dt, p));
        }
        return out;
    }

    @Test
    void exactlyRepresentableFloatsRoundTrip() {
        for (DType dt : new DType[] {DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2}) {
            float[] values = representable(dt);
            try (Tensor t = Tensor.ofFloats(dt, values, values.length)) {
                assertArrayEquals(values, t.toFloatArray(), dt + ": representable values come back unchanged");
                for (int p = 0; p < values.length; p += 97) {
                    if (!Float.isNaN(values[p])) {
                        assertEquals(p, t.getBits(p), dt + ": the raw bits are the pattern that decodes to " + values[p]);
                    }
                }
            }
        }
    }

    @Test
    void arbitraryFloatsRoundTripThroughTheCodec() {
        SplittableRandom r = new SplittableRandom(0xF10A7L);
        float[] values = new float[4096];
        for (int i = 0; i < values.length; i++) {
            values[i] = i % 5 == 0 ? Float.intBitsToFloat(r.nextInt()) : (float) ((r.nextDouble() - 0.5) * Math.pow(2, r.nextInt(-30, 30)));
        }
        for (DType dt : TestViews.FLOATS) {
            try (Tensor t = Tensor.ofFloats(dt, values, 64, 64)) {
                float[] back = t.toFloatArray();
                for (int i = 0; i < values.length; i++) {
                    int bits = Float.floatToRawIntBits(values[i]);
                    float expected = Float.intBitsToFloat(DTypeCodec.toF32Bits(dt, DTypeCodec.fromF32Bits(dt, bits, false)));
                    assertEquals(expected, back[i], 0.0, dt + " element " + i + " from " + values[i]);
                }
                if (dt == DType.F32) {
                    assertArrayEquals(values, back, "F32 round trips exactly");
                }
            }
        }
    }

    @Test
    void roundTripsThroughStridedViewsFollowRowMajorOrder() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor m = scope.ofFloats(DType.BF16, new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 3, 4);
            Tensor t = m.transpose(0, 1); // [4, 3]
            assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, t.toFloatArray());
            Tensor stepped = m.slice(1, 1, 4, 2); // columns 1 and 3
            assertArrayEquals(new float[] {1, 3, 5, 7, 9, 11}, stepped.toFloatArray());
            stepped.copyFromFloats(new float[] {-1, -3, -5, -7, -9, -11});
            assertArrayEquals(new float[] {0, -1, 2, -3, 4, -5, 6, -7, 8, -9, 10, -11}, m.toFloatArray(),
                    "copyFromFloats into a view writes only the view's elements");
            Tensor scalar = m.select(0, 2).select(0, 2);
            assertArrayEquals(new float[] {10}, scalar.toFloatArray());
            scalar.copyFromFloats(new float[] {0.5f});
            assertEquals(0.5, m.get(2, 2));
        }
    }

    @Test
    void getAndSetFloatingDtypes() {
        try (TensorScope scope = TensorScope.open()) {
            for (DType dt : TestViews.FLOATS) {
                Tensor t = scope.empty(dt, Device.CPU, 2, 2);
                t.set(1.5, 0, 1);
                assertEquals(1.5, t.get(0, 1), dt.toString());
                t.set(-0.0, 1, 0);
                assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(t.get(1, 0)), dt + ": -0 keeps its sign");
                t.set(Double.NaN, 1, 1);
                assertTrue(Double.isNaN(t.get(1, 1)), dt + ": NaN");
                t.set(dt.maxFinite(), 0, 0);
                assertEquals(dt.maxFinite(), t.get(0, 0), dt + ": largest finite value");
            }
            Tensor e4 = scope.empty(DType.F8_E4M3, Device.CPU, 1);
            e4.set(1e6, 0);
            assertTrue(Double.isNaN(e4.get(0)), "E4M3 has no infinity: overflow is NaN (set does not saturate)");
            e4.set(0.1, 0);
            assertEquals(DTypeCodec.e4m3ToFloat(DTypeCodec.floatToE4m3(0.1f, false)), e4.get(0), 0.0, "rounded to nearest");
            Tensor e5 = scope.empty(DType.F8_E5M2, Device.CPU, 1);
            e5.set(1e6, 0);
            assertEquals(Double.POSITIVE_INFINITY, e5.get(0));
            Tensor h = scope.empty(DType.F16, Device.CPU, 1);
            h.set(-70000, 0);
            assertEquals(Double.NEGATIVE_INFINITY, h.get(0));
            Tensor f = scope.empty(DType.F32, Device.CPU, 1);
            f.set(0.1, 0);
            assertEquals((double) 0.1f, f.get(0), "F32 stores the value rounded to float");
            assertEquals(Float.floatToRawIntBits(0.1f) & 0xFFFFFFFFL, f.getBits(0));
        }
    }

    @Test
    void getAndSetIntegerDtypesWithRangeChecks() {
        check(DType.I8, -128, 127, 0x80, -1, 0xFF);
        check(DType.U8, 0, 255, 0, 200, 200);
        check(DType.I32, Integer.MIN_VALUE, Integer.MAX_VALUE, 0x80000000L, -2, 0xFFFFFFFEL);
        check(DType.BOOL, 0, 1, 0, 1, 1);
        try (Tensor t = Tensor.empty(DType.I64, Device.CPU, 1)) {
            t.set(-0x1p63, 0);
            assertEquals(Long.MIN_VALUE, t.getBits(0));
            t.set(0x1p62, 0);
            assertEquals(1L << 62, t.getBits(0));
            assertEquals(0x1p62, t.get(0));
            t.setBits(Long.MAX_VALUE, 0);
            assertEquals(Long.MAX_VALUE, t.getBits(0), "raw bits carry every int64 exactly");
            t.set(-1, 0);
            assertEquals(-1L, t.getBits(0));
            outOfRange(t, 0x1p63, "does not fit I64");
            outOfRange(t, -0x1p64, "does not fit I64");
            outOfRange(t, 1.5, "whole numbers");
            outOfRange(t, Double.NaN, "whole numbers");
            outOfRange(t, Double.POSITIVE_INFINITY, "");
        }
    }

    private static void check(DType dt, long min, long max, long minBits, long sample, long sampleBits) {
        try (Tensor t = Tensor.empty(dt, Device.CPU, 3)) {
            t.set(min, 0);
            t.set(max, 1);
            t.set(sample, 2);
            assertEquals(min, t.get(0), dt + " min");
            assertEquals(max, t.get(1), dt + " max");
            assertEquals(sample, t.get(2), dt + " sample");
            assertEquals(minBits, t.getBits(0), dt + " min bits");
            assertEquals(sampleBits, t.getBits(2), dt + " sample bits (zero-extended)");
            outOfRange(t, min - 1.0, "does not fit " + dt);
            outOfRange(t, max + 1.0, "does not fit " + dt);
            outOfRange(t, 0.5, "whole numbers");
            outOfRange(t, Double.NaN, "whole numbers");
            outOfRange(t, Double.NEGATIVE_INFINITY, "");
            assertEquals(max, t.get(1), dt + ": a refused set leaves the element alone");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, t::toFloatArray);
            assertTrue(e.getMessage().startsWith("dtype: expected a floating-point dtype, got " + dt), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.copyFromFloats(new float[3]));
        }
    }

    private static void outOfRange(Tensor t, double v, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.set(v, 0),
                t.dtype() + ".set(" + v + ")");
        assertTrue(e.getMessage().startsWith("value: ") && e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void rawBitsOfEveryWidth() {
        for (DType dt : TestViews.ALL) {
            try (Tensor t = Tensor.empty(dt, Device.CPU, 2)) {
                long mask = dt.byteSize() == 8 ? -1L : (1L << (8 * dt.byteSize())) - 1;
                t.setBits(0xA1B2C3D4E5F60718L, 1);
                t.setBits(0, 0);
                assertEquals(0xA1B2C3D4E5F60718L & mask, t.getBits(1), dt + ": the low bytes are kept, zero-extended");
                assertEquals(0, t.getBits(0), dt + ": the neighbour is untouched");
                assertEquals(dt.byteSize() * 2L, t.byteSize());
            }
        }
    }

    @Test
    void ofFloatsOfTheWrongSizeOrDtypeLeavesNothingAllocated() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofFloats(DType.F32, new float[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofFloats(DType.U8, new float[6], 2, 3));
        assertEquals(before, ResourceTracker.liveBytes(HOST), "a refused ofFloats frees what it allocated");
        try (Tensor t = Tensor.ofFloats(DType.F32, new float[] {3}, new long[0])) {
            assertEquals(0, t.rank());
            assertEquals(3.0, t.get());
        }
    }
}
