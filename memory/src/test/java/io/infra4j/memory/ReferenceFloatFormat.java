package io.infra4j.memory;

/**
 * A slow-but-obvious reference model of the narrow floating-point formats, written from first
 * principles (IEEE 754 style sign / biased exponent / fraction, values computed in {@code double})
 * and independent of {@link DTypeCodec}'s bit tricks. Used to check {@link DTypeCodec} exhaustively.
 *
 * <p>A format is described by its exponent width, fraction width, whether it is IEEE-like (all-ones
 * exponent = infinity or NaN) or "fn"-style (no infinity; only the all-ones pattern of each sign is
 * NaN), its largest finite value, and its NaN-encoding rule.
 *
 * <p>Encoding float32 -&gt; format: round to nearest, ties to even, computed as
 * {@code rint(|x| / quantum) * quantum}, where the quantum is the spacing of the format's values in
 * the binade of {@code |x|} (the subnormal spacing below the smallest normal). Everything is exact in
 * {@code double} for float32 inputs. Then: rounded value above the largest finite -&gt; infinity (IEEE)
 * or NaN (fn); with saturation -&gt; largest finite with the input's sign (infinite inputs too); NaN
 * input -&gt; the format's canonical NaN (saturation never applies).
 */
final class ReferenceFloatFormat {

    /** How a NaN input is encoded. */
    enum NanRule {
        /** Canonical quiet NaN without sign, whatever the input sign (BF16: 0x7FC0). */
        UNSIGNED_CANONICAL,
        /** Canonical NaN pattern ORed with the input's sign bit (F16: 0x7E00|s, FP8: 0x7F|s). */
        SIGNED_CANONICAL
    }

    static final ReferenceFloatFormat BF16 =
            new ReferenceFloatFormat("BF16", 8, 7, true, 0x1.FEp127, 0x7FC0, NanRule.UNSIGNED_CANONICAL, true);
    static final ReferenceFloatFormat F16 =
            new ReferenceFloatFormat("F16", 5, 10, true, 65504.0, 0x7E00, NanRule.SIGNED_CANONICAL, false);
    static final ReferenceFloatFormat F8_E4M3 =
            new ReferenceFloatFormat("F8_E4M3", 4, 3, false, 448.0, 0x7F, NanRule.SIGNED_CANONICAL, false);
    static final ReferenceFloatFormat F8_E5M2 =
            new ReferenceFloatFormat("F8_E5M2", 5, 2, true, 57344.0, 0x7F, NanRule.SIGNED_CANONICAL, false);

    final String name;
    final int expBits;
    final int manBits;
    /** true: IEEE-like (inf at exponent all ones, mantissa 0; NaN otherwise); false: "fn" style. */
    final boolean hasInfinity;
    final double maxFinite;
    /** Canonical NaN pattern, without sign. */
    final int nanPattern;
    final NanRule nanRule;
    /** Decoded NaN is {@code bits << 16} (BF16) instead of the quiet-with-payload rule. */
    final boolean nanDecodesByShift;

    final int totalBits;
    final int patternCount;
    final int signBit;
    final int bias;
    /** Exponent of the smallest normal number, 1 - bias. */
    final int minNormalExp;
    /** Pattern of the largest finite value, positive. */
    final int maxFinitePattern;
    /** Pattern of +infinity, or -1 if none. */
    final int infPattern;

    // Hot-path tables: quantum and 1/quantum by (clamped) float exponent, exact powers of two.
    private final double[] quantum = new double[128 + 127];
    private final double[] invQuantum = new double[128 + 127];
    private final double fractionScale; // 2^manBits

    private ReferenceFloatFormat(String name, int expBits, int manBits, boolean hasInfinity, double maxFinite,
                                 int nanPattern, NanRule nanRule, boolean nanDecodesByShift) {
        this.name = name;
        this.expBits = expBits;
        this.manBits = manBits;
        this.hasInfinity = hasInfinity;
        this.maxFinite = maxFinite;
        this.nanPattern = nanPattern;
        this.nanRule = nanRule;
        this.nanDecodesByShift = nanDecodesByShift;
        this.totalBits = 1 + expBits + manBits;
        this.patternCount = 1 << totalBits;
        this.signBit = 1 << (expBits + manBits);
        this.bias = (1 << (expBits - 1)) - 1;
        this.minNormalExp = 1 - bias;
        this.fractionScale = Math.pow(2, manBits);
        // Largest finite pattern: found by scanning the decoder (no formula assumed).
        int maxPat = -1;
        int inf = -1;
        for (int p = 0; p < signBit; p++) {
            double v = decode(p);
            if (v == maxFinite) {
                maxPat = p;
            }
            if (v == Double.POSITIVE_INFINITY) {
                inf = p;
            }
        }
        if (maxPat < 0) {
            throw new IllegalStateException(name + ": max finite " + maxFinite + " is not a value of the format");
        }
        this.maxFinitePattern = maxPat;
        this.infPattern = inf;
        // Float exponents go from -149 (smallest subnormal float) to 127; index = exp + 127 after clamping.
        for (int e = -127; e <= 127; e++) {
            int ce = Math.max(e, minNormalExp);
            quantum[e + 127] = Math.scalb(1.0, ce - manBits);
            invQuantum[e + 127] = Math.scalb(1.0, manBits - ce);
        }
    }

    static ReferenceFloatFormat of(DType dtype) {
        return switch (dtype) {
            case BF16 -> BF16;
            case F16 -> F16;
            case F8_E4M3 -> F8_E4M3;
            case F8_E5M2 -> F8_E5M2;
            default -> throw new IllegalArgumentException("no reference format for " + dtype);
        };
    }

    // ------------------------------------------------------------------ decoding

    boolean isNaN(int pattern) {
        return Double.isNaN(decode(pattern));
    }

    /** The value of a pattern (low {@link #totalBits} bits used), as a double; NaN for NaN patterns. */
    double decode(int pattern) {
        pattern &= patternCount - 1;
        boolean negative = (pattern & signBit) != 0;
        int e = (pattern >>> manBits) & ((1 << expBits) - 1);
        int m = pattern & ((1 << manBits) - 1);
        int eMax = (1 << expBits) - 1;
        int mMax = (1 << manBits) - 1;
        double magnitude;
        if (hasInfinity && e == eMax) {
            magnitude = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (!hasInfinity && e == eMax && m == mMax) {
            magnitude = Double.NaN;
        } else if (e == 0) {
            // subnormal (or zero): 0.m * 2^(1 - bias)
            magnitude = (m / Math.pow(2, manBits)) * Math.pow(2, 1 - bias);
        } else {
            magnitude = (1.0 + m / Math.pow(2, manBits)) * Math.pow(2, e - bias);
        }
        return negative ? -magnitude : magnitude;
    }

    /**
     * Float32 bits of a pattern: exact value for non-NaN (keeping -0.0); for NaN the stated rule:
     * BF16 {@code bits << 16}, others {@code sign | 0x7FC00000 | (mantissa << (23 - manBits))}.
     */
    int decodeToF32Bits(int pattern) {
        pattern &= patternCount - 1;
        double v = decode(pattern);
        if (Double.isNaN(v)) {
            if (nanDecodesByShift) {
                return pattern << (32 - totalBits);
            }
            int sign = (pattern & signBit) != 0 ? 0x80000000 : 0;
            int m = pattern & ((1 << manBits) - 1);
            return sign | 0x7FC00000 | (m << (23 - manBits));
        }
        float f = (float) v;
        if (f != v) {
            throw new AssertionError(name + " pattern " + hex(pattern) + " value " + v + " is not exact in float");
        }
        return Float.floatToRawIntBits(f);
    }

    // ------------------------------------------------------------------ encoding

    /** Marker returned by {@link #round} for "rounded magnitude exceeds the largest finite value". */
    static final int OVERFLOW = -1;

    /**
     * Unsigned pattern of |x| rounded to nearest-even for finite x, or {@link #OVERFLOW}. The input
     * must be a finite float's bits.
     */
    private int roundFinite(int f32Bits) {
        float x = Float.intBitsToFloat(f32Bits);
        double a = Math.abs((double) x);
        int e = Math.getExponent(x); // -127 for zero and subnormals; clamped by the table
        double q = Math.rint(a * invQuantum[e + 127]); // a / quantum, exact (power of two); rint: ties to even
        double value = q * quantum[e + 127];
        if (value > maxFinite) {
            return OVERFLOW;
        }
        // Build the pattern from (exponent, fraction).
        int ce = Math.max(e, minNormalExp);
        int iq = (int) q; // in [0, 2^(manBits+1)]
        int full = 1 << manBits;
        if (iq < full) {
            // Only possible in the lowest binade: subnormal or zero, exponent field 0.
            return iq;
        }
        if (iq == 2 * full) { // rounded up into the next binade
            ce += 1;
            iq = full;
        }
        return ((ce + bias) << manBits) | (iq - full);
    }

    private int nanOut(int f32Bits) {
        return switch (nanRule) {
            case UNSIGNED_CANONICAL -> nanPattern;
            case SIGNED_CANONICAL -> f32Bits < 0 ? (nanPattern | signBit) : nanPattern;
        };
    }

    private int overflowOut(boolean saturate) {
        if (saturate) {
            return maxFinitePattern;
        }
        return hasInfinity ? infPattern : nanPattern;
    }

    /** The format's bits (zero-extended) nearest to float32 bits {@code f32Bits}. */
    int encode(int f32Bits, boolean saturate) {
        int abs = f32Bits & 0x7FFFFFFF;
        if (abs > 0x7F800000) {
            return nanOut(f32Bits);
        }
        int sign = f32Bits < 0 ? signBit : 0;
        if (abs == 0x7F800000) {
            return sign | overflowOut(saturate);
        }
        int r = roundFinite(abs);
        return sign | (r == OVERFLOW ? overflowOut(saturate) : r);
    }

    /**
     * Both encodings from one rounding: low 16 bits without saturation, high 16 bits with it.
     * Equivalent to {@code encode(b, false) | encode(b, true) << 16}.
     */
    int encodeBoth(int f32Bits) {
        int abs = f32Bits & 0x7FFFFFFF;
        if (abs > 0x7F800000) {
            int n = nanOut(f32Bits);
            return n | (n << 16);
        }
        int sign = f32Bits < 0 ? signBit : 0;
        int r = abs == 0x7F800000 ? OVERFLOW : roundFinite(abs);
        if (r == OVERFLOW) {
            return (sign | overflowOut(false)) | ((sign | overflowOut(true)) << 16);
        }
        r |= sign;
        return r | (r << 16);
    }

    /** encode(decode(pattern)) through float32 bits, i.e. a conversion from {@code from} to this format. */
    int convertFrom(ReferenceFloatFormat from, int pattern, boolean saturate) {
        return encode(from.decodeToF32Bits(pattern), saturate);
    }

    String hex(int pattern) {
        return String.format("0x%0" + (totalBits / 4) + "X", pattern & (patternCount - 1));
    }

    @Override
    public String toString() {
        return name;
    }
}
