package io.infra4j.memory;

/**
 * Exact conversions between float32 and the narrow floating-point dtypes, bit for bit as PyTorch's
 * CPU conversions (c10) do them, and as the GPU kernels ({@code native-src/src/main/cuda/common/codec.cuh})
 * do them too.
 *
 * <p>Rules:
 * <ul>
 *   <li>Encoding from float32 rounds to nearest, ties to even; values too small become (signed) zero.
 *   <li>Too large: BF16, F16 and F8_E5M2 give infinity; F8_E4M3 ({@code float8_e4m3fn}, no infinity)
 *       gives NaN for magnitudes that round past 448 and for infinities. With {@code saturate} every
 *       dtype instead gives its largest finite value with the input's sign (infinities too).
 *   <li>NaN in: BF16 gives {@code 0x7FC0} (sign dropped, as c10); F16 gives {@code 0x7E00} with the
 *       sign; the FP8 types give {@code 0x7F} with the sign. Saturation never touches NaN.
 *   <li>Decoding to float32 is exact. A NaN keeps its sign and payload and is made quiet
 *       ({@code 0x7FC00000 | payload}), except BF16, whose bits are simply shifted up.
 * </ul>
 * All methods work on raw bits (an {@code int} for float32 bits) so that NaN payloads survive.
 */
public final class DTypeCodec {
    private DTypeCodec() {}

    // ---- decoding: narrow bits -> float32 bits ----

    public static int bf16ToF32Bits(short bf16) {
        return (bf16 & 0xFFFF) << 16;
    }

    public static int f16ToF32Bits(short f16) {
        return minifloatToF32Bits(f16 & 0xFFFF, 5, 10, false);
    }

    public static int e4m3ToF32Bits(byte e4m3) {
        return minifloatToF32Bits(e4m3 & 0xFF, 4, 3, true);
    }

    public static int e5m2ToF32Bits(byte e5m2) {
        return minifloatToF32Bits(e5m2 & 0xFF, 5, 2, false);
    }

    private static int minifloatToF32Bits(int bits, int expBits, int manBits, boolean e4m3fn) {
        int sign = (bits >>> (expBits + manBits)) << 31;
        int exp = (bits >>> manBits) & ((1 << expBits) - 1);
        int man = bits & ((1 << manBits) - 1);
        int bias = (1 << (expBits - 1)) - 1;
        int expMax = (1 << expBits) - 1;
        if (e4m3fn) {
            if (exp == expMax && man == (1 << manBits) - 1) {
                return sign | 0x7FC00000 | (man << (23 - manBits));
            }
        } else if (exp == expMax) {
            return man == 0 ? (sign | 0x7F800000) : (sign | 0x7FC00000 | (man << (23 - manBits)));
        }
        if (exp == 0) {
            if (man == 0) {
                return sign;
            }
            // Subnormal: man * 2^(1 - bias - manBits), exact in float32.
            float v = man * Float.intBitsToFloat((127 + 1 - bias - manBits) << 23);
            return sign | Float.floatToRawIntBits(v);
        }
        return sign | ((exp - bias + 127) << 23) | (man << (23 - manBits));
    }

    public static float bf16ToFloat(short bf16) {
        return Float.intBitsToFloat(bf16ToF32Bits(bf16));
    }

    public static float f16ToFloat(short f16) {
        return Float.intBitsToFloat(f16ToF32Bits(f16));
    }

    public static float e4m3ToFloat(byte e4m3) {
        return Float.intBitsToFloat(e4m3ToF32Bits(e4m3));
    }

    public static float e5m2ToFloat(byte e5m2) {
        return Float.intBitsToFloat(e5m2ToF32Bits(e5m2));
    }

    // ---- encoding: float32 bits -> narrow bits ----

    public static short f32BitsToBf16(int u, boolean saturate) {
        if ((u & 0x7FFFFFFF) > 0x7F800000) {
            return (short) 0x7FC0;
        }
        int r = (u + 0x7FFF + ((u >>> 16) & 1)) >>> 16;
        if (saturate && (r & 0x7FFF) == 0x7F80) {
            r = (r & 0x8000) | 0x7F7F;
        }
        return (short) r;
    }

    public static short f32BitsToF16(int w, boolean saturate) {
        int sign = w & 0x80000000;
        int abs = w ^ sign;
        int h;
        if (Integer.compareUnsigned(abs, 0x7F800000) > 0) {
            h = 0x7E00;
        } else if (abs >= 0x477FF000) { // rounds to 65536 or more: infinity
            h = saturate ? 0x7BFF : 0x7C00;
        } else if (abs < 0x38800000) { // below 2^-14: subnormal, quantum 2^-24
            // Adding 0.5 (whose ulp is 2^-24) rounds to nearest even in the float unit.
            h = Float.floatToRawIntBits(Float.intBitsToFloat(abs) + 0.5f) - 0x3F000000;
        } else {
            int odd = (abs >>> 13) & 1;
            h = (abs + 0xC8000FFF + odd) >>> 13; // rebias by -112 exponents, round to nearest even
        }
        return (short) ((sign >>> 16) | h);
    }

    public static byte f32BitsToE4m3(int w, boolean saturate) {
        int sign = w & 0x80000000;
        int u = w ^ sign;
        if (saturate && u >= 0x43E00000 && u <= 0x7F800000) { // |x| >= 448 or infinite: 448
            u = 0x43E00000;
        }
        int r;
        if (u >= 0x43F00000) { // 480 or more before rounding, infinity or NaN: NaN
            r = 0x7F;
        } else if (u < 0x3C800000) { // below 2^-6: subnormal, quantum 2^-9
            r = Float.floatToRawIntBits(Float.intBitsToFloat(u) + 16384.0f) - 0x46800000;
        } else {
            int odd = (u >>> 20) & 1;
            r = (u + 0xC407FFFF + odd) >>> 20; // rebias by -120 exponents, round to nearest even
        }
        return (byte) (r | (sign >>> 24));
    }

    public static byte f32BitsToE5m2(int w, boolean saturate) {
        int sign = w & 0x80000000;
        int u = w ^ sign;
        int r;
        if (u > 0x7F800000) {
            r = 0x7F;
        } else if (u >= 0x47700000) { // rounds to 65536 or more: infinity
            r = saturate ? 0x7B : 0x7C;
        } else if (u < 0x38800000) { // below 2^-14: subnormal, quantum 2^-16
            r = Float.floatToRawIntBits(Float.intBitsToFloat(u) + 128.0f) - 0x43000000;
        } else {
            int odd = (u >>> 21) & 1;
            r = (u + 0xC80FFFFF + odd) >>> 21; // rebias by -112 exponents, round to nearest even
        }
        return (byte) (r | (sign >>> 24));
    }

    public static short floatToBf16(float f) {
        return f32BitsToBf16(Float.floatToRawIntBits(f), false);
    }

    public static short floatToF16(float f) {
        return f32BitsToF16(Float.floatToRawIntBits(f), false);
    }

    public static byte floatToE4m3(float f, boolean saturate) {
        return f32BitsToE4m3(Float.floatToRawIntBits(f), saturate);
    }

    public static byte floatToE5m2(float f, boolean saturate) {
        return f32BitsToE5m2(Float.floatToRawIntBits(f), saturate);
    }

    // ---- by dtype: raw element bits (zero-extended into a long) ----

    /** Float32 bits of one element of a floating-point dtype, given its raw bits. */
    public static int toF32Bits(DType dtype, long raw) {
        return switch (dtype) {
            case F32 -> (int) raw;
            case F16 -> f16ToF32Bits((short) raw);
            case BF16 -> bf16ToF32Bits((short) raw);
            case F8_E4M3 -> e4m3ToF32Bits((byte) raw);
            case F8_E5M2 -> e5m2ToF32Bits((byte) raw);
            default -> throw new IllegalArgumentException("dtype: expected a floating-point dtype, got " + dtype);
        };
    }

    /** Raw bits (zero-extended) of the element of a floating-point dtype nearest to float32 bits {@code f32}. */
    public static long fromF32Bits(DType dtype, int f32, boolean saturate) {
        return switch (dtype) {
            case F32 -> f32 & 0xFFFFFFFFL;
            case F16 -> f32BitsToF16(f32, saturate) & 0xFFFFL;
            case BF16 -> f32BitsToBf16(f32, saturate) & 0xFFFFL;
            case F8_E4M3 -> f32BitsToE4m3(f32, saturate) & 0xFFL;
            case F8_E5M2 -> f32BitsToE5m2(f32, saturate) & 0xFFL;
            default -> throw new IllegalArgumentException("dtype: expected a floating-point dtype, got " + dtype);
        };
    }

    /** Raw bits of one element converted from {@code from} to {@code to}; identical dtypes keep the bits. */
    public static long convert(DType from, DType to, long raw, boolean saturate) {
        if (from == to) {
            return raw;
        }
        return fromF32Bits(to, toF32Bits(from, raw), saturate);
    }

    /**
     * Raw bits of {@code value} in {@code dtype}, as a fill value: floating-point dtypes go through
     * float32 (round to nearest even), integers must fit the type exactly, BOOL takes 0 or 1.
     */
    public static long encodeScalar(DType dtype, double value) {
        if (dtype.isFloatingPoint()) {
            return fromF32Bits(dtype, Float.floatToRawIntBits((float) value), false);
        }
        if (Double.isNaN(value) || value != Math.rint(value)) {
            throw new IllegalArgumentException("value: " + dtype + " takes whole numbers, got " + value);
        }
        long v = (long) value;
        long min = switch (dtype) {
            case I8 -> Byte.MIN_VALUE;
            case U8, BOOL -> 0;
            case I32 -> Integer.MIN_VALUE;
            default -> Long.MIN_VALUE;
        };
        long max = switch (dtype) {
            case I8 -> Byte.MAX_VALUE;
            case U8 -> 255;
            case BOOL -> 1;
            case I32 -> Integer.MAX_VALUE;
            default -> Long.MAX_VALUE;
        };
        if (v < min || v > max || (dtype == DType.I64 && (value >= 0x1p63 || value < -0x1p63))) {
            throw new IllegalArgumentException("value: " + value + " does not fit " + dtype + " [" + min + ", " + max + "]");
        }
        return dtype.byteSize() == 8 ? v : v & ((1L << (8 * dtype.byteSize())) - 1);
    }

    /** The value of raw element bits as a double (exact for every dtype but I64 beyond 2^53). */
    public static double decodeScalar(DType dtype, long raw) {
        return switch (dtype) {
            case F32, F16, BF16, F8_E4M3, F8_E5M2 -> Float.intBitsToFloat(toF32Bits(dtype, raw));
            case I8 -> (byte) raw;
            case U8, BOOL -> raw & 0xFF;
            case I32 -> (int) raw;
            case I64 -> raw;
        };
    }
}
