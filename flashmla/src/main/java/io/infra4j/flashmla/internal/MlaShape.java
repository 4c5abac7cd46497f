package io.infra4j.flashmla.internal;

/**
 * The sizes of one decode, already checked: what mla.h's {@code infra4j_mla_problem} holds, plus
 * whether the cache is FP8. Every tensor is contiguous, so these give every offset.
 */
public record MlaShape(int batch, int seqlenQ, int headsQ, int headsKv, int headDim, int headDimV, int pageSize,
                       int numBlocks, int maxBlocks, boolean fp8) {
    /** Query heads per KV head. */
    public int groups() {
        return headsQ / headsKv;
    }

    /** FP8 scales per token and head. */
    public int scaleGroups() {
        return MlaConstants.scaleGroups(headDim);
    }

    @Override
    public String toString() {
        return "b=" + batch + " s_q=" + seqlenQ + " h_q=" + headsQ + " h_kv=" + headsKv + " d=" + headDim + " dv="
                + headDimV + " page=" + pageSize + " blocks=" + numBlocks + " max_blocks=" + maxBlocks
                + (fp8 ? " fp8" : " bf16");
    }
}
