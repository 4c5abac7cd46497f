package io.infra4j.flashmla.internal;

import io.infra4j.memory.DTypeCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * MLA decoding on the CPU, in FP32 on the dequantised inputs: the default without a GPU and the GPU
 * tests' oracle. BF16 values are exact in float; an FP8 value is {@code bf16(e4m3 * scale)}, as the
 * tensor-core kernel feeds its MMAs and as FlashMLA's tests dequantise (see {@link MlaConstants#dequantize}). For each query row (sequence b, token i, head h) over its visible keys: scores
 * {@code scale * q.k}, their max m, {@code p = exp(score - m)}, {@code l = sum p},
 * {@code out = sum(p v) / l} stored as BF16 (round to nearest even) and {@code lse = m + ln l} as F32.
 * A row that sees no key gets {@code out = 0} and {@code lse = +inf}, as FlashMLA.
 *
 * <p>Work runs in parallel over (sequence, KV head) groups; each group dequantises the pages it uses
 * once into a float matrix that its query heads share. Only keys below a sequence's length are read,
 * so whatever fills unused slots and blocks (NaN in the tests) cannot reach the outputs.
 *
 * <p>All segments are host memory, contiguous, in the layouts of mla.h; the caller has checked the
 * shapes and that each length fits its block-table row.
 */
public final class MlaReference {
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final float[] E4M3 = new float[256];

    static {
        for (int i = 0; i < 256; i++) {
            E4M3[i] = DTypeCodec.e4m3ToFloat((byte) i);
        }
    }

    private final MlaShape s;
    private final float scale;
    private final boolean causal;
    private final int[] seqlens;
    private final int[] blockTable;
    private final MemorySegment q;
    private final MemorySegment kv;
    private final MemorySegment kvScales;

    /**
     * @param seqlens    [batch] lengths
     * @param blockTable [batch * max_blocks] block ids, row-major
     * @param kvScales   the F32 scales of an FP8 cache, else null
     */
    public MlaReference(MlaShape shape, float scale, boolean causal, int[] seqlens, int[] blockTable,
                        MemorySegment q, MemorySegment kv, MemorySegment kvScales) {
        this.s = shape;
        this.scale = scale;
        this.causal = causal;
        this.seqlens = seqlens;
        this.blockTable = blockTable;
        this.q = q;
        this.kv = kv;
        this.kvScales = kvScales;
    }

    /**
     * Throws {@link IllegalArgumentException} naming {@code blockTable} if a page that a sequence
     * uses names a block outside the cache (the GPU kernel instead treats its keys as masked).
     */
    public void checkBlockTable() {
        for (int b = 0; b < s.batch(); b++) {
            int pages = (int) ((seqlens[b] + (long) s.pageSize() - 1) / s.pageSize());
            for (int p = 0; p < pages; p++) {
                int block = blockTable[b * s.maxBlocks() + p];
                if (block < 0 || block >= s.numBlocks()) {
                    throw new IllegalArgumentException("blockTable: sequence " + b + " (length " + seqlens[b] + ") page "
                            + p + " names block " + block + ", the cache has blocks 0.." + (s.numBlocks() - 1));
                }
            }
        }
    }

    /** Writes out [batch, seqlen_q, heads_q, 512] BF16 and lse [batch, heads_q, seqlen_q] F32. */
    public void run(MemorySegment out, MemorySegment lse) {
        checkBlockTable();
        int groups = s.batch() * s.headsKv();
        // Few groups (one long sequence, one KV head): the rows of each group run in parallel instead.
        boolean parallelRows = groups < 2 * ForkJoinPool.getCommonPoolParallelism();
        IntStream.range(0, groups).parallel().forEach(g -> group(g / s.headsKv(), g % s.headsKv(), parallelRows, out, lse));
    }

    private void group(int b, int hk, boolean parallelRows, MemorySegment out, MemorySegment lse) {
        int len = seqlens[b];
        float[] keys = keys(b, hk, len);
        int g = s.groups();
        IntStream rows = IntStream.range(0, s.seqlenQ() * g);
        (parallelRows ? rows.parallel() : rows).forEach(r -> row(b, r / g, hk * g + r % g, len, keys, out, lse));
    }

    /** The first {@code len} keys of sequence b, KV head hk, dequantised: [len][head_dim]. */
    private float[] keys(int b, int hk, int len) {
        int d = s.headDim();
        float[] k = new float[Math.multiplyExact(len, d)];
        short[] bf = s.fp8() ? null : new short[d];
        byte[] f8 = s.fp8() ? new byte[d] : null;
        for (int t = 0; t < len; t++) {
            int block = blockTable[b * s.maxBlocks() + t / s.pageSize()];
            long token = ((long) block * s.pageSize() + t % s.pageSize()) * s.headsKv() + hk;
            int base = t * d;
            if (bf != null) {
                MemorySegment.copy(kv, BF16, token * d * 2, bf, 0, d);
                for (int x = 0; x < d; x++) {
                    k[base + x] = Float.intBitsToFloat(bf[x] << 16);
                }
            } else {
                MemorySegment.copy(kv, ValueLayout.JAVA_BYTE, token * d, f8, 0, d);
                for (int grp = 0; grp < s.scaleGroups(); grp++) {
                    float sc = kvScales.getAtIndex(F32, token * s.scaleGroups() + grp);
                    for (int x = grp * MlaConstants.SCALE_GROUP; x < MlaConstants.groupEnd(grp, d); x++) {
                        k[base + x] = MlaConstants.dequantize(E4M3[f8[x] & 0xFF], sc);
                    }
                }
            }
        }
        return k;
    }

    private void row(int b, int i, int h, int len, float[] keys, MemorySegment out, MemorySegment lse) {
        int d = s.headDim();
        int dv = s.headDimV();
        long outOff = (((long) b * s.seqlenQ() + i) * s.headsQ() + h) * dv * 2;
        long lseIndex = ((long) b * s.headsQ() + h) * s.seqlenQ() + i;
        // Causal: query token i of seqlen_q sees keys 0 .. len - seqlen_q + i.
        int visible = causal ? Math.clamp((long) len - s.seqlenQ() + i + 1, 0, len) : len;
        short[] o = new short[dv];
        if (visible == 0) {
            MemorySegment.copy(o, 0, out, BF16, outOff, dv);
            lse.setAtIndex(F32, lseIndex, Float.POSITIVE_INFINITY);
            return;
        }
        float[] qv = new float[d];
        short[] qb = new short[d];
        MemorySegment.copy(q, BF16, (((long) b * s.seqlenQ() + i) * s.headsQ() + h) * d * 2, qb, 0, d);
        for (int x = 0; x < d; x++) {
            qv[x] = Float.intBitsToFloat(qb[x] << 16);
        }
        float[] p = new float[visible];
        float m = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < visible; j++) {
            p[j] = scale * dot(qv, keys, j * d, d);
            m = Math.max(m, p[j]);
        }
        double l = 0;
        for (int j = 0; j < visible; j++) {
            p[j] = (float) Math.exp(p[j] - m);
            l += p[j];
        }
        float[] acc = new float[dv];
        for (int j = 0; j < visible; j++) {
            float pj = p[j];
            int off = j * d;
            for (int x = 0; x < dv; x++) {
                acc[x] += pj * keys[off + x]; // V is the first dv dimensions of K
            }
        }
        for (int x = 0; x < dv; x++) {
            o[x] = DTypeCodec.floatToBf16((float) (acc[x] / l));
        }
        MemorySegment.copy(o, 0, out, BF16, outOff, dv);
        lse.setAtIndex(F32, lseIndex, (float) (m + Math.log(l)));
    }

    /** Four partial sums: independent chains the CPU can overlap (n is a multiple of 4). */
    private static float dot(float[] a, float[] b, int off, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        for (int x = 0; x < n; x += 4) {
            s0 += a[x] * b[off + x];
            s1 += a[x + 1] * b[off + x + 1];
            s2 += a[x + 2] * b[off + x + 2];
            s3 += a[x + 3] * b[off + x + 3];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
