// MLA decode for at most 32 query rows per KV head (s_q * h_q / h_kv <= 32, the memory-bound shapes):
// the "narrow" kernel of DESIGN.md §4 and §12. The wide kernel pads such rows to the 64 of a wgmma's M
// and spends a 64-row tile's tensor time on every key; here the keys are M instead, so the tensor
// work shrinks with the rows:
//
// - S^T = K Q^T with m64n32k16: A is the key stage (64 keys x d, K-major, as TMA lands it for the
//   wide kernel), B is Q (32 rows x d, K-major). The softmax runs down the columns: each query row's
//   maximum over the tile's 64 keys is a shuffle over the 8 lanes that share a column and an
//   exchange between the 4 warps through shared memory.
// - O^T += V^T P^T with m64n32k16: A is V^T, the stage's first 512 columns read MN-major; B is P^T,
//   written to shared memory as [row][key]. O^T (512 x 32 FP32) is 128 registers per thread of the
//   one warpgroup. A fifth warp only issues the TMA loads (issuing them from the math warpgroup
//   held up its next wgmma, which all four warps must reach).
// - Two 64-key stages; the producer reloads a stage (tile j + 2) once every math thread has arrived
//   on its `empty` barrier after the P V of tile j.
//   Short sequences multiply P as hi + lo (as the wide kernel, DESIGN.md §3.3).
// - BF16 caches only for now; FP8 stays on the wide kernel. Opt-in (INFRA4J_MLA_NARROW=1): it
//   measured level with the wide kernel, since both wait on the loads (DESIGN.md §12).
#pragma once

#include <cuda.h>
#include <type_traits>
#include <cuda_bf16.h>
#include <math_constants.h>

#include "flashmla/mla_params.cuh"
#include "flashmla/sm90/decode_splitkv_wgmma.cuh"
#include "flashmla/sm90/hopper_ptx.cuh"
#include "flashmla/sm90/split_common.cuh"
#include "flashmla/sm90/wgmma_ops.cuh"

namespace infra4j::mla::sm90 {

constexpr int kNarrowThreads = 128;              // the math warpgroup
constexpr int kNarrowCta = kNarrowThreads + 32;  // plus one producer warp, which issues the TMA loads
constexpr int kNarrowRows = 32;  // N of every wgmma: the query rows of one KV head, padded
constexpr int kBarNarrow = 1;    // the warpgroup's own barrier (reductions, P written, P V retired)

template <int D>
struct NarrowLayout {
    static constexpr int kCols = D / 64;
    static constexpr int kRowTile = kNarrowRows * 128;  // 32 rows x 64 BF16 columns
    static constexpr int kStage = kCols * kTileBytes;   // 64 keys x d
    static constexpr int kQ = 0;
    static constexpr int kK = kQ + kCols * kRowTile;
    static constexpr int kP = kK + 2 * kStage;  // P^T as [row][key]
    static constexpr int kPlo = kP + kRowTile;
    static constexpr int kRed = kPlo + kRowTile;  // column maxima / sums of each warp, two buffers
    static constexpr int kBadPages = kRed + 2 * 4 * kNarrowRows * 4;
    static constexpr int kBars = kBadPages + 16;
    static constexpr int kWork = kBars + 4 * 8;  // full[2], empty[2]
    static constexpr int kBytes = kWork + 2 * 4;
    static constexpr int kAlloc = kBytes + 1024;
    static_assert(kK % 1024 == 0 && kP % 1024 == 0, "swizzle atoms are 1024-aligned");
    static_assert(kAlloc <= 232448, "fits the opt-in shared memory of an sm_90 CTA");
};

// A thread's 8 columns (query rows) of an m64n32 accumulator: 8 * (c / 2) + 2 * quad + c % 2; its
// registers 4 * (c / 2) + 2 * h + c % 2 hold key rows key0 + 8 * h.
__device__ __forceinline__ int narrow_col(int c, int quad) { return 8 * (c >> 1) + 2 * quad + (c & 1); }
__device__ __forceinline__ int narrow_reg(int c, int h) { return 4 * (c >> 1) + 2 * h + (c & 1); }

// Each column's value combined over the 64 key rows of the warpgroup: the 8 lanes that share a quad,
// then the 4 warps through `red` (32 floats per warp).
template <bool kMax>
__device__ __forceinline__ void narrow_column_reduce(float (&v)[8], float* red, int warp, int lane) {
#pragma unroll
    for (int c = 0; c < 8; ++c) {
#pragma unroll
        for (int x = 4; x < 32; x <<= 1) {
            float o = __shfl_xor_sync(0xffffffffu, v[c], x);
            v[c] = kMax ? fmaxf(v[c], o) : v[c] + o;
        }
    }
    if (lane < 4) {
#pragma unroll
        for (int c = 0; c < 8; ++c) red[warp * kNarrowRows + narrow_col(c, lane)] = v[c];
    }
    named_sync(kBarNarrow, kNarrowThreads);
#pragma unroll
    for (int c = 0; c < 8; ++c) {
        const int col = narrow_col(c, lane & 3);
        float a = red[col], b = red[kNarrowRows + col], d = red[2 * kNarrowRows + col], e = red[3 * kNarrowRows + col];
        v[c] = kMax ? fmaxf(fmaxf(a, b), fmaxf(d, e)) : (a + b) + (d + e);
    }
}

template <int D>
__global__ void __launch_bounds__(kNarrowCta, 1)
    decode_splitkv_narrow(const __grid_constant__ DecodeParams p, const __grid_constant__ CUtensorMap kv_map) {
    using L = NarrowLayout<D>;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    unsigned char* sm = smem_raw + ((1024 - (smem_u32(smem_raw) & 1023)) & 1023);
    uint64_t* full = reinterpret_cast<uint64_t*>(sm + L::kBars);
    uint64_t* empty = full + 2;
    float* s_red = reinterpret_cast<float*>(sm + L::kRed);
    int* s_bad = reinterpret_cast<int*>(sm + L::kBadPages);
    int* s_work = reinterpret_cast<int*>(sm + L::kWork);

    // Persistent over the plan's parts, as the wide kernel (DESIGN.md §5).
    if (threadIdx.x == 0) first_work(p, s_work);
    for (;;) {
    __syncthreads();
    const int split = *static_cast<volatile int*>(s_work + 1);
    if (split < 0) break;
    __syncthreads();
    const int head_kv = blockIdx.x;
    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int lane = tid & 31;
    const int quad = lane & 3;
    const int key0 = 16 * warp + (lane >> 2);  // this thread's key rows: key0 and key0 + 8
#ifdef INFRA4J_MLA_TRACE
    constexpr int wg = 0;
    const bool trace_on = blockIdx.x == 0 && blockIdx.y == 0 && split == plan_part_starts(p.plan, p.batch)[0] &&
                          tid == 0 && *static_cast<volatile int*>(&g_mla_trace_launch) == 5;
    const long long trace_t0 = clock64();
#endif

    const SplitWork work = split_work(p, split);
    const int b = work.b;
    const int seqlen = work.seqlen;
    const int key_begin = work.key_begin;
    const int key_end = work.key_end;
    const int heads_per_kv = p.heads_q / p.heads_kv;
    const int rows_here = p.seqlen_q * heads_per_kv;  // <= 32 (the launch checks)
    int key_stop = key_end;
    if (p.causal) key_stop = min(key_end, seqlen - p.seqlen_q + (rows_here - 1) / heads_per_kv + 1);
    const int num_tiles = key_stop > key_begin ? (key_stop - key_begin + 63) / 64 : 0;
    const int page_shift = 31 - __clz(p.page);
    const uint64_t policy = l2_policy_evict_first();

    auto fetch_blocks = [&](int j) {
        return fetch_tile_blocks(p.block_table + static_cast<int64_t>(b) * p.max_blocks, key_begin + j * 64, key_stop,
                                 p.page, page_shift, p.num_blocks);
    };
    // Only the pages holding keys below key_stop are loaded; the rest of the stage keeps stale data,
    // which the mask and the zeroed dead V rows make harmless. An out-of-range block id reads zeros.
    auto issue_tile = [&](int j, const TileBlocks& tb) {
        const int s = j & 1;
        const int t0 = key_begin + j * 64;
        const int pages = tile_pages(t0, key_stop, p.page, page_shift);
        unsigned char* dst = sm + L::kK + s * L::kStage;
        s_bad[s] = tb.bad;
        mbar_arrive_expect_tx(&full[s], static_cast<uint32_t>(pages * L::kCols * p.page * 128));
#pragma unroll
        for (int pg = 0; pg < 4; ++pg) {
            if (pg < pages) {
#pragma unroll
                for (int c = 0; c < L::kCols; ++c) {
                    tma_load_4d(dst + c * kTileBytes + pg * p.page * 128, &kv_map, &full[s], 64 * c, head_kv, 0,
                                tb.block[pg], policy);
                }
            }
        }
    };

    if (tid == 0) {
        mbar_init(&full[0], 1);
        mbar_init(&full[1], 1);
        mbar_init(&empty[0], kNarrowThreads);
        mbar_init(&empty[1], kNarrowThreads);
        mbar_init_fence();
    }
    __syncthreads();
    if (tid == kNarrowThreads) {
        tma_prefetch_descriptor(&kv_map);
        for (int j = 0; j < 2 && j < num_tiles; ++j) issue_tile(j, fetch_blocks(j));
    }

    // Q rows of this KV head into the swizzled [row][d] tiles, rows past rows_here zero.
    load_query_rows<D, kNarrowRows>(p, sm + L::kQ, L::kRowTile, b, head_kv, heads_per_kv, 0, rows_here, tid,
                                      kNarrowCta);
    __syncthreads();

    const uint32_t q_base = smem_u32(sm + L::kQ);
    const uint32_t k_base = smem_u32(sm + L::kK);
    float o[8][16];
#pragma unroll
    for (int t = 0; t < 8; ++t)
#pragma unroll
        for (int i = 0; i < 16; ++i) o[t][i] = 0.f;
    float m_run[8];
    float l_run[8];
    int last_visible[8];  // last key each of the thread's columns sees (-1: a padding row)
    // The last key every real row sees (row 0's, under causal masking).
    const int min_visible = min(key_end, p.causal ? seqlen - p.seqlen_q + 1 : seqlen) - 1;
#pragma unroll
    for (int c = 0; c < 8; ++c) {
        m_run[c] = kMasked;
        l_run[c] = 0.f;
        const int row = narrow_col(c, quad);
        last_visible[c] = row >= rows_here
                              ? -1
                              : min(key_end, p.causal ? seqlen - p.seqlen_q + row / heads_per_kv + 1 : seqlen) - 1;
    }

    // The producer warp: tile j + 2 into stage j % 2 once the math warpgroup is done with tile j;
    // each tile's block ids are read while it waits for the previous stage.
    auto produce = [&]() {
        if (lane != 0 || num_tiles <= 2) return;
        TileBlocks next = fetch_blocks(2);
        for (int j = 2; j < num_tiles; ++j) {
            const TileBlocks tb = next;
            if (j + 1 < num_tiles) next = fetch_blocks(j + 1);
            mbar_wait(&empty[j & 1], ((j - 2) >> 1) & 1);
            issue_tile(j, tb);
        }
    };
    auto main_loop = [&](auto lo_tag) {
        constexpr bool kLo = decltype(lo_tag)::value;
        for (int j = 0; j < num_tiles; ++j) {
            const int s = j & 1;
            const int t0 = key_begin + j * 64;
            const uint32_t stage = k_base + s * L::kStage;
            MLA_TRACE(j, 0);
            mbar_wait(&full[s], (j >> 1) & 1);
            MLA_TRACE(j, 1);

            float sc[16];
            {
                const uint64_t dk = opaque(sw128_desc(stage, 16, 1024));
                const uint64_t dq = opaque(sw128_desc(q_base, 16, 1024));
                wgmma_fence_operand(sc);
                wgmma_fence();
#pragma unroll
                for (int c = 0; c < L::kCols; ++c) {
#pragma unroll
                    for (int kk = 0; kk < 4; ++kk) {
                        wgmma_m64n32k16_ss(sc, dk + ((c * kTileBytes + kk * 32) >> 4),
                                           dq + ((c * L::kRowTile + kk * 32) >> 4), (c | kk) != 0);
                    }
                }
                wgmma_commit();
                wgmma_wait<0>();
                wgmma_fence_operand(sc);
            }
            MLA_TRACE(j, 2);

            // Mask and scale (log2 units), then each column's maximum over the tile.
            const int bad = s_bad[s];
            float mx[8];
            if (bad == 0 && t0 + 63 <= min_visible) {  // every key visible to every real row
#pragma unroll
                for (int c = 0; c < 8; ++c) {
                    const bool pad = last_visible[c] < 0;
                    float& v0 = sc[narrow_reg(c, 0)];
                    float& v1 = sc[narrow_reg(c, 1)];
                    v0 = pad ? kMasked : v0 * p.scale_log2;
                    v1 = pad ? kMasked : v1 * p.scale_log2;
                    mx[c] = fmaxf(v0, v1);
                }
            } else {
#pragma unroll
                for (int c = 0; c < 8; ++c) {
                    mx[c] = kMasked;
#pragma unroll
                    for (int h = 0; h < 2; ++h) {
                        const int key = key0 + 8 * h;
                        const bool visible = t0 + key <= last_visible[c] && !((bad >> (key >> page_shift)) & 1);
                        float& v = sc[narrow_reg(c, h)];
                        v = visible ? v * p.scale_log2 : kMasked;
                        mx[c] = fmaxf(mx[c], v);
                    }
                }
            }
            narrow_column_reduce<true>(mx, s_red + (j & 1) * 4 * kNarrowRows, warp, lane);
            MLA_TRACE(j, 3);
            float alpha[8];
            bool moved = false;
#pragma unroll
            for (int c = 0; c < 8; ++c) {
                const float m_new = fmaxf(m_run[c], mx[c]);
                alpha[c] = m_new == kMasked ? 1.f : fast_exp2(m_run[c] - m_new);
                const float m_use = m_new == kMasked ? 0.f : m_new;
                m_run[c] = m_new;
                moved |= alpha[c] != 1.f;
                float sum = 0.f;
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                    float& v = sc[narrow_reg(c, h)];
                    v = fast_exp2(v - m_use);
                    sum += v;
                }
                l_run[c] = l_run[c] * alpha[c] + sum;  // this thread's 2 keys; summed over all after the last tile
            }

            // P^T as [row][key] for the second wgmma's B (and P_lo = bf16(p - bf16(p)) for short sequences).
            unsigned char* sp = sm + L::kP;
            unsigned char* splo = sm + L::kPlo;
#pragma unroll
            for (int c = 0; c < 8; ++c) {
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                    const float v = sc[narrow_reg(c, h)];
                    const __nv_bfloat16 hi = __float2bfloat16_rn(v);
                    const uint32_t at = sw128_offset(narrow_col(c, quad), key0 + 8 * h);
                    *reinterpret_cast<__nv_bfloat16*>(sp + at) = hi;
                    if constexpr (kLo) *reinterpret_cast<__nv_bfloat16*>(splo + at) = __float2bfloat16_rn(v - __bfloat162float(hi));
                }
            }
            if (key_stop - t0 < 64) zero_dead_v_rows(sm + L::kK + s * L::kStage, key_stop - t0, tid);
            fence_proxy_async();
            named_sync(kBarNarrow, kNarrowThreads);
            MLA_TRACE(j, 4);

            if (__any_sync(0xffffffffu, moved)) {
#pragma unroll
                for (int t = 0; t < 8; ++t)
#pragma unroll
                    for (int c = 0; c < 8; ++c)
#pragma unroll
                        for (int h = 0; h < 2; ++h) o[t][narrow_reg(c, h)] *= alpha[c];
            }
            {
                const uint64_t dv = opaque(sw128_desc(stage, kTileBytes, 1024));
                const uint64_t dp = opaque(sw128_desc(smem_u32(sp), 16, 1024));
#pragma unroll
                for (int t = 0; t < 8; ++t) wgmma_fence_operand(o[t]);
                wgmma_fence();
#pragma unroll
                for (int t = 0; t < 8; ++t) {
#pragma unroll
                    for (int kk = 0; kk < 4; ++kk) {
                        wgmma_m64n32k16_ss_ta(o[t], dv + ((t * kTileBytes + kk * 2048) >> 4), dp + ((kk * 32) >> 4), 1);
                    }
                }
                if constexpr (kLo) {
                    const uint64_t dplo = opaque(sw128_desc(smem_u32(splo), 16, 1024));
#pragma unroll
                    for (int t = 0; t < 8; ++t) {
#pragma unroll
                        for (int kk = 0; kk < 4; ++kk) {
                            wgmma_m64n32k16_ss_ta(o[t], dv + ((t * kTileBytes + kk * 2048) >> 4),
                                                  dplo + ((kk * 32) >> 4), 1);
                        }
                    }
                }
                wgmma_commit();
                wgmma_wait<0>();
#pragma unroll
                for (int t = 0; t < 8; ++t) wgmma_fence_operand(o[t]);
            }
            MLA_TRACE(j, 5);
            mbar_arrive(&empty[s]);  // this thread's part of the P V has retired: the stage may be reloaded
            // Every warp's P V has retired: P may be rewritten.
            named_sync(kBarNarrow, kNarrowThreads);
            MLA_TRACE(j, 6);
        }
    };
    if (warp == kNarrowThreads / 32) {
        produce();
    } else if (p.exact_p != 0 || seqlen < kExactPShorter) {
        main_loop(std::true_type{});
    } else {
        main_loop(std::false_type{});
    }

#ifdef INFRA4J_MLA_TRACE
    if (trace_on) {
        g_mla_trace_hdr[0] = num_tiles;
        g_mla_trace_hdr[1] = clock64() - trace_t0;
        g_mla_trace_hdr[3] = trace_t0;
    }
#endif
    // Each column's sum over all 64 key rows; m_run is already the same in every thread of a column.
    if (warp < kNarrowThreads / 32) {
    narrow_column_reduce<false>(l_run, s_red + (num_tiles & 1) * 4 * kNarrowRows, warp, lane);
    const int rows_b = p.seqlen_q * p.heads_q;
#pragma unroll
    for (int c = 0; c < 8; ++c) {
        const int row = narrow_col(c, quad);
        if (row < rows_here) {
            const int i = row / heads_per_kv;
            const int h = head_kv * heads_per_kv + row % heads_per_kv;
            const int64_t row_index = static_cast<int64_t>(split) * rows_b + i * p.heads_q + h;
            const float inv = l_run[c] > 0.f ? 1.f / l_run[c] : 0.f;
            float* dst = p.o_accum + row_index * kHeadDimV + key0;
#pragma unroll
            for (int t = 0; t < 8; ++t) {
                dst[64 * t] = o[t][narrow_reg(c, 0)] * inv;
                dst[64 * t + 8] = o[t][narrow_reg(c, 1)] * inv;
            }
            if (key0 == 0) {
                p.lse_accum[row_index] =
                    l_run[c] > 0.f ? (m_run[c] + log2f(l_run[c])) * CUDART_LN2_F : -CUDART_INF_F;
            }
        }
    }
    }
    __syncthreads();  // every thread has read this split's s_work
    if (threadIdx.x == 0) advance_work(p, s_work, s_work[0], split);
    }
}

}  // namespace infra4j::mla::sm90
