package io.infra4j.integration;

import io.infra4j.flashmla.KvCache;
import io.infra4j.memory.DType;
import io.infra4j.memory.DTypeCodec;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * A random MLA decode problem in host memory, built fast enough for 64 x 4096-token caches: normal
 * values (FP8: quantised per 128 values, scale amax / 448), blocks handed out in a random
 * permutation with spare ones, every unused slot and block NaN, unused table entries garbage
 * (negative, past the cache, or real blocks).
 */
final class MlaProblem {
    final Tensor q;
    final KvCache kv;
    final Tensor blockTable;
    final Tensor seqlens;
    final int[] lens;

    MlaProblem(TensorScope scope, long seed, int[] lens, int seqlenQ, int headsQ, int headsKv, int headDim, int pageSize,
               boolean fp8) {
        SplittableRandom r = new SplittableRandom(seed);
        int b = lens.length;
        this.lens = lens.clone();
        int maxPages = 0;
        int used = 0;
        for (int len : lens) {
            maxPages = Math.max(maxPages, pages(len, pageSize));
            used += pages(len, pageSize);
        }
        int numBlocks = used + 1 + r.nextInt(8);
        List<Integer> perm = new ArrayList<>(IntStream.range(0, numBlocks).boxed().toList());
        Collections.shuffle(perm, r);
        int width = maxPages + 1;
        int[] table = new int[b * width];
        int[] tokensInBlock = new int[numBlocks]; // 0 for unused blocks: all NaN
        int next = 0;
        for (int s = 0; s < b; s++) {
            for (int p = 0; p < width; p++) {
                if (p < pages(lens[s], pageSize)) {
                    int block = perm.get(next++);
                    table[s * width + p] = block;
                    tokensInBlock[block] = Math.min(pageSize, lens[s] - p * pageSize);
                } else {
                    table[s * width + p] = switch (r.nextInt(3)) {
                        case 0 -> -1 - r.nextInt(1000);
                        case 1 -> numBlocks + r.nextInt(1 << 20);
                        default -> r.nextInt(numBlocks);
                    };
                }
            }
        }
        q = scope.empty(DType.BF16, Device.CPU, b, seqlenQ, headsQ, headDim);
        long qSeed = r.nextLong();
        long rows = (long) b * seqlenQ * headsQ;
        IntStream.range(0, (int) rows).parallel().forEach(row -> {
            SplittableRandom rr = new SplittableRandom(qSeed + row);
            short[] v = new short[headDim];
            for (int x = 0; x < headDim; x++) {
                v[x] = DTypeCodec.floatToBf16((float) rr.nextGaussian());
            }
            MemorySegment.copy(v, 0, q.segment(), ValueLayout.JAVA_SHORT_UNALIGNED, row * headDim * 2L, headDim);
        });
        Tensor data = scope.empty(fp8 ? DType.F8_E4M3 : DType.BF16, Device.CPU, numBlocks, pageSize, headsKv, headDim);
        Tensor scales = fp8 ? scope.empty(DType.F32, Device.CPU, numBlocks, pageSize, headsKv, (headDim + KvCache.SCALE_GROUP - 1) / KvCache.SCALE_GROUP) : null;
        long kvSeed = r.nextLong();
        IntStream.range(0, numBlocks).parallel().forEach(block -> {
            SplittableRandom rr = new SplittableRandom(kvSeed + block);
            for (int slot = 0; slot < pageSize; slot++) {
                for (int h = 0; h < headsKv; h++) {
                    long token = ((long) block * pageSize + slot) * headsKv + h;
                    writeToken(data, scales, token, headDim, slot < tokensInBlock[block] ? rr : null);
                }
            }
        });
        kv = new KvCache(data, scales);
        blockTable = scope.empty(DType.I32, Device.CPU, b, width);
        MemorySegment.copy(table, 0, blockTable.segment(), ValueLayout.JAVA_INT_UNALIGNED, 0, table.length);
        seqlens = scope.empty(DType.I32, Device.CPU, b);
        MemorySegment.copy(lens, 0, seqlens.segment(), ValueLayout.JAVA_INT_UNALIGNED, 0, b);
    }

    private static int pages(int len, int pageSize) {
        return (len + pageSize - 1) / pageSize;
    }

    /** One token's head: random values, or NaN when {@code r} is null (an unused slot). */
    private static void writeToken(Tensor data, Tensor scales, long token, int d, SplittableRandom r) {
        MemorySegment seg = data.segment();
        if (scales == null) {
            short[] v = new short[d];
            for (int x = 0; x < d; x++) {
                v[x] = r == null ? (short) GpuTestSupport.poison(DType.BF16) : DTypeCodec.floatToBf16((float) r.nextGaussian());
            }
            MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_SHORT_UNALIGNED, token * d * 2, d);
            return;
        }
        int groups = (d + KvCache.SCALE_GROUP - 1) / KvCache.SCALE_GROUP; // 576: the fifth group holds 64
        byte[] e = new byte[d];
        float[] sc = new float[groups];
        for (int g = 0; g < groups; g++) {
            if (r == null) {
                sc[g] = Float.intBitsToFloat((int) GpuTestSupport.poison(DType.F32));
                for (int x = g * KvCache.SCALE_GROUP; x < Math.min((g + 1) * KvCache.SCALE_GROUP, d); x++) {
                    e[x] = (byte) GpuTestSupport.poison(DType.F8_E4M3);
                }
                continue;
            }
            float[] v = new float[Math.min((g + 1) * KvCache.SCALE_GROUP, d) - g * KvCache.SCALE_GROUP];
            float amax = 0;
            for (int x = 0; x < v.length; x++) {
                v[x] = (float) r.nextGaussian();
                amax = Math.max(amax, Math.abs(v[x]));
            }
            sc[g] = amax / 448f;
            for (int x = 0; x < v.length; x++) {
                e[g * KvCache.SCALE_GROUP + x] = DTypeCodec.floatToE4m3(v[x] / sc[g], true);
            }
        }
        MemorySegment.copy(e, 0, seg, ValueLayout.JAVA_BYTE, token * d, d);
        MemorySegment.copy(sc, 0, scales.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, token * groups * 4, groups);
    }

    /** FlashMLA's test lengths: all {@code sk}, or normal around it (at least seqlen_q); then {@code zeros} empty ones. */
    static int[] lengths(long seed, int batch, int sk, int seqlenQ, boolean varlen, int zeros) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        int[] lens = new int[batch];
        for (int s = 0; s < batch; s++) {
            lens[s] = varlen ? Math.max(seqlenQ, (int) Math.round(sk + r.nextGaussian() * sk / 2)) : sk;
        }
        for (int z = 0; z < Math.min(zeros, batch); z++) {
            lens[r.nextInt(batch)] = 0;
        }
        if (zeros > 0 && batch > 1 && seqlenQ > 1) {
            lens[r.nextInt(batch)] = seqlenQ - 1; // a sequence shorter than the step: its first causal rows see nothing
        }
        return lens;
    }
}
