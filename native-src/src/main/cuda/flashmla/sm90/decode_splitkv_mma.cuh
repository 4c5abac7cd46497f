// MLA decode on tensor cores (mma.sync m16n8k16, BF16 in, FP32 accumulate): one split of one
// sequence's keys, one KV head, 64 query rows per CTA, 8 warps.
//
// Layout of the work: warp w owns query rows 16 (w % 4) .. + 15. For the scores of a 32-key tile,
// the warps of half 0 take keys 0..15 and those of half 1 keys 16..31; the two halves trade their
// row maxima and row sums through shared memory, so both keep the same softmax state. For the
// output, half h accumulates value columns 256 h .. 256 h + 255 (128 FP32 accumulators a thread),
// reading P and V (the first 512 dims of the keys) from shared memory. P goes to the tensor cores
// as two BF16 parts, hi = bf16(p) and lo = bf16(p - hi), so the product keeps 16 bits of each
// probability (a BF16 P alone misses FlashMLA's per-element tolerance on short, peaked rows). Key tiles are double
// buffered with cp.async so the next tile loads while this one computes (BF16 caches; FP8 caches
// are dequantised to BF16 on the way in).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <math_constants.h>

#include "flashmla/mla_params.cuh"

namespace infra4j::mla::sm90 {

constexpr int kMmaThreads = 256;
constexpr int kMmaRows = 64;
constexpr int kMmaTokens = 32;

template <int D>
struct MmaSmem {
    static constexpr int kStride = D + 8;  // +16 bytes: ldmatrix rows land on distinct banks
    static constexpr int kPStride = kMmaTokens + 8;
    __nv_bfloat16 q[kMmaRows * kStride];
    __nv_bfloat16 k[2][kMmaTokens * kStride];
    __nv_bfloat16 p[kMmaRows * kPStride];     // bf16(p)
    __nv_bfloat16 p_lo[kMmaRows * kPStride];  // bf16(p - bf16(p))
    float red_max[2][kMmaRows];
    float red_sum[2][kMmaRows];
    int token_ok[2][kMmaTokens];
};

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void cp_async_16(void* dst, const void* src, bool fill) {
    int size = fill ? 16 : 0;  // 0: write zeros
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(size));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The cache block holding key t of sequence b, or -1 when t is past the keys or the table is bad.
__device__ __forceinline__ int block_of(const DecodeParams& p, int b, int t, int key_end) {
    if (t >= key_end) return -1;
    int block = p.block_table[static_cast<int64_t>(b) * p.max_blocks + t / p.page];
    return block >= 0 && block < p.num_blocks ? block : -1;
}

// Loads keys t0 .. t0 + 31 into buffer `buf`: BF16 through cp.async, FP8 dequantised through registers.
template <typename KvT, int D>
__device__ __forceinline__ void load_keys(MmaSmem<D>& sm, int buf, const DecodeParams& p, int b, int head_kv, int t0,
                                          int key_end) {
    constexpr int S = MmaSmem<D>::kStride;
    const int tid = threadIdx.x;
    if (tid < kMmaTokens) sm.token_ok[buf][tid] = block_of(p, b, t0 + tid, key_end) >= 0;
    if constexpr (sizeof(KvT) == 2) {
        constexpr int kChunks = D / 8;  // 16-byte pieces per key
        const __nv_bfloat16* kv = static_cast<const __nv_bfloat16*>(p.kv);
        for (int idx = tid; idx < kMmaTokens * kChunks; idx += kMmaThreads) {
            int j = idx / kChunks;
            int c = idx % kChunks;
            int t = t0 + j;
            int block = block_of(p, b, t, key_end);
            int64_t row = (static_cast<int64_t>(block < 0 ? 0 : block) * p.page + t % p.page) * p.heads_kv + head_kv;
            const __nv_bfloat16* src = block < 0 ? kv : kv + row * D + c * 8;
            cp_async_16(&sm.k[buf][j * S + c * 8], src, block >= 0);
        }
    } else {
        constexpr int kChunks = D / 16;  // 16 FP8 values per piece, one scale each
        const uint8_t* kv = static_cast<const uint8_t*>(p.kv);
        for (int idx = tid; idx < kMmaTokens * kChunks; idx += kMmaThreads) {
            int j = idx / kChunks;
            int c = idx % kChunks;
            int t = t0 + j;
            int block = block_of(p, b, t, key_end);
            alignas(16) __nv_bfloat16 out[16];
            if (block >= 0) {
                int64_t row = (static_cast<int64_t>(block) * p.page + t % p.page) * p.heads_kv + head_kv;
                float scale = p.kv_scales[row * scale_groups<D>() + (c * 16) / kScaleGroup];
                alignas(16) __nv_fp8_e4m3 v[16];
                *reinterpret_cast<uint4*>(v) = *reinterpret_cast<const uint4*>(kv + row * D + c * 16);
#pragma unroll
                for (int e = 0; e < 16; ++e) out[e] = __float2bfloat16_rn(static_cast<float>(v[e]) * scale);
            } else {
#pragma unroll
                for (int e = 0; e < 16; ++e) out[e] = __float2bfloat16_rn(0.f);
            }
            uint4* dst = reinterpret_cast<uint4*>(&sm.k[buf][j * S + c * 16]);
            dst[0] = reinterpret_cast<uint4*>(out)[0];
            dst[1] = reinterpret_cast<uint4*>(out)[1];
        }
    }
}

template <typename KvT, int D>
__global__ void __launch_bounds__(kMmaThreads, 1) decode_splitkv_mma(DecodeParams p) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    auto& sm = *reinterpret_cast<MmaSmem<D>*>(smem_raw);
    constexpr int S = MmaSmem<D>::kStride;
    constexpr int PS = MmaSmem<D>::kPStride;

    const int split = blockIdx.x;
    const int head_kv = blockIdx.y / p.row_tiles;
    const int tile = blockIdx.y % p.row_tiles;
    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int lane = tid & 31;
    const int rb = warp & 3;    // row block: rows 16 rb .. 16 rb + 15
    const int half = warp >> 2; // keys 16 half .. of a tile for the scores; value columns 256 half .. for the output
    const int g = lane >> 2;    // mma fragment row (and +8)
    const int tq = lane & 3;    // mma fragment column pair

    const SplitWork work = split_work(p, split);
    const int b = work.b;
    const int seqlen = work.seqlen;
    const int key_begin = work.key_begin;
    const int key_end = work.key_end;

    const int heads_per_kv = p.heads_q / p.heads_kv;
    const int rows_per_kv = p.seqlen_q * heads_per_kv;
    const int row0 = tile * kMmaRows;
    const int rows_here = min(kMmaRows, rows_per_kv - row0);
    // Warps whose 16 rows are all padding (fewer than 64 query rows per KV head, e.g. 16 heads and
    // s_q = 1) skip the tensor-core work; they still take part in the barriers and shared state.
    const bool active = rb * 16 < rows_here;

    // Query tile (rows past the end are zero) and the first key tile, in one cp.async group.
    const __nv_bfloat16* q = static_cast<const __nv_bfloat16*>(p.q);
    for (int idx = tid; idx < kMmaRows * (D / 8); idx += kMmaThreads) {
        int r = idx / (D / 8);
        int c = idx % (D / 8);
        bool ok = r < rows_here;
        const __nv_bfloat16* src = q;
        if (ok) {
            int rr = row0 + r;
            int i = rr / heads_per_kv;
            int h = head_kv * heads_per_kv + rr % heads_per_kv;
            src = q + ((static_cast<int64_t>(b) * p.seqlen_q + i) * p.heads_q + h) * D + c * 8;
        }
        cp_async_16(&sm.q[r * S + c * 8], src, ok);
    }
    if (key_begin < key_end) load_keys<KvT, D>(sm, 0, p, b, head_kv, key_begin, key_end);
    cp_async_commit();

    // Softmax state of rows g and g + 8 of this warp's block (identical in both halves).
    float m_row[2] = {-CUDART_INF_F, -CUDART_INF_F};
    float l_row[2] = {0.f, 0.f};
    float o[32][4];
#pragma unroll
    for (int j = 0; j < 32; ++j) {
        o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;
    }
    int last_visible[2];
    for (int x = 0; x < 2; ++x) {
        int rr = row0 + rb * 16 + g + 8 * x;
        int i = rr / heads_per_kv;
        bool row_ok = rb * 16 + g + 8 * x < rows_here;
        last_visible[x] = !row_ok ? -1 : (p.causal ? seqlen - p.seqlen_q + i : seqlen - 1);
    }

    int buf = 0;
    for (int t0 = key_begin; t0 < key_end; t0 += kMmaTokens, buf ^= 1) {
        // Start the next tile's loads, then wait for this one's.
        int next = t0 + kMmaTokens;
        if (next < key_end) load_keys<KvT, D>(sm, buf ^ 1, p, b, head_kv, next, key_end);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();

        // Scores of rows 16 rb .. and keys 16 half .. 16 half + 15 (two n-tiles of 8).
        float s[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
        const __nv_bfloat16* qa = &sm.q[(rb * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * S + (lane >> 4) * 8];
        const __nv_bfloat16* kb = &sm.k[buf][(half * 16 + (lane & 7) + (lane >> 4) * 8) * S + ((lane >> 3) & 1) * 8];
#pragma unroll 4
        for (int kk = 0; active && kk < D; kk += 16) {
            uint32_t a[4];
            uint32_t bq[4];
            ldmatrix_x4(a, qa + kk);
            ldmatrix_x4(bq, kb + kk);
            mma_bf16(s[0], a, bq[0], bq[1]);
            mma_bf16(s[1], a, bq[2], bq[3]);
        }

        // Mask, then this half's row maxima.
        float mx[2] = {-CUDART_INF_F, -CUDART_INF_F};
#pragma unroll
        for (int j = 0; j < 2; ++j) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                int key = half * 16 + j * 8 + 2 * tq + (e & 1);
                int x = e >> 1;
                bool visible = sm.token_ok[buf][key] && t0 + key <= last_visible[x];
                s[j][e] = visible ? s[j][e] * p.scale_log2 : -CUDART_INF_F;
                mx[x] = fmaxf(mx[x], s[j][e]);
            }
        }
#pragma unroll
        for (int x = 0; x < 2; ++x) {
            mx[x] = fmaxf(mx[x], __shfl_xor_sync(0xffffffffu, mx[x], 1));
            mx[x] = fmaxf(mx[x], __shfl_xor_sync(0xffffffffu, mx[x], 2));
        }
        if (tq == 0) {
            sm.red_max[half][rb * 16 + g] = mx[0];
            sm.red_max[half][rb * 16 + g + 8] = mx[1];
        }
        __syncthreads();
        float alpha[2];
        float sum[2] = {0.f, 0.f};
#pragma unroll
        for (int x = 0; x < 2; ++x) {
            int row = rb * 16 + g + 8 * x;
            float m_tile = fmaxf(sm.red_max[0][row], sm.red_max[1][row]);
            float m_new = fmaxf(m_row[x], m_tile);
            alpha[x] = m_new == -CUDART_INF_F ? 1.f : exp2f(m_row[x] - m_new);
            m_row[x] = m_new;
        }
        // P = exp2(s - m), split into two BF16 parts for the P·V product.
#pragma unroll
        for (int j = 0; j < 2; ++j) {
#pragma unroll
            for (int x = 0; x < 2; ++x) {
                float p0 = s[j][2 * x] == -CUDART_INF_F ? 0.f : exp2f(s[j][2 * x] - m_row[x]);
                float p1 = s[j][2 * x + 1] == -CUDART_INF_F ? 0.f : exp2f(s[j][2 * x + 1] - m_row[x]);
                sum[x] += p0 + p1;
                int at = (rb * 16 + g + 8 * x) * PS + half * 16 + j * 8 + 2 * tq;
                __nv_bfloat162 hi = __floats2bfloat162_rn(p0, p1);
                float2 hf = __bfloat1622float2(hi);
                *reinterpret_cast<__nv_bfloat162*>(&sm.p[at]) = hi;
                *reinterpret_cast<__nv_bfloat162*>(&sm.p_lo[at]) = __floats2bfloat162_rn(p0 - hf.x, p1 - hf.y);
            }
        }
#pragma unroll
        for (int x = 0; x < 2; ++x) {
            sum[x] += __shfl_xor_sync(0xffffffffu, sum[x], 1);
            sum[x] += __shfl_xor_sync(0xffffffffu, sum[x], 2);
        }
        if (tq == 0) {
            sm.red_sum[half][rb * 16 + g] = sum[0];
            sm.red_sum[half][rb * 16 + g + 8] = sum[1];
        }
        __syncthreads();
#pragma unroll
        for (int x = 0; x < 2; ++x) {
            int row = rb * 16 + g + 8 * x;
            l_row[x] = l_row[x] * alpha[x] + sm.red_sum[0][row] + sm.red_sum[1][row];
        }

        // O = O * alpha + P V over this tile's 32 keys, value columns 256 half ...
#pragma unroll
        for (int j = 0; j < 32; ++j) {
            o[j][0] *= alpha[0];
            o[j][1] *= alpha[0];
            o[j][2] *= alpha[1];
            o[j][3] *= alpha[1];
        }
#pragma unroll
        for (int ks = 0; active && ks < kMmaTokens; ks += 16) {
            uint32_t a[4];
            uint32_t a_lo[4];
            int pa = (rb * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * PS + ks + (lane >> 4) * 8;
            ldmatrix_x4(a, &sm.p[pa]);
            ldmatrix_x4(a_lo, &sm.p_lo[pa]);
            const __nv_bfloat16* vb =
                &sm.k[buf][(ks + (lane & 7) + ((lane >> 3) & 1) * 8) * S + half * 256 + (lane >> 4) * 8];
#pragma unroll
            for (int j = 0; j < 32; j += 2) {
                uint32_t bv[4];
                ldmatrix_x4_trans(bv, vb + j * 8);
                mma_bf16(o[j], a, bv[0], bv[1]);
                mma_bf16(o[j + 1], a, bv[2], bv[3]);
                mma_bf16(o[j], a_lo, bv[0], bv[1]);
                mma_bf16(o[j + 1], a_lo, bv[2], bv[3]);
            }
        }
        __syncthreads();  // this buffer is overwritten by the load two tiles ahead
    }
    cp_async_wait<0>();

    // Normalised split output and its log-sum-exp.
    const int rows_b = p.seqlen_q * p.heads_q;
#pragma unroll
    for (int x = 0; x < 2; ++x) {
        int r = rb * 16 + g + 8 * x;
        if (r < rows_here) {
            int rr = row0 + r;
            int i = rr / heads_per_kv;
            int h = head_kv * heads_per_kv + rr % heads_per_kv;
            int64_t row_index = static_cast<int64_t>(split) * rows_b + i * p.heads_q + h;
            float inv = l_row[x] > 0.f ? 1.f / l_row[x] : 0.f;
            float* dst = p.o_accum + row_index * kHeadDimV + half * 256 + 2 * tq;
#pragma unroll
            for (int j = 0; j < 32; ++j) {
                *reinterpret_cast<float2*>(dst + j * 8) = make_float2(o[j][2 * x] * inv, o[j][2 * x + 1] * inv);
            }
            if (half == 0 && tq == 0) {
                p.lse_accum[row_index] = l_row[x] > 0.f ? (m_row[x] + log2f(l_row[x])) * CUDART_LN2_F : -CUDART_INF_F;
            }
        }
    }
}

}  // namespace infra4j::mla::sm90
