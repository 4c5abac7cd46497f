// The narrow kernel's pieces for walking the plan's splits, reading a key tile's block ids and
// loading a KV head's query rows into swizzled shared memory. The wide kernel (decode_splitkv_wgmma.cuh)
// has the same steps written inline: calling these from it made ptxas spill 4 bytes at d = 576 (its
// body uses all 255 registers), and any spill there is measured before it lands.
#pragma once

#include <cstdint>
#include <cuda_bf16.h>

#include "flashmla/mla_params.cuh"
#include "flashmla/sm90/hopper_ptx.cuh"

namespace infra4j::mla::sm90 {

// Thread 0 of a persistent CTA: the split after (part, split) into s_work[0..1] (split -1: none left).
// Parts go to CTAs round robin (blockIdx.y, + gridDim.y, ...); each part is a run of splits that
// costs about the same as any other (DESIGN.md §5). The state lives in shared memory: a split's body
// needs every register, and two more live across it made ptxas spill.
__device__ __forceinline__ void advance_work(const DecodeParams& p, int* s_work, int part, int split) {
    const int32_t* starts = plan_part_starts(p.plan, p.batch);
    const int parts = p.plan[0];
    ++split;
    while (part < parts && split >= starts[part + 1]) {
        part += gridDim.y;
        split = part < parts ? starts[part] : -1;
    }
    s_work[0] = part;
    s_work[1] = part < parts ? split : -1;
}

// The first split of this CTA's first part (thread 0, before the split loop).
__device__ __forceinline__ void first_work(const DecodeParams& p, int* s_work) {
    const int part = blockIdx.y;
    advance_work(p, s_work, part, part < p.plan[0] ? plan_part_starts(p.plan, p.batch)[part] - 1 : -2);
}

// A 64-key tile's block ids (at most 4 pages: page >= 16) and a bit per page whose id is out of range.
struct TileBlocks {
    int block[4];
    int bad;
};

// The pages of the 64-key tile starting at key t0 that hold keys below key_stop.
__device__ __forceinline__ int tile_pages(int t0, int key_stop, int page, int page_shift) {
    return min(64 >> page_shift, (key_stop - t0 + page - 1) >> page_shift);
}

// table: the sequence's row of the block table.
__device__ __forceinline__ TileBlocks fetch_tile_blocks(const int32_t* table, int t0, int key_stop, int page,
                                                        int page_shift, int num_blocks) {
    TileBlocks tb;
    const int pages = tile_pages(t0, key_stop, page, page_shift);
    table += t0 >> page_shift;
    tb.bad = 0;
#pragma unroll
    for (int pg = 0; pg < 4; ++pg) {
        tb.block[pg] = pg < pages ? table[pg] : 0;
        tb.bad |= (pg < pages && (tb.block[pg] < 0 || tb.block[pg] >= num_blocks)) << pg;
    }
    return tb;
}

// Query rows row0 .. row0 + kRows - 1 of KV head head_kv (row r is query token r / heads_per_kv, head
// head_kv * heads_per_kv + r % heads_per_kv) into kRows x D BF16 in 64-column tiles of 128-byte
// swizzled rows, tile_bytes apart; rows at or past rows_here are zero. All `threads` threads take part;
// the caller syncs.
template <int D, int kRows>
__device__ __forceinline__ void load_query_rows(const DecodeParams& p, unsigned char* dst_base, int tile_bytes, int b,
                                                int head_kv, int heads_per_kv, int row0, int rows_here, int tid,
                                                int threads) {
    const __nv_bfloat16* q = static_cast<const __nv_bfloat16*>(p.q);
    constexpr int kChunks = D / 8;  // 16-byte pieces per row
    for (int idx = tid; idx < kRows * kChunks; idx += threads) {
        const int r = idx / kChunks;
        const int ch = idx % kChunks;
        const bool ok = r < rows_here;
        const __nv_bfloat16* src = q;
        if (ok) {
            const int rr = row0 + r;
            const int i = rr / heads_per_kv;
            const int h = head_kv * heads_per_kv + rr % heads_per_kv;
            src = q + ((static_cast<int64_t>(b) * p.seqlen_q + i) * p.heads_q + h) * D + ch * 8;
        }
        unsigned char* dst = dst_base + (ch >> 3) * tile_bytes + r * 128 + (((ch & 7) ^ (r & 7)) << 4);
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(dst)), "l"(src), "r"(ok ? 16 : 0));
    }
    asm volatile("cp.async.commit_group;\ncp.async.wait_group 0;\n" ::: "memory");
    fence_proxy_async();
}

}  // namespace infra4j::mla::sm90
