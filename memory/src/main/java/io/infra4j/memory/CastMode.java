package io.infra4j.memory;

/** What a cast does with magnitudes beyond the target dtype's range. */
public enum CastMode {
    /** As PyTorch: infinity for BF16, F16 and F8_E5M2; NaN for F8_E4M3 (which has no infinity). */
    STANDARD,
    /** The largest finite value of the target dtype, with the sign; NaN stays NaN. */
    SATURATE
}
