package io.infra4j.deepgemm.internal;

import io.infra4j.memory.DTypeCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * FP8 quantisation in Java, bit for bit as fp8_quant.cu computes it: the CPU path and the GPU tests'
 * oracle. Per group (1 x 128 values of a row, or a 128 x 128 block):
 * <pre>
 *   amax  = max(max |x|, 1e-4)          over the float32 values of the BF16 inputs
 *   mul   = 448 / amax                   float32, once per group
 *   e4m3  = saturate(rne(x * mul))       one float32 product per value, then to e4m3 (+-448 at most)
 *   scale = amax / 448                   float32
 * </pre>
 * NaN propagates as in DeepGEMM's PyTorch casts, in one canonical form: a group holding a NaN gets
 * scale NaN ({@code 0x7FC00000}) and every value NaN ({@code 0x7F}). A group holding an infinity (and
 * no NaN) gets scale +inf, its infinities NaN and its finite values a signed zero.
 *
 * <p>The max is taken on the bits of |x| (for non-negative floats their order is the numbers' order,
 * and NaN bits exceed +inf), so the NaN rule needs no special case and equals the kernel's.
 */
public final class Fp8QuantReference {
    /** Values per scale along a row, and rows per block: {@code INFRA4J_FP8_BLOCK}. */
    public static final int BLOCK = 128;
    /** E4M3's largest finite value: {@code INFRA4J_FP8_E4M3_MAX}. */
    public static final float E4M3_MAX = 448f;
    /** The smallest amax a scale is made from, so that all-zero groups get one: {@code INFRA4J_FP8_AMAX_FLOOR}. */
    public static final float AMAX_FLOOR = 1e-4f;
    /** The e4m3 NaN written for every NaN value. */
    public static final byte E4M3_NAN = 0x7F;
    /** The float32 NaN written for every NaN scale. */
    public static final int SCALE_NAN_BITS = 0x7FC00000;

    private static final int AMAX_FLOOR_BITS = Float.floatToRawIntBits(AMAX_FLOOR);

    private Fp8QuantReference() {}

    // ---- one group ----

    /** The group's amax from the float bits of its largest |x| (0 for no values): the floor applied, NaN kept. */
    public static float amax(int absMaxBits) {
        return Float.intBitsToFloat(Math.max(absMaxBits, AMAX_FLOOR_BITS));
    }

    /** The factor that maps the group onto e4m3's range. */
    public static float multiplier(float amax) {
        return E4M3_MAX / amax;
    }

    /** The float bits of the scale that maps the e4m3 values back. */
    public static int scaleBits(float amax) {
        return Float.isNaN(amax) ? SCALE_NAN_BITS : Float.floatToRawIntBits(amax / E4M3_MAX);
    }

    /** One value: e4m3 of {@code x * multiplier}, saturated, NaN as {@link #E4M3_NAN}. */
    public static byte encode(float x, float multiplier) {
        float v = x * multiplier;
        return Float.isNaN(v) ? E4M3_NAN : DTypeCodec.floatToE4m3(v, true);
    }

    /** Float bits of |x| for BF16 bits: the order of these ints is the order of the magnitudes. */
    private static int absBits(MemorySegment x, long element) {
        return (x.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * element) & 0x7FFF) << 16;
    }

    private static float value(MemorySegment x, long element) {
        return DTypeCodec.bf16ToFloat(x.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * element));
    }

    // ---- matrices: the arguments of fp8_gemm.h's functions ----

    /**
     * BF16 {@code x} [rows, cols] (row stride {@code ld} elements) to e4m3 {@code out} [rows, cols]
     * and F32 {@code scales} [rows, ceil(cols / 128)], both contiguous.
     */
    public static void perToken(MemorySegment x, long rows, long cols, long ld, MemorySegment out, MemorySegment scales) {
        long groups = ceilDiv(cols, BLOCK);
        for (long r = 0; r < rows; r++) {
            for (long g = 0; g < groups; g++) {
                long from = g * BLOCK;
                long to = Math.min(from + BLOCK, cols);
                int absMax = 0;
                for (long c = from; c < to; c++) {
                    absMax = Math.max(absMax, absBits(x, r * ld + c));
                }
                float amax = amax(absMax);
                float mul = multiplier(amax);
                for (long c = from; c < to; c++) {
                    out.set(ValueLayout.JAVA_BYTE, r * cols + c, encode(value(x, r * ld + c), mul));
                }
                scales.set(ValueLayout.JAVA_INT_UNALIGNED, 4 * (r * groups + g), scaleBits(amax));
            }
        }
    }

    /** The same per 128 x 128 block: {@code scales} [ceil(rows / 128), ceil(cols / 128)]. */
    public static void perBlock(MemorySegment x, long rows, long cols, long ld, MemorySegment out, MemorySegment scales) {
        long rowBlocks = ceilDiv(rows, BLOCK);
        long colBlocks = ceilDiv(cols, BLOCK);
        for (long rb = 0; rb < rowBlocks; rb++) {
            long r0 = rb * BLOCK;
            long r1 = Math.min(r0 + BLOCK, rows);
            for (long cb = 0; cb < colBlocks; cb++) {
                long c0 = cb * BLOCK;
                long c1 = Math.min(c0 + BLOCK, cols);
                int absMax = 0;
                for (long r = r0; r < r1; r++) {
                    for (long c = c0; c < c1; c++) {
                        absMax = Math.max(absMax, absBits(x, r * ld + c));
                    }
                }
                float amax = amax(absMax);
                float mul = multiplier(amax);
                for (long r = r0; r < r1; r++) {
                    for (long c = c0; c < c1; c++) {
                        out.set(ValueLayout.JAVA_BYTE, r * cols + c, encode(value(x, r * ld + c), mul));
                    }
                }
                scales.set(ValueLayout.JAVA_INT_UNALIGNED, 4 * (rb * colBlocks + cb), scaleBits(amax));
            }
        }
    }

    /**
     * F32 {@code scales} [groups][m][kb] (row-major) to {@code out} [groups][kb][scaleRows(m)], the
     * padding rows 0.
     */
    public static void toMnMajor(MemorySegment scales, long groups, long m, long kb, MemorySegment out) {
        long mPad = scaleRows(m);
        for (long g = 0; g < groups; g++) {
            for (long k = 0; k < kb; k++) {
                for (long r = 0; r < mPad; r++) {
                    int bits = r < m ? scales.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * ((g * m + r) * kb + k)) : 0;
                    out.set(ValueLayout.JAVA_INT_UNALIGNED, 4 * ((g * kb + k) * mPad + r), bits);
                }
            }
        }
    }

    /** {@code infra4j_fp8_scale_rows}: m rounded up to a multiple of 4 (16 bytes of floats). */
    public static long scaleRows(long m) {
        if (m < 0 || m > Long.MAX_VALUE - 3) {
            throw new IllegalArgumentException("m: expected 0 <= m <= " + (Long.MAX_VALUE - 3) + ", got " + m);
        }
        return (m + 3) / 4 * 4;
    }

    public static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
