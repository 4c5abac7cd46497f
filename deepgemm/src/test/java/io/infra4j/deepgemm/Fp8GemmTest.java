package io.infra4j.deepgemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.memory.DType;
import io.infra4j.memory.DTypeCodec;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The CPU path of the FP8 GEMMs (the Java reference) against a naive recomputation of the same
 * scaled sums, the grouped layouts' row rules, and every bad argument refused in Java with an
 * IllegalArgumentException whose message starts with the argument's name. (Device mismatches need a
 * GPU: Fp8GemmGpuTest covers them.)
 */
class Fp8GemmTest {
    private TensorScope scope;
    private final SplittableRandom random = new SplittableRandom(17);

    @BeforeEach
    void open() {
        scope = TensorScope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** Random finite e4m3 bytes (no NaN: 0x7F / 0xFF excluded). */
    private Tensor e4m3(long... shape) {
        Tensor t = scope.empty(DType.F8_E4M3, Device.CPU, shape);
        byte[] bytes = new byte[(int) t.numel()];
        for (int i = 0; i < bytes.length; i++) {
            int v;
            do {
                v = random.nextInt(256);
            } while ((v & 0x7F) == 0x7F);
            bytes[i] = (byte) v;
        }
        java.lang.foreign.MemorySegment.copy(bytes, 0, t.segment(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bytes.length);
        return t;
    }

    private Tensor scales(long... shape) {
        Tensor t = scope.empty(DType.F32, Device.CPU, shape);
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.pow(2, random.nextDouble(-4, 2));
        }
        t.copyFromFloats(v);
        return t;
    }

    private Tensor poisoned(long... shape) {
        Tensor d = scope.empty(DType.BF16, Device.CPU, shape);
        TensorOps.fill(d, Double.NaN);
        return d;
    }

    /** The scaled block sums, written out the long way. */
    private static float naive(Tensor a, Tensor sa, Tensor b, Tensor sb, long[] aRow, long[] bRow, long[] saRow, long[] sbRow,
                               int k) {
        float acc = 0;
        for (int blk = 0; blk < k / 128; blk++) {
            double part = 0;
            for (int x = blk * 128; x < blk * 128 + 128; x++) {
                part += a.get(append(aRow, x)) * b.get(append(bRow, x));
            }
            acc += (float) part * ((float) sa.get(append(saRow, blk)) * (float) sb.get(append(sbRow, blk)));
        }
        return DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(acc));
    }

    private static long[] append(long[] prefix, long last) {
        long[] out = java.util.Arrays.copyOf(prefix, prefix.length + 1);
        out[prefix.length] = last;
        return out;
    }

    @Test
    void denseMatchesTheNaiveSum() {
        int m = 5, n = 144, k = 256;
        Fp8Tensor a = new Fp8Tensor(e4m3(m, k), scales(m, k / 128));
        Fp8Tensor b = new Fp8Tensor(e4m3(n, k), scales(2, k / 128));
        Tensor d = poisoned(m, n);
        Fp8Gemm.gemmNt(a, b, d, GemmOptions.defaults());
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float want = naive(a.values(), a.scales(), b.values(), b.scales(), new long[] {i}, new long[] {j},
                        new long[] {i}, new long[] {j / 128}, k);
                assertEquals(want, (float) d.get(i, j), 0f, "d[" + i + "," + j + "]");
            }
        }
    }

    /** A's scales as the M-major view the kernels read give the same bits as the row-major ones. */
    @Test
    void mnMajorScalesGiveTheSameProduct() {
        int m = 7, n = 128, k = 384;
        Tensor scales = scales(m, k / 128);
        Fp8Tensor b = new Fp8Tensor(e4m3(n, k), scales(1, k / 128));
        Tensor values = e4m3(m, k);
        Tensor d1 = poisoned(m, n);
        Tensor d2 = poisoned(m, n);
        Fp8Gemm.gemmNt(new Fp8Tensor(values, scales), b, d1, GemmOptions.defaults());
        try (Tensor mn = Fp8Quant.toMnMajor(scales, io.infra4j.ffm.CudaStream.legacyDefault())) {
            assertTrue(Fp8Quant.isMnMajor(mn));
            Fp8Gemm.gemmNt(new Fp8Tensor(values, mn), b, d2, GemmOptions.defaults());
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(d1.getBits(i, j), d2.getBits(i, j), "d[" + i + "," + j + "]");
            }
        }
    }

    @Test
    void contiguousUsesEachRowsGroupAndSkipsPadding() {
        int groups = 3, n = 64, k = 128, m = 256;
        Tensor idx = scope.empty(DType.I32, Device.CPU, m);
        for (int r = 0; r < m; r++) {
            idx.set(r < 100 ? 2 : r < 128 ? -1 : r < 131 ? 0 : -1, r); // group 2: 100 rows; group 0: 3; group 1: none
        }
        Fp8Tensor a = new Fp8Tensor(e4m3(m, k), scales(m, 1));
        Fp8Tensor b = new Fp8Tensor(e4m3(groups, n, k), scales(groups, 1, 1));
        Tensor d = poisoned(m, n);
        Fp8Gemm.mGroupedContiguous(a, b, idx, d, GemmOptions.defaults());
        for (int r = 0; r < m; r++) {
            int g = (int) idx.get(r);
            for (int j = 0; j < n; j += 7) {
                if (g < 0) {
                    assertTrue(Double.isNaN(d.get(r, j)), "padding row " + r + " is left as it was");
                } else {
                    float want = naive(a.values(), a.scales(), b.values(), b.scales(), new long[] {r}, new long[] {g, j},
                            new long[] {r}, new long[] {g, 0}, k);
                    assertEquals(want, (float) d.get(r, j), 0f, "d[" + r + "," + j + "]");
                }
            }
        }
    }

    @Test
    void maskedWritesOnlyTheValidRows() {
        int groups = 3, mMax = 9, n = 32, k = 256;
        Tensor counts = scope.empty(DType.I32, Device.CPU, groups);
        counts.set(0, 0);
        counts.set(9, 1);
        counts.set(4, 2);
        Fp8Tensor a = new Fp8Tensor(e4m3(groups, mMax, k), scales(groups, mMax, 2));
        Fp8Tensor b = new Fp8Tensor(e4m3(groups, n, k), scales(groups, 1, 2));
        Tensor d = poisoned(groups, mMax, n);
        Fp8Gemm.mGroupedMasked(a, b, counts, 4, d, GemmOptions.defaults());
        for (int g = 0; g < groups; g++) {
            for (int r = 0; r < mMax; r++) {
                for (int j = 0; j < n; j += 5) {
                    if (r >= counts.get(g)) {
                        assertTrue(Double.isNaN(d.get(g, r, j)), "row " + r + " of group " + g + " is not written");
                    } else {
                        float want = naive(a.values(), a.scales(), b.values(), b.scales(), new long[] {g, r},
                                new long[] {g, j}, new long[] {g, r}, new long[] {g, 0}, k);
                        assertEquals(want, (float) d.get(g, r, j), 0f);
                    }
                }
            }
        }
    }

    // ---- bad input ----

    private static void refused(String argument, Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call,
                "expected an IllegalArgumentException naming '" + argument + "'");
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(argument + ":"),
                "the message should start with '" + argument + ":', got: " + e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "the message should contain '" + part + "', got: " + e.getMessage());
        }
    }

    @Test
    void badInputIsRefusedNamingTheArgument() {
        int m = 4, n = 64, k = 256;
        Fp8Tensor a = new Fp8Tensor(e4m3(m, k), scales(m, 2));
        Fp8Tensor b = new Fp8Tensor(e4m3(n, k), scales(1, 2));
        Tensor d = poisoned(m, n);
        GemmOptions o = GemmOptions.defaults();

        Fp8Tensor kOdd = new Fp8Tensor(e4m3(m, 200), scales(m, 2));
        refused("a.values", () -> Fp8Gemm.gemmNt(kOdd, b, d, o), "multiple of 128", "200");
        Fp8Tensor bOtherK = new Fp8Tensor(e4m3(n, 128), scales(1, 1));
        refused("b.values", () -> Fp8Gemm.gemmNt(a, bOtherK, d, o), "k = 256");
        Fp8Tensor nOdd = new Fp8Tensor(e4m3(40, k), scales(1, 2));
        refused("b.values", () -> Fp8Gemm.gemmNt(a, nOdd, poisoned(m, 40), o), "multiple of 16");
        Fp8Tensor aWrongScales = new Fp8Tensor(e4m3(m, k), scales(m, 3));
        refused("a.scales", () -> Fp8Gemm.gemmNt(aWrongScales, b, d, o), "[4, 2]");
        Fp8Tensor bWrongScales = new Fp8Tensor(e4m3(n, k), scales(2, 2));
        refused("b.scales", () -> Fp8Gemm.gemmNt(a, bWrongScales, d, o), "[1, 2]");
        refused("d", () -> Fp8Gemm.gemmNt(a, b, poisoned(m, n + 16), o), "[4, 64]");
        refused("d", () -> Fp8Gemm.gemmNt(a, b, scope.empty(DType.F32, Device.CPU, m, n), o), "BF16");
        Fp8Tensor rank3 = new Fp8Tensor(e4m3(1, m, k), scales(1, m, 2));
        refused("a.values", () -> Fp8Gemm.gemmNt(rank3, b, d, o), "rank 2");
        Tensor strided = e4m3(m, 2 * k).slice(1, 0, k);
        refused("a.values", () -> Fp8Gemm.gemmNt(new Fp8Tensor(strided, scales(m, 2)), b, d, o), "contiguous");
        refused("a", () -> Fp8Gemm.gemmNt(null, b, d, o));
        refused("options", () -> Fp8Gemm.gemmNt(a, b, d, null));
        refused("options", () -> Fp8Gemm.gemmNt(a, b, d, o.withBackend(GemmBackend.KERNEL)), "device tensors");
        assertThrows(IllegalArgumentException.class, () -> new Fp8Tensor(scales(m, k), scales(m, 2)));
        assertThrows(IllegalArgumentException.class, () -> o.withBlockN(96));

        // grouped
        Fp8Tensor bg = new Fp8Tensor(e4m3(2, n, k), scales(2, 1, 2));
        Fp8Tensor a128 = new Fp8Tensor(e4m3(128, k), scales(128, 2));
        Tensor idx = scope.empty(DType.I32, Device.CPU, 128);
        TensorOps.fill(idx, 0);
        refused("a.values", () -> Fp8Gemm.mGroupedContiguous(a, bg, idx, d, o), "multiple of 128");
        refused("mIndices", () -> Fp8Gemm.mGroupedContiguous(a128, bg, scope.empty(DType.I64, Device.CPU, 128),
                poisoned(128, n), o), "I32 [128]");
        idx.set(2, 77);
        refused("mIndices", () -> Fp8Gemm.mGroupedContiguous(a128, bg, idx, poisoned(128, n), o), "row 77", "group 2");
        Fp8Tensor am = new Fp8Tensor(e4m3(3, 8, k), scales(3, 8, 2));
        Tensor counts = scope.empty(DType.I32, Device.CPU, 2);
        refused("a.values", () -> Fp8Gemm.mGroupedMasked(am, bg, counts, 0, poisoned(3, 8, n), o), "2 groups");
        Fp8Tensor am2 = new Fp8Tensor(e4m3(2, 8, k), scales(2, 8, 2));
        refused("expectedM", () -> Fp8Gemm.mGroupedMasked(am2, bg, counts, -1, poisoned(2, 8, n), o));
        refused("maskedM", () -> Fp8Gemm.mGroupedMasked(am2, bg, scope.empty(DType.I32, Device.CPU, 3), 0,
                poisoned(2, 8, n), o), "I32 [2]");
    }
}
