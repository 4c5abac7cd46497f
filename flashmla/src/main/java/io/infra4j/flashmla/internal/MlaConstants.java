package io.infra4j.flashmla.internal;

import io.infra4j.memory.DTypeCodec;

/** The sizes mla.h fixes (its {@code INFRA4J_MLA_*} constants) and those the kernel is built for. */
public final class MlaConstants {
    /** Width of V, the first dimensions of K: {@code INFRA4J_MLA_HEAD_DIM_V}. */
    public static final int HEAD_DIM_V = 512;
    /** Values per FP8 scale: {@code INFRA4J_MLA_SCALE_GROUP}. */
    public static final int SCALE_GROUP = 128;

    private MlaConstants() {}

    /** Widths of q and K: DeepSeek's 512 + 64 (latent and RoPE), or the latent alone. */
    public static boolean isHeadDim(long d) {
        return d == 576 || d == 512;
    }

    /**
     * FP8 scales per token and head: mla.h's {@code ceil(head_dim / 128)}, one per 128 values, the
     * last group shorter where 128 does not divide head_dim (576: four of 128 and one of 64).
     */
    public static int scaleGroups(int headDim) {
        return (headDim + SCALE_GROUP - 1) / SCALE_GROUP;
    }

    /** The values of scale group {@code group}: [group * 128, min((group + 1) * 128, headDim)). */
    public static int groupEnd(int group, int headDim) {
        return Math.min((group + 1) * SCALE_GROUP, headDim);
    }

    /** Whether an FP8 cache may have this head_dim: any the kernels take (512 and 576; whole 16-value pieces). */
    public static boolean isFp8HeadDim(long d) {
        return d % 16 == 0;
    }

    /**
     * One FP8 cache value as the decode uses it: {@code e4m3 * scale} in float, rounded to BF16 (to
     * nearest even), which is what the kernel's tensor cores take and how FlashMLA's tests dequantise.
     */
    public static float dequantize(float e4m3, float scale) {
        return DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(e4m3 * scale));
    }

    /** Tokens per cache block. */
    public static boolean isPageSize(long p) {
        return p == 16 || p == 32 || p == 64;
    }
}
