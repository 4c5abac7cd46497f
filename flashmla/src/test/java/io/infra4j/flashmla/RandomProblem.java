package io.infra4j.flashmla;

import io.infra4j.memory.DType;
import io.infra4j.memory.DTypeCodec;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A random decode problem on the CPU, built without PagedKvCache: blocks handed out in a random
 * permutation, spare blocks, every unused slot and block NaN, unused table entries garbage.
 */
final class RandomProblem {
    final Tensor q;
    final KvCache kv;
    final Tensor blockTable;
    final Tensor seqlens;
    final int[][] table;
    final int[] lens;

    RandomProblem(TensorScope scope, SplittableRandom r, int[] lens, int seqlenQ, int headsQ, int headsKv, int headDim,
                  int pageSize, boolean fp8) {
        int b = lens.length;
        this.lens = lens.clone();
        int maxPages = 0;
        int used = 0;
        for (int len : lens) {
            int pages = (len + pageSize - 1) / pageSize;
            maxPages = Math.max(maxPages, pages);
            used += pages;
        }
        int numBlocks = used + 1 + r.nextInt(3); // spare blocks stay NaN
        List<Integer> perm = new ArrayList<>();
        for (int i = 0; i < numBlocks; i++) {
            perm.add(i);
        }
        Collections.shuffle(perm, r);
        int width = maxPages + 1; // a spare column of garbage
        table = new int[b][width];
        int next = 0;
        for (int s = 0; s < b; s++) {
            int pages = (lens[s] + pageSize - 1) / pageSize;
            for (int p = 0; p < width; p++) {
                table[s][p] = p < pages ? perm.get(next++) : garbage(r, numBlocks);
            }
        }

        q = scope.empty(DType.BF16, Device.CPU, lens.length, seqlenQ, headsQ, headDim);
        fillNormal(q, r, 1.0);
        Tensor data = scope.empty(fp8 ? DType.F8_E4M3 : DType.BF16, Device.CPU, numBlocks, pageSize, headsKv, headDim);
        TensorOps.fill(data, Double.NaN);
        Tensor scales = null;
        if (fp8) {
            scales = scope.empty(DType.F32, Device.CPU, numBlocks, pageSize, headsKv, headDim / KvCache.SCALE_GROUP);
            TensorOps.fill(scales, Double.NaN);
        }
        for (int s = 0; s < b; s++) {
            for (int t = 0; t < lens[s]; t++) {
                int block = table[s][t / pageSize];
                for (int h = 0; h < headsKv; h++) {
                    for (int x = 0; x < headDim; x++) {
                        if (fp8) {
                            int bits;
                            do {
                                bits = r.nextInt(256);
                            } while ((bits & 0x7F) == 0x7F); // E4M3's NaN
                            data.setBits(bits, block, t % pageSize, h, x);
                        } else {
                            data.set(r.nextGaussian(), block, t % pageSize, h, x);
                        }
                    }
                    if (fp8) {
                        for (int g = 0; g < headDim / KvCache.SCALE_GROUP; g++) {
                            scales.set(0.002 + 0.01 * r.nextDouble(), block, t % pageSize, h, g);
                        }
                    }
                }
            }
        }
        kv = new KvCache(data, scales);
        blockTable = scope.empty(DType.I32, Device.CPU, b, width);
        for (int s = 0; s < b; s++) {
            for (int p = 0; p < width; p++) {
                blockTable.set(table[s][p], s, p);
            }
        }
        seqlens = scope.empty(DType.I32, Device.CPU, b);
        for (int s = 0; s < b; s++) {
            seqlens.set(lens[s], s);
        }
    }

    /** Entries the decode must never read: out of range, negative, or a real block (read would be wrong). */
    private static int garbage(SplittableRandom r, int numBlocks) {
        return switch (r.nextInt(3)) {
            case 0 -> -1 - r.nextInt(1000);
            case 1 -> numBlocks + r.nextInt(1 << 20);
            default -> r.nextInt(numBlocks);
        };
    }

    static void fillNormal(Tensor t, SplittableRandom r, double std) {
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * std);
        }
        t.copyFromFloats(v);
    }

    /** Random lengths in [0, max], with the corners: 0, below seqlen_q, whole pages; the last sees keys in every row. */
    static int[] lengths(SplittableRandom r, int batch, int max, int seqlenQ, int pageSize) {
        int[] lens = new int[batch];
        for (int s = 0; s < batch; s++) {
            lens[s] = switch (r.nextInt(6)) {
                case 0 -> 0;
                case 1 -> r.nextInt(seqlenQ + 1);
                case 2 -> pageSize * (1 + r.nextInt(Math.max(1, max / pageSize)));
                default -> r.nextInt(max + 1);
            };
        }
        lens[batch - 1] = seqlenQ + r.nextInt(max - seqlenQ + 1);
        return lens;
    }

    static float bf16(double v) {
        return DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16((float) v));
    }
}
