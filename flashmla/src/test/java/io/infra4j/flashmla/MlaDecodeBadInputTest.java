package io.infra4j.flashmla;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorScope;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every bad argument is refused in Java with an IllegalArgumentException whose message starts with
 * the argument's name (closed things: IllegalStateException). The base problem is valid; each case
 * changes one thing. (Device mismatches need a GPU: MlaDecodeGpuTest covers them.)
 */
class MlaDecodeBadInputTest {
    private TensorScope scope;
    private RandomProblem p; // b=2, s_q=2, h_q=4, h_kv=2, d=576, page=16, lengths {20, 5}
    private MlaPlan plan;
    private Tensor out;
    private Tensor lse;

    @BeforeEach
    void setUp() {
        scope = TensorScope.open();
        p = new RandomProblem(scope, new SplittableRandom(9), new int[] {20, 5}, 2, 4, 2, 576, 16, false);
        plan = MlaDecode.plan(p.seqlens);
        out = scope.empty(DType.BF16, Device.CPU, 2, 2, 4, 512);
        lse = scope.empty(DType.F32, Device.CPU, 2, 4, 2);
    }

    @AfterEach
    void tearDown() {
        plan.close();
        scope.close();
    }

    private static <T extends RuntimeException> void refused(Class<T> type, String argument, Executable call, String... parts) {
        T e = assertThrows(type, call, "expected " + type.getSimpleName() + " naming '" + argument + "'");
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(argument + ":"),
                "the message should start with '" + argument + ":', got: " + e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "the message should contain '" + part + "', got: " + e.getMessage());
        }
    }

    private static void refused(String argument, Executable call, String... parts) {
        refused(IllegalArgumentException.class, argument, call, parts);
    }

    private void decode(Tensor q, KvCache kv, Tensor table, Tensor lens, MlaPlan pl) {
        MlaDecode.decodeInto(q, kv, table, lens, pl, MlaOptions.defaults(), out, lse);
    }

    private Tensor bf16(long... shape) {
        return scope.empty(DType.BF16, Device.CPU, shape);
    }

    @Test
    void theBaseProblemIsValid() {
        assertDoesNotThrow(() -> decode(p.q, p.kv, p.blockTable, p.seqlens, plan));
        assertDoesNotThrow(() -> MlaDecode.decode(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(), scope));
    }

    /** A contiguous view that starts 2 bytes into its storage: same shape and dtype, misaligned. */
    private Tensor shiftedCopyOf(Tensor t) {
        long n = t.numel();
        Tensor storage = scope.empty(t.dtype(), Device.CPU, n + 8);
        return storage.slice(0, 1, n + 1).view(t.shape());
    }

    @Test
    void misalignedTensors() {
        Tensor q = shiftedCopyOf(p.q);
        refused("q", () -> decode(q, p.kv, p.blockTable, p.seqlens, plan), "16-byte", "byte offset 2");
        KvCache kv = KvCache.bf16(shiftedCopyOf(p.kv.data()));
        refused("kv", () -> decode(p.q, kv, p.blockTable, p.seqlens, plan), "16-byte");
        Tensor o = shiftedCopyOf(out);
        refused("out", () -> MlaDecode.decodeInto(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(), o, lse),
                "16-byte");
        // A view 8 rows in stays aligned (a row of q is 1152 bytes) and is accepted.
        Tensor rows = scope.empty(DType.BF16, Device.CPU, p.q.numel() + 8 * 576).slice(0, 8 * 576, p.q.numel() + 8 * 576)
                .view(p.q.shape());
        assertDoesNotThrow(() -> decode(rows, p.kv, p.blockTable, p.seqlens, plan));
    }

    @Test
    void nulls() {
        refused("q", () -> decode(null, p.kv, p.blockTable, p.seqlens, plan), "null");
        refused("kv", () -> decode(p.q, null, p.blockTable, p.seqlens, plan), "null");
        refused("blockTable", () -> decode(p.q, p.kv, null, p.seqlens, plan), "null");
        refused("cacheSeqlens", () -> decode(p.q, p.kv, p.blockTable, null, plan), "null");
        refused("plan", () -> decode(p.q, p.kv, p.blockTable, p.seqlens, null), "null");
        refused("options", () -> MlaDecode.decodeInto(p.q, p.kv, p.blockTable, p.seqlens, plan, null, out, lse), "null");
        refused("out", () -> MlaDecode.decodeInto(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(), null, lse));
        refused("lse", () -> MlaDecode.decodeInto(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(), out, null));
        refused("scope", () -> MlaDecode.decode(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(), null));
        refused("kv", () -> KvCache.bf16(null), "null");
    }

    @Test
    void queries() {
        refused("q", () -> decode(bf16(2, 2, 4 * 576), p.kv, p.blockTable, p.seqlens, plan), "rank 4", "[2, 2, 2304]");
        refused("q", () -> decode(scope.empty(DType.F32, Device.CPU, 2, 2, 4, 576), p.kv, p.blockTable, p.seqlens, plan),
                "BF16", "F32");
        refused("q", () -> decode(bf16(2, 2, 4, 320), p.kv, p.blockTable, p.seqlens, plan), "576 or 512", "320");
        refused("q", () -> decode(bf16(2, 0, 4, 576), p.kv, p.blockTable, p.seqlens, plan), ">= 1");
        refused("q", () -> decode(p.q.transpose(1, 2), p.kv, p.blockTable, p.seqlens, plan), "contiguous");
        // h_q % h_kv != 0: 3 query heads over 2 KV heads
        refused("q", () -> decode(bf16(2, 2, 3, 576), p.kv, p.blockTable, p.seqlens, plan), "heads_q 3", "heads_kv 2");
        // batch 3 against a table of 2 rows
        refused("blockTable", () -> decode(bf16(3, 2, 4, 576), p.kv, p.blockTable, p.seqlens, plan), "3 rows");
    }

    @Test
    void caches() {
        Tensor d = p.kv.data();
        refused("kv", () -> KvCache.bf16(bf16(4, 16, 2 * 576)), "rank 4");
        refused("kv", () -> KvCache.bf16(scope.empty(DType.F16, Device.CPU, 4, 16, 2, 576)), "BF16 or F8_E4M3", "F16");
        refused("kv", () -> decode(p.q, KvCache.bf16(bf16(d.size(0), 16, 2, 512)), p.blockTable, p.seqlens, plan),
                "head_dim 576 like q", "512");
        refused("kv", () -> decode(p.q, KvCache.bf16(bf16(d.size(0), 8, 2, 576)), p.blockTable, p.seqlens, plan),
                "16, 32 or 64", "8");
        refused("q", () -> decode(p.q, KvCache.bf16(bf16(d.size(0), 16, 3, 576)), p.blockTable, p.seqlens, plan),
                "heads_q 4", "heads_kv 3");
        refused("kv", () -> decode(p.q, KvCache.bf16(d.transpose(0, 1)), p.blockTable, p.seqlens, plan), "contiguous");
        refused("kvScales", () -> new KvCache(d, scope.empty(DType.F32, Device.CPU, d.size(0), 16, 2, 4)), "no scales");
    }

    @Test
    void fp8Caches() {
        Tensor f8 = scope.empty(DType.F8_E4M3, Device.CPU, 4, 16, 2, 512);
        refused("kvScales", () -> KvCache.fp8(f8, null), "null");
        refused("kvScales", () -> KvCache.fp8(f8, scope.empty(DType.BF16, Device.CPU, 4, 16, 2, 4)), "F32", "BF16");
        refused("kvScales", () -> KvCache.fp8(f8, scope.empty(DType.F32, Device.CPU, 4, 16, 2, 5)), "[4, 16, 2, 4]",
                "[4, 16, 2, 5]");
        refused("kv", () -> KvCache.fp8(p.kv.data(), null), "F8_E4M3");
        // 576 = 4 groups of 128 and one of 64: five scales per token and head.
        refused("kvScales", () -> KvCache.fp8(scope.empty(DType.F8_E4M3, Device.CPU, 4, 16, 2, 576),
                scope.empty(DType.F32, Device.CPU, 4, 16, 2, 4)), "[4, 16, 2, 5]", "[4, 16, 2, 4]");
        KvCache.fp8(scope.empty(DType.F8_E4M3, Device.CPU, 4, 16, 2, 576), scope.empty(DType.F32, Device.CPU, 4, 16, 2, 5));
    }

    @Test
    void blockTablesAndLengths() {
        refused("blockTable", () -> decode(p.q, p.kv, scope.empty(DType.I32, Device.CPU, 2 * p.table[0].length), p.seqlens, plan),
                "rank 2");
        refused("blockTable", () -> decode(p.q, p.kv, scope.empty(DType.I64, Device.CPU, 2, p.table[0].length), p.seqlens, plan),
                "I32", "I64");
        // lengths beyond the table: 20 tokens need 2 pages of 16, a table of 1 column holds 16
        Tensor narrow = scope.empty(DType.I32, Device.CPU, 2, 1);
        narrow.set(p.table[0][0], 0, 0);
        narrow.set(p.table[1][0], 1, 0);
        refused("cacheSeqlens", () -> decode(p.q, p.kv, narrow, p.seqlens, plan), "sequence 0", "length 20", "16 tokens");
        // a used page naming a block outside the cache (the CPU path reads the table)
        Tensor bad = scope.empty(DType.I32, Device.CPU, 2, p.table[0].length);
        for (int s = 0; s < 2; s++) {
            for (int c = 0; c < p.table[0].length; c++) {
                bad.set(p.table[s][c], s, c);
            }
        }
        bad.set(p.kv.numBlocks() + 3, 0, 1);
        refused("blockTable", () -> decode(p.q, p.kv, bad, p.seqlens, plan), "sequence 0", "page 1",
                "block " + (p.kv.numBlocks() + 3));
        bad.set(-1, 0, 1);
        refused("blockTable", () -> decode(p.q, p.kv, bad, p.seqlens, plan), "block -1");
    }

    @Test
    void plansAndTheirLengths() {
        Tensor other = scope.empty(DType.I32, Device.CPU, 2);
        other.set(20, 0);
        other.set(5, 1);
        refused("cacheSeqlens", () -> decode(p.q, p.kv, p.blockTable, other, plan), "the plan was made from");
        refused("cacheSeqlens", () -> decode(p.q, p.kv, p.blockTable, scope.empty(DType.I64, Device.CPU, 2), plan), "I32");
        refused("cacheSeqlens", () -> decode(p.q, p.kv, p.blockTable, scope.empty(DType.I32, Device.CPU, 3), plan), "[2]");
        Tensor three = scope.empty(DType.I32, Device.CPU, 3);
        three.set(1, 0);
        three.set(1, 1);
        three.set(1, 2);
        try (MlaPlan plan3 = MlaDecode.plan(three)) {
            refused("plan", () -> decode(p.q, p.kv, p.blockTable, p.seqlens, plan3), "3 sequences", "2");
        }
        MlaPlan closed = MlaDecode.plan(p.seqlens);
        closed.close();
        refused(IllegalStateException.class, "plan", () -> decode(p.q, p.kv, p.blockTable, p.seqlens, closed), "closed");
        // making plans
        Tensor negative = scope.empty(DType.I32, Device.CPU, 2);
        negative.set(4, 0);
        negative.set(-1, 1);
        refused("cacheSeqlens", () -> MlaDecode.plan(negative), "sequence 1", "-1");
        refused("cacheSeqlens", () -> MlaDecode.plan(scope.empty(DType.I64, Device.CPU, 2)), "I32");
        refused("cacheSeqlens", () -> MlaDecode.plan(scope.empty(DType.I32, Device.CPU, 2, 1)), "[batch]");
        refused("cacheSeqlens", () -> MlaDecode.plan(scope.empty(DType.I32, Device.CPU, 0)), "sequences");
        refused("cacheSeqlens", () -> MlaDecode.plan(null), "null");
        refused("stream", () -> MlaDecode.plan(p.seqlens, (CudaStream) null), "null");
        refused("parts", () -> MlaDecode.plan(p.seqlens, 0, CudaStream.legacyDefault()), "0");
        refused("parts", () -> MlaDecode.plan(p.seqlens, (1 << 16) + 1, CudaStream.legacyDefault()), "65536", "65537");
    }

    @Test
    void outputs() {
        Executable wide = () -> MlaDecode.decodeInto(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(),
                bf16(2, 2, 4, 576), lse);
        refused("out", wide, "[2, 2, 4, 512]", "[2, 2, 4, 576]"); // dv must be 512
        refused("out", () -> MlaDecode.decodeInto(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(),
                scope.empty(DType.F32, Device.CPU, 2, 2, 4, 512), lse), "BF16");
        refused("lse", () -> MlaDecode.decodeInto(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(),
                out, scope.empty(DType.F32, Device.CPU, 2, 2, 4)), "[2, 4, 2]", "[2, 2, 4]");
        refused("lse", () -> MlaDecode.decodeInto(p.q, p.kv, p.blockTable, p.seqlens, plan, MlaOptions.defaults(),
                out, bf16(2, 4, 2)), "F32");
    }

    @Test
    void closedTensorsAndBadOptions() {
        Tensor q = bf16(2, 2, 4, 576);
        q.close();
        refused(IllegalStateException.class, "q", () -> decode(q, p.kv, p.blockTable, p.seqlens, plan), "closed");
        refused("scale", () -> MlaOptions.defaults().withSoftmaxScale(Float.NaN), "NaN");
        refused("scale", () -> MlaOptions.defaults().withSoftmaxScale(Float.POSITIVE_INFINITY), "Infinity");
    }
}
