package io.infra4j.flashmla;

import io.infra4j.flashmla.internal.MlaConstants;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.util.Arrays;

/**
 * A paged KV cache as the decode reads it: {@code data} [num_blocks, page_size, heads_kv, head_dim]
 * in BF16, or in F8_E4M3 with {@code scales} [num_blocks, page_size, heads_kv, head_dim / 128] in
 * F32 (a value is {@code e4m3 * scale}, rounded to BF16 for the math, one scale per 128 consecutive
 * values of a token's head; so FP8 caches need head_dim 512, a whole number of groups).
 * V is the first {@link MlaDecode#HEAD_DIM_V} dimensions of K. The record only bundles the tensors;
 * it does not own them.
 */
public record KvCache(Tensor data, Tensor scales) {
    /** Values per FP8 scale. */
    public static final int SCALE_GROUP = MlaConstants.SCALE_GROUP;

    /** Checks the layout (not the device or the page size, which the decode checks with the rest). */
    public KvCache {
        if (data == null) {
            throw new IllegalArgumentException("kv: expected a tensor, got null");
        }
        if (data.rank() != 4) {
            throw new IllegalArgumentException("kv: expected rank 4 [num_blocks, page_size, heads_kv, head_dim], got "
                    + data);
        }
        if (data.dtype() == DType.BF16) {
            if (scales != null) {
                throw new IllegalArgumentException("kvScales: a BF16 cache takes no scales, got " + scales);
            }
        } else if (data.dtype() == DType.F8_E4M3) {
            checkScales(data, scales);
        } else {
            throw new IllegalArgumentException("kv: expected dtype BF16 or F8_E4M3, got " + data.dtype());
        }
    }

    private static void checkScales(Tensor data, Tensor scales) {
        long d = data.size(3);
        if (!MlaConstants.isFp8HeadDim(d)) {
            throw new IllegalArgumentException("kv: an F8_E4M3 cache needs head_dim a multiple of 16"
                    + " (whole 16-value pieces; one scale per " + SCALE_GROUP + " values), got head_dim " + d);
        }
        if (scales == null) {
            throw new IllegalArgumentException("kvScales: an F8_E4M3 cache needs F32 scales, got null");
        }
        if (scales.dtype() != DType.F32) {
            throw new IllegalArgumentException("kvScales: expected dtype F32, got " + scales.dtype());
        }
        long[] expected = data.shape();
        expected[3] = MlaConstants.scaleGroups((int) d);
        if (!Arrays.equals(expected, scales.shape())) {
            throw new IllegalArgumentException("kvScales: expected shape " + Arrays.toString(expected) + " for kv "
                    + Arrays.toString(data.shape()) + ", got " + Arrays.toString(scales.shape()));
        }
    }

    /** A BF16 cache. */
    public static KvCache bf16(Tensor data) {
        return new KvCache(data, null);
    }

    /** An F8_E4M3 cache with its F32 scales. */
    public static KvCache fp8(Tensor data, Tensor scales) {
        if (data != null && data.dtype() != DType.F8_E4M3) {
            throw new IllegalArgumentException("kv: expected dtype F8_E4M3, got " + data.dtype());
        }
        return new KvCache(data, scales);
    }

    public boolean isFp8() {
        return scales != null;
    }

    public DType dtype() {
        return data.dtype();
    }

    public int numBlocks() {
        return (int) Math.min(data.size(0), Integer.MAX_VALUE);
    }

    public int pageSize() {
        return (int) Math.min(data.size(1), Integer.MAX_VALUE);
    }

    public int headsKv() {
        return (int) Math.min(data.size(2), Integer.MAX_VALUE);
    }

    public int headDim() {
        return (int) Math.min(data.size(3), Integer.MAX_VALUE);
    }

    public Device device() {
        return data.device();
    }
}
