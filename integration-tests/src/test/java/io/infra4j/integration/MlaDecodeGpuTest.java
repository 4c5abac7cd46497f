package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.CudaUnavailableException;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.flashmla.KvCache;
import io.infra4j.flashmla.MlaDecode;
import io.infra4j.flashmla.MlaOptions;
import io.infra4j.flashmla.MlaPlan;
import io.infra4j.flashmla.MlaResult;
import io.infra4j.flashmla.PagedKvCache;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The MLA decode kernel against the CPU reference, on fresh random inputs, with the outputs poisoned
 * before the run, every unused KV slot and block NaN, and block tables randomly permuted: a subset
 * of FlashMLA's test grid (b, s_q, s_k, h_q, h_kv, fixed and variable lengths, causal or not, empty
 * sequences, FP8, pages of 16/32/64) that runs in well under a minute. Tolerances as FlashMLA's tests:
 * each output within 8e-4 or 2/128 relative, each lse within 1e-6 or 8/65536 relative, and a global
 * cosine difference of at most 5e-6.
 */
@GpuTest
class MlaDecodeGpuTest {
    static CudaStream stream;

    @BeforeAll
    static void open() {
        stream = CudaStream.create(Cuda.device(0));
    }

    /** A library without mla.h's functions fails these tests with a clear message, not a linkage error. */
    private static void requireMla() {
        assertTrue(MlaDecode.isGpuAvailable(), "libinfra4j_cuda exports no MLA decoding (built before mla.h?)");
    }

    @Test
    void theLibraryIsProbedForSymbols() {
        assertTrue(KernelLibrary.hasSymbol("infra4j_fill"));
        assertFalse(KernelLibrary.hasSymbol("infra4j_no_such_function"));
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> KernelLibrary.requireSymbols("a test", "infra4j_fill", "infra4j_no_such_function"));
        assertTrue(e.getMessage().contains("a test needs infra4j_no_such_function"), e.getMessage());
        System.out.println("mla: the library " + (MlaDecode.isGpuAvailable() ? "has" : "lacks") + " MLA decoding");
    }

    @AfterAll
    static void close() {
        if (stream != null) {
            stream.close();
        }
    }

    /** One test shape; {@code zeros}: sequences made empty (then also one shorter than s_q). */
    record Shape(int b, int sq, int sk, int hq, int hkv, int d, int page, boolean causal, boolean varlen, boolean fp8,
                 int zeros) {
        @Override
        public String toString() {
            return "b=" + b + " s_q=" + sq + " s_k=" + sk + " h_q=" + hq + " h_kv=" + hkv + " d=" + d + " page=" + page
                    + (fp8 ? " fp8" : " bf16") + (causal ? " causal" : "") + (varlen ? " varlen" : " fixed")
                    + (zeros > 0 ? " " + zeros + " empty" : "");
        }
    }

    static Stream<Shape> shapes() {
        List<Shape> s = new ArrayList<>();
        // b, s_q, s_k, h_q, h_kv, d, page, causal, varlen, fp8, empty sequences
        s.add(new Shape(1, 1, 20, 1, 1, 576, 16, false, false, false, 0));
        s.add(new Shape(1, 2, 20, 3, 3, 576, 32, true, false, false, 0));
        s.add(new Shape(2, 1, 140, 9, 3, 576, 64, false, true, false, 0));
        s.add(new Shape(2, 4, 140, 9, 1, 576, 16, true, true, false, 0));
        s.add(new Shape(6, 1, 140, 63, 3, 576, 32, false, true, false, 1));
        s.add(new Shape(6, 2, 140, 64, 2, 576, 64, true, false, false, 0));
        s.add(new Shape(6, 4, 20, 126, 3, 576, 16, true, true, false, 2));
        s.add(new Shape(6, 2, 20, 126, 2, 576, 32, false, false, false, 0));
        s.add(new Shape(1, 1, 4096, 128, 1, 576, 64, false, false, false, 0));
        s.add(new Shape(1, 4, 4096, 64, 8, 576, 32, true, false, false, 0));
        s.add(new Shape(2, 2, 4096, 128, 8, 576, 64, true, false, false, 0));
        s.add(new Shape(6, 1, 4096, 126, 2, 576, 16, false, true, false, 0));
        s.add(new Shape(6, 2, 4096, 128, 1, 576, 64, true, true, false, 1));
        s.add(new Shape(6, 4, 4096, 128, 1, 576, 64, true, true, false, 0));
        s.add(new Shape(64, 1, 140, 128, 1, 576, 64, false, true, false, 3));
        s.add(new Shape(64, 2, 20, 64, 1, 576, 16, true, true, false, 5));
        s.add(new Shape(64, 4, 140, 3, 1, 576, 32, true, false, false, 0));
        s.add(new Shape(64, 1, 4096, 128, 1, 576, 64, false, false, false, 0));
        s.add(new Shape(64, 2, 4096, 128, 1, 576, 64, true, true, false, 0));
        s.add(new Shape(64, 1, 4096, 64, 8, 576, 64, false, true, false, 0));
        s.add(new Shape(2, 1, 20, 3, 1, 576, 16, false, false, false, 2)); // every sequence empty
        // head_dim 512, BF16
        s.add(new Shape(6, 1, 140, 128, 1, 512, 64, false, true, false, 0));
        s.add(new Shape(2, 4, 4096, 63, 3, 512, 32, true, false, false, 0));
        // FP8 caches (one scale per 128 values; for 576 the fifth covers the last 64)
        s.add(new Shape(2, 2, 140, 9, 3, 576, 32, true, true, true, 1));
        s.add(new Shape(6, 1, 4096, 128, 1, 576, 64, false, true, true, 0));
        s.add(new Shape(64, 2, 140, 126, 3, 576, 16, true, true, true, 3));
        s.add(new Shape(1, 1, 20, 1, 1, 512, 16, false, false, true, 0));
        s.add(new Shape(2, 2, 140, 9, 3, 512, 32, true, true, true, 0));
        s.add(new Shape(6, 4, 140, 64, 2, 512, 64, true, true, true, 1));
        s.add(new Shape(6, 1, 4096, 128, 1, 512, 64, false, false, true, 0));
        s.add(new Shape(64, 2, 140, 126, 3, 512, 16, true, true, true, 4));
        s.add(new Shape(64, 1, 4096, 128, 1, 512, 64, false, true, true, 0));
        return s.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void matchesTheCpuReference(Shape c) {
        requireMla();
        long seed = GpuTestSupport.freshSeed("mla " + c);
        int[] lens = MlaProblem.lengths(seed, c.b(), c.sk(), c.sq(), c.varlen(), c.zeros());
        if (c.zeros() >= c.b()) {
            java.util.Arrays.fill(lens, 0);
        }
        MlaOptions options = MlaOptions.defaults().withCausal(c.causal());
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            long t0 = System.nanoTime();
            MlaProblem p = new MlaProblem(host, seed, lens, c.sq(), c.hq(), c.hkv(), c.d(), c.page(), c.fp8());
            long t1 = System.nanoTime();
            MlaResult expected;
            try (MlaPlan plan = MlaDecode.plan(p.seqlens)) {
                expected = MlaDecode.decode(p.q, p.kv, p.blockTable, p.seqlens, plan, options, host);
            }
            long t2 = System.nanoTime();
            Tensor q = TensorOps.to(p.q, GPU, dev);
            KvCache kv = new KvCache(TensorOps.to(p.kv.data(), GPU, dev), c.fp8() ? TensorOps.to(p.kv.scales(), GPU, dev) : null);
            Tensor table = TensorOps.to(p.blockTable, GPU, dev);
            Tensor seqlens = TensorOps.to(p.seqlens, GPU, dev);
            Tensor out = dev.empty(DType.BF16, GPU, c.b(), c.sq(), c.hq(), MlaDecode.HEAD_DIM_V);
            Tensor lse = dev.empty(DType.F32, GPU, c.b(), c.hq(), c.sq());
            TensorOps.fillBits(out, GpuTestSupport.poison(DType.BF16), stream);
            TensorOps.fillBits(lse, GpuTestSupport.poison(DType.F32), stream);
            try (MlaPlan plan = MlaDecode.plan(seqlens, stream)) {
                MlaDecode.decodeInto(q, kv, table, seqlens, plan, options, out, lse);
                stream.synchronize();
                assertClose(expected, GpuTestSupport.toHost(out, host, stream), GpuTestSupport.toHost(lse, host, stream),
                        c + " (plan " + plan + ")");
            }
            System.out.printf("mla %s: inputs %.2f s, reference %.2f s%n", c, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        }
    }

    /** The same appends into a cache on the GPU and one on the host give the same bytes and the same decode. */
    @Test
    void pagedKvCacheOnTheGpuMatchesTheHost() {
        long seed = GpuTestSupport.freshSeed("mla paged cache");
        for (DType dtype : new DType[] {DType.BF16, DType.F8_E4M3}) {
            int d = dtype == DType.BF16 ? 576 : 512;
            try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream);
                 PagedKvCache hc = PagedKvCache.builder().dtype(dtype).sequences(4).blocks(40).pageSize(32).headsKv(2)
                         .headDim(d).build();
                 PagedKvCache gc = PagedKvCache.builder().dtype(dtype).device(GPU).stream(stream).sequences(4).blocks(40)
                         .pageSize(32).headsKv(2).headDim(d).build()) {
                for (PagedKvCache c : new PagedKvCache[] {hc, gc}) {
                    TensorOps.fill(c.data(), Double.NaN, stream);
                    if (c.scales() != null) {
                        TensorOps.fill(c.scales(), Double.NaN, stream);
                    }
                    c.shuffleFreeBlocks(new SplittableRandom(seed));
                }
                SplittableRandom r = new SplittableRandom(seed);
                int[] lens = {300, 0, 77, 129};
                for (int s = 0; s < 4; s++) {
                    for (int done = 0; done < lens[s]; ) {
                        int n = Math.min(lens[s] - done, 1 + r.nextInt(100));
                        Tensor tokens = host.empty(DType.F32, Device.CPU, n, 2, d);
                        float[] v = new float[n * 2 * d];
                        for (int i = 0; i < v.length; i++) {
                            v[i] = (float) r.nextGaussian();
                        }
                        tokens.copyFromFloats(v);
                        hc.append(s, tokens);
                        gc.append(s, TensorOps.to(tokens, GPU, dev)); // device tokens: cast or quantised on the way
                        done += n;
                    }
                }
                GpuTestSupport.assertSameBits(hc.data(), GpuTestSupport.toHost(gc.data(), host, stream), dtype + " data");
                if (dtype == DType.F8_E4M3) {
                    GpuTestSupport.assertSameBits(hc.scales(), GpuTestSupport.toHost(gc.scales(), host, stream), "scales");
                }
                Tensor hTable = hc.blockTable(host);
                GpuTestSupport.assertSameBits(hTable, GpuTestSupport.toHost(gc.blockTable(dev), host, stream), "block table");
                Tensor q = host.empty(DType.BF16, Device.CPU, 4, 2, 8, d);
                float[] qv = new float[(int) q.numel()];
                for (int i = 0; i < qv.length; i++) {
                    qv[i] = (float) r.nextGaussian();
                }
                q.copyFromFloats(qv);
                Tensor hLens = hc.seqlens(host);
                MlaResult expected;
                try (MlaPlan plan = MlaDecode.plan(hLens)) {
                    expected = MlaDecode.decode(q, hc.kvCache(), hTable, hLens, plan, MlaOptions.defaults(), host);
                }
                requireMla();
                Tensor gLens = gc.seqlens(dev);
                try (MlaPlan plan = MlaDecode.plan(gLens, stream)) {
                    MlaResult got = MlaDecode.decode(TensorOps.to(q, GPU, dev), gc.kvCache(), gc.blockTable(dev), gLens, plan,
                            MlaOptions.defaults(), dev);
                    stream.synchronize();
                    assertClose(expected, GpuTestSupport.toHost(got.out(), host, stream),
                            GpuTestSupport.toHost(got.lse(), host, stream), "paged " + dtype);
                }
            }
        }
    }

    /** Decoding again into the same outputs gives the same bits (what a benchmark's repeated runs rely on). */
    @Test
    void repeatedDecodesAreBitwiseIdentical() {
        requireMla();
        long seed = GpuTestSupport.freshSeed("mla repeat");
        int[] lens = MlaProblem.lengths(seed, 6, 1000, 2, true, 1);
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            MlaProblem p = new MlaProblem(host, seed, lens, 2, 64, 1, 576, 64, false);
            Tensor q = TensorOps.to(p.q, GPU, dev);
            KvCache kv = KvCache.bf16(TensorOps.to(p.kv.data(), GPU, dev));
            Tensor table = TensorOps.to(p.blockTable, GPU, dev);
            Tensor seqlens = TensorOps.to(p.seqlens, GPU, dev);
            try (MlaPlan plan = MlaDecode.plan(seqlens, stream)) {
                MlaResult first = MlaDecode.decode(q, kv, table, seqlens, plan, MlaOptions.defaults(), dev);
                Tensor out0 = GpuTestSupport.toHost(first.out(), host, stream);
                Tensor lse0 = GpuTestSupport.toHost(first.lse(), host, stream);
                for (int i = 0; i < 3; i++) {
                    MlaDecode.decodeInto(q, kv, table, seqlens, plan, MlaOptions.defaults(), first.out(), first.lse());
                }
                GpuTestSupport.assertSameBits(out0, GpuTestSupport.toHost(first.out(), host, stream), "out");
                GpuTestSupport.assertSameBits(lse0, GpuTestSupport.toHost(first.lse(), host, stream), "lse");
            }
        }
    }

    /** Mixed devices and streams are refused in Java, naming the argument. */
    @Test
    void mixedDevicesAreRefused() {
        requireMla();
        int[] lens = {50, 7};
        try (TensorScope host = TensorScope.open(); TensorScope dev = TensorScope.open(stream)) {
            MlaProblem p = new MlaProblem(host, 1, lens, 1, 4, 1, 576, 16, false);
            Tensor q = TensorOps.to(p.q, GPU, dev);
            Tensor table = TensorOps.to(p.blockTable, GPU, dev);
            Tensor seqlens = TensorOps.to(p.seqlens, GPU, dev);
            KvCache gpuKv = KvCache.bf16(TensorOps.to(p.kv.data(), GPU, dev));
            int target = 2 * Cuda.device(0).multiprocessorCount();
            try (MlaPlan plan = MlaDecode.plan(seqlens, stream);
                 MlaPlan hostPlan = MlaDecode.plan(p.seqlens, target, CudaStream.legacyDefault())) {
                assertArrayEquals(hostPlan.words(), plan.words(), "plans aim at two splits per SM");
                assertRefused("kv", () -> MlaDecode.decode(q, p.kv, table, seqlens, plan, MlaOptions.defaults(), dev));
                assertRefused("blockTable", () -> MlaDecode.decode(q, gpuKv, p.blockTable, seqlens, plan, MlaOptions.defaults(), dev));
                assertRefused("cacheSeqlens", () -> MlaDecode.decode(q, gpuKv, table, p.seqlens, plan, MlaOptions.defaults(), dev));
                assertRefused("plan", () -> MlaDecode.decode(q, gpuKv, table, seqlens, hostPlan, MlaOptions.defaults(), dev));
                assertRefused("scope", () -> MlaDecode.decode(q, gpuKv, table, seqlens, plan, MlaOptions.defaults(), host));
                assertRefused("out", () -> MlaDecode.decodeInto(q, gpuKv, table, seqlens, plan, MlaOptions.defaults(),
                        host.empty(DType.BF16, Device.CPU, 2, 1, 4, 512), dev.empty(DType.F32, GPU, 2, 4, 1)));
            }
        }
    }

    private static void assertRefused(String argument, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(argument + ":"), "expected '" + argument + ":', got: " + e.getMessage());
    }

    /** FlashMLA's tolerances; NaN anywhere (a poisoned output left unwritten, a NaN slot read) fails. */
    static void assertClose(MlaResult expected, Tensor out, Tensor lse, String what) {
        float[] e = expected.out().toFloatArray();
        float[] a = out.toFloatArray();
        assertEquals(e.length, a.length, what + ": out size");
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        double xy = 0;
        double xxyy = 0;
        for (int i = 0; i < e.length; i++) {
            double err = Math.abs((double) a[i] - e[i]);
            if (!(err <= 8e-4 || err <= 2.0 / 128 * Math.abs(e[i]))) {
                if (bad++ < 8) {
                    sb.append("\n  out[").append(i).append("]: expected ").append(e[i]).append(", got ").append(a[i]);
                }
            }
            xy += (double) e[i] * a[i];
            xxyy += (double) e[i] * e[i] + (double) a[i] * a[i];
        }
        float[] el = expected.lse().toFloatArray();
        float[] al = lse.toFloatArray();
        for (int i = 0; i < el.length; i++) {
            boolean ok;
            if (Float.isInfinite(el[i])) {
                ok = al[i] == el[i];
            } else {
                double err = Math.abs((double) al[i] - el[i]);
                ok = err <= 1e-6 || err <= 8.0 / 65536 * Math.abs(el[i]);
            }
            if (!ok && bad++ < 16) {
                sb.append("\n  lse[").append(i).append("]: expected ").append(el[i]).append(", got ").append(al[i]);
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " elements out of tolerance" + sb);
        }
        if (xxyy > 0) {
            double cosDiff = 1 - 2 * xy / xxyy;
            assertTrue(cosDiff <= 5e-6, what + ": cosine difference " + cosDiff + " > 5e-6");
        }
    }
}
