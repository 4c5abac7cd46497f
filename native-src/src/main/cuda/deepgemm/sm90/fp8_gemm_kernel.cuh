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

// Shared memory of one CTA: the ring of stages, then the barriers. Every A and B tile starts on a
// 1024-byte boundary, as the 128-byte swizzle's atoms (8 rows of 128 bytes) must.
template <int BLOCK_N, int BLOCK_M = kBlockM>
struct GemmSmem {
    static constexpr int kA = BLOCK_M * kBlockK;  // e4m3 bytes
    static constexpr int kB = BLOCK_N * kBlockK;
    static constexpr int kSa = BLOCK_M * 4;
    static constexpr int kStageBytes = kA + kB + kSa;
    static constexpr int kBudget = 232448 - 1024 - 256;  // opt-in maximum, alignment slack, barriers
    static constexpr int kStages = kBudget / kStageBytes > 8 ? 8 : kBudget / kStageBytes;  // 8, 6, 5, 4
    static constexpr int kOffB = kStages * kA;
    static constexpr int kOffSa = kOffB + kStages * kB;
    static constexpr int kOffBars = kOffSa + kStages * kSa;
    static constexpr int kAlloc = kOffBars + 2 * kStages * 8 + 1024;
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
        float acc[kCols / 2];
        float part[kWgN / 2];
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
            for (int kb = tile.kb_begin; kb < tile.kb_end; ++kb, ++it) {
                const int s = it % kStages;
                const float b_lo = __ldg(sb0 + kb);
                const float b_hi = __ldg(sb1 + kb);
                mbar_wait(&full[s], (it / kStages) & 1);
                const uint32_t a_base = smem_u32(smem + s * L::kA + row_off * kBlockK);
                const uint32_t b_base = smem_u32(smem + L::kOffB + s * L::kB + col_off * kBlockK);
                const uint64_t da = sw128_desc(a_base, 16, 1024);
                const float* sa = reinterpret_cast<const float*>(smem + L::kOffSa + s * L::kSa) + row_off;
                const float a0 = sa[row_in_wg], a1 = sa[row_in_wg + 8];
                const float lo0 = a0 * b_lo, lo1 = a1 * b_lo, hi0 = a0 * b_hi, hi1 = a1 * b_hi;
#pragma unroll
                for (int h = 0; h < kHalves; ++h) {
                    const uint64_t db = sw128_desc(b_base + h * kWgN * kBlockK, 16, 1024);
                    wgmma_fence_operand(part);
                    wgmma_fence();
#pragma unroll
                    for (int kk = 0; kk < kBlockK / 32; ++kk) {
                        // k32 of e4m3 is 32 bytes along the 128-byte rows; the address field counts 16 bytes.
                        if constexpr (kWgN == 64) wgmma_m64n64k32_e4m3(part, da + kk * 2, db + kk * 2, kk);
                        if constexpr (kWgN == 128) wgmma_m64n128k32_e4m3(part, da + kk * 2, db + kk * 2, kk);
                        if constexpr (kWgN == 192) wgmma_m64n192k32_e4m3(part, da + kk * 2, db + kk * 2, kk);
                    }
                    wgmma_commit();
                    wgmma_wait<0>();
                    wgmma_fence_operand(part);
                    if (h == kHalves - 1) {
                        __syncwarp();
                        if (lane == 0) {  // this warp is done with the stage (in every CTA that writes into it)
                            if constexpr (CLUSTER > 1) {
#pragma unroll
                                for (int c = 0; c < CLUSTER; ++c) mbar_arrive_cluster(&empty[s], c);
                            } else {
                                mbar_arrive(&empty[s]);
                            }
                        }
                    }
#pragma unroll
                    for (int j = 0; j < kWgN / 8; ++j) {
                        const bool lo = h * kWgN / 8 + j < split_j;
                        const float s0 = lo ? lo0 : hi0, s1 = lo ? lo1 : hi1;
                        float* out = acc + h * (kWgN / 2) + 4 * j;
                        out[0] += part[4 * j + 0] * s0;
                        out[1] += part[4 * j + 1] * s0;
                        out[2] += part[4 * j + 2] * s1;
                        out[3] += part[4 * j + 3] * s1;
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
            // Epilogue: BF16 pairs straight to global memory, rows and columns bounded.
#pragma unroll
            for (int j = 0; j < kCols / 8; ++j) {
                const int col = col0 + 8 * j;
                if (col >= p.n) continue;
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                    const int r = r0 + 8 * h;
                    if (r < tile.m_valid) {
                        __nv_bfloat162 v = __floats2bfloat162_rn(acc[4 * j + 2 * h], acc[4 * j + 2 * h + 1]);
                        *reinterpret_cast<__nv_bfloat162*>(p.d + (out_row0 + r) * p.n + col) = v;
                    }
                }
            }
        }
    }
    if constexpr (CLUSTER > 1) {
        __syncwarp();    // the producer's lane rejoins its warp: the cluster barrier is warp-aligned
        cluster_sync();  // no CTA leaves while the other may still write into it or arrive on its barriers
    }
}

}  // namespace infra4j::gemm::sm90
