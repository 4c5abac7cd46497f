// The FP8 GEMM kernel for sm_90a (include/infra4j/fp8_gemm.h): D = A B^T with 1 x 128 scales on A and
// 128 x 128 scales on B, dense or grouped. DESIGN.md beside this folder explains the choices.
//
// A persistent CTA of three warpgroups walks output tiles of 128 x BLOCK_N:
//   warpgroup 0: one thread issues the TMA loads of A, B and A's scales for each 128-wide K block into
//                a ring of stages (full / empty mbarriers); the rest of it only gives its registers away;
//   warpgroups 1, 2: rows 0..63 and 64..127 of the tile. Per K block, four wgmma m64nNk32 (e4m3) sum
//                the block's products into `part`, which is then scaled by sa[row] * sb[block] and added
//                to `acc` in FP32 ("promotion": FP8 products are summed in limited precision only
//                within one block of 128).
#pragma once

#include <cstdint>

#include <cuda.h>
#include <cuda_bf16.h>

#include "common/sm90/hopper_ptx.cuh"
#include "deepgemm/sm90/wgmma_fp8.cuh"
#include "infra4j/fp8_gemm.h"

namespace infra4j::gemm::sm90 {

using namespace infra4j::sm90;

constexpr int kBlockM = 128;
constexpr int kBlockK = INFRA4J_FP8_BLOCK;
constexpr int kThreads = 384;
constexpr int kConsumerWarps = 8;

struct GemmParams {
    int kind;           // INFRA4J_FP8_GEMM_*
    int m;              // rows of A (per group for MASKED)
    int n;              // rows of B per group
    int groups;
    int k_blocks;       // k / 128
    int n_scale_blocks; // ceil(n / 128)
    int m_tiles;        // ceil(m / 128)
    int n_tiles;        // ceil(n / BLOCK_N)
    int band;           // output tiles are visited in bands of this many tile columns (L2 reuse)
    int k_splits;       // DENSE: K blocks dealt to this many CTAs per tile (1: no split)
    float* partial;     // k_splits > 1: [k_splits][m][n] FP32 partial sums
    int* counters;      // k_splits > 1: per tile, the splits done (zero at launch)
    const float* sb;    // [groups][n_scale_blocks][k_blocks]
    const int32_t* m_indices;
    const int32_t* masked_m;
    __nv_bfloat16* d;
};

// Shared memory of one CTA: the ring of stages, each math warp's output staging, then the barriers.
// Every A and B tile starts on a 1024-byte boundary, as the 128-byte swizzle's atoms (8 rows of 128
// bytes) must.
template <int BLOCK_N, int BLOCK_M = kBlockM>
struct GemmSmem {
    static constexpr int kA = BLOCK_M * kBlockK;  // e4m3 bytes
    static constexpr int kB = BLOCK_N * kBlockK;
    static constexpr int kSa = BLOCK_M * 4;
    static constexpr int kStageBytes = kA + kB + kSa;
    static constexpr int kOutWarp = 16 * 128;  // a warp's 16 rows x 64 BF16 columns, staged for 16-byte stores
    static constexpr int kBudget = 232448 - 1024 - 256 - kConsumerWarps * kOutWarp;
    // Narrow tiles (decode) keep more stages in flight: their time is the latency of memory.
    static constexpr int kStages = kBudget / kStageBytes > 16 ? 16 : kBudget / kStageBytes;
    static constexpr int kOffB = kStages * kA;
    static constexpr int kOffSa = kOffB + kStages * kB;
    static constexpr int kOffOut = kOffSa + kStages * kSa;
    static constexpr int kOffBars = kOffOut + kConsumerWarps * kOutWarp;
    static constexpr int kAlloc = kOffBars + 2 * kStages * 8 + 1024;
    static_assert(2 * kStages * 8 <= 256, "the barriers fit the room kept for them");
    static_assert(kB % 1024 == 0, "B tiles stay 1024-aligned");
    static_assert(kStages >= 4, "a ring of at least four stages");
    static_assert(kAlloc <= 232448, "fits the opt-in shared memory of an sm_90 CTA");
};

// One output tile: where its rows come from and how many of them are real.
struct Tile {
    int group;
    int m0;       // first row within the group
    int n0;       // first column
    int m_valid;  // rows of the group that exist (rows >= m_valid are not written)
    int a_row;    // first row in A's tensor map
    int b_row;    // first row in B's tensor map
    int sa_row;   // row of A's scale map for K block 0
    int index;    // the tile's number (split-K: which counter)
    int split;    // split-K: which slab this CTA's partial sums go to
    int kb_begin; // the K blocks this CTA sums: [kb_begin, kb_end)
    int kb_end;
};

__device__ __forceinline__ int ceil_div(int a, int b) { return (a + b - 1) / b; }

// The t-th unit of work of this kernel, or false when there are fewer. A unit is CLUSTER tiles side by
// side (the same rows of A, consecutive tile columns); this CTA takes column `rank` of it. Every role
// of every CTA calls this with the same t and reads the same memory, so they agree without talking.
template <int BLOCK_N, int CLUSTER, int BLOCK_M>
__device__ __forceinline__ bool tile_at(const GemmParams& p, int t, int rank, Tile& tile) {
    const int n_units = ceil_div(p.n_tiles, CLUSTER);
    int unit_col;
    if (p.kind == INFRA4J_FP8_GEMM_MASKED) {
        int g = 0;
        for (;; ++g) {
            if (g == p.groups) return false;
            int rows = min(max(p.masked_m[g], 0), p.m);
            int count = ceil_div(rows, BLOCK_M) * n_units;
            if (t < count) {
                tile.m_valid = rows;
                break;
            }
            t -= count;
        }
        tile.group = g;
        tile.m0 = t / n_units * BLOCK_M;
        unit_col = t % n_units;
        tile.a_row = g * p.m + tile.m0;
        tile.sa_row = g * p.k_blocks;
        tile.index = 0;
        tile.split = 0;
        tile.kb_begin = 0;
        tile.kb_end = p.k_blocks;
    } else {
        if (t >= p.m_tiles * n_units * p.k_splits) return false;
        // Split-K (dense only): the splits of a tile are consecutive units, so they run at once.
        const int split = t % p.k_splits;
        t /= p.k_splits;
        tile.index = t;
        tile.split = split;
        tile.kb_begin = static_cast<int>(static_cast<int64_t>(p.k_blocks) * split / p.k_splits);
        tile.kb_end = static_cast<int>(static_cast<int64_t>(p.k_blocks) * (split + 1) / p.k_splits);
        // Bands of `band` unit columns; within a band, columns vary fastest, so the CTAs running at
        // once share both A rows and B rows in L2.
        int band_units = p.band * p.m_tiles;
        int b = t / band_units, r = t % band_units;
        int width = min(p.band, n_units - b * p.band);
        tile.m0 = r / width * BLOCK_M;
        unit_col = b * p.band + r % width;
        tile.m_valid = p.m;
        tile.a_row = tile.m0;
        tile.sa_row = 0;
        tile.group = 0;
        if (p.kind == INFRA4J_FP8_GEMM_CONTIGUOUS) {
            // A tile lies in one group's segment (segments are padded to 128 rows); its first row names
            // the group unless the segment is all padding, which no row of it needs.
            int g = -1;
            for (int i = tile.m0; i < min(tile.m0 + BLOCK_M, p.m) && g < 0; ++i) g = p.m_indices[i];
            tile.group = g < p.groups ? g : -1;  // -1: nothing to compute (an id out of range is skipped, never read)
        }
    }
    // A unit's last column may lie past n: that CTA still loads (zeros, or rows nobody stores) to share
    // its A rows with the other, and writes nothing.
    tile.n0 = (unit_col * CLUSTER + rank) * BLOCK_N;
    tile.b_row = tile.group * p.n + tile.n0;
    return true;
}

// CLUSTER 2: the two CTAs of a cluster compute tiles side by side and each loads half of their common
// A tile, multicast into both (TMA reads from L2 are what bounds this kernel: DESIGN.md §5).
// BLOCK_M 128: the math warpgroups take 64 rows each; 64 (decode-sized m): they take half the columns
// each, so that no shared memory goes to rows that do not exist.
template <int BLOCK_N, int CLUSTER, int BLOCK_M = kBlockM>
__global__ void __launch_bounds__(kThreads, 1)
    fp8_gemm_kernel(const __grid_constant__ GemmParams p, const __grid_constant__ CUtensorMap a_map,
                    const __grid_constant__ CUtensorMap b_map, const __grid_constant__ CUtensorMap sa_map) {
    static_assert(BLOCK_M == 128 || (BLOCK_M == 64 && CLUSTER == 1), "64-row tiles run without clusters");
    using L = GemmSmem<BLOCK_N, BLOCK_M>;
    constexpr int kStages = L::kStages;
    extern __shared__ uint8_t smem_raw[];
    uint8_t* smem = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));
    uint64_t* full = reinterpret_cast<uint64_t*>(smem + L::kOffBars);
    uint64_t* empty = full + kStages;

    const int wg = threadIdx.x / 128;
    const int rank = CLUSTER > 1 ? static_cast<int>(cluster_ctarank()) : 0;
    const int first = CLUSTER > 1 ? static_cast<int>(blockIdx.x) / CLUSTER : static_cast<int>(blockIdx.x);
    const int step = CLUSTER > 1 ? static_cast<int>(gridDim.x) / CLUSTER : static_cast<int>(gridDim.x);
    if (threadIdx.x == 0) {
        for (int s = 0; s < kStages; ++s) {
            mbar_init(&full[s], 1);
            mbar_init(&empty[s], kConsumerWarps * CLUSTER);  // every math warp of the cluster releases
        }
        mbar_init_fence();
        tma_prefetch_descriptor(&a_map);
        tma_prefetch_descriptor(&b_map);
        tma_prefetch_descriptor(&sa_map);
    }
    if constexpr (CLUSTER > 1) {
        cluster_sync();  // barriers initialised before any CTA of the cluster multicasts or arrives
    } else {
        __syncthreads();
    }

    if (wg == 0) {
        setmaxnreg_dec<40>();
        if (threadIdx.x == 0) {
            int it = 0;
            Tile tile;
            for (int t = first; tile_at<BLOCK_N, CLUSTER, BLOCK_M>(p, t, rank, tile); t += step) {
                if (tile.group < 0) continue;
                for (int kb = tile.kb_begin; kb < tile.kb_end; ++kb, ++it) {
                    const int s = it % kStages;
                    const uint32_t parity = ((it / kStages) & 1) ^ 1;
                    uint8_t* a_dst = smem + s * L::kA;
                    mbar_wait(&empty[s], parity);
                    mbar_arrive_expect_tx(&full[s], L::kA + L::kB + L::kSa);
                    if constexpr (CLUSTER > 1) {
                        constexpr int kHalf = BLOCK_M / CLUSTER;
                        tma_load_2d_multicast(a_dst + rank * kHalf * kBlockK, &a_map, &full[s], kb * kBlockK,
                                              tile.a_row + rank * kHalf, static_cast<uint16_t>((1 << CLUSTER) - 1));
                    } else {
                        tma_load_2d(a_dst, &a_map, &full[s], kb * kBlockK, tile.a_row);
                    }
                    tma_load_2d(smem + L::kOffB + s * L::kB, &b_map, &full[s], kb * kBlockK, tile.b_row);
                    tma_load_2d(smem + L::kOffSa + s * L::kSa, &sa_map, &full[s], tile.m0, tile.sa_row + kb);
                }
            }
        }
    } else {
        setmaxnreg_inc<232>();
        const int math = wg - 1;
        const int warp = (threadIdx.x / 32) % 4;
        const int lane = threadIdx.x % 32;
        const int row_in_wg = warp * 16 + lane / 4;  // accumulator rows: this and this + 8
        // This warpgroup's part of the tile: rows row_off .. +63, columns col_off .. + kCols - 1.
        constexpr int kCols = BLOCK_M == 128 ? BLOCK_N : BLOCK_N / 2;
        const int row_off = BLOCK_M == 128 ? math * 64 : 0;
        const int col_off = BLOCK_M == 128 ? 0 : math * kCols;
        // 256 columns are two wgmma widths of 128: each is summed into `part` and promoted in turn, so
        // that acc (128 registers) and part (64) fit beside each other.
        constexpr int kWgN = kCols == 256 ? 128 : kCols;
        constexpr int kHalves = kCols / kWgN;
        // Widths other than 192 start on a 128-column block of B's scales, so which scale each column
        // takes is known at compile time (half 1 of 256 columns is the next block).
        constexpr bool kScaleFixed = BLOCK_N != 192;

        // Up to 64 columns per warpgroup, a second `part` lets one block's products run while the one
        // before is promoted (at 128 columns it spilled; 256 have no registers for it).
        constexpr bool kPipelined = kHalves == 1 && kWgN <= 128;
        float acc[kCols / 2];
        float part[kWgN / 2];
        float part2[kPipelined ? kWgN / 2 : 1];
        int it = 0;
        Tile tile;
        for (int t = first; tile_at<BLOCK_N, CLUSTER, BLOCK_M>(p, t, rank, tile); t += step) {
            if (tile.group < 0) continue;
#pragma unroll
            for (int i = 0; i < kCols / 2; ++i) acc[i] = 0.f;
            // B's scales of these columns: they meet at most two 128-wide blocks (192 may start mid-block;
            // 256 starts on one). A column tile past n (the spare of a cluster) reads the last block's.
            const int n0w = tile.n0 + col_off;
            const int nb0 = min(n0w / kBlockK, p.n_scale_blocks - 1);
            const int nb1 = min(nb0 + 1, p.n_scale_blocks - 1);
            const int split_j = ((nb0 + 1) * kBlockK - n0w) / 8;  // 8-column groups before block nb0 + 1
            const float* sb0 = p.sb + (static_cast<int64_t>(tile.group) * p.n_scale_blocks + nb0) * p.k_blocks;
            const float* sb1 = p.sb + (static_cast<int64_t>(tile.group) * p.n_scale_blocks + nb1) * p.k_blocks;
            // Block kb's products into `buf`: four k32 steps, one commit group.
            auto issue = [&](float(&buf)[kWgN / 2], int s, int h) {
                const uint64_t da = sw128_desc(smem_u32(smem + s * L::kA + row_off * kBlockK), 16, 1024);
                const uint64_t db =
                    sw128_desc(smem_u32(smem + L::kOffB + s * L::kB + (col_off + h * kWgN) * kBlockK), 16, 1024);
                wgmma_fence_operand(buf);
                wgmma_fence();
#pragma unroll
                for (int kk = 0; kk < kBlockK / 32; ++kk) {
                    // k32 of e4m3 is 32 bytes along the 128-byte rows; the address field counts 16 bytes.
                    if constexpr (kWgN == 8) wgmma_m64n8k32_e4m3(buf, da + kk * 2, db + kk * 2, kk);
                    if constexpr (kWgN == 16) wgmma_m64n16k32_e4m3(buf, da + kk * 2, db + kk * 2, kk);
                    if constexpr (kWgN == 32) wgmma_m64n32k32_e4m3(buf, da + kk * 2, db + kk * 2, kk);
                    if constexpr (kWgN == 64) wgmma_m64n64k32_e4m3(buf, da + kk * 2, db + kk * 2, kk);
                    if constexpr (kWgN == 128) wgmma_m64n128k32_e4m3(buf, da + kk * 2, db + kk * 2, kk);
                    if constexpr (kWgN == 192) wgmma_m64n192k32_e4m3(buf, da + kk * 2, db + kk * 2, kk);
                }
                wgmma_commit();
            };
            // This warp is done with stage s (in every CTA that writes into it).
            auto release = [&](int s) {
                __syncwarp();
                if (lane == 0) {
                    if constexpr (CLUSTER > 1) {
#pragma unroll
                        for (int c = 0; c < CLUSTER; ++c) mbar_arrive_cluster(&empty[s], c);
                    } else {
                        mbar_arrive(&empty[s]);
                    }
                }
            };
            // acc += buf * (sa * sb): the FP32 promotion of one block's sums. Scales: A's of this thread's
            // two rows, B's of the columns before split_j and from it. They are multiplied here, after the
            // products are done, so that the wgmmas never wait for B's scale to arrive from memory.
            struct Scales {
                float a0, a1, b_lo, b_hi;
            };
            auto promote = [&](const float(&buf)[kWgN / 2], const Scales& sc, int h) {
                const float lo0 = sc.a0 * sc.b_lo, lo1 = sc.a1 * sc.b_lo, hi0 = sc.a0 * sc.b_hi, hi1 = sc.a1 * sc.b_hi;
#pragma unroll
                for (int j = 0; j < kWgN / 8; ++j) {
                    const bool lo = kScaleFixed ? h * kWgN < kBlockK : h * kWgN / 8 + j < split_j;
                    const float s0 = lo ? lo0 : hi0, s1 = lo ? lo1 : hi1;
                    float* out = acc + h * (kWgN / 2) + 4 * j;
                    out[0] += buf[4 * j + 0] * s0;
                    out[1] += buf[4 * j + 1] * s0;
                    out[2] += buf[4 * j + 2] * s1;
                    out[3] += buf[4 * j + 3] * s1;
                }
            };
            // B's scales are read one block ahead (the first of a tile at its start).
            float next_lo = tile.kb_begin < tile.kb_end ? __ldg(sb0 + tile.kb_begin) : 0.f;
            float next_hi = tile.kb_begin < tile.kb_end ? __ldg(sb1 + tile.kb_begin) : 0.f;
            auto scales_of = [&](int s, int kb) {
                const float b_lo = next_lo, b_hi = next_hi;
                if (kb + 1 < tile.kb_end) {
                    next_lo = __ldg(sb0 + kb + 1);
                    next_hi = __ldg(sb1 + kb + 1);
                }
                const float* sa = reinterpret_cast<const float*>(smem + L::kOffSa + s * L::kSa) + row_off;
                const float a0 = sa[row_in_wg], a1 = sa[row_in_wg + 8];
                return Scales{a0, a1, b_lo, b_hi};
            };
            if constexpr (kPipelined) {
                // One block's products stay in flight while the one before is promoted. The blocks go in
                // pairs (part2, then part) so that each buffer's role is fixed in the code: ptxas serialises
                // the wgmmas when it cannot see which registers are still being written.
                const int n_kb = tile.kb_end - tile.kb_begin;
                Scales prev_sc{};
                int prev_s = 0;
                auto next_block = [&]() {  // waits for the next stage to fill; returns it
                    const int s = it % kStages;
                    mbar_wait(&full[s], (it / kStages) & 1);
                    ++it;
                    return s;
                };
                // Block i into `cur` while the block before it, in `prev`, is promoted.
                auto step = [&](float(&cur)[kWgN / 2], float(&prev)[kWgN / 2], int i) {
                    const int s = next_block();
                    const Scales sc = scales_of(s, tile.kb_begin + i);
                    issue(cur, s, 0);
                    wgmma_wait<1>();
                    wgmma_fence_operand(prev);
                    release(prev_s);
                    promote(prev, prev_sc, 0);
                    prev_s = s;
                    prev_sc = sc;
                };
                // The tile's last block, in `last`.
                auto finish = [&](float(&last)[kWgN / 2]) {
                    wgmma_wait<0>();
                    wgmma_fence_operand(last);
                    release(prev_s);
                    promote(last, prev_sc, 0);
                };
                if (n_kb > 0) {  // one region, so that ptxas sees every path wait for what it issued
                    prev_s = next_block();
                    prev_sc = scales_of(prev_s, tile.kb_begin);
                    issue(part, prev_s, 0);
                    int i = 1;
                    for (; i + 1 < n_kb; i += 2) {
                        step(part2, part, i);
                        step(part, part2, i + 1);
                    }
                    if (i < n_kb) {  // an even count: one block left, into part2
                        step(part2, part, i);
                        finish(part2);
                    } else {
                        finish(part);
                    }
                }
            } else {
                for (int kb = tile.kb_begin; kb < tile.kb_end; ++kb, ++it) {
                    const int s = it % kStages;
                    mbar_wait(&full[s], (it / kStages) & 1);
                    const Scales sc = scales_of(s, kb);
#pragma unroll
                    for (int h = 0; h < kHalves; ++h) {
                        issue(part, s, h);
                        wgmma_wait<0>();
                        wgmma_fence_operand(part);
                        if (h == kHalves - 1) release(s);
                        promote(part, sc, h);
                    }
                }
            }
            const int r0 = tile.m0 + row_off + row_in_wg;
            const int64_t out_row0 = (p.kind == INFRA4J_FP8_GEMM_MASKED) ? static_cast<int64_t>(tile.group) * p.m : 0;
            const int col0 = n0w + 2 * (lane % 4);
            // Split-K exists for the narrow tiles only (the host never splits wider ones): its epilogue
            // would cost the wide tiles registers they do not have.
            if (kCols <= 128 && p.k_splits > 1) {
                // Split-K: this CTA's FP32 partial sums go to its slab; the last split of the tile to
                // finish adds the slabs in split order (the same sum on every run) and writes D.
                float* mine = p.partial + static_cast<int64_t>(tile.split) * p.m * p.n;
#pragma unroll
                for (int j = 0; j < kCols / 8; ++j) {
                    const int col = col0 + 8 * j;
#pragma unroll
                    for (int h = 0; h < 2; ++h) {
                        const int r = r0 + 8 * h;
                        if (col < p.n && r < tile.m_valid) {
                            *reinterpret_cast<float2*>(mine + static_cast<int64_t>(r) * p.n + col) =
                                make_float2(acc[4 * j + 2 * h], acc[4 * j + 2 * h + 1]);
                        }
                    }
                }
                __threadfence();
                named_sync(1, 256);  // every math thread's partial sums are out
                __shared__ int last_split;
                if (threadIdx.x == 128) last_split = atomicAdd(&p.counters[tile.index], 1) == p.k_splits - 1;
                named_sync(1, 256);
                if (!last_split) continue;
                __threadfence();
#pragma unroll
                for (int i = 0; i < kCols / 2; ++i) acc[i] = 0.f;
                for (int sp = 0; sp < p.k_splits; ++sp) {
                    const float* slab_sp = p.partial + static_cast<int64_t>(sp) * p.m * p.n;
#pragma unroll
                    for (int j = 0; j < kCols / 8; ++j) {
                        const int col = col0 + 8 * j;
#pragma unroll
                        for (int h = 0; h < 2; ++h) {
                            const int r = r0 + 8 * h;
                            if (col < p.n && r < tile.m_valid) {
                                const float2 v = __ldcg(reinterpret_cast<const float2*>(slab_sp + static_cast<int64_t>(r) * p.n + col));
                                acc[4 * j + 2 * h] += v.x;
                                acc[4 * j + 2 * h + 1] += v.y;
                            }
                        }
                    }
                }
            }
            // Epilogue: each warp stages its 16 rows, up to 64 columns at a time, in shared memory (16-byte
            // chunks swizzled by row, so neither side conflicts), then stores whole 16-byte chunks: a
            // quarter of the store instructions of BF16 pairs, each filling its sectors.
            constexpr int kOutCols = kCols < 64 ? kCols : 64;  // columns per pass
            constexpr int kChunks = kOutCols / 8;              // 16-byte chunks per row and pass
            uint8_t* stage = smem + L::kOffOut + (threadIdx.x / 32 - 4) * L::kOutWarp;
            const int wr0 = tile.m0 + row_off + warp * 16;  // the warp's first row
#pragma unroll
            for (int c = 0; c < kCols / kOutCols; ++c) {
#pragma unroll
                for (int jj = 0; jj < kChunks; ++jj) {
#pragma unroll
                    for (int h = 0; h < 2; ++h) {
                        const int rr = lane / 4 + 8 * h;
                        const int j = kChunks * c + jj;
                        __nv_bfloat162 v = __floats2bfloat162_rn(acc[4 * j + 2 * h], acc[4 * j + 2 * h + 1]);
                        *reinterpret_cast<__nv_bfloat162*>(stage + rr * 128 + ((jj ^ (rr % 8)) * 16) + 4 * (lane % 4)) = v;
                    }
                }
                __syncwarp();
#pragma unroll
                for (int i = 0; i < (16 * kChunks + 31) / 32; ++i) {
                    const int rr = (32 * i + lane) / kChunks;
                    const int chunk = (32 * i + lane) % kChunks;
                    if (rr >= 16) break;  // 8 columns: half the lanes have nothing to store
                    const uint4 v = *reinterpret_cast<const uint4*>(stage + rr * 128 + ((chunk ^ (rr % 8)) * 16));
                    const int r = wr0 + rr;
                    const int col = n0w + kOutCols * c + 8 * chunk;
                    if (r < tile.m_valid && col < p.n) {
                        *reinterpret_cast<uint4*>(p.d + (out_row0 + r) * p.n + col) = v;
                    }
                }
                __syncwarp();
            }
        }
    }
    if constexpr (CLUSTER > 1) {
        __syncwarp();    // the producer's lane rejoins its warp: the cluster barrier is warp-aligned
        cluster_sync();  // no CTA leaves while the other may still write into it or arrive on its barriers
    }
}

}  // namespace infra4j::gemm::sm90
