package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.infra4j.deepgemm.Fp8Gemm;
import io.infra4j.deepgemm.Fp8Quant;
import io.infra4j.deepgemm.Fp8Tensor;
import io.infra4j.deepgemm.GemmBackend;
import io.infra4j.deepgemm.GemmOptions;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.DTypeCodec;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The FP8 GEMM kernel against the CPU reference on fresh random inputs, outputs poisoned before every
 * run and unused inputs (padding rows, rows beyond a group's count) filled with e4m3 NaN:
 * <ul>
 *   <li>the FP8 semantics (random e4m3 bytes over the whole range, random scales) for dense, contiguous
 *       and masked layouts and every tile width, per element and globally;</li>
 *   <li>the accuracy test: BF16 inputs quantised on the GPU (1 x 128 and 128 x 128), D against
 *       the FP32 product of the unquantised inputs, calc_diff &lt; 1e-3, on the benchmark shapes (rows
 *       sampled where the Java product would be slow) and on odd ones;</li>
 *   <li>bad counts and group ids on the device (clamped or skipped, never a fault), device mismatch.</li>
 * </ul>
 */
@GpuTest
class Fp8GemmGpuTest {
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

    // ---- inputs ----

    /** Random e4m3 bytes, every finite value (NaN, 0x7F / 0xFF, excluded). */
    static Tensor randomE4m3(TensorScope scope, SplittableRandom r, long... shape) {
        Tensor t = scope.empty(DType.F8_E4M3, Device.CPU, shape);
        MemorySegment seg = t.segment();
        for (long i = 0; i < t.numel(); i++) {
            int v;
            do {
                v = r.nextInt(256);
            } while ((v & 0x7F) == 0x7F);
            seg.set(ValueLayout.JAVA_BYTE, i, (byte) v);
        }
        return t;
    }

    static Tensor randomScales(TensorScope scope, SplittableRandom r, long... shape) {
        Tensor t = scope.empty(DType.F32, Device.CPU, shape);
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.pow(2, r.nextDouble(-6, 3));
        }
        t.copyFromFloats(v);
        return t;
    }

    /** Sets rows [from, to) of a [rows, k] (or the flattened rows of a rank-3) e4m3 tensor to NaN. */
    static void nanRows(Tensor e4m3, long from, long to) {
        long k = e4m3.size(e4m3.rank() - 1);
        e4m3.segment().asSlice(from * k, (to - from) * k).fill((byte) 0x7F);
    }

    /** The magnitude of each sum: the same product over |a| and |b|, for the per-element bound. */
    static Tensor absolute(TensorScope scope, Tensor e4m3) {
        Tensor t = scope.empty(DType.F8_E4M3, Device.CPU, e4m3.shape());
        MemorySegment src = e4m3.segment(), dst = t.segment();
        for (long i = 0; i < t.numel(); i++) {
            byte v = src.get(ValueLayout.JAVA_BYTE, i);
            dst.set(ValueLayout.JAVA_BYTE, i, v == 0x7F ? v : (byte) (v & 0x7F));
        }
        return t;
    }

    static Tensor poisonedHost(TensorScope scope, long... shape) {
        Tensor d = scope.empty(DType.BF16, Device.CPU, shape);
        d.segment().fill((byte) 0xFF); // BF16 0xFFFF: a NaN
        return d;
    }

    // ---- comparison ----

    /** 1 - 2 sum(xy) / sum(x^2 + y^2), DeepGEMM's calc_diff. */
    static double calcDiff(double sxy, double sxx, double syy) {
        return sxx + syy == 0 ? 0 : 1 - 2 * sxy / (sxx + syy);
    }

    /**
     * Compares rows of got and want (host, BF16, same shape) where {@code valid[row]}: per element
     * within 2^-6 |want| + 2^-9 magnitude (FP8 products are summed in limited precision within a K
     * block), calc_diff &lt; 2e-5 over them all; rows not valid must still hold the poison.
     */
    static void compare(String what, Tensor got, Tensor want, Tensor magnitude, boolean[] valid) {
        long n = got.size(got.rank() - 1);
        MemorySegment g = got.segment(), w = want.segment(), mg = magnitude.segment();
        double sxy = 0, sxx = 0, syy = 0;
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        for (int row = 0; row < valid.length; row++) {
            for (long c = 0; c < n; c++) {
                long off = (row * n + c) * 2;
                short gb = g.get(ValueLayout.JAVA_SHORT_UNALIGNED, off);
                if (!valid[row]) {
                    if (gb != (short) 0xFFFF && bad++ < 8) {
                        sb.append("\n  row ").append(row).append(" col ").append(c).append(" was written (0x")
                                .append(Integer.toHexString(gb & 0xFFFF)).append(") but must not be");
                    }
                    continue;
                }
                double x = DTypeCodec.bf16ToFloat(gb);
                double y = DTypeCodec.bf16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, off));
                double mag = DTypeCodec.bf16ToFloat(mg.get(ValueLayout.JAVA_SHORT_UNALIGNED, off));
                double tol = Math.scalb(Math.abs(y), -6) + Math.scalb(mag, -9);
                if (!(Math.abs(x - y) <= tol)) {
                    if (bad++ < 8) {
                        sb.append("\n  row ").append(row).append(" col ").append(c).append(": got ").append(x)
                                .append(", want ").append(y).append(" (tolerance ").append(tol).append(")");
                    }
                }
                sxy += x * y;
                sxx += x * x;
                syy += y * y;
            }
        }
        double diff = calcDiff(sxy, sxx, syy);
        if (bad > 0) {
            fail(what + ": " + bad + " elements out of bounds" + sb);
        }
        assertTrue(diff < 2e-5, what + ": calc_diff " + diff);
        System.out.printf("fp8 gemm %s: calc_diff %.3g%n", what, diff);
    }

    /** The reference on host copies: D and its magnitude, with the same group info. */
    interface HostGemm {
        void run(Fp8Tensor a, Fp8Tensor b, Tensor d);
    }

    static Tensor[] reference(TensorScope scope, Fp8Tensor a, Fp8Tensor b, long[] dShape, HostGemm gemm) {
        Tensor want = poisonedHost(scope, dShape);
        gemm.run(a, b, want);
        Tensor mag = poisonedHost(scope, dShape);
        gemm.run(new Fp8Tensor(absolute(scope, a.values()), a.scales()), new Fp8Tensor(absolute(scope, b.values()),
                b.scales()), mag);
        return new Tensor[] {want, mag};
    }

    static Fp8Tensor toGpu(Fp8Tensor t, TensorScope scope) {
        return new Fp8Tensor(TensorOps.to(t.values(), GPU, scope), TensorOps.to(t.scales(), GPU, scope));
    }

    static Tensor toHost(Tensor t, TensorScope scope) {
        return GpuTestSupport.toHost(t, scope, stream);
    }

    static Tensor poisonedGpu(TensorScope scope, long... shape) {
        Tensor d = scope.empty(DType.BF16, GPU, shape);
        TensorOps.fillBits(d, 0xFFFFL, stream);
        return d;
    }

    // ---- FP8 semantics ----

    static Stream<Arguments> denseShapes() {
        return Stream.of(
                Arguments.of(1, 64, 128, 0), Arguments.of(7, 576, 512, 0), Arguments.of(64, 2112, 1024, 0),
                Arguments.of(129, 256, 384, 0), Arguments.of(256, 192, 256, 192), Arguments.of(200, 320, 640, 64),
                Arguments.of(300, 384, 256, 128), Arguments.of(130, 208, 256, 192), Arguments.of(513, 128, 128, 0),
                Arguments.of(300, 512, 384, 256), Arguments.of(129, 576, 256, 256), Arguments.of(64, 1600, 512, 256),
                // few tiles, long K: split over K (4 and 2 splits), partial sums added in the workspace
                Arguments.of(64, 1024, 4096, 0), Arguments.of(100, 576, 2048, 64),
                // narrow tiles (decode): 16 and 32 columns, in 64-row and 128-row tiles, split and not
                Arguments.of(7, 2112, 1024, 16), Arguments.of(64, 208, 2048, 32), Arguments.of(130, 176, 512, 16),
                Arguments.of(129, 96, 1024, 32), Arguments.of(33, 640, 256, 64));
    }

    @ParameterizedTest(name = "m={0} n={1} k={2} blockN={3}")
    @MethodSource("denseShapes")
    void denseMatchesTheReference(int m, int n, int k, int blockN) {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("fp8 dense " + m + "x" + n + "x" + k));
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            Fp8Tensor a = new Fp8Tensor(randomE4m3(host, r, m, k), randomScales(host, r, m, k / 128));
            Fp8Tensor b = new Fp8Tensor(randomE4m3(host, r, n, k), randomScales(host, r, (n + 127) / 128, k / 128));
            Tensor[] ref = reference(host, a, b, new long[] {m, n}, (x, y, d) -> Fp8Gemm.gemmNt(x, y, d, GemmOptions.defaults()));
            Tensor d = poisonedGpu(dev, m, n);
            Fp8Gemm.gemmNt(toGpu(a, dev), toGpu(b, dev), d, GemmOptions.on(stream).withBlockN(blockN));
            boolean[] valid = new boolean[m];
            Arrays.fill(valid, true);
            compare("dense m=" + m + " n=" + n + " k=" + k + " blockN=" + blockN, toHost(d, host), ref[0], ref[1], valid);
        }
    }

    @Test
    void mnMajorScalesAreUsedAsTheyAre() {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("fp8 mn-major scales"));
        int m = 77, n = 256, k = 512;
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            Fp8Tensor a = new Fp8Tensor(randomE4m3(host, r, m, k), randomScales(host, r, m, k / 128));
            Fp8Tensor b = new Fp8Tensor(randomE4m3(host, r, n, k), randomScales(host, r, 2, k / 128));
            Tensor[] ref = reference(host, a, b, new long[] {m, n}, (x, y, d) -> Fp8Gemm.gemmNt(x, y, d, GemmOptions.defaults()));
            Fp8Tensor ga = toGpu(a, dev);
            Tensor mn = Fp8Quant.toMnMajor(ga.scales(), stream);
            assertTrue(Fp8Quant.isMnMajor(mn));
            Tensor d = poisonedGpu(dev, m, n);
            Fp8Gemm.gemmNt(new Fp8Tensor(ga.values(), mn), toGpu(b, dev), d, GemmOptions.on(stream));
            boolean[] valid = new boolean[m];
            Arrays.fill(valid, true);
            compare("dense, M-major scales", toHost(d, host), ref[0], ref[1], valid);
            mn.close();
        }
    }

    static Stream<Arguments> contiguousGroups() {
        return Stream.of(Arguments.of(new int[] {0, 5, 300, 1, 128}, 576, 512, 0),
                Arguments.of(new int[] {1000, 0, 0, 17}, 256, 256, 128), Arguments.of(new int[] {64, 64}, 192, 384, 192),
                Arguments.of(new int[] {200, 3}, 576, 256, 256),
                Arguments.of(new int[] {0, 0, 0}, 128, 128, 0));
    }

    @ParameterizedTest(name = "groups={0} n={1} k={2} blockN={3}")
    @MethodSource("contiguousGroups")
    void contiguousMatchesTheReference(int[] rows, int n, int k, int blockN) {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("fp8 contiguous " + Arrays.toString(rows)));
        int groups = rows.length;
        int m = Arrays.stream(rows).map(x -> (x + 127) / 128 * 128).sum();
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            Tensor idx = host.empty(DType.I32, Device.CPU, m);
            boolean[] valid = new boolean[m];
            Tensor av = randomE4m3(host, r, m, k);
            int row = 0;
            for (int g = 0; g < groups; g++) {
                int padded = (rows[g] + 127) / 128 * 128;
                for (int i = 0; i < padded; i++, row++) {
                    boolean real = i < rows[g];
                    idx.setBits(real ? g : -1, row);
                    valid[row] = real;
                    if (!real) {
                        nanRows(av, row, row + 1); // padding rows must not leak into real ones
                    }
                }
            }
            Fp8Tensor a = new Fp8Tensor(av, randomScales(host, r, m, k / 128));
            Fp8Tensor b = new Fp8Tensor(randomE4m3(host, r, groups, n, k), randomScales(host, r, groups, (n + 127) / 128, k / 128));
            Tensor[] ref = reference(host, a, b, new long[] {m, n},
                    (x, y, d) -> Fp8Gemm.mGroupedContiguous(x, y, idx, d, GemmOptions.defaults()));
            Tensor d = poisonedGpu(dev, m, n);
            Fp8Gemm.mGroupedContiguous(toGpu(a, dev), toGpu(b, dev), TensorOps.to(idx, GPU, dev), d,
                    GemmOptions.on(stream).withBlockN(blockN));
            // Padding rows are unspecified: compare only real rows (the poison check is for masked).
            Tensor got = toHost(d, host);
            for (int i = 0; i < m; i++) {
                if (!valid[i]) {
                    got.segment().asSlice((long) i * n * 2, n * 2L).fill((byte) 0xFF);
                }
            }
            compare("contiguous " + Arrays.toString(rows) + " n=" + n + " k=" + k, got, ref[0], ref[1], valid);
        }
    }

    static Stream<Arguments> maskedGroups() {
        return Stream.of(Arguments.of(new int[] {0, 1, 129, 320, 77}, 320, 256, 512, 0),
                Arguments.of(new int[] {20, 0, 3}, 64, 576, 256, 64), Arguments.of(new int[] {256, 256}, 256, 192, 128, 192),
                Arguments.of(new int[] {130, 7}, 256, 512, 256, 256),
                // few rows per group: tiles of 64 rows (the warpgroups split the columns)
                Arguments.of(new int[] {33, 64, 0, 5}, 96, 384, 256, 0),
                Arguments.of(new int[] {20, 3, 0}, 64, 208, 384, 16), Arguments.of(new int[] {1, 64}, 64, 96, 256, 32));
    }

    @ParameterizedTest(name = "counts={0} mMax={1} n={2} k={3} blockN={4}")
    @MethodSource("maskedGroups")
    void maskedMatchesTheReference(int[] counts, int mMax, int n, int k, int blockN) {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("fp8 masked " + Arrays.toString(counts)));
        int groups = counts.length;
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            Tensor cnt = host.empty(DType.I32, Device.CPU, groups);
            Tensor av = randomE4m3(host, r, groups, mMax, k);
            boolean[] valid = new boolean[groups * mMax];
            for (int g = 0; g < groups; g++) {
                cnt.setBits(counts[g], g);
                nanRows(av, (long) g * mMax + counts[g], (long) (g + 1) * mMax);
                for (int i = 0; i < counts[g]; i++) {
                    valid[g * mMax + i] = true;
                }
            }
            Fp8Tensor a = new Fp8Tensor(av, randomScales(host, r, groups, mMax, k / 128));
            Fp8Tensor b = new Fp8Tensor(randomE4m3(host, r, groups, n, k), randomScales(host, r, groups, (n + 127) / 128, k / 128));
            int expected = (int) Arrays.stream(counts).average().orElse(0);
            Tensor[] ref = reference(host, a, b, new long[] {groups, mMax, n},
                    (x, y, d) -> Fp8Gemm.mGroupedMasked(x, y, cnt, expected, d, GemmOptions.defaults()));
            Tensor d = poisonedGpu(dev, groups, mMax, n);
            Fp8Gemm.mGroupedMasked(toGpu(a, dev), toGpu(b, dev), TensorOps.to(cnt, GPU, dev), expected, d,
                    GemmOptions.on(stream).withBlockN(blockN));
            compare("masked " + Arrays.toString(counts) + " n=" + n + " k=" + k, toHost(d, host), ref[0], ref[1], valid);
        }
    }

    @Test
    void countsAndGroupIdsOutOfRangeNeverFault() {
        int groups = 2, mMax = 128, n = 64, k = 128;
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("fp8 bad counts"));
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            Fp8Tensor a = toGpu(new Fp8Tensor(randomE4m3(host, r, groups, mMax, k), randomScales(host, r, groups, mMax, 1)), dev);
            Fp8Tensor b = toGpu(new Fp8Tensor(randomE4m3(host, r, groups, n, k), randomScales(host, r, groups, 1, 1)), dev);
            Tensor cnt = host.empty(DType.I32, Device.CPU, groups);
            cnt.setBits(-5, 0);
            cnt.setBits(1 << 30, 1);
            Tensor d = poisonedGpu(dev, groups, mMax, n);
            Fp8Gemm.mGroupedMasked(a, b, TensorOps.to(cnt, GPU, dev), 0, d, GemmOptions.on(stream));
            Tensor got = toHost(d, host);
            assertEquals((short) 0xFFFF, got.segment().get(ValueLayout.JAVA_SHORT_UNALIGNED, 0), "group 0 (count -5) is empty");
            assertTrue(Double.isFinite(got.get(1, mMax - 1, n - 1)), "group 1 (count 2^30) is clamped to m_max rows");

            Fp8Tensor a2 = new Fp8Tensor(a.values().view(groups * mMax, k),
                    TensorOps.to(randomScales(host, r, groups * mMax, 1), GPU, dev));
            Tensor idx = host.empty(DType.I32, Device.CPU, groups * mMax);
            for (int i = 0; i < groups * mMax; i++) {
                idx.setBits(i < mMax ? 99 : 1, i); // the first tile names a group that does not exist
            }
            Tensor d2 = poisonedGpu(dev, groups * mMax, n);
            Fp8Gemm.mGroupedContiguous(a2, b, TensorOps.to(idx, GPU, dev), d2, GemmOptions.on(stream));
            Tensor got2 = toHost(d2, host);
            assertEquals((short) 0xFFFF, got2.segment().get(ValueLayout.JAVA_SHORT_UNALIGNED, 0), "group 99 is skipped");
            assertTrue(Double.isFinite(got2.get(mMax, 0)), "group 1's rows are computed");
        }
    }

    @Test
    void operandsOnOtherDevicesAreRefused() {
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            SplittableRandom r = new SplittableRandom(1);
            Fp8Tensor a = new Fp8Tensor(randomE4m3(host, r, 4, 128), randomScales(host, r, 4, 1));
            Fp8Tensor b = toGpu(new Fp8Tensor(randomE4m3(host, r, 64, 128), randomScales(host, r, 1, 1)), dev);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Fp8Gemm.gemmNt(a, b, poisonedGpu(dev, 4, 64), GemmOptions.on(stream)));
            assertTrue(e.getMessage().startsWith("a.values:") && e.getMessage().contains("cuda"), e.getMessage());
            IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                    () -> Fp8Gemm.gemmNt(toGpu(a, dev), b, poisonedGpu(dev, 4, 64),
                            GemmOptions.on(stream).withBackend(GemmBackend.REFERENCE)));
            assertTrue(e2.getMessage().startsWith("options:"), e2.getMessage());
        }
    }

    // ---- the accuracy test: quantised BF16 against the FP32 product ----

    static Stream<Arguments> bf16Shapes() {
        int[][] nk = {{2112, 7168}, {576, 7168}, {24576, 1536}, {32768, 512}, {7168, 16384}, {4096, 7168}, {7168, 2048}};
        Stream<Arguments> bench = Stream.of(64, 128, 4096).flatMap(m -> Arrays.stream(nk).map(x -> Arguments.of(m, x[0], x[1])));
        Stream<Arguments> odd = Stream.of(Arguments.of(1, 2112, 7168), Arguments.of(7, 576, 512), Arguments.of(129, 4096, 1024),
                Arguments.of(129, 64, 256));
        return Stream.concat(bench, odd);
    }

    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @MethodSource("bf16Shapes")
    void quantisedProductIsCloseToTheBf16Product(int m, int n, int k) {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("fp8 vs bf16 " + m + "x" + n + "x" + k));
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            float[] x = normals(r, (long) m * k);
            float[] w = normals(r, (long) n * k);
            Tensor xh = host.empty(DType.BF16, Device.CPU, m, k);
            xh.copyFromFloats(x);
            Tensor wh = host.empty(DType.BF16, Device.CPU, n, k);
            wh.copyFromFloats(w);
            // The reference reads the BF16 values: round the Java arrays the same way.
            roundToBf16(x);
            roundToBf16(w);
            Tensor d = poisonedGpu(dev, m, n);
            try (Fp8Tensor a = Fp8Quant.perToken(TensorOps.to(xh, GPU, dev), stream);
                 Fp8Tensor b = Fp8Quant.perBlock(TensorOps.to(wh, GPU, dev), stream)) {
                Fp8Gemm.gemmNt(a, b, d, GemmOptions.on(stream));
                Tensor got = toHost(d, host);
                int[] rows = m <= 160 ? IntStream.range(0, m).toArray() : r.ints(24, 0, m).toArray();
                double[] s = new double[3];
                for (int row : rows) {
                    double[] part = IntStream.range(0, n).parallel().mapToObj(c -> {
                        float acc = 0;
                        for (int i = 0; i < k; i++) {
                            acc += x[row * k + i] * w[c * k + i];
                        }
                        double g = got.get(row, c);
                        return new double[] {g * acc, g * g, (double) acc * acc};
                    }).reduce(new double[3], (p, q) -> new double[] {p[0] + q[0], p[1] + q[1], p[2] + q[2]});
                    s[0] += part[0];
                    s[1] += part[1];
                    s[2] += part[2];
                }
                double diff = calcDiff(s[0], s[1], s[2]);
                System.out.printf("fp8 vs bf16 m=%d n=%d k=%d: calc_diff %.3g over %d rows%n", m, n, k, diff, rows.length);
                assertTrue(diff < 1e-3, "calc_diff " + diff + " over " + rows.length + " rows");
            }
        }
    }

    static float[] normals(SplittableRandom r, long count) {
        float[] v = new float[Math.toIntExact(count)];
        for (int i = 0; i < v.length; i++) {
            // A sum of uniforms: near-normal, and ten times faster than nextGaussian.
            v[i] = (float) ((r.nextDouble() + r.nextDouble() + r.nextDouble() - 1.5) * 2);
        }
        return v;
    }

    static void roundToBf16(float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(v[i]));
        }
    }
}
