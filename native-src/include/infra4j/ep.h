/*
 * infra4j C ABI: expert-parallel dispatch and combine, DeepEP's normal mode, within one node. Each
 * rank's kernels write into (dispatch) and read from (combine) the other ranks' buffers by address:
 * pointers valid on this device, from peer access between devices of one process, CUDA IPC handles,
 * or, for tests on one GPU, buffers of W simulated ranks on the same device.
 *
 * A step for W ranks, E experts (E / W per rank), T tokens on this rank, top-k ids int64 (-1: none):
 *   1. infra4j_ep_layout on every rank: where its tokens go (DeepEP's get_dispatch_layout) and, per
 *      destination, each token's place among this rank's tokens going there (send_offset).
 *   2. The host (or a notify step) learns every rank's tokens_per_rank and lays out each destination's
 *      receive buffer: source rank 0's tokens first, then rank 1's, ...; rank_begin[dst] is where this
 *      rank's block starts in dst's buffer.
 *   3. infra4j_ep_dispatch on every rank pushes its rows into the destinations' buffers.
 *   4. Each rank computes its experts' outputs, one row per received row.
 *   5. infra4j_ep_combine on every rank pulls each of its tokens' rows back from the ranks that
 *      received it and sums them in rank order (FP32, written as BF16): the same sum on every run.
 */
#ifndef INFRA4J_EP_H
#define INFRA4J_EP_H

#include "infra4j/types.h"

/*
 * The most ranks one call addresses: the GPUs of a node when the peers are other GPUs' buffers, or, over
 * NCCL, the per-destination blocks of one rank's own send and receive buffers.
 */
#define INFRA4J_EP_MAX_RANKS 64

/* The other ranks' buffers, indexed by rank; entries past world_size are ignored. */
typedef struct infra4j_ep_peers {
    void* ptr[INFRA4J_EP_MAX_RANKS];
} infra4j_ep_peers;

/*
 * Layout of this rank's T tokens. topk_idx [T, k] int64. Outputs (device memory):
 *   tokens_per_rank [W] int32: tokens with at least one expert on each rank (once per rank);
 *   tokens_per_expert [E] int32: (token, slot) pairs per expert;
 *   is_token_in_rank [T, W] uint8 (0 / 1);
 *   send_offset [T, W] int32: the token's index among this rank's tokens going to that rank, -1 if not;
 *   bad_ids [1] int32: how many ids lie outside [-1, E) (they are ignored; callers check it is 0).
 * All outputs are overwritten. T may be 0.
 */
INFRA4J_API int infra4j_ep_layout(const int64_t* topk_idx, int32_t num_tokens, int32_t top_k, int32_t num_experts,
                                  int32_t world_size, int32_t* tokens_per_rank, int32_t* tokens_per_expert,
                                  uint8_t* is_token_in_rank, int32_t* send_offset, int32_t* bad_ids, void* stream);

/*
 * Normal-mode dispatch from rank `rank`: token t goes to every rank dst with is_token_in_rank[t, dst],
 * into row rank_begin[dst] + send_offset[t, dst] of dst's buffers:
 *   recv_x[dst]: the token's row of x (row_bytes, a multiple of 4);
 *   recv_topk_idx[dst] (int64 [., k]): each slot's local expert id on dst (id - dst * E / W) if the
 *       expert is dst's, else -1; recv_topk_weights[dst] (float [., k]): the weight, or 0;
 *   recv_src_idx[dst] (int32): t.
 * With recv_topk_idx[dst] NULL only the rows move (a second payload of the same tokens, e.g. FP8
 * scales after their values). rank_begin [W] int32 is in device memory. Every id must be in [-1, E)
 * (see bad_ids).
 */
INFRA4J_API int infra4j_ep_dispatch(const void* x, int32_t row_bytes, const int64_t* topk_idx,
                                    const float* topk_weights, int32_t num_tokens, int32_t top_k, int32_t num_experts,
                                    int32_t world_size, int32_t rank, const uint8_t* is_token_in_rank,
                                    const int32_t* send_offset, const int32_t* rank_begin, const infra4j_ep_peers* recv_x,
                                    const infra4j_ep_peers* recv_topk_idx, const infra4j_ep_peers* recv_topk_weights,
                                    const infra4j_ep_peers* recv_src_idx, void* stream);

/*
 * Normal-mode combine into rank `rank`'s out [T, hidden] (BF16): out[t] = sum over dst in rank order
 * with is_token_in_rank[t, dst] of expert_out[dst] row (rank_begin[dst] + send_offset[t, dst]), BF16
 * [., hidden], summed in FP32. A token sent nowhere gets zeros.
 */
INFRA4J_API int infra4j_ep_combine(const infra4j_ep_peers* expert_out, int32_t hidden, int32_t num_tokens,
                                   int32_t world_size, const uint8_t* is_token_in_rank, const int32_t* send_offset,
                                   const int32_t* rank_begin, void* out, void* stream);

/*
 * Where each source rank's block starts on every destination, from the ranks' tokens_per_rank rows of a
 * counts table (rank s's row at counts + s * row_stride, its tokens per destination from counts[1]):
 * begin[s, dst] = sum of tokens_per_rank[s', dst] over s' < s, an int32 [W, W] table, so that blocks go
 * in source-rank order. On the GPU, so that the normal dispatch needs no upload (and no second wait).
 */
INFRA4J_API int infra4j_ep_block_starts(const int32_t* counts, int32_t row_stride, int32_t world_size, int32_t* begin,
                                        void* stream);

/*
 * Low-latency mode (no host synchronisation, so a step can be captured in a CUDA graph). Each rank has,
 * for its L = E / W local experts and at most M tokens per sender (max_tokens):
 *   recv_x [L, W * M, hidden]: BF16, or e4m3 when fp8 is 1, with recv_scales [L, W * M, hidden / 128]
 *   FP32 (per 1 x 128 group, DeepGEMM's per-token quantisation: the masked grouped GEMM's operand);
 *   recv_count [L] int32, zeroed before the step;
 *   recv_src [L, W * M] int32: each row's token index on its source rank;
 *   recv_range [L, W] int64: (begin << 32) | count, the rows each source rank's tokens took.
 * infra4j_ep_ll_dispatch on rank `rank` sends every (token, slot) pair with an expert to that expert's
 * rows: it reserves one block per expert it sends to (an atomic add on recv_count, so blocks of
 * different sources land in arrival order) and fills it in token order. slot_pos [T, k] and
 * expert_begin [E] (int32, device) are this rank's scratch, kept for the combine. Pairs that would
 * not fit (more than W * M per expert) and ids outside [-1, E) are skipped and counted in bad_ids [1]
 * (zeroed here; callers check it is 0). T <= M. x is BF16 [T, hidden]; with fp8 = 1 each row is
 * quantised once on the sender (hidden a multiple of 128, at most INFRA4J_EP_LL_FP8_MAX_HIDDEN, x
 * 16-byte aligned) and its e4m3 values and scales go to every expert it was routed to.
 */
#define INFRA4J_EP_LL_FP8_MAX_HIDDEN 32768
INFRA4J_API int infra4j_ep_ll_dispatch(const void* x, int32_t hidden, int32_t fp8, const int64_t* topk_idx, int32_t num_tokens,
                                       int32_t top_k, int32_t num_experts, int32_t world_size, int32_t rank,
                                       int32_t max_tokens, int32_t* slot_pos, int32_t* expert_begin, int32_t* bad_ids,
                                       const infra4j_ep_peers* recv_x, const infra4j_ep_peers* recv_scales,
                                       const infra4j_ep_peers* recv_count, const infra4j_ep_peers* recv_src,
                                       const infra4j_ep_peers* recv_range, void* stream);

/*
 * Low-latency combine into rank `rank`'s out [T, hidden] (BF16): out[t] = sum over slots j in order, with
 * an expert e, of topk_weights[t, j] * expert_out[rank of e] row (e's local index, expert_begin[e] +
 * slot_pos[t, j]), each product and sum rounded in FP32 (no fused multiply-add, so the CPU reference
 * gives the same bits). expert_out[r] is BF16 [L, W * M, hidden].
 */
INFRA4J_API int infra4j_ep_ll_combine(const infra4j_ep_peers* expert_out, int32_t hidden, const int64_t* topk_idx,
                                      const float* topk_weights, int32_t num_tokens, int32_t top_k, int32_t num_experts,
                                      int32_t world_size, int32_t max_tokens, const int32_t* slot_pos,
                                      const int32_t* expert_begin, void* out, void* stream);

#endif
