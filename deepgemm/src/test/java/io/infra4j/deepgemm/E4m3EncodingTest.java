package io.infra4j.deepgemm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.infra4j.bindings.kernels.Infra4jKernels;
import io.infra4j.deepgemm.internal.Fp8QuantReference;
import io.infra4j.memory.DTypeCodec;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The reference encodes with {@code DTypeCodec.floatToE4m3(v, true)}, which must be what the kernel's
 * {@code __nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3)} is: round to nearest even, magnitudes
 * past 448 (infinity too) saturated to 448, the sign kept (zeros too). Checked against the naive
 * nearest-code search on every tie between two codes, the floats next to each, and random floats.
 * (NaN differs on purpose: the codec keeps its sign, quantisation writes 0x7F for every NaN.)
 */
class E4m3EncodingTest {

    private static void check(float v) {
        assertEquals(NaiveFp8.encode(v), DTypeCodec.floatToE4m3(v, true), "e4m3 of " + v + " (0x"
                + Integer.toHexString(Float.floatToRawIntBits(v)) + ")");
        assertEquals(NaiveFp8.encode(v), Fp8QuantReference.encode(v, 1f), "the reference's encode of " + v);
    }

    @Test
    void tiesAndTheirNeighboursRoundToNearestEven() {
        for (int sign : new int[] {0, 0x80}) {
            for (int code = 0; code < 0x7E; code++) {
                float a = (float) NaiveFp8.decode(sign | code);
                float b = (float) NaiveFp8.decode(sign | (code + 1));
                float mid = (a + b) / 2; // exact: both have at most 4 significant bits
                for (float v : new float[] {a, b, mid, Math.nextUp(mid), Math.nextDown(mid)}) {
                    check(v);
                }
            }
        }
    }

    @Test
    void saturationAndSpecials() {
        for (float v : new float[] {448f, 449f, 463.99f, 464f, 465f, 480f, 1e6f, Float.MAX_VALUE, Float.POSITIVE_INFINITY,
            -448f, -464f, -1e30f, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 0x1p-10f,
            -0x1p-10f, 0x1.0p-10f * 1.0000001f, 0x1p-11f, -0x1p-11f}) {
            check(v);
        }
        assertEquals(Fp8QuantReference.E4M3_NAN, Fp8QuantReference.encode(Float.NaN, 1f));
        assertEquals(Fp8QuantReference.E4M3_NAN, Fp8QuantReference.encode(Float.intBitsToFloat(0xFFC00000), 1f),
                "a negative NaN too");
        assertEquals(Fp8QuantReference.E4M3_NAN, Fp8QuantReference.encode(Float.POSITIVE_INFINITY, 0f), "inf * 0");
    }

    @Test
    void randomFloatsAcrossE4m3sRange() {
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 200_000; i++) {
            check((float) ((r.nextDouble() * 2 - 1) * Math.scalb(1.0, r.nextInt(-14, 10))));
        }
    }

    @Test
    void theConstantsAreTheHeaders() {
        assertEquals(Infra4jKernels.INFRA4J_FP8_BLOCK(), Fp8QuantReference.BLOCK);
        assertEquals(Infra4jKernels.INFRA4J_FP8_E4M3_MAX(), (int) Fp8QuantReference.E4M3_MAX);
        assertEquals(Fp8QuantReference.BLOCK, Fp8Quant.BLOCK);
    }
}
