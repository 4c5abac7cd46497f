package io.infra4j.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Checks {@link DTypeCodec} against the independent {@link ReferenceFloatFormat}: every narrow
 * pattern decoded, every one of the 2^32 float32 patterns encoded (with and without saturation),
 * round trips, {@link DTypeCodec#convert} for every pair of floating-point dtypes, and the scalar
 * encoders.
 */
class DTypeCodecExhaustiveTest {

    private static final DType[] NARROW = {DType.BF16, DType.F16, DType.F8_E4M3, DType.F8_E5M2};
    private static final DType[] FLOATS = {DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2};

    // ------------------------------------------------------------------ helpers

    private static int codecDecode(DType dt, int pattern) {
        return switch (dt) {
            case BF16 -> DTypeCodec.bf16ToF32Bits((short) pattern);
            case F16 -> DTypeCodec.f16ToF32Bits((short) pattern);
            case F8_E4M3 -> DTypeCodec.e4m3ToF32Bits((byte) pattern);
            case F8_E5M2 -> DTypeCodec.e5m2ToF32Bits((byte) pattern);
            default -> throw new IllegalArgumentException(dt.toString());
        };
    }

    private static float codecDecodeToFloat(DType dt, int pattern) {
        return switch (dt) {
            case BF16 -> DTypeCodec.bf16ToFloat((short) pattern);
            case F16 -> DTypeCodec.f16ToFloat((short) pattern);
            case F8_E4M3 -> DTypeCodec.e4m3ToFloat((byte) pattern);
            case F8_E5M2 -> DTypeCodec.e5m2ToFloat((byte) pattern);
            default -> throw new IllegalArgumentException(dt.toString());
        };
    }

    private static int codecEncode(DType dt, int f32Bits, boolean saturate) {
        return switch (dt) {
            case BF16 -> DTypeCodec.f32BitsToBf16(f32Bits, saturate) & 0xFFFF;
            case F16 -> DTypeCodec.f32BitsToF16(f32Bits, saturate) & 0xFFFF;
            case F8_E4M3 -> DTypeCodec.f32BitsToE4m3(f32Bits, saturate) & 0xFF;
            case F8_E5M2 -> DTypeCodec.f32BitsToE5m2(f32Bits, saturate) & 0xFF;
            default -> throw new IllegalArgumentException(dt.toString());
        };
    }

    private static int enc(DType dt, float f, boolean saturate) {
        return codecEncode(dt, Float.floatToRawIntBits(f), saturate);
    }

    private static String hex32(int bits) {
        return String.format("0x%08X", bits);
    }

    private static void assertHex(int expected, int actual) {
        assertEquals(String.format("0x%X", expected), String.format("0x%X", actual));
    }

    private static void assertHex(int expected, int actual, String message) {
        assertEquals(String.format("0x%X", expected), String.format("0x%X", actual), message);
    }

    private static ReferenceFloatFormat ref(DType dt) {
        return ReferenceFloatFormat.of(dt);
    }

    // ------------------------------------------------------------------ the reference itself

    @ParameterizedTest
    @EnumSource(names = {"BF16", "F16", "F8_E4M3", "F8_E5M2"})
    void referenceFormatIsSelfConsistent(DType dt) {
        ReferenceFloatFormat r = ref(dt);
        assertEquals(dt.maxFinite(), r.maxFinite, "max finite of " + dt);
        int eMaxField = (1 << r.expBits) - 1;
        if (r.hasInfinity) {
            // IEEE: largest finite is (2 - 2^-m) * 2^(emaxField - 1 - bias).
            assertEquals((2 - Math.pow(2, -r.manBits)) * Math.pow(2, eMaxField - 1 - r.bias), r.maxFinite);
            assertEquals(eMaxField << r.manBits, r.infPattern);
        } else {
            assertEquals(-1, r.infPattern);
        }
        // Positive non-NaN patterns decode to strictly increasing values; negative ones mirror them.
        double prev = -1;
        int nans = 0;
        for (int p = 0; p < r.signBit; p++) {
            double v = r.decode(p);
            double n = r.decode(p | r.signBit);
            if (Double.isNaN(v)) {
                assertTrue(Double.isNaN(n));
                nans += 2;
                continue;
            }
            assertTrue(v > prev, dt + " " + r.hex(p));
            assertEquals(Double.doubleToRawLongBits(-v), Double.doubleToRawLongBits(n));
            prev = v;
        }
        int expectedNans = switch (dt) {
            case BF16 -> 2 * 127;
            case F16 -> 2 * 1023;
            case F8_E4M3 -> 2;
            case F8_E5M2 -> 2 * 3;
            default -> throw new AssertionError();
        };
        assertEquals(expectedNans, nans, "NaN patterns of " + dt);
    }

    /**
     * Cross-checks the reference's rint-based rounding against a plain nearest-neighbour search over
     * the decoded values (ties to the pattern with an even last bit), at every midpoint between
     * neighbouring values, just beside each midpoint, at each value, and at random floats.
     */
    @ParameterizedTest
    @EnumSource(names = {"BF16", "F16", "F8_E4M3", "F8_E5M2"})
    void referenceRoundingAgreesWithNearestNeighbourSearch(DType dt) {
        ReferenceFloatFormat r = ref(dt);
        // Positive finite values in order, followed by the "virtual" next value one ulp past the max.
        int n = r.maxFinitePattern + 1;
        double[] values = new double[n + 1];
        for (int p = 0; p < n; p++) {
            values[p] = r.decode(p);
        }
        values[n] = r.maxFinite + (r.maxFinite - values[n - 2]); // one top-binade ulp past the max
        List<Float> probes = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            float mid = (float) ((values[p] + values[p + 1]) / 2);
            assertEquals((values[p] + values[p + 1]) / 2, mid, 0.0, "midpoint exact in float");
            float val = (float) values[p];
            for (float f : new float[] {mid, Math.nextUp(mid), Math.nextDown(mid), val, Math.nextUp(val),
                    Math.nextDown(val)}) {
                probes.add(f);
            }
        }
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < 200_000; i++) {
            probes.add(Float.intBitsToFloat(rnd.nextInt()));
        }
        probes.add(Float.MAX_VALUE);
        probes.add(Float.MIN_VALUE);
        for (float f : probes) {
            if (Float.isNaN(f) || Float.isInfinite(f)) {
                continue;
            }
            for (float x : new float[] {f, -f}) {
                double a = Math.abs((double) x);
                int sign = Float.floatToRawIntBits(x) < 0 ? r.signBit : 0;
                int expectedPlain;
                int expectedSat;
                if (a >= values[n]) {
                    expectedPlain = r.hasInfinity ? r.infPattern : r.nanPattern;
                    expectedSat = r.maxFinitePattern;
                } else {
                    int lo = 0;
                    int hi = n; // values[lo] <= a < values[hi]
                    while (hi - lo > 1) {
                        int m = (lo + hi) >>> 1;
                        if (values[m] <= a) {
                            lo = m;
                        } else {
                            hi = m;
                        }
                    }
                    double dLo = a - values[lo];
                    double dHi = values[hi] - a;
                    int pick = dLo < dHi ? lo : dHi < dLo ? hi : ((lo & 1) == 0 ? lo : hi);
                    if (pick == n) { // rounded to the virtual value past the max
                        expectedPlain = r.hasInfinity ? r.infPattern : r.nanPattern;
                        expectedSat = r.maxFinitePattern;
                    } else {
                        expectedPlain = pick;
                        expectedSat = pick;
                    }
                }
                int bits = Float.floatToRawIntBits(x);
                assertEquals(r.hex(sign | expectedPlain), r.hex(r.encode(bits, false)), dt + " encode " + x);
                assertEquals(r.hex(sign | expectedSat), r.hex(r.encode(bits, true)), dt + " saturated " + x);
                int both = r.encodeBoth(bits);
                assertEquals(r.encode(bits, false), both & 0xFFFF);
                assertEquals(r.encode(bits, true), both >>> 16);
            }
        }
    }

    // ------------------------------------------------------------------ decoding

    @ParameterizedTest
    @EnumSource(names = {"BF16", "F16", "F8_E4M3", "F8_E5M2"})
    void everyPatternDecodesExactly(DType dt) {
        ReferenceFloatFormat r = ref(dt);
        for (int p = 0; p < r.patternCount; p++) {
            int expected = r.decodeToF32Bits(p);
            int actual = codecDecode(dt, p);
            if (expected != actual) {
                fail(dt + " decode of " + r.hex(p) + ": expected " + hex32(expected) + ", got " + hex32(actual));
            }
            float f = codecDecodeToFloat(dt, p);
            if (r.isNaN(p)) {
                assertTrue(Float.isNaN(f), dt + " " + r.hex(p));
                assertTrue(Float.isNaN(Float.intBitsToFloat(expected)));
                // The stated NaN rule, spelled out once more.
                int sign = (p & r.signBit) != 0 ? 0x80000000 : 0;
                int rule = dt == DType.BF16 ? p << 16 : sign | 0x7FC00000 | ((p & ((1 << r.manBits) - 1)) << (23 - r.manBits));
                assertEquals(hex32(rule), hex32(actual), dt + " NaN " + r.hex(p));
            } else {
                assertEquals(hex32(expected), hex32(Float.floatToRawIntBits(f)), dt + " " + r.hex(p));
                assertEquals(r.decode(p), f, 0.0);
            }
            // By dtype, with raw bits zero-extended.
            assertEquals(hex32(actual), hex32(DTypeCodec.toF32Bits(dt, p)));
        }
    }

    // ------------------------------------------------------------------ spot values

    @Test
    void spotValues() {
        // Decoding.
        assertEquals(448f, DTypeCodec.e4m3ToFloat((byte) 0x7E));
        assertEquals(-448f, DTypeCodec.e4m3ToFloat((byte) 0xFE));
        assertEquals(0x1p-6f, DTypeCodec.e4m3ToFloat((byte) 0x08));
        assertEquals(0x1p-9f, DTypeCodec.e4m3ToFloat((byte) 0x01));
        assertEquals(0x7p-9f, DTypeCodec.e4m3ToFloat((byte) 0x07));
        assertEquals(1f, DTypeCodec.e4m3ToFloat((byte) 0x38));
        assertTrue(Float.isNaN(DTypeCodec.e4m3ToFloat((byte) 0x7F)));
        assertTrue(Float.isNaN(DTypeCodec.e4m3ToFloat((byte) 0xFF)));
        assertEquals(hex32(0x7FF00000), hex32(DTypeCodec.e4m3ToF32Bits((byte) 0x7F)));
        assertEquals(hex32(0xFFF00000), hex32(DTypeCodec.e4m3ToF32Bits((byte) 0xFF)));
        assertEquals(256f, DTypeCodec.e4m3ToFloat((byte) 0x78));
        assertEquals(57344f, DTypeCodec.e5m2ToFloat((byte) 0x7B));
        assertEquals(Float.POSITIVE_INFINITY, DTypeCodec.e5m2ToFloat((byte) 0x7C));
        assertEquals(Float.NEGATIVE_INFINITY, DTypeCodec.e5m2ToFloat((byte) 0xFC));
        assertEquals(0x1p-16f, DTypeCodec.e5m2ToFloat((byte) 0x01));
        assertEquals(0x1p-14f, DTypeCodec.e5m2ToFloat((byte) 0x04));
        assertTrue(Float.isNaN(DTypeCodec.e5m2ToFloat((byte) 0x7D)));
        assertEquals(Float.intBitsToFloat(0x7F7F0000), DTypeCodec.bf16ToFloat((short) 0x7F7F));
        assertEquals(0x1.FEp127f, DTypeCodec.bf16ToFloat((short) 0x7F7F));
        assertEquals(65504f, DTypeCodec.f16ToFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, DTypeCodec.f16ToFloat((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, DTypeCodec.f16ToFloat((short) 0x7C00));
        assertEquals(hex32(0x80000000), hex32(DTypeCodec.f16ToF32Bits((short) 0x8000)));
        assertEquals(hex32(0x80000000), hex32(DTypeCodec.e4m3ToF32Bits((byte) 0x80)));
        assertEquals(hex32(0x7FC00000 | (0x1FF << 13)), hex32(DTypeCodec.f16ToF32Bits((short) 0x7DFF)));

        // Encoding.
        assertHex(0x7E, enc(DType.F8_E4M3, 464f, false), "464 is a tie between 448 and 480: even is 448");
        assertHex(0x7F, enc(DType.F8_E4M3, 465f, false), "465 rounds past 448: NaN");
        assertHex(0x7E, enc(DType.F8_E4M3, 465f, true));
        assertHex(0xFE, enc(DType.F8_E4M3, -465f, true));
        assertHex(0xFF, enc(DType.F8_E4M3, -465f, false));
        assertHex(0x7E, enc(DType.F8_E4M3, 449f, false));
        assertHex(0x7F, enc(DType.F8_E4M3, Float.POSITIVE_INFINITY, false));
        assertHex(0x7E, enc(DType.F8_E4M3, Float.POSITIVE_INFINITY, true));
        assertHex(0xFF, enc(DType.F8_E4M3, Float.NEGATIVE_INFINITY, false));
        assertHex(0xFE, enc(DType.F8_E4M3, Float.NEGATIVE_INFINITY, true));
        assertHex(0x7FC0, enc(DType.BF16, Float.NaN, false));
        assertHex(0x7FC0, codecEncode(DType.BF16, 0xFFC00000, false), "BF16 drops the NaN sign");
        assertHex(0x7FC0, codecEncode(DType.BF16, 0x7F800001, true));
        assertHex(0xFF, codecEncode(DType.F8_E4M3, 0xFFC00000, false));
        assertHex(0xFF, codecEncode(DType.F8_E4M3, 0xFFC00000, true), "saturation never touches NaN");
        assertHex(0x7F, codecEncode(DType.F8_E4M3, 0x7F800001, true));
        assertHex(0xFE00, codecEncode(DType.F16, 0xFFC00000, false));
        assertHex(0x7E00, codecEncode(DType.F16, 0x7F800001, true));
        assertHex(0xFF, codecEncode(DType.F8_E5M2, 0xFFFFFFFF, true));
        assertHex(0x7F, codecEncode(DType.F8_E5M2, 0x7F800001, false));
        assertHex(0x7C, enc(DType.F8_E5M2, 61440f, false), "tie between 57344 (odd) and 65536: goes up");
        assertHex(0x7B, enc(DType.F8_E5M2, 61440f, true));
        assertHex(0x7B, enc(DType.F8_E5M2, 61439f, false));
        assertHex(0x7C, enc(DType.F8_E5M2, Float.POSITIVE_INFINITY, false));
        assertHex(0x7B, enc(DType.F8_E5M2, Float.POSITIVE_INFINITY, true));
        assertHex(0x7C00, enc(DType.F16, 65520f, false), "tie between 65504 (odd) and 65536: infinity");
        assertHex(0x7BFF, enc(DType.F16, 65520f, true));
        assertHex(0x7BFF, enc(DType.F16, 65519.996f, false));
        assertHex(0xFC00, enc(DType.F16, Float.NEGATIVE_INFINITY, false));
        assertHex(0xFBFF, enc(DType.F16, Float.NEGATIVE_INFINITY, true));
        assertHex(0x7F80, enc(DType.BF16, Float.MAX_VALUE, false), "rounds to 2^128: infinity");
        assertHex(0x7F7F, enc(DType.BF16, Float.MAX_VALUE, true));
        assertHex(0x7F7F, enc(DType.BF16, Float.POSITIVE_INFINITY, true));
        assertHex(0xFF7F, enc(DType.BF16, Float.NEGATIVE_INFINITY, true));
        assertHex(0x3F80, enc(DType.BF16, 1f, false));
        assertHex(0x3F80, codecEncode(DType.BF16, 0x3F808000, false), "tie to even: down");
        assertHex(0x3F82, codecEncode(DType.BF16, 0x3F818000, false), "tie to even: up");
        for (DType dt : new DType[] {DType.F16, DType.F8_E4M3, DType.F8_E5M2}) {
            assertHex(0, enc(dt, 1e-10f, false), dt.toString());
            assertHex(0, enc(dt, 1e-10f, true), dt.toString());
            assertHex(ref(dt).signBit, enc(dt, -1e-10f, false), dt.toString());
            assertHex(ref(dt).signBit, enc(dt, -1e-10f, true), dt.toString());
        }
        // BF16 has float32's exponent range (1e-10 is a normal BF16 number); its tiny values are below 2^-134.
        assertHex(0x2EDC, enc(DType.BF16, 1e-10f, false));
        assertHex(0x0000, enc(DType.BF16, Float.MIN_VALUE, false));
        assertHex(0x8000, enc(DType.BF16, -Float.MIN_VALUE, false));
        assertHex(0x8000, enc(DType.BF16, -0x1p-134f, false), "tie with 0 and 2^-133: even is 0");
        assertHex(0x8001, enc(DType.BF16, Math.nextDown(-0x1p-134f), false));
        // Subnormal ties.
        assertHex(0x00, enc(DType.F8_E4M3, 0x1p-10f, false), "half the smallest subnormal: even is 0");
        assertHex(0x02, enc(DType.F8_E4M3, 0x3p-10f, false), "1.5 subnormal quanta: even is 2");
        assertHex(0x08, enc(DType.F8_E4M3, 0xFp-10f, false), "7.5 quanta rounds up into the normals");
        assertHex(0x00, enc(DType.F8_E5M2, 0x1p-17f, false));
        assertHex(0x01, enc(DType.F8_E5M2, 0x1.000002p-17f, false));
        assertHex(0x0000, enc(DType.F16, 0x1p-25f, false));
        assertHex(0x8001, enc(DType.F16, -0x1.000002p-25f, false));
        assertHex(0x0400, enc(DType.F16, 0x1p-14f, false));
        assertHex(0x0000, enc(DType.F16, 0f, false));
        assertHex(0x8000, enc(DType.F16, -0f, false));
        assertHex(0x80, enc(DType.F8_E4M3, -0f, true));
    }

    // ------------------------------------------------------------------ exhaustive encoding

    private static final int CHUNK_BITS = 22;
    private static final int CHUNKS = 1 << (32 - CHUNK_BITS);

    /** Per-chunk outcome: first mismatching input (or -1) and the output patterns seen. */
    private record ChunkResult(long firstMismatch, long[] seenPlain, long[] seenSat) {}

    private static ChunkResult scanChunk(DType dt, int chunk, AtomicLong found) {
        ReferenceFloatFormat r = ref(dt);
        int words = Math.max(1, r.patternCount >>> 6);
        long[] seenPlain = new long[words];
        long[] seenSat = new long[words];
        if (found.get() >= 0) {
            return new ChunkResult(-1, seenPlain, seenSat);
        }
        int start = chunk << CHUNK_BITS;
        int count = 1 << CHUNK_BITS;
        long mismatch = switch (dt) {
            case BF16 -> scanBf16(r, start, count, seenPlain, seenSat);
            case F16 -> scanF16(r, start, count, seenPlain, seenSat);
            case F8_E4M3 -> scanE4m3(r, start, count, seenPlain, seenSat);
            case F8_E5M2 -> scanE5m2(r, start, count, seenPlain, seenSat);
            default -> throw new IllegalArgumentException(dt.toString());
        };
        if (mismatch >= 0) {
            found.accumulateAndGet(mismatch, (a, b) -> a < 0 ? b : Math.min(a, b));
        }
        return new ChunkResult(mismatch, seenPlain, seenSat);
    }

    // One loop per format so that each inlines its own codec method.

    private static long scanBf16(ReferenceFloatFormat r, int start, int count, long[] seenPlain, long[] seenSat) {
        for (int i = 0; i < count; i++) {
            int in = start + i;
            int expected = r.encodeBoth(in);
            int plain = DTypeCodec.f32BitsToBf16(in, false) & 0xFFFF;
            int sat = DTypeCodec.f32BitsToBf16(in, true) & 0xFFFF;
            if ((plain | (sat << 16)) != expected) {
                return in & 0xFFFFFFFFL;
            }
            seenPlain[plain >>> 6] |= 1L << plain;
            seenSat[sat >>> 6] |= 1L << sat;
        }
        return -1;
    }

    private static long scanF16(ReferenceFloatFormat r, int start, int count, long[] seenPlain, long[] seenSat) {
        for (int i = 0; i < count; i++) {
            int in = start + i;
            int expected = r.encodeBoth(in);
            int plain = DTypeCodec.f32BitsToF16(in, false) & 0xFFFF;
            int sat = DTypeCodec.f32BitsToF16(in, true) & 0xFFFF;
            if ((plain | (sat << 16)) != expected) {
                return in & 0xFFFFFFFFL;
            }
            seenPlain[plain >>> 6] |= 1L << plain;
            seenSat[sat >>> 6] |= 1L << sat;
        }
        return -1;
    }

    private static long scanE4m3(ReferenceFloatFormat r, int start, int count, long[] seenPlain, long[] seenSat) {
        for (int i = 0; i < count; i++) {
            int in = start + i;
            int expected = r.encodeBoth(in);
            int plain = DTypeCodec.f32BitsToE4m3(in, false) & 0xFF;
            int sat = DTypeCodec.f32BitsToE4m3(in, true) & 0xFF;
            if ((plain | (sat << 16)) != expected) {
                return in & 0xFFFFFFFFL;
            }
            seenPlain[plain >>> 6] |= 1L << plain;
            seenSat[sat >>> 6] |= 1L << sat;
        }
        return -1;
    }

    private static long scanE5m2(ReferenceFloatFormat r, int start, int count, long[] seenPlain, long[] seenSat) {
        for (int i = 0; i < count; i++) {
            int in = start + i;
            int expected = r.encodeBoth(in);
            int plain = DTypeCodec.f32BitsToE5m2(in, false) & 0xFF;
            int sat = DTypeCodec.f32BitsToE5m2(in, true) & 0xFF;
            if ((plain | (sat << 16)) != expected) {
                return in & 0xFFFFFFFFL;
            }
            seenPlain[plain >>> 6] |= 1L << plain;
            seenSat[sat >>> 6] |= 1L << sat;
        }
        return -1;
    }

    /**
     * The output patterns that encoding float32 must reach: every non-NaN pattern (every value of the
     * narrow formats is a float32), except the infinities when saturating, plus the canonical NaN(s).
     */
    private static long[] expectedReachable(ReferenceFloatFormat r, boolean saturate) {
        long[] set = new long[Math.max(1, r.patternCount >>> 6)];
        for (int p = 0; p < r.patternCount; p++) {
            double v = r.decode(p);
            boolean reachable;
            if (Double.isNaN(v)) {
                reachable = p == r.nanPattern
                        || (r.nanRule == ReferenceFloatFormat.NanRule.SIGNED_CANONICAL && p == (r.nanPattern | r.signBit));
            } else if (Double.isInfinite(v)) {
                reachable = !saturate;
            } else {
                reachable = true;
            }
            if (reachable) {
                set[p >>> 6] |= 1L << p;
            }
        }
        return set;
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "every float32 pattern encoded to {0}")
    @EnumSource(names = {"BF16", "F16", "F8_E4M3", "F8_E5M2"})
    void everyFloat32EncodesLikeTheReference(DType dt) {
        ReferenceFloatFormat r = ref(dt);
        long t0 = System.nanoTime();
        AtomicLong found = new AtomicLong(-1);
        int words = Math.max(1, r.patternCount >>> 6);
        ChunkResult total = IntStream.range(0, CHUNKS).parallel()
                .mapToObj(c -> scanChunk(dt, c, found))
                .reduce(new ChunkResult(-1, new long[words], new long[words]), (a, b) -> {
                    long[] p = new long[words];
                    long[] s = new long[words];
                    for (int i = 0; i < words; i++) {
                        p[i] = a.seenPlain[i] | b.seenPlain[i];
                        s[i] = a.seenSat[i] | b.seenSat[i];
                    }
                    long m = a.firstMismatch < 0 ? b.firstMismatch
                            : b.firstMismatch < 0 ? a.firstMismatch : Math.min(a.firstMismatch, b.firstMismatch);
                    return new ChunkResult(m, p, s);
                });
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("exhaustive float32 -> " + dt + " (saturate false and true): " + ms + " ms");
        long first = found.get();
        if (first >= 0) {
            int in = (int) first;
            StringBuilder msg = new StringBuilder("float32 " + hex32(in) + " (" + Float.intBitsToFloat(in) + ") -> " + dt + ":");
            for (boolean sat : new boolean[] {false, true}) {
                msg.append(" saturate=").append(sat)
                        .append(" expected ").append(r.hex(r.encode(in, sat)))
                        .append(" got ").append(r.hex(codecEncode(dt, in, sat))).append(';');
            }
            fail(msg.toString());
        }
        assertArrayEquals(expectedReachable(r, false), total.seenPlain, dt + ": output patterns reached without saturation");
        assertArrayEquals(expectedReachable(r, true), total.seenSat, dt + ": output patterns reached with saturation");
    }

    // ------------------------------------------------------------------ round trips

    @ParameterizedTest
    @EnumSource(names = {"BF16", "F16", "F8_E4M3", "F8_E5M2"})
    void everyPatternRoundTrips(DType dt) {
        ReferenceFloatFormat r = ref(dt);
        for (int p = 0; p < r.patternCount; p++) {
            int f32 = codecDecode(dt, p);
            int sign = p & r.signBit;
            double v = r.decode(p);
            int expectedPlain;
            int expectedSat;
            if (Double.isNaN(v)) {
                expectedPlain = dt == DType.BF16 ? 0x7FC0 : (r.nanPattern | sign);
                expectedSat = expectedPlain;
            } else if (Double.isInfinite(v)) {
                expectedPlain = p;
                expectedSat = r.maxFinitePattern | sign;
            } else {
                expectedPlain = p;
                expectedSat = p;
            }
            assertEquals(r.hex(expectedPlain), r.hex(codecEncode(dt, f32, false)), dt + " round trip of " + r.hex(p));
            assertEquals(r.hex(expectedSat), r.hex(codecEncode(dt, f32, true)), dt + " saturated round trip of " + r.hex(p));
            // The float-typed API too (NaNs aside, whose payload a float may not carry faithfully everywhere).
            if (!Double.isNaN(v)) {
                float f = codecDecodeToFloat(dt, p);
                int viaFloat = switch (dt) {
                    case BF16 -> DTypeCodec.floatToBf16(f) & 0xFFFF;
                    case F16 -> DTypeCodec.floatToF16(f) & 0xFFFF;
                    case F8_E4M3 -> DTypeCodec.floatToE4m3(f, false) & 0xFF;
                    case F8_E5M2 -> DTypeCodec.floatToE5m2(f, false) & 0xFF;
                    default -> throw new AssertionError();
                };
                assertEquals(r.hex(p), r.hex(viaFloat), dt + " float round trip");
            }
        }
    }

    // ------------------------------------------------------------------ convert()

    private static int[] float32Samples() {
        SplittableRandom rnd = new SplittableRandom(20240607);
        int[] special = {
            0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001,
            0x7FBFFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x00000001, 0x80000001, 0x007FFFFF, 0x00800000, 0x7F7FFFFF,
            0xFF7FFFFF, 0x3F800000, 0xBF800000, Float.floatToRawIntBits(448f), Float.floatToRawIntBits(464f),
            Float.floatToRawIntBits(465f), Float.floatToRawIntBits(480f), Float.floatToRawIntBits(-465f),
            Float.floatToRawIntBits(57344f), Float.floatToRawIntBits(61440f), Float.floatToRawIntBits(65504f),
            Float.floatToRawIntBits(65520f), Float.floatToRawIntBits(65536f), Float.floatToRawIntBits(0x1p-24f),
            Float.floatToRawIntBits(0x1p-25f), Float.floatToRawIntBits(0x1p-9f), Float.floatToRawIntBits(0x1p-10f),
            Float.floatToRawIntBits(0x1p-16f), Float.floatToRawIntBits(0x1p-17f), 0x7F7F8000, 0x7F7F7FFF,
        };
        int n = 1 << 20;
        int[] out = new int[n + special.length];
        for (int i = 0; i < n; i++) {
            out[i] = rnd.nextInt();
        }
        System.arraycopy(special, 0, out, n, special.length);
        return out;
    }

    private static long referenceConvert(DType from, DType to, long raw, boolean saturate) {
        if (from == to) {
            return raw;
        }
        int f32 = from == DType.F32 ? (int) raw : ref(from).decodeToF32Bits((int) raw);
        return to == DType.F32 ? f32 & 0xFFFFFFFFL : ref(to).encode(f32, saturate);
    }

    @Test
    void convertMatchesReferenceForEveryPairOfFloatDtypes() {
        int[] f32Samples = float32Samples();
        for (DType from : FLOATS) {
            long[] raws;
            if (from == DType.F32) {
                raws = new long[f32Samples.length];
                for (int i = 0; i < raws.length; i++) {
                    raws[i] = f32Samples[i] & 0xFFFFFFFFL;
                }
            } else {
                raws = new long[ref(from).patternCount];
                for (int i = 0; i < raws.length; i++) {
                    raws[i] = i;
                }
            }
            for (DType to : FLOATS) {
                for (boolean sat : new boolean[] {false, true}) {
                    for (long raw : raws) {
                        long expected = referenceConvert(from, to, raw, sat);
                        long actual = DTypeCodec.convert(from, to, raw, sat);
                        if (expected != actual) {
                            fail("convert(" + from + ", " + to + ", 0x" + Long.toHexString(raw) + ", " + sat
                                    + "): expected 0x" + Long.toHexString(expected) + ", got 0x" + Long.toHexString(actual));
                        }
                        if (from == to) {
                            assertEquals(raw, actual);
                        }
                    }
                }
            }
        }
        // Identical dtypes keep even NaN payloads that a trip through float32 would change.
        assertEquals(0xFFC1L, DTypeCodec.convert(DType.BF16, DType.BF16, 0xFFC1L, false));
        assertEquals(0x7D01L, DTypeCodec.convert(DType.F16, DType.F16, 0x7D01L, true));
        assertEquals(0x7DL, DTypeCodec.convert(DType.F8_E5M2, DType.F8_E5M2, 0x7DL, false));
        assertEquals(0x7F800001L, DTypeCodec.convert(DType.F32, DType.F32, 0x7F800001L, false));
        assertEquals(0x7FC0L, DTypeCodec.convert(DType.F16, DType.BF16, 0xFE00L, false));
    }

    @Test
    void fromAndToF32BitsRejectIntegerDtypes() {
        for (DType dt : DType.values()) {
            if (!dt.isFloatingPoint()) {
                assertThrows(IllegalArgumentException.class, () -> DTypeCodec.toF32Bits(dt, 0));
                assertThrows(IllegalArgumentException.class, () -> DTypeCodec.fromF32Bits(dt, 0, false));
            }
        }
    }

    // ------------------------------------------------------------------ encodeScalar / decodeScalar

    private static void assertScalarRoundTrip(DType dt, long value) {
        long raw = DTypeCodec.encodeScalar(dt, value);
        long expectedRaw = dt.byteSize() == 8 ? value : value & ((1L << (8 * dt.byteSize())) - 1);
        assertEquals(expectedRaw, raw, dt + " raw bits of " + value);
        assertEquals((double) value, DTypeCodec.decodeScalar(dt, raw), 0.0, dt + " value of raw " + raw);
    }

    @Test
    void integerScalarsInRangeRoundTrip() {
        for (long v = -128; v <= 127; v++) {
            assertScalarRoundTrip(DType.I8, v);
        }
        for (long v = 0; v <= 255; v++) {
            assertScalarRoundTrip(DType.U8, v);
        }
        assertScalarRoundTrip(DType.BOOL, 0);
        assertScalarRoundTrip(DType.BOOL, 1);
        long[] i32 = {Integer.MIN_VALUE, Integer.MIN_VALUE + 1, -65536, -1, 0, 1, 65535, Integer.MAX_VALUE - 1,
            Integer.MAX_VALUE};
        for (long v : i32) {
            assertScalarRoundTrip(DType.I32, v);
        }
        long[] i64 = {0, 1, -1, (1L << 53), -(1L << 53), (1L << 62), -(1L << 62), Long.MAX_VALUE - 1023,
            Long.MIN_VALUE + 1024, (long) Integer.MAX_VALUE + 1, (long) Integer.MIN_VALUE - 1};
        for (long v : i64) {
            assertEquals(v, (long) (double) v, "sample must be exact in double");
            assertScalarRoundTrip(DType.I64, v);
        }
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 10_000; i++) {
            assertScalarRoundTrip(DType.I32, rnd.nextInt());
            assertScalarRoundTrip(DType.I64, rnd.nextLong(-(1L << 53), (1L << 53) + 1));
        }
        // -0.0 is the whole number 0.
        assertEquals(0L, DTypeCodec.encodeScalar(DType.I8, -0.0));
        // decodeScalar reads only the element's own bits.
        assertEquals(-1.0, DTypeCodec.decodeScalar(DType.I8, 0xFFL));
        assertEquals(255.0, DTypeCodec.decodeScalar(DType.U8, 0xFFL));
    }

    /** -2^63 is Long.MIN_VALUE, exactly a double, and lies inside I64's range. */
    @Test
    void i64MinValueIsAValidScalar() {
        assertScalarRoundTrip(DType.I64, Long.MIN_VALUE);
    }

    private static void assertRejected(DType dt, double value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DTypeCodec.encodeScalar(dt, value), dt + " must reject " + value);
        assertTrue(e.getMessage() != null && e.getMessage().contains(String.valueOf(value)),
                "message should name " + value + ": " + e.getMessage());
    }

    @Test
    void integerScalarsOutOfRangeOrFractionalAreRejected() {
        DType[] ints = {DType.I8, DType.U8, DType.I32, DType.I64, DType.BOOL};
        for (DType dt : ints) {
            for (double v : new double[] {0.5, -0.5, 1.25, -7.75, Double.NaN, Double.MIN_VALUE, 1e300,
                    -1e300, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
                assertRejected(dt, v);
            }
        }
        assertRejected(DType.I8, 128);
        assertRejected(DType.I8, -129);
        assertRejected(DType.U8, -1);
        assertRejected(DType.U8, 256);
        assertRejected(DType.BOOL, -1);
        assertRejected(DType.BOOL, 2);
        assertRejected(DType.I32, 0x1p31);
        assertRejected(DType.I32, -0x1p31 - 1);
        assertRejected(DType.I64, 0x1p63);
        assertRejected(DType.I64, -0x1.0000000000001p63);
        assertRejected(DType.I64, 0x1p64);
    }

    @Test
    void floatScalarsGoThroughFloat32() {
        double[] samples = {0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3, 448.0, 464.0, 465.0, 1e10, -1e10, 1e-10, 65504.0,
            65520.0, 61440.0, 1e300, -1e300, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
            Double.MIN_VALUE, 3.0000001, 0x1.0000001p0};
        for (DType dt : FLOATS) {
            for (double v : samples) {
                int f32 = Float.floatToRawIntBits((float) v);
                long expected = dt == DType.F32 ? f32 & 0xFFFFFFFFL : ref(dt).encode(f32, false);
                long raw = DTypeCodec.encodeScalar(dt, v);
                assertEquals(Long.toHexString(expected), Long.toHexString(raw), dt + " " + v);
                double back = DTypeCodec.decodeScalar(dt, raw);
                double expectedBack = dt == DType.F32 ? (float) v : Float.intBitsToFloat(ref(dt).decodeToF32Bits((int) raw));
                if (Double.isNaN(expectedBack)) {
                    assertTrue(Double.isNaN(back));
                } else {
                    assertEquals(Double.doubleToRawLongBits(expectedBack), Double.doubleToRawLongBits(back), dt + " " + v);
                }
            }
        }
        for (DType dt : NARROW) {
            ReferenceFloatFormat r = ref(dt);
            for (int p = 0; p < r.patternCount; p++) {
                double expected = r.decode(p);
                double actual = DTypeCodec.decodeScalar(dt, p);
                if (Double.isNaN(expected)) {
                    assertTrue(Double.isNaN(actual));
                } else {
                    assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual), dt + " " + r.hex(p));
                }
            }
        }
    }
}
