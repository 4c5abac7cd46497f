package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.bindings.kernels.Infra4jKernels;
import io.infra4j.deepgemm.Fp8Quant;
import io.infra4j.deepgemm.Fp8Tensor;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The FP8 quantisation kernels (fp8_quant.cu) against the CPU reference, bit for bit: values and scale
 * bits, on fresh random BF16 inputs (and on raw bit noise: NaN, infinities and subnormals included),
 * with the outputs poisoned before the run, over rows that are not a multiple of 128, short last
 * column groups, row-strided views (16-byte aligned, and not: the kernels' element-wise path), grouped
 * inputs and empty ones; and the M-major scale layout, padding included.
 */
@GpuTest
class Fp8QuantGpuTest {
    private static final long VALUES_POISON = 0xFF;         // -NaN: the kernels write NaN as 0x7F only
    private static final long SCALES_POISON = 0x7FA5A5A5L;  // a NaN no kernel writes
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

    private static void requireQuant() {
        assertTrue(Fp8Quant.isGpuAvailable(), "libinfra4j_cuda exports no FP8 quantisation (built before fp8_gemm.h?)");
    }

    /**
     * One input: a base tensor [groups, rows + extraRows, cols + extraCols] (rank 2 without the groups
     * where groups is -1) of which x is rows 0..rows and columns firstCol..firstCol + cols (of each
     * group); {@code fill}: gaussian, specials or bits.
     */
    record Case(String name, long groups, long rows, long cols, long extraRows, long extraCols, long firstCol, String fill) {
        @Override
        public String toString() {
            return name + " " + (groups >= 0 ? "[" + groups + ", " : "[") + rows + ", " + cols + "]"
                    + (extraRows + extraCols > 0
                            ? " in [.., " + (rows + extraRows) + ", " + (cols + extraCols) + "] from col " + firstCol : "")
                    + " " + fill;
        }

        long[] baseShape() {
            long[] matrix = {rows + extraRows, cols + extraCols};
            return groups >= 0 ? new long[] {groups, matrix[0], matrix[1]} : matrix;
        }

        Tensor view(Tensor base) {
            int r = base.rank();
            try (Tensor rowsCut = base.slice(r - 2, 0, rows)) {
                return rowsCut.slice(r - 1, firstCol, firstCol + cols);
            }
        }
    }

    static Stream<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case("one group", -1, 1, 128, 0, 0, 0, "gaussian"));
        c.add(new Case("a short group", -1, 7, 16, 0, 0, 0, "gaussian"));
        c.add(new Case("ragged", -1, 33, 144, 0, 0, 0, "gaussian"));
        c.add(new Case("ragged rows and columns", -1, 130, 272, 0, 0, 0, "gaussian"));
        c.add(new Case("DeepSeek hidden", -1, 257, 7168, 0, 0, 0, "gaussian"));
        c.add(new Case("large", -1, 2048, 7168, 0, 0, 0, "gaussian"));
        c.add(new Case("no rows", -1, 0, 256, 0, 0, 0, "gaussian"));
        c.add(new Case("no columns", -1, 5, 0, 0, 0, 0, "gaussian"));
        c.add(new Case("row-strided, aligned", -1, 130, 272, 3, 64, 0, "gaussian"));
        c.add(new Case("row-strided, misaligned", -1, 130, 272, 0, 20, 4, "gaussian"));
        c.add(new Case("grouped", 4, 70, 384, 0, 0, 0, "gaussian"));
        c.add(new Case("grouped, row-sliced", 4, 70, 384, 5, 0, 0, "gaussian"));
        c.add(new Case("grouped, one row each", 6, 1, 7168, 2, 0, 0, "gaussian"));
        c.add(new Case("grouped, misaligned", 3, 130, 256, 1, 12, 2, "gaussian"));
        c.add(new Case("no groups", 0, 70, 128, 0, 0, 0, "gaussian"));
        c.add(new Case("specials", -1, 130, 272, 0, 0, 0, "specials"));
        c.add(new Case("specials, grouped", 2, 130, 272, 0, 0, 0, "specials"));
        c.add(new Case("bit noise", -1, 64, 256, 0, 0, 0, "bits"));
        c.add(new Case("bit noise, row-strided", -1, 64, 256, 0, 8, 8, "bits"));
        c.add(new Case("bit noise, misaligned", -1, 64, 256, 0, 6, 2, "bits"));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheCpuReferenceBitForBit(Case c) {
        requireQuant();
        long seed = GpuTestSupport.freshSeed("fp8 quant " + c);
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            Tensor hostBase = host.empty(DType.BF16, Device.CPU, c.baseShape());
            fill(hostBase, c.fill(), new SplittableRandom(seed));
            Tensor devBase = TensorOps.to(hostBase, GPU, dev);
            Tensor hx = c.view(hostBase);
            Tensor dx = c.view(devBase);
            for (boolean perBlock : new boolean[] {false, true}) {
                String what = c + (perBlock ? " per block" : " per token");
                try (Fp8Tensor expected = perBlock ? Fp8Quant.perBlock(hx, stream) : Fp8Quant.perToken(hx, stream)) {
                    Fp8Tensor out = new Fp8Tensor(dev.empty(DType.F8_E4M3, GPU, expected.values().shape()),
                            dev.empty(DType.F32, GPU, expected.scales().shape()));
                    TensorOps.fillBits(out.values(), VALUES_POISON, stream);
                    TensorOps.fillBits(out.scales(), SCALES_POISON, stream);
                    if (perBlock) {
                        Fp8Quant.perBlockInto(dx, out, stream);
                    } else {
                        Fp8Quant.perTokenInto(dx, out, stream);
                    }
                    stream.synchronize();
                    assertSameOnHost(expected, out, host, what);
                    // The allocating form gives the same.
                    try (Fp8Tensor again = perBlock ? Fp8Quant.perBlock(dx, stream) : Fp8Quant.perToken(dx, stream)) {
                        assertEquals(GPU, again.values().device());
                        assertSameOnHost(expected, again, host, what + " (allocated)");
                    }
                }
            }
        }
    }

    private static void assertSameOnHost(Fp8Tensor expected, Fp8Tensor actual, TensorScope host, String what) {
        GpuTestSupport.assertSameBits(expected.values(), GpuTestSupport.toHost(actual.values(), host, stream), what + ": values");
        GpuTestSupport.assertSameBits(expected.scales(), GpuTestSupport.toHost(actual.scales(), host, stream), what + ": scales");
    }

    /** Gaussian rows of random magnitude; "specials" adds the rule-deciding groups; "bits" is raw noise. */
    private static void fill(Tensor t, String kind, SplittableRandom r) {
        if (kind.equals("bits")) {
            GpuTestSupport.randomBits(t, r);
            return;
        }
        long cols = t.size(-1);
        long rows = t.numel() / Math.max(cols, 1);
        float[] v = new float[(int) t.numel()];
        for (long row = 0; row < rows; row++) {
            double scale = Math.scalb(1.0, r.nextInt(-24, 25));
            for (long col = 0; col < cols; col++) {
                int special = r.nextInt(200);
                v[(int) (row * cols + col)] = special == 0 ? 0f : special == 1 ? -0f : (float) (r.nextGaussian() * scale);
            }
        }
        t.copyFromFloats(v);
        if (!kind.equals("specials")) {
            return;
        }
        long groups = t.rank() == 3 ? t.size(0) : 1;
        for (long g = 0; g < groups; g++) {
            setBits(t, g, 3, 5, 0x7FC0);          // NaN: row 3's first group, and the first block
            setBits(t, g, 4, 140, 0xFFC1);        // a negative NaN with a payload
            setBits(t, g, 10, 7, 0x7F80);         // +inf
            setBits(t, g, 11, 200, 0xFF80);       // -inf
            setBits(t, g, 12, 260, 0x7F7F);       // BF16's largest finite value
            for (long col = 0; col < 272; col++) {
                setBits(t, g, 20, col, 0);                              // a row of zeros
                setBits(t, g, 21, col, 0x8000);                         // of negative zeros
                setBits(t, g, 22, col, col % 2 == 0 ? 1 : 0x8003);      // of subnormals
                setBits(t, g, 23, col, 0x3800 + (col & 0x7F));          // below the 1e-4 floor (about 3e-5)
                setBits(t, g, 129, col, 0x7F80);                        // the last row: all +inf
            }
        }
    }

    /** Element [g, row, col] of a rank-3 tensor, [row, col] of a rank-2 one. */
    private static void setBits(Tensor t, long g, long row, long col, long bits) {
        if (t.rank() == 3) {
            t.setBits(bits, g, row, col);
        } else {
            t.setBits(bits, row, col);
        }
    }

    static Stream<long[]> scaleShapes() {
        return Stream.of(new long[] {1, 1}, new long[] {5, 3}, new long[] {130, 3}, new long[] {4099, 56},
                new long[] {3, 70, 3}, new long[] {8, 1, 56}, new long[] {2, 129, 7}, new long[] {0, 3}, new long[] {4, 0},
                new long[] {0, 5, 2});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scaleShapes")
    void mnMajorScalesMatchTheCpuPaddingIncluded(long[] shape) {
        requireQuant();
        long seed = GpuTestSupport.freshSeed("fp8 mn-major " + Arrays.toString(shape));
        SplittableRandom r = new SplittableRandom(seed);
        int rank = shape.length;
        long m = shape[rank - 2];
        long kb = shape[rank - 1];
        long[] storage = shape.clone();
        storage[rank - 2] = kb;
        storage[rank - 1] = Fp8Quant.scaleRows((int) m);
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            Tensor hs = host.empty(DType.F32, Device.CPU, shape);
            float[] v = new float[(int) hs.numel()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextDouble(1e-7, 100);
            }
            hs.copyFromFloats(v);
            Tensor ds = TensorOps.to(hs, GPU, dev);
            Tensor hOut = host.empty(DType.F32, Device.CPU, storage);
            Tensor dOut = dev.empty(DType.F32, GPU, storage);
            TensorOps.fillBits(hOut, SCALES_POISON, stream);
            TensorOps.fillBits(dOut, SCALES_POISON, stream);
            Fp8Quant.toMnMajorInto(hs, hOut, stream);
            Tensor view = Fp8Quant.toMnMajorInto(ds, dOut, stream);
            assertTrue(Fp8Quant.isMnMajor(view), "the returned view is M-major: " + view);
            GpuTestSupport.assertSameBits(hOut, GpuTestSupport.toHost(dOut, host, stream), Arrays.toString(shape) + " storage");
            GpuTestSupport.assertSameBits(hs, GpuTestSupport.toHost(view, host, stream), Arrays.toString(shape) + " through the view");
            try (Tensor fresh = Fp8Quant.toMnMajor(ds, stream)) {
                assertTrue(Fp8Quant.isMnMajor(fresh));
                GpuTestSupport.assertSameBits(hs, GpuTestSupport.toHost(fresh, host, stream), Arrays.toString(shape) + " fresh");
            }
        }
    }

    /** What the masked grouped GEMM's A takes: grouped per-token scales, M-major. */
    @Test
    void groupedActivationsEndToEnd() {
        requireQuant();
        long seed = GpuTestSupport.freshSeed("fp8 grouped A");
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            Tensor hx = host.empty(DType.BF16, Device.CPU, 4, 130, 512);
            fill(hx, "gaussian", new SplittableRandom(seed));
            try (Fp8Tensor expected = Fp8Quant.perToken(hx, stream);
                 Tensor expectedMn = Fp8Quant.toMnMajor(expected.scales(), stream);
                 Fp8Tensor a = Fp8Quant.perToken(TensorOps.to(hx, GPU, dev), stream);
                 Tensor sa = Fp8Quant.toMnMajor(a.scales(), stream)) {
                assertArrayEquals(new long[] {4, 130, 4}, sa.shape());
                assertArrayEquals(new long[] {4 * 132, 1, 132}, sa.strides());
                assertTrue(Fp8Quant.isMnMajor(sa));
                GpuTestSupport.assertSameBits(expected.values(), GpuTestSupport.toHost(a.values(), host, stream), "values");
                GpuTestSupport.assertSameBits(expectedMn, GpuTestSupport.toHost(sa, host, stream), "M-major scales");
            }
        }
    }

    @Test
    void scaleRowsIsTheLibrarys() {
        requireQuant();
        for (int m : new int[] {0, 1, 2, 3, 4, 5, 8, 127, 128, 129, 130, 4099}) {
            assertEquals(Infra4jKernels.infra4j_fp8_scale_rows(m), Fp8Quant.scaleRows(m), "m = " + m);
        }
        assertEquals(-1, Infra4jKernels.infra4j_fp8_scale_rows(-1));
    }

    /** The C ABI refuses what Java refuses, without touching memory, and does nothing for empty inputs. */
    @Test
    void theAbiRefusesBadSizes() {
        requireQuant();
        MemorySegment nul = MemorySegment.NULL;
        int invalid = Infra4jKernels.INFRA4J_ERROR_INVALID_ARGUMENT();
        assertEquals(invalid, Infra4jKernels.infra4j_fp8_quant_per_token(nul, 4, 100, 100, nul, nul, nul), "cols % 16");
        assertEquals(invalid, Infra4jKernels.infra4j_fp8_quant_per_token(nul, -1, 128, 128, nul, nul, nul), "rows < 0");
        assertEquals(invalid, Infra4jKernels.infra4j_fp8_quant_per_block(nul, 4, 128, 112, nul, nul, nul), "ld < cols");
        assertEquals(invalid, Infra4jKernels.infra4j_fp8_quant_per_block(nul, 4, 128, 128, nul, nul, nul), "null pointers");
        assertEquals(0, Infra4jKernels.infra4j_fp8_quant_per_token(nul, 0, 128, 128, nul, nul, nul), "no rows");
        assertEquals(0, Infra4jKernels.infra4j_fp8_quant_per_block(nul, 3, 0, 0, nul, nul, nul), "no columns");
        assertEquals(invalid, Infra4jKernels.infra4j_fp8_scales_to_mn_major(nul, -1, 4, 4, nul, nul), "groups < 0");
        assertEquals(invalid, Infra4jKernels.infra4j_fp8_scales_to_mn_major(nul, 1, 4, 4, nul, nul), "null pointers");
        assertEquals(0, Infra4jKernels.infra4j_fp8_scales_to_mn_major(nul, 1, 0, 4, nul, nul), "m = 0");
        stream.synchronize();
    }

    @Test
    void mixedDevicesAreRefused() {
        requireQuant();
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            Tensor dx = dev.empty(DType.BF16, GPU, 130, 256);
            assertRefused("out.values", () -> Fp8Quant.perTokenInto(dx, new Fp8Tensor(host.empty(DType.F8_E4M3, Device.CPU, 130, 256),
                    host.empty(DType.F32, Device.CPU, 130, 2)), stream));
            assertRefused("out", () -> Fp8Quant.toMnMajorInto(dev.empty(DType.F32, GPU, 130, 2),
                    host.empty(DType.F32, Device.CPU, 2, 132), stream));
            assertRefused("stream", () -> Fp8Quant.perToken(dx, null));
            assertRefused("stream", () -> Fp8Quant.toMnMajor(dev.empty(DType.F32, GPU, 130, 2), null));
        }
    }

    private static void assertRefused(String argument, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(argument + ":"), "expected '" + argument + ":', got: " + e.getMessage());
    }

    /** Not a benchmark: a figure to see that the kernels run near memory speed (3 bytes a value moved). */
    @Test
    void throughputFigures() {
        requireQuant();
        long rows = 8192;
        long cols = 7168;
        try (TensorScope dev = TensorScope.open(stream)) {
            Tensor x = dev.empty(DType.BF16, GPU, rows, cols);
            TensorOps.fill(x, 1.5, stream);
            Fp8Tensor out = new Fp8Tensor(dev.empty(DType.F8_E4M3, GPU, rows, cols), dev.empty(DType.F32, GPU, rows, cols / 128));
            Fp8Tensor outBlock = new Fp8Tensor(dev.empty(DType.F8_E4M3, GPU, rows, cols),
                    dev.empty(DType.F32, GPU, rows / 128, cols / 128));
            for (boolean perBlock : new boolean[] {false, true}) {
                float[] ms = new float[21];
                for (int i = -3; i < ms.length; i++) {
                    try (CudaEvent start = CudaEvent.create(true); CudaEvent end = CudaEvent.create(true)) {
                        start.record(stream);
                        if (perBlock) {
                            Fp8Quant.perBlockInto(x, outBlock, stream);
                        } else {
                            Fp8Quant.perTokenInto(x, out, stream);
                        }
                        end.record(stream);
                        end.synchronize();
                        if (i >= 0) {
                            ms[i] = CudaEvent.elapsedMillis(start, end);
                        }
                    }
                }
                Arrays.sort(ms);
                double median = ms[ms.length / 2];
                System.out.printf("fp8 quant %s [%d, %d]: %.3f ms, %.0f GB/s%n", perBlock ? "per block" : "per token", rows, cols,
                        median, rows * cols * 3 / (median * 1e6));
            }
        }
    }
}
