// Parameters shared by the MLA decode kernels (internal to libinfra4j_cuda).
#pragma once

#include <cstdint>

namespace infra4j::mla {

constexpr int kHeadDimV = 512;
constexpr int kScaleGroup = 128;

// FP8 scales per token and head: one per 128 values, the last group possibly shorter (576 = 4 x 128 + 64).
template <int D>
constexpr int scale_groups() { return (D + kScaleGroup - 1) / kScaleGroup; }

struct DecodeParams {
    const void* q;            // [b, s_q, h_q, d] bf16
    const void* kv;           // [blocks, page, h_kv, d] bf16 or e4m3
    const float* kv_scales;   // [blocks, page, h_kv, d / 128] (e4m3 only)
    const int32_t* block_table;
    const int32_t* seqlens;
    const int32_t* plan;      // mla.h: [0] parts, [1] splits, split offsets, part starts, split key ranges
    float* o_accum;           // [splits, s_q * h_q, 512]
    float* lse_accum;         // [splits, s_q * h_q]
    void* out;                // [b, s_q, h_q, 512] bf16
    float* lse;               // [b, h_q, s_q]
    int batch, seqlen_q, heads_q, heads_kv, head_dim, page, num_blocks, max_blocks;
    int causal;
    float scale_log2;         // softmax scale * log2(e): the kernels use exp2
    int row_tiles;            // tiles of query rows per KV head
    int exact_p;              // wgmma kernel: 1 multiplies P as hi + lo on every tile (INFRA4J_MLA_EXACT_P=1)
    int rs_p;                 // wgmma kernel: 1 (default) feeds warpgroup 0's P V from registers (INFRA4J_MLA_RS_P=0: from shared memory)
};

// The split (0-based within the plan) -> its sequence, by binary search over the split offsets.
__device__ __forceinline__ int batch_of_split(const int32_t* offsets, int batch, int split) {
    int lo = 0, hi = batch - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (offsets[mid] <= split) lo = mid; else hi = mid - 1;
    }
    return lo;
}

// The plan's sections (mla.h): split offsets [batch + 1], part starts [parts + 1], key ranges [2 x splits].
__device__ __forceinline__ const int32_t* plan_offsets(const int32_t* plan) { return plan + 2; }
__device__ __forceinline__ const int32_t* plan_part_starts(const int32_t* plan, int batch) { return plan + 3 + batch; }
__device__ __forceinline__ const int32_t* plan_ranges(const int32_t* plan, int batch) {
    return plan + 4 + batch + plan[0];
}

// One split: its sequence and its keys [key_begin, key_end), the end clamped to the sequence's length
// as the kernels see it (negative lengths 0, lengths beyond the block table the table's capacity).
struct SplitWork {
    int b;
    int seqlen;
    int key_begin;
    int key_end;
};

__device__ __forceinline__ SplitWork split_work(const DecodeParams& p, int split) {
    SplitWork w;
    w.b = batch_of_split(plan_offsets(p.plan), p.batch, split);
    const int capacity = p.max_blocks * p.page;
    int seqlen = p.seqlens[w.b];
    w.seqlen = seqlen < 0 ? 0 : (seqlen > capacity ? capacity : seqlen);
    const int32_t* range = plan_ranges(p.plan, p.batch) + 2 * split;
    w.key_begin = range[0];
    w.key_end = min(w.seqlen, range[1]);
    return w;
}

}  // namespace infra4j::mla
