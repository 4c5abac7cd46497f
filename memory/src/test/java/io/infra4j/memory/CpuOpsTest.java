package io.infra4j.memory;

import static io.infra4j.memory.TestViews.assertSameBytes;
import static io.infra4j.memory.TestViews.copyBytes;
import static io.infra4j.memory.TestViews.fillRandomBytes;
import static io.infra4j.memory.TestViews.forEachIndex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import io.infra4j.memory.TestViews.ViewSpec;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CPU path of {@link TensorOps} (fill, copy, cast) on dense and strided views, against naive
 * element-by-element references written here: each op runs on a view of a base full of random
 * bytes, the reference runs on an identical base, and the two bases must end up byte-identical
 * (so elements outside the view are untouched too).
 */
class CpuOpsTest {

    private static final String HOST = Storage.trackerKind(MemoryKind.HOST);
    private long hostBytesBefore;

    @BeforeEach
    void rememberHostBytes() {
        hostBytesBefore = ResourceTracker.liveBytes(HOST);
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(hostBytesBefore, ResourceTracker.liveBytes(HOST), "host memory leaked by the test");
    }

    // ------------------------------------------------------------------ fill

    @Test
    void fillEveryDtypeOnStridedViewsLeavesTheRestUntouched() {
        SplittableRandom r = new SplittableRandom(0xF111L);
        for (DType dt : TestViews.ALL) {
            for (int iter = 0; iter < 60; iter++) {
                long[] shape = TestViews.randomShape(r, 4, 5, true);
                ViewSpec spec = iter < 5 ? ViewSpec.dense(shape) : ViewSpec.random(r, shape);
                double value = sampleValue(dt, r);
                try (TensorScope scope = TensorScope.open()) {
                    Tensor base = scope.empty(dt, Device.CPU, spec.baseShape());
                    Tensor ref = scope.empty(dt, Device.CPU, spec.baseShape());
                    long sentinel = r.nextLong();
                    TensorOps.fillBits(base, sentinel, CudaStream.legacyDefault());
                    copyBytes(base, ref);
                    Tensor view = spec.viewOf(base);
                    Tensor refView = spec.viewOf(ref);
                    TensorOps.fill(view, value);
                    long bits = DTypeCodec.encodeScalar(dt, value);
                    forEachIndex(shape, idx -> refView.setBits(bits, idx));
                    assertSameBytes(ref, base, "fill(" + value + ") of " + dt + " " + spec);
                }
            }
        }
    }

    @Test
    void fillDenseWithRepeatedAndMixedBytePatterns() {
        // dense runs take a bulk path: a value whose bytes are all equal (0, -1 as I32) or not (1.0f)
        double[] values = {0.0, -1.0, 1.0, 257.0, -0.0};
        for (DType dt : new DType[] {DType.F32, DType.I32, DType.I64, DType.F16, DType.BF16}) {
            for (double v : values) {
                try (Tensor t = Tensor.empty(dt, Device.CPU, 3, 7)) {
                    TensorOps.fill(t, v);
                    long expected = DTypeCodec.encodeScalar(dt, v);
                    forEachIndex(t.shape(), idx -> assertEquals(expected, t.getBits(idx),
                            "fill(" + v + ") of " + dt + " at " + Arrays.toString(idx)));
                }
            }
        }
    }

    @Test
    void fillRawBitsOfEveryWidth() {
        for (DType dt : TestViews.ALL) {
            try (Tensor t = Tensor.empty(dt, Device.CPU, 5)) {
                TensorOps.fillBits(t, 0x0123456789ABCDEFL, CudaStream.legacyDefault());
                long mask = dt.byteSize() == 8 ? -1L : (1L << (8 * dt.byteSize())) - 1;
                for (long i = 0; i < 5; i++) {
                    assertEquals(0x0123456789ABCDEFL & mask, t.getBits(i), dt + ": the low bytes of the pattern");
                }
            }
        }
    }

    private static double sampleValue(DType dt, SplittableRandom r) {
        return switch (dt) {
            case I8 -> r.nextInt(-128, 128);
            case U8 -> r.nextInt(256);
            case BOOL -> r.nextInt(2);
            case I32 -> r.nextInt();
            case I64 -> (double) (r.nextLong() >> 12);
            default -> switch (r.nextInt(6)) {
                case 0 -> Double.NaN;
                case 1 -> Double.NEGATIVE_INFINITY;
                case 2 -> 1e6 * (r.nextBoolean() ? 1 : -1); // beyond F8/F16 range
                default -> (r.nextDouble() - 0.5) * 100;
            };
        };
    }

    // ------------------------------------------------------------------ copy

    @Test
    void copyBetweenArbitraryStridedViewsMatchesNaiveCopy() {
        SplittableRandom r = new SplittableRandom(0xC0B1L);
        int cases = 0;
        for (DType dt : TestViews.ALL) {
            for (int iter = 0; iter < 80; iter++) {
                long[] shape = TestViews.randomShape(r, 4, 5, true);
                ViewSpec srcSpec = iter % 8 == 0 ? ViewSpec.dense(shape) : ViewSpec.random(r, shape);
                ViewSpec dstSpec = iter % 8 == 0 || iter % 8 == 1 ? ViewSpec.dense(shape) : ViewSpec.random(r, shape);
                try (TensorScope scope = TensorScope.open()) {
                    Tensor srcBase = scope.empty(dt, Device.CPU, srcSpec.baseShape());
                    Tensor dstBase = scope.empty(dt, Device.CPU, dstSpec.baseShape());
                    Tensor refBase = scope.empty(dt, Device.CPU, dstSpec.baseShape());
                    fillRandomBytes(srcBase, r);
                    fillRandomBytes(dstBase, r);
                    copyBytes(dstBase, refBase);
                    Tensor src = srcSpec.viewOf(srcBase);
                    Tensor dst = dstSpec.viewOf(dstBase);
                    Tensor ref = dstSpec.viewOf(refBase);
                    TensorOps.copy(src, dst);
                    forEachIndex(shape, idx -> ref.setBits(src.getBits(idx), idx));
                    assertSameBytes(refBase, dstBase, "copy of " + dt + " from " + srcSpec + " to " + dstSpec);
                    cases++;
                }
            }
        }
        assertEquals(TestViews.ALL.length * 80, cases);
    }

    @Test
    void copyOfNamedLayouts() {
        // the layouts the brief names: transposed, sliced with steps, selected, pitched rows
        try (TensorScope scope = TensorScope.open()) {
            Tensor a = scope.empty(DType.I32, Device.CPU, 6, 8);
            forEachIndex(a.shape(), idx -> a.set(idx[0] * 100 + idx[1], idx));

            Tensor t = scope.empty(DType.I32, Device.CPU, 8, 6);
            TensorOps.copy(a.transpose(0, 1), t);
            forEachIndex(t.shape(), idx -> assertEquals(idx[1] * 100 + idx[0], t.get(idx), "transpose " + Arrays.toString(idx)));

            Tensor stepped = scope.empty(DType.I32, Device.CPU, 3, 3);
            TensorOps.copy(a.slice(0, 1, 6, 2).slice(1, 0, 8, 3), stepped);
            forEachIndex(stepped.shape(), idx -> assertEquals((1 + 2 * idx[0]) * 100 + 3 * idx[1], stepped.get(idx),
                    "stepped " + Arrays.toString(idx)));

            Tensor row = scope.empty(DType.I32, Device.CPU, 6);
            TensorOps.copy(a.select(1, 5), row);
            forEachIndex(row.shape(), idx -> assertEquals(idx[0] * 100 + 5, row.get(idx), "column 5 " + Arrays.toString(idx)));

            // pitched into pitched: a 4x5 window of a into a 4x5 window of a larger zeroed matrix
            Tensor big = scope.full(DType.I32, Device.CPU, -7, 10, 9);
            TensorOps.copy(a.slice(0, 2, 6).slice(1, 1, 6), big.slice(0, 3, 7).slice(1, 4, 9));
            forEachIndex(big.shape(), idx -> {
                boolean inside = idx[0] >= 3 && idx[0] < 7 && idx[1] >= 4;
                double expected = inside ? (idx[0] - 3 + 2) * 100 + (idx[1] - 4 + 1) : -7;
                assertEquals(expected, big.get(idx), "pitched window " + Arrays.toString(idx));
            });

            // disjoint views of one storage may be copied between
            TensorOps.copy(a.select(0, 0), a.select(0, 5));
            for (long j = 0; j < 8; j++) {
                assertEquals(j, a.get(5, j), "row 0 copied into row 5 of the same storage");
            }
        }
    }

    // ------------------------------------------------------------------ cast

    @Test
    void castBetweenAllFloatPairsBothModesOnStridedViews() {
        SplittableRandom r = new SplittableRandom(0xCA57L);
        for (DType from : TestViews.FLOATS) {
            for (DType to : TestViews.FLOATS) {
                for (CastMode mode : CastMode.values()) {
                    boolean saturate = mode == CastMode.SATURATE;
                    for (int iter = 0; iter < 24; iter++) {
                        long[] shape = TestViews.randomShape(r, 3, 6, true);
                        ViewSpec srcSpec = iter < 3 ? ViewSpec.dense(shape) : ViewSpec.random(r, shape);
                        ViewSpec dstSpec = iter < 6 ? ViewSpec.dense(shape) : ViewSpec.random(r, shape);
                        try (TensorScope scope = TensorScope.open()) {
                            Tensor srcBase = scope.empty(from, Device.CPU, srcSpec.baseShape());
                            Tensor dstBase = scope.empty(to, Device.CPU, dstSpec.baseShape());
                            Tensor refBase = scope.empty(to, Device.CPU, dstSpec.baseShape());
                            fillInterestingBits(srcBase, r);
                            fillRandomBytes(dstBase, r);
                            copyBytes(dstBase, refBase);
                            Tensor src = srcSpec.viewOf(srcBase);
                            Tensor dst = dstSpec.viewOf(dstBase);
                            Tensor ref = dstSpec.viewOf(refBase);
                            TensorOps.cast(src, dst, mode, CudaStream.legacyDefault());
                            forEachIndex(shape, idx -> ref.setBits(DTypeCodec.convert(from, to, src.getBits(idx), saturate), idx));
                            assertSameBytes(refBase, dstBase, "cast " + from + " -> " + to + " " + mode + " from "
                                    + srcSpec + " to " + dstSpec);
                        }
                    }
                }
            }
        }
    }

    @Test
    void castStandardVersusSaturateOnOverflow() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor src = scope.ofFloats(DType.F32, new float[] {1000f, -1e6f, Float.NaN, 3f}, 4);
            Tensor e4 = scope.empty(DType.F8_E4M3, Device.CPU, 4);
            TensorOps.cast(src, e4); // STANDARD: E4M3 has no infinity, overflow is NaN
            assertTrue(Double.isNaN(e4.get(0)) && Double.isNaN(e4.get(1)) && Double.isNaN(e4.get(2)), Arrays.toString(e4.toFloatArray()));
            assertEquals(3.0, e4.get(3));
            TensorOps.cast(src, e4, CastMode.SATURATE, CudaStream.legacyDefault());
            assertArrayEquals(new float[] {448f, -448f, Float.NaN, 3f}, e4.toFloatArray(), "saturate keeps NaN, clamps the rest");
            Tensor h = scope.empty(DType.F16, Device.CPU, 4);
            TensorOps.cast(src, h);
            assertArrayEquals(new float[] {1000f, Float.NEGATIVE_INFINITY, Float.NaN, 3f}, h.toFloatArray());
            TensorOps.cast(src, h, CastMode.SATURATE, CudaStream.legacyDefault());
            assertArrayEquals(new float[] {1000f, -65504f, Float.NaN, 3f}, h.toFloatArray());
        }
    }

    /** Random bits, with a good share of special patterns (zeros, infinities, NaNs, largest and tiny values). */
    private static void fillInterestingBits(Tensor dense, SplittableRandom r) {
        DType dt = dense.dtype();
        long mask = (1L << (8 * dt.byteSize())) - 1;
        long[] special = switch (dt) {
            case F32 -> new long[] {0, 0x80000000L, 0x7F800000L, 0xFF800000L, 0x7FC00000L, 0x7F7FFFFFL, 0x00000001L,
                0x43E00000L, 0x43E80000L, 0x477FE000L, 0x477FF000L, 0x47700000L, 0x47800000L, 0x33800000L};
            case F16 -> new long[] {0, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x7BFF, 0x0001, 0x5FFF, 0x5F00, 0x7B00};
            case BF16 -> new long[] {0, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x7F7F, 0x0001, 0x43E0, 0x4780};
            case F8_E4M3 -> new long[] {0, 0x80, 0x7F, 0xFF, 0x7E, 0xFE, 0x01, 0x08};
            default -> new long[] {0, 0x80, 0x7C, 0xFC, 0x7E, 0x7B, 0xFB, 0x01};
        };
        long n = dense.numel();
        long[] shape = dense.shape();
        long[] k = {0};
        forEachIndex(shape, idx -> {
            long bits = r.nextInt(3) == 0 ? special[r.nextInt(special.length)] : r.nextLong() & mask;
            dense.setBits(bits, idx);
            k[0]++;
        });
        assertEquals(n, k[0]);
    }

    // ------------------------------------------------------------------ StridedLayout

    @Test
    void collapseContiguousToRankOne() {
        StridedLayout l = StridedLayout.collapse(new long[] {2, 3, 4}, new long[][] {{12, 4, 1}, {12, 4, 1}});
        assertArrayEquals(new long[] {24}, l.shape);
        assertArrayEquals(new long[] {1}, l.strides[0]);
        assertArrayEquals(new long[] {1}, l.strides[1]);
        assertTrue(l.isDense(0) && l.isDense(1));
        assertEquals(24, l.numel());
    }

    @Test
    void collapseDropsSizeOneDimensions() {
        StridedLayout l = StridedLayout.collapse(new long[] {1, 4, 1, 3}, new long[][] {{99, 3, 77, 1}});
        assertArrayEquals(new long[] {12}, l.shape);
        assertArrayEquals(new long[] {1}, l.strides[0]);
        StridedLayout one = StridedLayout.collapse(new long[] {1, 1}, new long[][] {{5, 9}});
        assertArrayEquals(new long[] {1}, one.shape, "all sizes 1: one element");
        StridedLayout scalar = StridedLayout.collapse(new long[] {}, new long[][] {{}});
        assertArrayEquals(new long[] {1}, scalar.shape, "a scalar: one element");
        assertEquals(1, scalar.numel());
    }

    @Test
    void collapsePitchedMatrixToRankTwo() {
        try (Tensor base = Tensor.empty(DType.F32, Device.CPU, 2, 3, 8);
             Tensor window = base.slice(2, 0, 5)) {
            StridedLayout l = StridedLayout.of(window, window);
            assertArrayEquals(new long[] {6, 5}, l.shape, "[2,3,5] with row pitch 8: the two outer dims merge");
            assertArrayEquals(new long[] {8, 1}, l.strides[0]);
            assertTrue(l.isPitched2d());
            assertFalse(l.isDense(0));
        }
        StridedLayout m = StridedLayout.collapse(new long[] {4, 5}, new long[][] {{6, 1}});
        assertArrayEquals(new long[] {4, 5}, m.shape);
        assertArrayEquals(new long[] {6, 1}, m.strides[0]);
        assertTrue(m.isPitched2d());
    }

    @Test
    void collapseKeepsDimensionsThatAreNotDenseInEveryView() {
        // transposed: nothing merges
        StridedLayout t = StridedLayout.collapse(new long[] {3, 2}, new long[][] {{1, 3}});
        assertArrayEquals(new long[] {3, 2}, t.shape);
        assertArrayEquals(new long[] {1, 3}, t.strides[0]);
        assertFalse(t.isPitched2d());
        // one view dense, the other pitched: they walk together, so only what both allow merges
        StridedLayout pair = StridedLayout.collapse(new long[] {2, 3, 4}, new long[][] {{12, 4, 1}, {24, 8, 1}});
        assertArrayEquals(new long[] {6, 4}, pair.shape);
        assertArrayEquals(new long[] {4, 1}, pair.strides[0]);
        assertArrayEquals(new long[] {8, 1}, pair.strides[1]);
        // planes with a gap between them (40, not 3 * 8) in one view: nothing merges
        StridedLayout gaps = StridedLayout.collapse(new long[] {2, 3, 4}, new long[][] {{12, 4, 1}, {40, 8, 1}});
        assertArrayEquals(new long[] {2, 3, 4}, gaps.shape);
        // stepped inner dimension (4 of every other element) in rows of pitch 10: kept apart, the outer ones merge
        StridedLayout stepped = StridedLayout.collapse(new long[] {2, 3, 4}, new long[][] {{30, 10, 2}});
        assertArrayEquals(new long[] {6, 4}, stepped.shape);
        assertArrayEquals(new long[] {10, 2}, stepped.strides[0]);
        // evenly stepped everywhere (every other element of a [2, 3, 8]): one strided run
        StridedLayout even = StridedLayout.collapse(new long[] {2, 3, 4}, new long[][] {{24, 8, 2}});
        assertArrayEquals(new long[] {24}, even.shape);
        assertArrayEquals(new long[] {2}, even.strides[0]);
        assertFalse(even.isDense(0));
        // a zero size: no elements
        StridedLayout empty = StridedLayout.collapse(new long[] {3, 0}, new long[][] {{1, 1}});
        assertEquals(0, empty.numel());
    }

    @Test
    void collapseNeverChangesWhichElementsAreVisited() {
        SplittableRandom r = new SplittableRandom(0x1A70L);
        for (int iter = 0; iter < 300; iter++) {
            long[] shape = TestViews.randomShape(r, 5, 4, true);
            ViewSpec a = ViewSpec.random(r, shape);
            ViewSpec b = ViewSpec.random(r, shape);
            try (TensorScope scope = TensorScope.open()) {
                Tensor va = a.viewOf(scope.empty(DType.U8, Device.CPU, a.baseShape()));
                Tensor vb = b.viewOf(scope.empty(DType.U8, Device.CPU, b.baseShape()));
                StridedLayout l = StridedLayout.of(va, vb);
                assertEquals(va.numel(), l.numel(), "numel kept for " + a + " / " + b);
                // visit with the collapsed layout and with the full index: same offset pairs, same order
                java.util.List<long[]> viaLayout = new java.util.ArrayList<>();
                CpuOps.walk(l, va.byteOffset(), 1, vb.byteOffset(), 1, (d, s) -> viaLayout.add(new long[] {d, s}));
                java.util.List<long[]> viaIndex = new java.util.ArrayList<>();
                forEachIndex(shape, idx -> viaIndex.add(new long[] {va.elementOffset(idx), vb.elementOffset(idx)}));
                assertEquals(viaIndex.size(), viaLayout.size(), "count for " + a + " / " + b);
                for (int i = 0; i < viaIndex.size(); i++) {
                    assertArrayEquals(viaIndex.get(i), viaLayout.get(i), "element " + i + " for " + a + " / " + b
                            + " collapsed to " + Arrays.toString(l.shape));
                }
                assertTrue(l.rank() <= Math.max(1, shape.length), "collapse never adds dimensions");
            }
        }
    }
}
