package io.infra4j.flashmla;

/**
 * How a decode scores keys: the softmax scale and causal masking. Unset values take FlashMLA's
 * defaults, which depend on the problem: the scale is {@code 1/sqrt(head_dim)} of q (576 for
 * DeepSeek's MLA, not the value width 512), and masking is causal when a step decodes more than one
 * query token per sequence. Immutable; the withers return a copy.
 *
 * <pre>{@code
 * MlaOptions o = MlaOptions.defaults().withSoftmaxScale(0.0416f).withCausal(true);
 * }</pre>
 */
public final class MlaOptions {
    private static final MlaOptions DEFAULTS = new MlaOptions(Float.NaN, null);

    private final float softmaxScale; // NaN: 1/sqrt(head_dim)
    private final Boolean causal; // null: seqlen_q > 1

    private MlaOptions(float softmaxScale, Boolean causal) {
        this.softmaxScale = softmaxScale;
        this.causal = causal;
    }

    /** FlashMLA's defaults: scale {@code 1/sqrt(head_dim)}, causal when {@code seqlen_q > 1}. */
    public static MlaOptions defaults() {
        return DEFAULTS;
    }

    /** These options with scores multiplied by {@code scale} (any finite value) before the softmax. */
    public MlaOptions withSoftmaxScale(float scale) {
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("scale: expected a finite softmax scale, got " + scale);
        }
        return new MlaOptions(scale, causal);
    }

    /** These options with the default scale, {@code 1/sqrt(head_dim)}. */
    public MlaOptions withDefaultSoftmaxScale() {
        return new MlaOptions(Float.NaN, causal);
    }

    /** These options with causal masking on or off, whatever {@code seqlen_q}. */
    public MlaOptions withCausal(boolean causal) {
        return new MlaOptions(softmaxScale, causal);
    }

    /** These options with the default masking: causal when {@code seqlen_q > 1}. */
    public MlaOptions withDefaultCausal() {
        return new MlaOptions(softmaxScale, null);
    }

    /** Whether a scale was set (else {@link #softmaxScale(int)} gives the default). */
    public boolean hasSoftmaxScale() {
        return !Float.isNaN(softmaxScale);
    }

    /** Whether masking was set (else {@link #causal(int)} gives the default). */
    public boolean hasCausal() {
        return causal != null;
    }

    /** The scale for queries of width {@code headDim}: the one set, or {@code 1/sqrt(headDim)}. */
    public float softmaxScale(int headDim) {
        return hasSoftmaxScale() ? softmaxScale : (float) (1.0 / Math.sqrt(headDim));
    }

    /** Whether {@code seqlenQ} query tokens per sequence are masked causally: as set, or {@code seqlenQ > 1}. */
    public boolean causal(int seqlenQ) {
        return causal != null ? causal : seqlenQ > 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MlaOptions m && Float.compare(m.softmaxScale, softmaxScale) == 0
                && java.util.Objects.equals(m.causal, causal);
    }

    @Override
    public int hashCode() {
        return 31 * Float.hashCode(softmaxScale) + java.util.Objects.hashCode(causal);
    }

    @Override
    public String toString() {
        return "MlaOptions(scale " + (hasSoftmaxScale() ? softmaxScale : "1/sqrt(head_dim)") + ", causal "
                + (causal != null ? causal : "when seqlen_q > 1") + ")";
    }
}
