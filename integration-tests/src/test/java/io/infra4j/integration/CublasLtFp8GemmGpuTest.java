package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.infra4j.deepgemm.internal.CublasLtFp8Gemm;
import io.infra4j.deepgemm.internal.CublasLtScaleLayout;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.cublas.CublasLt;
import io.infra4j.memory.DType;
import io.infra4j.memory.DTypeCodec;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * cuBLASLt's block-scaled FP8 GEMM through FFM ({@link CublasLtFp8Gemm}) against a double-precision
 * reference computed here, on fresh random e4m3 operands and positive scales 2^uniform(-3, 3), with D
 * poisoned (NaN) before the run and the padding rows of A's M-major scales NaN. The inputs are exact,
 * so only the order of accumulation and D's rounding to BF16 differ: the cosine-like difference
 * {@code 1 - 2 sum(x y) / sum(x^2 + y^2)} must stay under 1e-5 and every element within
 * {@code 1e-2 max|ref| + 2^-7 |ref|}.
 */
@GpuTest
@ExtendWith(CublasLtAvailable.class)
class CublasLtFp8GemmGpuTest {
    static CudaStream stream;

    @BeforeAll
    static void open() {
        stream = CudaStream.create(Cuda.device(0));
        System.out.println("cublaslt: libcublasLt " + CublasLt.versionString() + " on " + Cuda.device(0).name());
    }

    @AfterAll
    static void close() {
        CublasLtFp8Gemm.releaseAll();
        if (stream != null) {
            stream.close();
        }
    }

    record Shape(int m, int n, int k) {
        @Override
        public String toString() {
            return "m=" + m + " n=" + n + " k=" + k;
        }
    }

    static Stream<Shape> shapes() {
        List<Shape> s = new ArrayList<>();
        for (int m : new int[] {4, 64, 132, 256}) {           // m = 1 or 129: no algorithm (unsupportedShapes...)
            for (int n : new int[] {128, 576, 2112}) {        // 576 and 2112: a partial last block of B's rows
                for (int k : new int[] {128, 512, 7168}) {    // 128: B's scale rows padded by a copy; 512, 7168: none
                    s.add(new Shape(m, n, k));
                }
            }
        }
        s.add(new Shape(64, 128, 320)); // a partial last K block (k not a multiple of 128), kb = 3
        return s.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void matchesTheDoubleReference(Shape s) {
        long seed = GpuTestSupport.freshSeed("cublaslt fp8 " + s);
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            long t0 = System.nanoTime();
            Problem p = new Problem(host, seed, s.m(), s.n(), s.k());
            double[] expected = p.reference();
            long t1 = System.nanoTime();
            Tensor d = p.run(dev);
            stream.synchronize();
            long t2 = System.nanoTime();
            assertClose(expected, GpuTestSupport.toHost(d, host, stream).toFloatArray(), s.toString());
            System.out.printf("cublaslt %s: reference %.2f s, GPU (with planning) %.1f ms%n", s, (t1 - t0) / 1e9, (t2 - t1) / 1e6);
        }
    }

    /** A shape is planned once; running it again gives the same bits, also on another stream. */
    @Test
    void plansAreReusedAndRepeatsAreBitwiseIdentical() {
        long seed = GpuTestSupport.freshSeed("cublaslt repeat");
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream);
             CudaStream other = CudaStream.create(Cuda.device(0))) {
            Problem p = new Problem(host, seed, 200, 1024, 1536);
            int before = CublasLtFp8Gemm.cachedPlans(GPU);
            Tensor d = p.run(dev);
            assertEquals(before + 1, CublasLtFp8Gemm.cachedPlans(GPU), "a new shape is planned once");
            Tensor first = GpuTestSupport.toHost(d, host, stream);
            for (int i = 0; i < 3; i++) {
                p.runInto(d, stream);
            }
            assertEquals(before + 1, CublasLtFp8Gemm.cachedPlans(GPU), "a known shape reuses its plan");
            GpuTestSupport.assertSameBits(first, GpuTestSupport.toHost(d, host, stream), "repeated run");
            // The next run comes on another stream: it must wait for the first stream's work (shared workspace).
            TensorOps.fillBits(d, GpuTestSupport.poison(DType.BF16), stream);
            p.runInto(d, other);
            other.synchronize();
            GpuTestSupport.assertSameBits(first, GpuTestSupport.toHost(d, host, stream), "run on another stream");
            assertClose(p.reference(), first.toFloatArray(), "200 x 1024 x 1536");
        }
    }

    /** Shapes cuBLASLt does not take and misaligned views are refused in Java, naming the argument. */
    @Test
    void unsupportedShapesAndMisalignedPointersAreRefused() {
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            Problem p = new Problem(host, 1, 16, 128, 256);
            Tensor a = TensorOps.to(p.a, GPU, dev);
            Tensor sa = TensorOps.to(p.sa, GPU, dev);
            Tensor b = TensorOps.to(p.b, GPU, dev);
            Tensor sb = TensorOps.to(p.sb, GPU, dev);
            Tensor d = dev.empty(DType.BF16, GPU, 16, 128);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CublasLtFp8Gemm.gemmNt(a.address(),
                    sa.address(), b.address(), sb.address(), d.address(), 16, 120, 256, GPU, stream));
            assertTrue(e.getMessage().startsWith("m, n, k: n=120 is not a multiple of 16"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> CublasLtFp8Gemm.gemmNt(a.address(),
                    sa.address(), b.address(), sb.address(), d.address(), 13, 128, 256, GPU, stream));
            assertTrue(e.getMessage().startsWith("m, n, k: m=13 is not a multiple of 4"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> CublasLtFp8Gemm.gemmNt(a.address() + 8, sa.address(),
                    b.address(), sb.address(), d.address(), 16, 128, 256, GPU, stream));
            assertTrue(e.getMessage().startsWith("dA: expected a 16-byte aligned address"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> CublasLtFp8Gemm.gemmNt(a.address(), sa.address(),
                    b.address(), sb.address(), d.address(), 16, 128, 256, Device.cuda(Cuda.deviceCount()), stream));
            assertTrue(e.getMessage().startsWith("stream: expected a stream of cuda:"), e.getMessage());
        }
    }

    /** Every element within 1e-2 max|ref| + 2^-7 |ref| (finite: a poisoned element left unwritten fails), and the global difference. */
    static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        double maxAbs = 0;
        for (double v : expected) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        double xy = 0;
        double xxyy = 0;
        for (int i = 0; i < expected.length; i++) {
            double x = expected[i];
            double y = actual[i];
            double err = Math.abs(y - x);
            if (!(err <= 1e-2 * maxAbs + Math.scalb(1.0, -7) * Math.abs(x))) { // NaN fails too
                if (bad++ < 8) {
                    sb.append("\n  D[").append(i).append("]: expected ").append(x).append(", got ").append(y);
                }
            }
            xy += x * y;
            xxyy += x * x + y * y;
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + expected.length + " elements out of tolerance (max|ref| " + maxAbs + ")" + sb);
        }
        double diff = 1 - 2 * xy / xxyy;
        assertTrue(diff < 1e-5, what + ": calc_diff " + diff + " >= 1e-5");
    }

    /**
     * One random problem: e4m3 A [m, k] and B [n, k], A's scales M-major [kb][m_pad] (padding rows
     * NaN), B's row-major [ceil(n / 128)][kb], all on the host; copies of them on the device run it.
     */
    static final class Problem {
        final int m;
        final int n;
        final int k;
        final int kb;
        final int mPad;
        final Tensor a;
        final Tensor b;
        final Tensor sa;
        final Tensor sb;
        private final float[] av;
        private final float[] bv;
        private final float[] saRowMajor;
        private final float[] sbv;
        private Tensor da;
        private Tensor dsa;
        private Tensor db;
        private Tensor dsb;

        Problem(TensorScope host, long seed, int m, int n, int k) {
            this.m = m;
            this.n = n;
            this.k = k;
            this.kb = CublasLtScaleLayout.kBlocks(k);
            this.mPad = CublasLtScaleLayout.aScaleRows(m);
            int nb = CublasLtScaleLayout.nBlocks(n);
            SplittableRandom r = new SplittableRandom(seed);
            a = host.empty(DType.F8_E4M3, Device.CPU, m, k);
            b = host.empty(DType.F8_E4M3, Device.CPU, n, k);
            av = randomE4m3(a, r);
            bv = randomE4m3(b, r);
            saRowMajor = new float[m * kb];
            for (int i = 0; i < saRowMajor.length; i++) {
                saRowMajor[i] = randomScale(r);
            }
            sa = host.empty(DType.F32, Device.CPU, kb, mPad);
            MemorySegment s = sa.segment();
            for (int q = 0; q < kb; q++) {
                for (int i = 0; i < mPad; i++) {
                    float v = i < m ? saRowMajor[i * kb + q] : Float.NaN; // rows past m are padding: never to be read
                    s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) q * mPad + i, v);
                }
            }
            sbv = new float[nb * kb];
            sb = host.empty(DType.F32, Device.CPU, nb, kb);
            for (int i = 0; i < sbv.length; i++) {
                sbv[i] = randomScale(r);
                sb.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, sbv[i]);
            }
        }

        /** Exact e4m3 values (a Gaussian of standard deviation 64, rounded and saturated): every code but NaN. */
        private static float[] randomE4m3(Tensor t, SplittableRandom r) {
            MemorySegment seg = t.segment();
            float[] v = new float[(int) t.numel()];
            for (int i = 0; i < v.length; i++) {
                byte code = DTypeCodec.floatToE4m3((float) (r.nextGaussian() * 64), true);
                seg.set(ValueLayout.JAVA_BYTE, i, code);
                v[i] = DTypeCodec.e4m3ToFloat(code);
            }
            return v;
        }

        private static float randomScale(SplittableRandom r) {
            return (float) Math.pow(2, r.nextDouble(-3, 3));
        }

        /** D in double: each K block's dot product of the exact values, scaled by its two scales, summed. */
        double[] reference() {
            double[] out = new double[m * n];
            IntStream.range(0, m).parallel().forEach(i -> {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int q = 0; q < kb; q++) {
                        double dot = 0;
                        int end = Math.min(k, (q + 1) * CublasLtScaleLayout.BLOCK);
                        for (int c = q * CublasLtScaleLayout.BLOCK; c < end; c++) {
                            dot += (double) av[i * k + c] * bv[j * k + c];
                        }
                        acc += dot * saRowMajor[i * kb + q] * sbv[(j / CublasLtScaleLayout.BLOCK) * kb + q];
                    }
                    out[i * n + j] = acc;
                }
            });
            return out;
        }

        /** Copies the operands to the GPU (once), poisons a fresh D and runs the product on {@code stream}. */
        Tensor run(TensorScope dev) {
            Tensor d = dev.empty(DType.BF16, GPU, m, n);
            TensorOps.fillBits(d, GpuTestSupport.poison(DType.BF16), dev.stream());
            if (da == null) {
                da = TensorOps.to(a, GPU, dev);
                dsa = TensorOps.to(sa, GPU, dev);
                db = TensorOps.to(b, GPU, dev);
                dsb = TensorOps.to(sb, GPU, dev);
            }
            runInto(d, dev.stream());
            return d;
        }

        void runInto(Tensor d, CudaStream on) {
            CublasLtFp8Gemm.gemmNt(da.address(), dsa.address(), db.address(), dsb.address(), d.address(), m, n, k, GPU, on);
        }
    }
}
