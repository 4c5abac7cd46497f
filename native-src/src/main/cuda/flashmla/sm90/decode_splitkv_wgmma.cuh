// MLA decode on Hopper tensor cores with wgmma and TMA: one KV head and 64 query rows per CTA, two
// warpgroups; each CTA walks the splits of its part of the plan (mla.h), one after another. The
// design, its sources and the measurements behind it are in ../DESIGN.md ("stage A" of §2.2 and
// §3.2; the plan in §5; what was measured and tried in §8-§10).
//
// - Shared memory: Q (64 rows x d, in 64-column tiles), two stages of 64 keys x d loaded by TMA in
//   the 128-byte-swizzled layout wgmma reads, and P (64 x 64 BF16). V is not loaded separately: it
//   is the first 512 columns of the same key stage, read through an MN-major descriptor.
// - Warpgroup 0 computes S = Q K^T (m64n64k16, both operands in shared memory), the online softmax,
//   accumulates O[:, 0:256] += P V[:, 0:256] with P in registers, then writes P and each row's
//   rescale factor to shared memory. Warpgroup 1 waits for them and accumulates O[:, 256:512].
//   Each holds 64 x 256 FP32 of O.
// - Precision: a BF16 P loses up to 2^-9 of each weight, too much for short sequences (DESIGN.md
//   §3.3, §8). Their CTAs also multiply P_lo = bf16(p - bf16(p)), which restores 16 bits of each weight.
// - FP8 caches: TMA lands the raw bytes of tile j + 2 in the parts of tile j's stage that warpgroup 0
//   has finished with (BF16 tiles 0..3 and 8), issued by warpgroup 0 after its P V_L; warpgroup 1
//   expands them in place to BF16 a tile later, before its own P V (DESIGN.md §11).
// - Stages are released through `empty` mbarriers once both warpgroups' wgmma have retired; a thread
//   of warpgroup 1 then issues the TMA of the tile two ahead.
#pragma once

#include <cuda.h>
#ifdef INFRA4J_MLA_TRACE
#include <cstdio>
#endif

#include <type_traits>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <math_constants.h>

#include "flashmla/mla_params.cuh"
#include "flashmla/sm90/hopper_ptx.cuh"
#include "flashmla/sm90/wgmma_ops.cuh"

namespace infra4j::mla::sm90 {

constexpr int kWgmmaThreads = 256;
constexpr int kWgmmaRows = 64;
constexpr int kWgmmaKeys = 64;
constexpr int kTileBytes = 64 * 128;  // 64 rows of 64 BF16 columns
// A score this low never wins a maximum and exp2 of it minus any real maximum is 0.
constexpr float kMasked = -__builtin_huge_valf();
// When P may be rounded to BF16 (DESIGN.md §3.3). The output error of a BF16 P is about
// 2^-9 |v| sqrt(sum of squared weights); that sum is about 1 / (effective number of keys) of the
// whole sequence, whatever the split, since the combine weighs each split by its share. So
// sequences shorter than this take hi/lo on every tile: at 140 keys a BF16 P left 3 of 2.4 M elements
// out of tolerance (and the design's simulation gives 0.6 of the tolerance at 600-1024 keys). A
// per-split vote on the running sum (the design's first idea) is the wrong measure: a split's
// first tile always has a small sum, however long the sequence.
constexpr int kExactPShorter = 1024;

// Named barriers (0 is __syncthreads).
constexpr int kBarPReady = 2;  // P, P_lo, alpha and the flag of the current tile are written
constexpr int kBarPFree = 3;   // warpgroup 1 has finished reading them
constexpr int kBarFinal = 4;   // 1 / l of every row is written
constexpr int kBarExpand = 5;  // FP8: warpgroup 1 has read every raw tile of the stage it expands
constexpr int kBarPvLDone = 6;  // FP8: warpgroup 0's P V of the tile has retired in every warp

template <int D>
struct WgmmaLayout {
    static constexpr int kCols = D / 64;
    static constexpr int kStage = kCols * kTileBytes;
    static constexpr int kQ = 0;
    static constexpr int kK = kQ + kStage;
    static constexpr int kP = kK + 2 * kStage;
    // With d = 576 the RoPE tile (8) of the key stage is free once S is computed and holds P_lo;
    // there is no room for another 8 KB. With d = 512 P_lo has its own tile.
    static constexpr bool kPloInStage = kCols == 9;
    static constexpr int kPlo = kP + kTileBytes;
    static constexpr int kAlpha = kPlo + (kPloInStage ? 0 : kTileBytes);
    static constexpr int kInvL = kAlpha + kWgmmaRows * 4;
    static constexpr int kBadPages = kInvL + kWgmmaRows * 4;  // per stage: a bit per page whose block id is out of range
    static constexpr int kBars = kBadPages + 16;
    static constexpr int kWork = kBars + 6 * 8;   // full[2], empty[2], raw[2] (FP8); then the CTA's part and split
    static constexpr int kBytes = kWork + 2 * 4;
    // FP8: TMA lands a stage's raw bytes (64 tokens x d) as kCols tiles of 64 x 64 bytes: raw tiles
    // 0..7 fill BF16 tiles 0..3 and raw tile 8 (RoPE) the first half of BF16 tile 8, the parts of a
    // stage free once warpgroup 0 has its S and its P V_L (so it can load the tile two ahead while
    // warpgroup 1 still reads V_R, tiles 4..7). The dequantisation expands them in place.
    static constexpr int kRawTile = 64 * 64;
    static __device__ __forceinline__ constexpr int raw_tile(int c) { return c < 8 ? c * kRawTile : c * kTileBytes; }
    static constexpr int kAlloc = kBytes + 1024;  // the dynamic base is only 16-aligned: room to align it
    static_assert(kBars % 8 == 0, "mbarriers are 8-byte aligned");
    static_assert(kAlloc <= 232448, "fits the opt-in shared memory of an sm_90 CTA");
};

// Descriptors are built once and stepped by adding to their address field (which cannot carry:
// shared addresses stay below 256 KB). The opaque copy stops ptxas from hoisting every stepped
// descriptor out of the loop as a constant, which costs tens of registers.
__device__ __forceinline__ uint64_t opaque(uint64_t x) {
    asm volatile("mov.b64 %0, %0;" : "+l"(x));
    return x;
}

// O_half += P V_half (and += P_lo V_half): 4 (or 8) m64n256k16 over the 64 keys of a stage, then
// waits for them. v is the first of the half's four 64-column tiles, read MN-major. Each variant is
// one straight-line batch, so ptxas never sees an accumulator cross a divergent path mid-batch.
template <bool kLo, bool kWait = true>
__device__ __forceinline__ void pv_half(float (&o)[128], uint32_t p_addr, uint32_t plo_addr, uint32_t v) {
    const uint64_t dp = opaque(sw128_desc(p_addr, 16, 1024));
    const uint64_t dv = opaque(sw128_desc(v, kTileBytes, 1024));
    wgmma_fence_operand(o);
    wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) wgmma_m64n256k16_ss_tb(o, dp + kk * (32 >> 4), dv + kk * (2048 >> 4), 1);
    if constexpr (kLo) {
        const uint64_t dplo = opaque(sw128_desc(plo_addr, 16, 1024));
#pragma unroll
        for (int kk = 0; kk < 4; ++kk) wgmma_m64n256k16_ss_tb(o, dplo + kk * (32 >> 4), dv + kk * (2048 >> 4), 1);
    }
    wgmma_commit();
    if constexpr (kWait) {
        wgmma_wait<0>();
        wgmma_fence_operand(o);
    }
}

// S = Q K^T for one 64-key stage: 4 k-steps of m64n64k16 per 64-column tile, one commit group.
template <int kCols>
__device__ __forceinline__ void issue_scores(float (&sc)[32], uint32_t q_base, uint32_t stage) {
    const uint64_t dq = opaque(sw128_desc(q_base, 16, 1024));
    const uint64_t dk = opaque(sw128_desc(stage, 16, 1024));
    wgmma_fence_operand(sc);
    wgmma_fence();
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
#pragma unroll
        for (int kk = 0; kk < 4; ++kk) {
            const uint32_t step = (c * kTileBytes + kk * 32) >> 4;  // the address field counts 16 B
            wgmma_m64n64k16_ss(sc, dq + step, dk + step, (c | kk) != 0);
        }
    }
    wgmma_commit();
}

// 2^x on the SFU (x = -inf gives 0); its relative error (~2^-22) is far below BF16's.
__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// O *= alpha per row, skipped when no row of the warp moved its maximum (most tiles of a long split).
__device__ __forceinline__ void rescale_rows(float (&o)[128], float alpha0, float alpha1) {
    if (__any_sync(0xffffffffu, alpha0 != 1.f || alpha1 != 1.f)) {
#pragma unroll
        for (int i = 0; i < 128; ++i) o[i] *= ((i >> 1) & 1) ? alpha1 : alpha0;
    }
}

// Dev only (-DINFRA4J_MLA_TRACE): clock64 stamps of one CTA's tiles 8..23 on its 5th launch, printed
// at the end of the kernel, to see where a tile's time goes. The stamp is a predicated store, so it
// adds no branch while a wgmma is in flight.
#ifdef INFRA4J_MLA_TRACE
__device__ unsigned long long g_mla_trace[2][16][8];
__device__ int g_mla_trace_launch;
__device__ long long g_mla_trace_hdr[8];  // first split: tiles, cycles, ns, t0; the CTA: splits, tiles, cycles, ns
// Printed by its own kernel after each decode launch: a printf in the decode kernel would make ptxas
// serialise its wgmma.
__global__ void mla_trace_print() {
    if (g_mla_trace_launch == 5) {
        const long long t0 = g_mla_trace_hdr[3];
        printf("TRACE tiles=%lld cycles=%lld ns=%lld | CTA (0,0): splits=%lld tiles=%lld cycles=%lld ns=%lld\n",
               g_mla_trace_hdr[0], g_mla_trace_hdr[1], g_mla_trace_hdr[2], g_mla_trace_hdr[4], g_mla_trace_hdr[5],
               g_mla_trace_hdr[6], g_mla_trace_hdr[7]);
        for (int w = 0; w < 2; ++w)
            for (int jj = 8; jj < 24 && jj < g_mla_trace_hdr[0]; ++jj) {
                unsigned long long* t = g_mla_trace[w][jj & 15];
                printf("TRACE wg%d j%2d %lld %lld %lld %lld %lld %lld %lld %lld\n", w, jj, (long long)t[0] - t0,
                       (long long)t[1] - t0, (long long)t[2] - t0, (long long)t[3] - t0, (long long)t[4] - t0,
                       (long long)t[5] - t0, (long long)t[6] - t0, (long long)t[7] - t0);
            }
    }
    ++g_mla_trace_launch;
}
__device__ __forceinline__ void trace_point(bool on, unsigned long long* dst) {
    asm volatile("{\n.reg .pred p;\n.reg .u64 t;\nsetp.ne.b32 p, %0, 0;\nmov.u64 t, %%clock64;\n@p st.global.u64 [%1], t;\n}\n"
                 ::"r"(static_cast<int>(on)), "l"(dst) : "memory");
}
#define MLA_TRACE(jj, k) trace_point(trace_on && (jj) >= 8 && (jj) < 24, &g_mla_trace[wg][(jj) & 15][k])
#else
#define MLA_TRACE(jj, k)
#endif

// The per-tile row state of a thread: rows r_lo and r_lo + 8 of the 64-row tile.
struct TileRows {
    int quad;             // lane % 4: which key pairs of each 8-key group the thread holds
    int last_visible[2];  // last key each row sees (-1: a padding row)
    int page_shift;
    float scale_log2;
};

// Masks S (in place), then turns it into P = exp2(s * scale - m_new) against the rows' previous
// maximum m_prev (log2 units). Returns alpha = exp2(m_prev - m_new), the new maxima and this
// thread's share of the row sums of P (its 16 keys of each row: the caller sums the quad once, after
// the last tile, which takes 4 dependent shuffles off every tile). `bad` has a bit per page whose
// block id was out of range.
__device__ __forceinline__ void softmax_tile(float (&sc)[32], const TileRows& rows, int t0, int bad,
                                             const float (&m_prev)[2], float (&alpha)[2], float (&m_new)[2],
                                             float (&row_sum)[2]) {
    float mx[2] = {kMasked, kMasked};
    if (bad == 0 && t0 + kWgmmaKeys - 1 <= min(rows.last_visible[0], rows.last_visible[1])) {
#pragma unroll
        for (int e = 0; e < 32; ++e) {  // every key visible to both rows
            sc[e] *= rows.scale_log2;
            mx[(e >> 1) & 1] = fmaxf(mx[(e >> 1) & 1], sc[e]);
        }
    } else {
#pragma unroll
        for (int e = 0; e < 32; ++e) {
            int key = 8 * (e >> 2) + 2 * rows.quad + (e & 1);
            int x = (e >> 1) & 1;
            bool visible = t0 + key <= rows.last_visible[x] && !((bad >> (key >> rows.page_shift)) & 1);
            sc[e] = visible ? sc[e] * rows.scale_log2 : kMasked;
            mx[x] = fmaxf(mx[x], sc[e]);
        }
    }
    float m_use[2];
#pragma unroll
    for (int x = 0; x < 2; ++x) {
        mx[x] = fmaxf(mx[x], __shfl_xor_sync(0xffffffffu, mx[x], 1));
        mx[x] = fmaxf(mx[x], __shfl_xor_sync(0xffffffffu, mx[x], 2));
        m_new[x] = fmaxf(m_prev[x], mx[x]);
        alpha[x] = m_new[x] == kMasked ? 1.f : fast_exp2(m_prev[x] - m_new[x]);
        m_use[x] = m_new[x] == kMasked ? 0.f : m_new[x];
    }
    // Two chains per row, so the adds do not wait on each other.
    float part[2][2] = {{0.f, 0.f}, {0.f, 0.f}};
#pragma unroll
    for (int e = 0; e < 32; ++e) {
        int x = (e >> 1) & 1;
        sc[e] = fast_exp2(sc[e] - m_use[x]);
        part[x][e >> 4] += sc[e];
    }
    row_sum[0] = part[0][0] + part[0][1];
    row_sum[1] = part[1][0] + part[1][1];
}

// Writes P (BF16, and P_lo = bf16(p - bf16(p)) when kLo) as 64 x 64 swizzled tiles wgmma reads.
template <bool kLo>
__device__ __forceinline__ void store_p(unsigned char* dst, unsigned char* dst_lo, const float (&sc)[32], int r_lo,
                                        int quad) {
#pragma unroll
    for (int e = 0; e < 32; e += 2) {
        int r = r_lo + 8 * ((e >> 1) & 1);
        int key = 8 * (e >> 2) + 2 * quad;
        __nv_bfloat162 hi = __floats2bfloat162_rn(sc[e], sc[e + 1]);
        uint32_t at = sw128_offset(r, key);
        *reinterpret_cast<__nv_bfloat162*>(dst + at) = hi;
        if constexpr (kLo) {
            float2 hf = __bfloat1622float2(hi);
            *reinterpret_cast<__nv_bfloat162*>(dst_lo + at) = __floats2bfloat162_rn(sc[e] - hf.x, sc[e + 1] - hf.y);
        }
    }
}

// Keys at or past key_stop may hold NaN (poisoned or stale slots): their weight is 0, but 0 * NaN
// is NaN, so one warpgroup zeroes their V rows (the first 512 columns) before any P V reads them.
__device__ __forceinline__ void zero_dead_v_rows(unsigned char* stage, int first_dead, int wtid) {
    for (int idx = wtid; idx < (kWgmmaKeys - first_dead) * 64; idx += 128) {
        int r = first_dead + (idx >> 6);
        int piece = idx & 63;  // 16-byte piece of the row's 512 values
        *reinterpret_cast<uint4*>(stage + (piece >> 3) * kTileBytes + r * 128 + ((piece & 7) << 4)) =
            make_uint4(0, 0, 0, 0);
    }
}

// FP8 stage expansion by one warpgroup: thread (token r = wtid / 2, half h = wtid % 2) reads its
// 32 bytes of each raw column tile, then (after all raw reads, since the BF16 tiles overwrite the
// raw ones) writes bf16(e4m3 * scale) into the swizzled BF16 tiles. e4m3 -> f16 -> f32 is exact,
// so this is the reference's bf16(float(e4m3) * scale) bit for bit.
template <int kCols>
__device__ __forceinline__ void expand_fp8_stage(unsigned char* stage, const float (&scale)[5], int wtid, int barrier) {
    const int r = wtid >> 1;
    const int h = wtid & 1;
    uint4 raw[kCols][2];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
        const uint4* src = reinterpret_cast<const uint4*>(stage + WgmmaLayout<kCols * 64>::raw_tile(c) + r * 64 + h * 32);
        raw[c][0] = src[0];
        raw[c][1] = src[1];
    }
    named_sync(barrier, 128);
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
        const float sc = scale[c >> 1];  // one scale per 128 values: two 64-column tiles
        const uint32_t* w = reinterpret_cast<const uint32_t*>(&raw[c][0]);
#pragma unroll
        for (int piece = 0; piece < 4; ++piece) {  // 8 values -> one 16-byte BF16 chunk
            uint32_t out[4];
#pragma unroll
            for (int k = 0; k < 2; ++k) {
                uint32_t word = w[piece * 2 + k];
#pragma unroll
                for (int pair = 0; pair < 2; ++pair) {
                    __half2_raw hr = __nv_cvt_fp8x2_to_halfraw2(
                        static_cast<__nv_fp8x2_storage_t>((word >> (16 * pair)) & 0xFFFF), __NV_E4M3);
                    float2 f = __half22float2(*reinterpret_cast<__half2*>(&hr));
                    __nv_bfloat162 b = __floats2bfloat162_rn(f.x * sc, f.y * sc);
                    out[k * 2 + pair] = *reinterpret_cast<uint32_t*>(&b);
                }
            }
            const int chunk = h * 4 + piece;  // 16-byte chunk of the 128-byte row
            *reinterpret_cast<uint4*>(stage + c * kTileBytes + r * 128 + ((chunk ^ (r & 7)) << 4)) =
                make_uint4(out[0], out[1], out[2], out[3]);
        }
    }
}

// KvT: __nv_bfloat16 (the map reads BF16 tiles) or __nv_fp8_e4m3 (the map reads raw bytes, which
// warpgroup 1 expands in place while warpgroup 0 works on the other stage).
template <typename KvT, int D>
__global__ void __launch_bounds__(kWgmmaThreads, 1)
    decode_splitkv_wgmma(const __grid_constant__ DecodeParams p, const __grid_constant__ CUtensorMap kv_map) {
    constexpr bool kFp8 = sizeof(KvT) == 1;
    using L = WgmmaLayout<D>;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    unsigned char* sm = smem_raw + ((1024 - (smem_u32(smem_raw) & 1023)) & 1023);
    uint64_t* full = reinterpret_cast<uint64_t*>(sm + L::kBars);
    uint64_t* empty = full + 2;
    uint64_t* raw_full = full + 4;  // FP8: the raw bytes of a stage have landed
    float* s_alpha = reinterpret_cast<float*>(sm + L::kAlpha);
    float* s_inv_l = reinterpret_cast<float*>(sm + L::kInvL);
    int* s_bad = reinterpret_cast<int*>(sm + L::kBadPages);

    // Persistent over the plan's parts (mla.h): blockIdx.y runs parts y, y + gridDim.y, ..., each a
    // run of splits that together cost the same as any other part's (DESIGN.md §5), so every CTA
    // finishes at about the same time however the lengths vary. Each split starts afresh: the
    // previous one's loads and barrier phases have all completed.
    // The loop state (part, split; split -1 when done) lives in shared memory: the split's body needs
    // every register, and two more live across it made ptxas spill.
    int* s_work = reinterpret_cast<int*>(sm + L::kWork);
    auto next_work = [&](int part, int split) {  // thread 0: the split after (part, split), or -1
        const int32_t* starts = plan_part_starts(p.plan, p.batch);
        const int parts = p.plan[0];
        ++split;
        while (part < parts && split >= starts[part + 1]) {
            part += gridDim.y;
            split = part < parts ? starts[part] : -1;
        }
        s_work[0] = part;
        s_work[1] = part < parts ? split : -1;
    };
#ifdef INFRA4J_MLA_TRACE
    const long long cta_t0 = clock64();
    unsigned long long cta_g0;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(cta_g0));
    int cta_splits = 0;
    int cta_tiles = 0;
#endif
    if (threadIdx.x == 0) {
        const int part = blockIdx.y;
        next_work(part, part < p.plan[0] ? plan_part_starts(p.plan, p.batch)[part] - 1 : -2);
    }
    for (;;) {
    __syncthreads();
    const int split = *static_cast<volatile int*>(s_work + 1);
    if (split < 0) break;
    __syncthreads();
    // The row tiles of one KV stream are neighbours in launch order, so they run together and
    // the stream comes from DRAM once and from L2 for the others.
    const int head_kv = blockIdx.x / p.row_tiles;
    const int tile = blockIdx.x % p.row_tiles;
    const int tid = threadIdx.x;
    const int wg = tid >> 7;
    const int wtid = tid & 127;
    const int lane = tid & 31;
    const int r_lo = ((wtid >> 5) << 4) + (lane >> 2);  // accumulator rows r_lo and r_lo + 8
    const int quad = lane & 3;
#ifdef INFRA4J_MLA_TRACE
    const bool trace_on = blockIdx.x == 0 && blockIdx.y == 0 && split == plan_part_starts(p.plan, p.batch)[0] && wtid == 0 &&
                          *static_cast<volatile int*>(&g_mla_trace_launch) == 5;
    long long trace_t0 = clock64();
    unsigned long long trace_g0;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(trace_g0));
#endif

    const SplitWork work = split_work(p, split);
    const int b = work.b;
    const int seqlen = work.seqlen;
    const int key_begin = work.key_begin;
    const int key_end = work.key_end;

    const int heads_per_kv = p.heads_q / p.heads_kv;
    const int rows_per_kv = p.seqlen_q * heads_per_kv;
    const int row0 = tile * kWgmmaRows;
    const int rows_here = min(kWgmmaRows, rows_per_kv - row0);
    // Causal: no row of this tile sees past the keys of its last row.
    int key_stop = key_end;
    if (p.causal) key_stop = min(key_end, seqlen - p.seqlen_q + (row0 + rows_here - 1) / heads_per_kv + 1);
    const int num_tiles = key_stop > key_begin ? (key_stop - key_begin + kWgmmaKeys - 1) / kWgmmaKeys : 0;
    const int page_shift = 31 - __clz(p.page);

    const int producer = kWgmmaThreads / 2;  // thread 0 of warpgroup 1
    const uint64_t policy = l2_policy_evict_first();
    // Loads key tile j into stage j % 2: only the pages holding keys below key_stop (the rest of the
    // stage keeps stale data, which the mask and the V zeroing below make harmless).
    // A tile's block ids (at most 4 pages: page >= 16) and the mask of those out of range. The
    // producer reads them a tile ahead, so the table's latency is off the path from `empty` to the
    // TMA issue (it took about 1,000 cycles there, DESIGN.md §8).
    struct TileBlocks {
        int block[4];
        int bad;
    };
    auto fetch_blocks = [&](int j) {
        TileBlocks tb;
        const int t0 = key_begin + j * kWgmmaKeys;
        const int pages = min(kWgmmaKeys >> page_shift, (key_stop - t0 + p.page - 1) >> page_shift);
        const int32_t* table = p.block_table + static_cast<int64_t>(b) * p.max_blocks + (t0 >> page_shift);
        tb.bad = 0;
#pragma unroll
        for (int pg = 0; pg < 4; ++pg) {
            tb.block[pg] = pg < pages ? table[pg] : 0;
            tb.bad |= (pg < pages && (tb.block[pg] < 0 || tb.block[pg] >= p.num_blocks)) << pg;
        }
        return tb;
    };
    // Loads key tile j into stage j % 2: only the pages holding keys below key_stop (the rest of the
    // stage keeps stale data, which the mask and the V zeroing below make harmless).
    auto issue_tile = [&](int j, const TileBlocks& tb) {
        const int s = j & 1;
        const int t0 = key_begin + j * kWgmmaKeys;
        const int pages = min(kWgmmaKeys >> page_shift, (key_stop - t0 + p.page - 1) >> page_shift);
        unsigned char* dst = sm + L::kK + s * L::kStage;
        s_bad[s] = tb.bad;
        constexpr int kRowBytes = kFp8 ? 64 : 128;  // bytes of one token in one 64-column tile
        uint64_t* bar = kFp8 ? &raw_full[s] : &full[s];
        mbar_arrive_expect_tx(bar, static_cast<uint32_t>(pages * L::kCols * p.page * kRowBytes));
#pragma unroll
        for (int pg = 0; pg < 4; ++pg) {
            if (pg < pages) {
                // An out-of-range block id reads zeros (TMA fills out-of-bounds boxes); its keys are masked.
#pragma unroll
                for (int c = 0; c < L::kCols; ++c) {
                    tma_load_4d(dst + (kFp8 ? L::raw_tile(c) : c * kTileBytes) + pg * p.page * kRowBytes, &kv_map, bar,
                                64 * c, head_kv, 0, tb.block[pg], policy);
                }
            }
        }
    };
    // The same in one go, with rolled loops (fewer registers: what the FP8 path and the prologue use).
    auto load_tile = [&](int j) {
        const int s = j & 1;
        const int t0 = key_begin + j * kWgmmaKeys;
        const int pages = min(kWgmmaKeys >> page_shift, (key_stop - t0 + p.page - 1) >> page_shift);
        unsigned char* dst = sm + L::kK + s * L::kStage;
        const int32_t* table = p.block_table + static_cast<int64_t>(b) * p.max_blocks + (t0 >> page_shift);
        int bad = 0;
        for (int pg = 0; pg < pages; ++pg) {
            int block = table[pg];
            bad |= (block < 0 || block >= p.num_blocks) << pg;
        }
        s_bad[s] = bad;
        constexpr int kRowBytes = kFp8 ? 64 : 128;
        uint64_t* bar = kFp8 ? &raw_full[s] : &full[s];
        mbar_arrive_expect_tx(bar, static_cast<uint32_t>(pages * L::kCols * p.page * kRowBytes));
        for (int pg = 0; pg < pages; ++pg) {
            int block = table[pg];
#pragma unroll
            for (int c = 0; c < L::kCols; ++c) {
                tma_load_4d(dst + (kFp8 ? L::raw_tile(c) : c * kTileBytes) + pg * p.page * kRowBytes, &kv_map, bar,
                            64 * c, head_kv, 0, block, policy);
            }
        }
    };

    if (tid == 0) {
        // BF16: the TMA completes `full`; FP8: warpgroup 1's 128 threads do, after expanding `raw_full`.
        mbar_init(&full[0], kFp8 ? 128 : 1);
        mbar_init(&full[1], kFp8 ? 128 : 1);
        mbar_init(&empty[0], kWgmmaThreads);
        mbar_init(&empty[1], kWgmmaThreads);
        mbar_init(&raw_full[0], 1);
        mbar_init(&raw_full[1], 1);
        mbar_init_fence();
    }
    __syncthreads();
    if (tid == producer) {
        tma_prefetch_descriptor(&kv_map);
        for (int j = 0; j < 2 && j < num_tiles; ++j) load_tile(j);
    }

    // Q tile into the swizzled layout, rows past the tile zero.
    {
        const __nv_bfloat16* q = static_cast<const __nv_bfloat16*>(p.q);
        constexpr int kChunks = D / 8;  // 16-byte pieces per row
        for (int idx = tid; idx < kWgmmaRows * kChunks; idx += kWgmmaThreads) {
            int r = idx / kChunks;
            int ch = idx % kChunks;
            bool ok = r < rows_here;
            const __nv_bfloat16* src = q;
            if (ok) {
                int rr = row0 + r;
                int i = rr / heads_per_kv;
                int h = head_kv * heads_per_kv + rr % heads_per_kv;
                src = q + ((static_cast<int64_t>(b) * p.seqlen_q + i) * p.heads_q + h) * D + ch * 8;
            }
            unsigned char* dst = sm + L::kQ + (ch >> 3) * kTileBytes + r * 128 + (((ch & 7) ^ (r & 7)) << 4);
            asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(dst)), "l"(src),
                         "r"(ok ? 16 : 0));
        }
        asm volatile("cp.async.commit_group;\ncp.async.wait_group 0;\n" ::: "memory");
        fence_proxy_async();
        __syncthreads();
    }

    const uint32_t q_base = smem_u32(sm + L::kQ);
    const uint32_t k_base = smem_u32(sm + L::kK);
    const uint32_t p_base = smem_u32(sm + L::kP);
    float o[128];
#pragma unroll
    for (int i = 0; i < 128; ++i) o[i] = 0.f;

    float m_run[2] = {kMasked, kMasked};
    float l_run[2] = {0.f, 0.f};
    TileRows rows;
    rows.quad = quad;
    rows.page_shift = page_shift;
    rows.scale_log2 = p.scale_log2;
#pragma unroll
    for (int x = 0; x < 2; ++x) {
        int r = r_lo + 8 * x;
        int i = (row0 + r) / heads_per_kv;
        rows.last_visible[x] = r >= rows_here ? -1 : min(key_end, p.causal ? seqlen - p.seqlen_q + i + 1 : seqlen) - 1;
    }
    float inv_l[2];  // what each path leaves for the epilogue: 1 / l and (warpgroup 0) m and l

    // hi/lo P or not is decided once per CTA, so no wgmma sits in code that diverges per tile.
    auto main_loop = [&](auto lo_tag, auto rs_tag) {
    constexpr bool kLo = decltype(lo_tag)::value;
    constexpr bool kRsP = decltype(rs_tag)::value;  // warpgroup 0's P from registers (BF16 P only)
    // FP8 with the RS P V: warpgroup 0 loads the raw bytes of tile j + 2 as soon as its own P V of
    // tile j has retired (no `empty` wait), two tiles ahead of their expansion instead of one.
    constexpr bool kEarlyRaw = kFp8 && kRsP;
    static_assert(!(kLo && kRsP), "hi/lo P goes through shared memory");
    if (wg == 0) {
        // (Issuing the next tile's scores before this tile's P V would overlap them, but keeping both
        // accumulators live needs more than 255 registers: ptxas spills 768 bytes.)
        for (int j = 0; j < num_tiles; ++j) {
            const int s = j & 1;
            const int t0 = key_begin + j * kWgmmaKeys;
            const uint32_t stage = k_base + s * L::kStage;
            float sc[32];
            MLA_TRACE(j, 0);
            TileBlocks ahead;
            if (kEarlyRaw && wtid == 0 && j + 2 < num_tiles) ahead = fetch_blocks(j + 2);
            mbar_wait(&full[s], (j >> 1) & 1);
            MLA_TRACE(j, 1);
            issue_scores<L::kCols>(sc, q_base, stage);
            wgmma_wait<0>();
            wgmma_fence_operand(sc);
            MLA_TRACE(j, 2);

            float alpha[2];
            float m_new[2];
            float rs[2];
            softmax_tile(sc, rows, t0, s_bad[s], m_run, alpha, m_new, rs);
#pragma unroll
            for (int x = 0; x < 2; ++x) {
                m_run[x] = m_new[x];
                l_run[x] = l_run[x] * alpha[x] + rs[x];
            }

            if constexpr (kRsP) {
                // P stays in registers as wgmma A fragments: the accumulator's pairs of columns
                // {8k, 8k+1}, {8k+2, 8k+3}, {8k+4, 8k+5}, {8k+6, 8k+7} are k-step k's four registers.
                // This warpgroup's P V starts before P is stored for warpgroup 1. No branch while it
                // is in flight: warpgroup 1 arrives once on kBarPFree before its first tile.
                uint32_t pa[4][4];
                MLA_TRACE(j, 3);
#pragma unroll
                for (int e = 0; e < 32; e += 2) {
                    __nv_bfloat162 v = __floats2bfloat162_rn(sc[e], sc[e + 1]);
                    pa[e >> 3][(e & 7) >> 1] = *reinterpret_cast<uint32_t*>(&v);
                }
                if (key_stop - t0 < kWgmmaKeys) {  // the only generic writes this P V reads
                    zero_dead_v_rows(sm + L::kK + s * L::kStage, key_stop - t0, wtid);
                    fence_proxy_async();
                }
                rescale_rows(o, alpha[0], alpha[1]);
                const uint64_t dv = opaque(sw128_desc(stage, kTileBytes, 1024));
                wgmma_fence_operand(o);
                wgmma_fence();
#pragma unroll
                for (int kk = 0; kk < 4; ++kk) wgmma_m64n256k16_rs_tb(o, pa[kk], dv + kk * (2048 >> 4), 1);
                wgmma_commit();
                MLA_TRACE(j, 4);
                named_sync(kBarPFree, kWgmmaThreads);
                MLA_TRACE(j, 5);
                unsigned char* sp = sm + L::kP;
#pragma unroll
                for (int e = 0; e < 32; e += 2) {
                    *reinterpret_cast<uint32_t*>(sp + sw128_offset(r_lo + 8 * ((e >> 1) & 1), 8 * (e >> 2) + 2 * quad)) =
                        pa[e >> 3][(e & 7) >> 1];
                }
                s_alpha[r_lo] = alpha[0];  // every thread of the quad writes the same value
                s_alpha[r_lo + 8] = alpha[1];
                fence_proxy_async();
                named_arrive(kBarPReady, kWgmmaThreads);
                MLA_TRACE(j, 6);
                wgmma_wait<0>();
                wgmma_fence_operand(o);
                MLA_TRACE(j, 7);
                if constexpr (kEarlyRaw) {
                    named_sync(kBarPvLDone, 128);  // every warp's part of this P V has retired
                    if (wtid == 0 && j + 2 < num_tiles) issue_tile(j + 2, ahead);
                } else {
                    mbar_arrive(&empty[s]);
                }
            } else {
            // Warpgroup 1 must be done with the previous tile's P before it is overwritten.
            if (j > 0) named_sync(kBarPFree, kWgmmaThreads);
            unsigned char* splo = L::kPloInStage ? sm + L::kK + s * L::kStage + 8 * kTileBytes : sm + L::kPlo;
            store_p<kLo>(sm + L::kP, splo, sc, r_lo, quad);
            if (quad == 0) {
                s_alpha[r_lo] = alpha[0];
                s_alpha[r_lo + 8] = alpha[1];
            }
            if (key_stop - t0 < kWgmmaKeys) zero_dead_v_rows(sm + L::kK + s * L::kStage, key_stop - t0, wtid);
            fence_proxy_async();
            named_arrive(kBarPReady, kWgmmaThreads);

            rescale_rows(o, alpha[0], alpha[1]);
            pv_half<kLo>(o, p_base, smem_u32(splo), stage);
            mbar_arrive(&empty[s]);
            }
        }
        // Matches warpgroup 1's last arrive (with kRsP, warpgroup 1 also arrives once up front).
        if (kRsP || num_tiles > 0) named_sync(kBarPFree, kWgmmaThreads);
#pragma unroll
        for (int x = 0; x < 2; ++x) {
            // Each thread summed its own 16 keys of a tile's row; the quad's sum is the row's.
            l_run[x] += __shfl_xor_sync(0xffffffffu, l_run[x], 1);
            l_run[x] += __shfl_xor_sync(0xffffffffu, l_run[x], 2);
            inv_l[x] = l_run[x] > 0.f ? 1.f / l_run[x] : 0.f;
        }
        if (quad == 0) {
            s_inv_l[r_lo] = inv_l[0];
            s_inv_l[r_lo + 8] = inv_l[1];
        }
        named_arrive(kBarFinal, kWgmmaThreads);
    } else {
        // FP8: expand tile j into stage j % 2 (its raw bytes are in BF16 tiles 0..3 and 8 of the
        // stage), then signal `full` as the TMA does for BF16. With the RS P V (kEarlyRaw) tile j + 1
        // is expanded right after tile j's P is ready and before this warpgroup's P V of tile j; its
        // raw bytes were requested by warpgroup 0 a tile earlier. Otherwise (P through shared memory,
        // hi/lo P) the producer loads once `empty` says both warpgroups are done, and the expansion
        // runs under the P V. Neither order has a branch while a P V is in flight (ptxas would
        // serialise the wgmma): after the last tile it expands stale bytes into a free stage, waits
        // on a completed phase and signals a barrier nobody waits on.
        // The scales of this thread's token (wtid / 2) of a tile are read a tile before its expansion,
        // and the token's block id a tile before that, so neither load's latency is on the path from
        // `raw_full` to `full` (block -1: none, the scales are 0).
        auto token_block = [&](int j) {
            const int t = key_begin + j * kWgmmaKeys + (wtid >> 1);
            if (j >= num_tiles || t >= key_stop) return -1;
            const int block = p.block_table[static_cast<int64_t>(b) * p.max_blocks + (t >> page_shift)];
            return block >= 0 && block < p.num_blocks ? block : -1;
        };
        auto token_scales = [&](int j, int block, float (&scale)[5]) {
            const int t = key_begin + j * kWgmmaKeys + (wtid >> 1);
            const float* src = p.kv_scales + (block >= 0 ? ((static_cast<int64_t>(block) * p.page + (t & (p.page - 1))) *
                                                                p.heads_kv + head_kv) * scale_groups<D>()
                                                         : 0);
#pragma unroll
            for (int g = 0; g < 5; ++g) scale[g] = (g < scale_groups<D>() && block >= 0) ? src[g < scale_groups<D>() ? g : 0] : 0.f;
        };
        auto expand = [&](int j, const float (&scale)[5]) {
            const int s = j & 1;
            const bool real = j < num_tiles;
            mbar_wait(&raw_full[s], ((j >> 1) & 1) ^ (real ? 0 : 1));
            expand_fp8_stage<L::kCols>(sm + L::kK + s * L::kStage, scale, wtid, kBarExpand);
            fence_proxy_async();
            mbar_arrive(&full[s]);
        };
        [[maybe_unused]] float scale[5];
        [[maybe_unused]] int block_next = -1;
        if constexpr (kFp8) {
            token_scales(0, token_block(0), scale);
            if (num_tiles > 0) expand(0, scale);
            token_scales(1, token_block(1), scale);
            block_next = token_block(2);
        }
        if constexpr (kRsP) named_arrive(kBarPFree, kWgmmaThreads);
        for (int j = 0; j < num_tiles; ++j) {
            const int s = j & 1;
            const uint32_t stage = k_base + s * L::kStage;
            MLA_TRACE(j, 0);
            named_sync(kBarPReady, kWgmmaThreads);
            MLA_TRACE(j, 1);
            // BF16: the producer's block ids of tile j + 2, read while the P V runs. (FP8 reads them at
            // the issue: its warpgroup has no registers to spare under the expansion.)
            TileBlocks ahead;
            if (!kFp8 && tid == producer && j + 2 < num_tiles) ahead = fetch_blocks(j + 2);
            if constexpr (kEarlyRaw) {
                // Tile j + 1's raw bytes were requested a whole tile ago (after warpgroup 0's P V_L of
                // tile j - 1), so expanding them before this P V puts the expansion beside warpgroup
                // 0's P V_L instead of in front of its next S.
                expand(j + 1, scale);
                MLA_TRACE(j, 5);
                token_scales(j + 2, block_next, scale);
                block_next = token_block(j + 3);
            }
            rescale_rows(o, s_alpha[r_lo], s_alpha[r_lo + 8]);
            const uint32_t plo_base = L::kPloInStage ? stage + 8 * kTileBytes : smem_u32(sm + L::kPlo);
            pv_half<kLo, !kFp8 || kEarlyRaw>(o, p_base, plo_base, stage + 4 * kTileBytes);
            MLA_TRACE(j, 2);
            if constexpr (kFp8 && !kEarlyRaw) {
                expand(j + 1, scale);
                MLA_TRACE(j, 5);
                token_scales(j + 2, block_next, scale);
                block_next = token_block(j + 3);
                wgmma_wait<0>();
                wgmma_fence_operand(o);
                MLA_TRACE(j, 6);
            }
            named_arrive(kBarPFree, kWgmmaThreads);
            mbar_arrive(&empty[s]);
            if (!kEarlyRaw && tid == producer && j + 2 < num_tiles) {
                mbar_wait(&empty[s], (j >> 1) & 1);
                MLA_TRACE(j, 3);
                if constexpr (kFp8) {
                    load_tile(j + 2);
                } else {
                    issue_tile(j + 2, ahead);
                }
                MLA_TRACE(j, 4);
            }
            __syncwarp();
        }
        named_sync(kBarFinal, kWgmmaThreads);
        inv_l[0] = s_inv_l[r_lo];
        inv_l[1] = s_inv_l[r_lo + 8];
    }
    };

    if (p.exact_p != 0 || seqlen < kExactPShorter) {
        main_loop(std::true_type{}, std::false_type{});
    } else {
        if (p.rs_p != 0) {
            main_loop(std::false_type{}, std::true_type{});
        } else {
            main_loop(std::false_type{}, std::false_type{});
        }
    }

#ifdef INFRA4J_MLA_TRACE
    if (blockIdx.x == 0 && blockIdx.y == 0 && split == plan_part_starts(p.plan, p.batch)[0] && tid == 0) {
        if (g_mla_trace_launch == 5) {
            unsigned long long g1;
            asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(g1));
            g_mla_trace_hdr[0] = num_tiles;
            g_mla_trace_hdr[1] = clock64() - trace_t0;
            g_mla_trace_hdr[2] = g1 - trace_g0;
            g_mla_trace_hdr[3] = trace_t0;
        }
    }
#endif
    // Normalised split output (FP32) and its log-sum-exp, as the combine expects.
    const int rows_b = p.seqlen_q * p.heads_q;
#pragma unroll
    for (int x = 0; x < 2; ++x) {
        int r = r_lo + 8 * x;
        if (r < rows_here) {
            int rr = row0 + r;
            int i = rr / heads_per_kv;
            int h = head_kv * heads_per_kv + rr % heads_per_kv;
            int64_t row_index = static_cast<int64_t>(split) * rows_b + i * p.heads_q + h;
            float inv = inv_l[x];
            float* dst = p.o_accum + row_index * kHeadDimV + wg * 256 + 2 * quad;
#pragma unroll
            for (int n = 0; n < 32; ++n) {
                *reinterpret_cast<float2*>(dst + 8 * n) = make_float2(o[4 * n + 2 * x] * inv, o[4 * n + 2 * x + 1] * inv);
            }
            if (wg == 0 && quad == 0) {
                p.lse_accum[row_index] = l_run[x] > 0.f ? (m_run[x] + log2f(l_run[x])) * CUDART_LN2_F : -CUDART_INF_F;
            }
        }
    }
    __syncthreads();  // every thread has read this split's s_work
    if (threadIdx.x == 0) next_work(s_work[0], split);
#ifdef INFRA4J_MLA_TRACE
    ++cta_splits;
    cta_tiles += num_tiles;
#endif
    }
#ifdef INFRA4J_MLA_TRACE
    if (blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0 && g_mla_trace_launch == 5) {
        unsigned long long g1;
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(g1));
        g_mla_trace_hdr[4] = cta_splits;
        g_mla_trace_hdr[5] = cta_tiles;
        g_mla_trace_hdr[6] = clock64() - cta_t0;
        g_mla_trace_hdr[7] = g1 - cta_g0;
    }
#endif
}

}  // namespace infra4j::mla::sm90
