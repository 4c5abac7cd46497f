package io.infra4j.flashmla.internal;

import io.infra4j.memory.DTypeCodec;

/**
 * Quantises KV tokens to F8_E4M3 with one F32 scale per 128 consecutive values of a token's head
 * (the last group of a 576-value head holds 64):
 * {@code scale = amax / 448} (E4M3's largest finite value), {@code e4m3 = saturate(x / scale)}, so
 * that {@code e4m3 * scale} restores x to within E4M3's rounding. An all-zero group gets scale 1.
 */
public final class Fp8Quantizer {
    /** E4M3's largest finite value. */
    public static final float E4M3_MAX = 448f;

    private Fp8Quantizer() {}

    /**
     * Quantises {@code values} (rows of {@code headDim}) into {@code e4m3} (same length) and
     * {@code scales} ({@link MlaConstants#scaleGroups} per row). Values must be finite.
     */
    public static void quantize(float[] values, int headDim, byte[] e4m3, float[] scales) {
        int groups = MlaConstants.scaleGroups(headDim);
        for (int gi = 0; gi < values.length / headDim * groups; gi++) {
            int rowStart = gi / groups * headDim;
            int g = gi % groups;
            int from = rowStart + g * MlaConstants.SCALE_GROUP;
            int to = rowStart + MlaConstants.groupEnd(g, headDim);
            float amax = 0;
            for (int x = from; x < to; x++) {
                float v = values[x];
                if (!Float.isFinite(v)) {
                    int row = x / headDim;
                    throw new IllegalArgumentException("tokens: FP8 quantisation needs finite values, row " + row
                            + " (token * heads_kv + head) holds " + v + " at dimension " + (x - row * headDim));
                }
                amax = Math.max(amax, Math.abs(v));
            }
            float scale = amax / E4M3_MAX;
            if (!(scale > 0)) {
                scale = 1f; // all zeros (or so small that amax / 448 underflows): any scale gives zeros
            }
            scales[gi] = scale;
            for (int x = from; x < to; x++) {
                e4m3[x] = DTypeCodec.floatToE4m3(values[x] / scale, true);
            }
        }
    }
}
