package io.infra4j.flashmla;

import io.infra4j.memory.DType;
import io.infra4j.memory.Tensor;

/**
 * MLA decoding the slowest, plainest way, in double precision, reading every element through
 * {@link Tensor#get}: the independent check of the reference. Softmax as written in the paper
 * (exp of score minus the max, divided by the sum), no tiling, no shared code with MlaReference.
 */
final class NaiveMla {
    /** out [b][s_q][h_q][512] and lse [b][h_q][s_q]. */
    record Result(double[][][][] out, double[][][] lse) {}

    private NaiveMla() {}

    static Result decode(Tensor q, KvCache kv, int[][] blockTable, int[] seqlens, double scale, boolean causal) {
        int b = (int) q.size(0);
        int sq = (int) q.size(1);
        int hq = (int) q.size(2);
        int d = (int) q.size(3);
        int hkv = kv.headsKv();
        int page = kv.pageSize();
        int dv = MlaDecode.HEAD_DIM_V;
        double[][][][] out = new double[b][sq][hq][dv];
        double[][][] lse = new double[b][hq][sq];
        for (int s = 0; s < b; s++) {
            int len = seqlens[s];
            double[][][] k = new double[hkv][len][d];
            for (int t = 0; t < len; t++) {
                int block = blockTable[s][t / page];
                for (int h = 0; h < hkv; h++) {
                    for (int x = 0; x < d; x++) {
                        k[h][t][x] = value(kv, block, t % page, h, x);
                    }
                }
            }
            for (int i = 0; i < sq; i++) {
                int last = causal ? len - sq + i : len - 1; // last visible key
                for (int h = 0; h < hq; h++) {
                    double[][] keys = k[h / (hq / hkv)];
                    int n = Math.max(0, Math.min(len, last + 1));
                    if (n == 0) {
                        lse[s][h][i] = Double.POSITIVE_INFINITY;
                        continue;
                    }
                    double[] score = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        double dot = 0;
                        for (int x = 0; x < d; x++) {
                            dot += q.get(s, i, h, x) * keys[j][x];
                        }
                        score[j] = scale * dot;
                        max = Math.max(max, score[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < n; j++) {
                        sum += Math.exp(score[j] - max);
                    }
                    for (int j = 0; j < n; j++) {
                        double p = Math.exp(score[j] - max) / sum;
                        for (int x = 0; x < dv; x++) {
                            out[s][i][h][x] += p * keys[j][x];
                        }
                    }
                    lse[s][h][i] = max + Math.log(sum);
                }
            }
        }
        return new Result(out, lse);
    }

    /** One dequantised value of the cache: BF16 as is, FP8 times its group's scale, in float, rounded to BF16. */
    static double value(KvCache kv, int block, int slot, int head, int x) {
        double v = kv.data().get(block, slot, head, x);
        if (kv.dtype() == DType.F8_E4M3) {
            float scale = (float) kv.scales().get(block, slot, head, x / KvCache.SCALE_GROUP);
            return RandomProblem.bf16((float) v * scale);
        }
        return v;
    }
}
