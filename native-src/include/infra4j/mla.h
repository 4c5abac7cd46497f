/*
 * infra4j C ABI: multi-head latent attention (MLA) decoding over a paged KV cache, as FlashMLA's
 * dense decode computes it, for Hopper (sm_90a).
 *
 * Shapes (all contiguous, row-major):
 *   q            [batch, seqlen_q, heads_q, head_dim]                 BF16
 *   kv           [num_blocks, page_size, heads_kv, head_dim]          BF16, or F8_E4M3 bytes
 *   kv_scales    [num_blocks, page_size, heads_kv, ceil(head_dim / 128)]  F32 (F8_E4M3 only; else NULL):
 *                value = e4m3 * scale, one scale per 128 consecutive values of a token's head (for
 *                head_dim 576 the fifth scale covers the last 64 values, the RoPE part)
 *   block_table  [batch, max_blocks]                                  I32: cache block of each page
 *   cache_seqlens [batch]                                             I32, 0 allowed
 *   out          [batch, seqlen_q, heads_q, head_dim_v]               BF16
 *   lse          [batch, heads_q, seqlen_q]                           F32 (natural log; +inf for a row that sees no key)
 * V is the first head_dim_v dimensions of K. Query token i of seqlen_q sees keys
 * 0 .. cache_seqlen - seqlen_q + i when causal, all cache_seqlen keys otherwise.
 *
 * A plan, made on the host from the lengths once per decoding step and reused by every layer, deals
 * the 64-key tiles of all sequences out to parts of equal cost (one per multiprocessor by default); a
 * sequence is cut into splits where it crosses from one part to the next. The decode kernel runs a
 * CTA per (part, KV head, tile of 64 query rows), which walks its part's splits, and a combine kernel
 * merges the splits of each query row.
 */
#ifndef INFRA4J_MLA_H
#define INFRA4J_MLA_H

#include "infra4j/types.h"

#define INFRA4J_MLA_HEAD_DIM_V 512
#define INFRA4J_MLA_SCALE_GROUP 128

typedef struct infra4j_mla_problem {
    int32_t batch;
    int32_t seqlen_q;
    int32_t heads_q;
    int32_t heads_kv;      /* divides heads_q */
    int32_t head_dim;      /* 576 or 512 */
    int32_t head_dim_v;    /* 512 */
    int32_t page_size;     /* 16, 32 or 64 */
    int32_t num_blocks;
    int32_t max_blocks;
    int32_t causal;        /* 0 or 1 */
    float softmax_scale;
    int32_t kv_dtype;      /* INFRA4J_DTYPE_BF16 or INFRA4J_DTYPE_F8_E4M3 */
} infra4j_mla_problem;

/*
 * The plan in device memory, int32:
 *   [0] parts P, [1] total splits S,
 *   [2 .. 2 + batch] split offsets (exclusive prefix sums of each sequence's split count, batch + 1
 *       entries; an empty sequence has none; the splits of a sequence are consecutive),
 *   then P + 1 part starts (part p runs splits start[p] .. start[p + 1] - 1),
 *   then 2 S words: split s covers keys [begin, end) of its sequence, begin a multiple of 64.
 * Java builds it. infra4j_mla_plan_words gives the size of its head ([0] to the offsets), which does
 * not depend on the lengths; the whole plan has head + P + 1 + 2 S words.
 */
INFRA4J_API int64_t infra4j_mla_plan_words(int32_t batch);

/* Bytes of scratch for `total_splits` splits of this problem (partial outputs and their lse). */
INFRA4J_API int64_t infra4j_mla_workspace_bytes(const infra4j_mla_problem* problem, int32_t total_splits);

/*
 * Runs the decode: the split kernel, then the combine kernel, on `stream`. `total_splits` must be
 * the plan's [1] (the host knows it: it made the plan). Block ids outside [0, num_blocks) and
 * lengths beyond max_blocks * page_size are never read (those keys count as masked), so a bad table
 * gives wrong numbers, never an out-of-bounds access.
 */
INFRA4J_API int infra4j_mla_decode(const infra4j_mla_problem* problem, const void* q, const void* kv,
                                   const float* kv_scales, const int32_t* block_table,
                                   const int32_t* cache_seqlens, const int32_t* plan, int32_t total_splits,
                                   void* workspace, void* out, float* lse, void* stream);

#endif /* INFRA4J_MLA_H */
