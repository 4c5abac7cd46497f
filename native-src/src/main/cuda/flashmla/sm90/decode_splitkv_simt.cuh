// MLA decode, one split of one sequence's keys for one KV head and a tile of query rows: the first,
// correctness-first kernel (FP32 SIMT math; tensor cores come later). Each CTA keeps its query
// tile (BF16) and a chunk of keys dequantised to FP32 in shared memory, computes the scores, runs
// the online softmax row by row, and accumulates P·V for 512 value columns (two per thread) in
// registers. It writes the split's normalised output and its log-sum-exp for the combine kernel.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <math_constants.h>

#include "flashmla/mla_params.cuh"

namespace infra4j::mla::sm90 {

constexpr int kThreads = 256;
constexpr int kRows = 64;    // query rows per CTA
constexpr int kTokens = 32;  // keys per chunk

template <int D>
struct SimtSmem {
    static constexpr int kKStride = D + 1;  // odd stride: lanes reading one column each hit distinct banks
    __nv_bfloat16 q[kRows * D];
    float k[kTokens * kKStride];
    float s[kRows * (kTokens + 1)];
    float row_max[kRows];
    float row_sum[kRows];
    float row_alpha[kRows];
    int token_ok[kTokens];
};

template <typename KvT>
__device__ __forceinline__ float kv_to_float(KvT v);

template <>
__device__ __forceinline__ float kv_to_float<__nv_bfloat16>(__nv_bfloat16 v) {
    return __bfloat162float(v);
}

template <>
__device__ __forceinline__ float kv_to_float<__nv_fp8_e4m3>(__nv_fp8_e4m3 v) {
    return static_cast<float>(v);
}

template <typename KvT, int D>
__global__ void __launch_bounds__(kThreads, 1) decode_splitkv_simt(DecodeParams p) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    auto& sm = *reinterpret_cast<SimtSmem<D>*>(smem_raw);
    constexpr int KS = SimtSmem<D>::kKStride;

    const int split = blockIdx.x;
    const int head_kv = blockIdx.y / p.row_tiles;
    const int tile = blockIdx.y % p.row_tiles;
    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int lane = tid & 31;

    const SplitWork work = split_work(p, split);
    const int b = work.b;
    const int seqlen = work.seqlen;
    const int key_begin = work.key_begin;
    const int key_end = work.key_end;

    const int heads_per_kv = p.heads_q / p.heads_kv;
    const int rows_per_kv = p.seqlen_q * heads_per_kv;
    const int row0 = tile * kRows;
    const int rows_here = min(kRows, rows_per_kv - row0);

    // Query tile: row r -> query token i, head h; rows past the end are zero.
    const __nv_bfloat16* q = static_cast<const __nv_bfloat16*>(p.q);
    for (int idx = tid; idx < kRows * (D / 8); idx += kThreads) {
        int r = idx / (D / 8);
        int c8 = idx % (D / 8);
        uint4 v = make_uint4(0, 0, 0, 0);
        if (r < rows_here) {
            int rr = row0 + r;
            int i = rr / heads_per_kv;
            int h = head_kv * heads_per_kv + rr % heads_per_kv;
            const __nv_bfloat16* src = q + ((static_cast<int64_t>(b) * p.seqlen_q + i) * p.heads_q + h) * D + c8 * 8;
            v = *reinterpret_cast<const uint4*>(src);
        }
        *reinterpret_cast<uint4*>(&sm.q[r * D + c8 * 8]) = v;
    }
    if (tid < kRows) {
        sm.row_max[tid] = -CUDART_INF_F;
        sm.row_sum[tid] = 0.f;
    }

    // Each thread's rows for the scores: 8 rows of one warp; its key: its lane.
    const int score_row0 = warp * (kRows / 8);
    // The last visible key of each of this thread's output rows is computed per row when needed.
    float o0[kRows];
    float o1[kRows];
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
        o0[r] = 0.f;
        o1[r] = 0.f;
    }

    const KvT* kv = static_cast<const KvT*>(p.kv);
    for (int t0 = key_begin; t0 < key_end; t0 += kTokens) {
        __syncthreads();  // the previous chunk is fully used
        // Keys of this chunk, dequantised to FP32; missing or out-of-table keys are zero and masked.
        if (tid < kTokens) {
            int t = t0 + tid;
            int ok = 0;
            if (t < key_end) {
                int block = p.block_table[static_cast<int64_t>(b) * p.max_blocks + t / p.page];
                ok = block >= 0 && block < p.num_blocks;
            }
            sm.token_ok[tid] = ok;
        }
        __syncthreads();
        for (int idx = tid; idx < kTokens * (D / 16); idx += kThreads) {
            int j = idx / (D / 16);
            int c16 = idx % (D / 16);
            float* dst = &sm.k[j * KS + c16 * 16];
            if (!sm.token_ok[j]) {
#pragma unroll
                for (int e = 0; e < 16; ++e) dst[e] = 0.f;
                continue;
            }
            int t = t0 + j;
            int block = p.block_table[static_cast<int64_t>(b) * p.max_blocks + t / p.page];
            int64_t token_row = (static_cast<int64_t>(block) * p.page + t % p.page) * p.heads_kv + head_kv;
            const KvT* src = kv + token_row * D + c16 * 16;
            float scale = 1.f;
            if constexpr (sizeof(KvT) == 1) {
                scale = p.kv_scales[token_row * scale_groups<D>() + (c16 * 16) / kScaleGroup];
            }
            alignas(16) KvT vals[16];
            if constexpr (sizeof(KvT) == 2) {
                *reinterpret_cast<uint4*>(&vals[0]) = *reinterpret_cast<const uint4*>(src);
                *reinterpret_cast<uint4*>(&vals[8]) = *reinterpret_cast<const uint4*>(src + 8);
            } else {
                *reinterpret_cast<uint4*>(&vals[0]) = *reinterpret_cast<const uint4*>(src);
            }
            // FP8: the reference's dequantised cache is bf16(e4m3 * scale), as the tensor-core kernels
            // compute it; the FP32 product alone is off by up to 2^-9 per value.
#pragma unroll
            for (int e = 0; e < 16; ++e) {
                float v = kv_to_float<KvT>(vals[e]) * scale;
                dst[e] = sizeof(KvT) == 1 ? __bfloat162float(__float2bfloat16_rn(v)) : v;
            }
        }
        __syncthreads();

        // Scores: this thread's key (lane) against 8 rows.
        {
            float acc[kRows / 8];
#pragma unroll
            for (int r = 0; r < kRows / 8; ++r) acc[r] = 0.f;
            const float* kr = &sm.k[lane * KS];
            for (int c = 0; c < D; c += 2) {
                float k0 = kr[c];
                float k1 = kr[c + 1];
#pragma unroll
                for (int r = 0; r < kRows / 8; ++r) {
                    __nv_bfloat162 q2 = *reinterpret_cast<const __nv_bfloat162*>(&sm.q[(score_row0 + r) * D + c]);
                    float2 qf = __bfloat1622float2(q2);
                    acc[r] = fmaf(qf.x, k0, acc[r]);
                    acc[r] = fmaf(qf.y, k1, acc[r]);
                }
            }
            int t = t0 + lane;
#pragma unroll
            for (int r = 0; r < kRows / 8; ++r) {
                int row = score_row0 + r;
                int i = (row0 + row) / heads_per_kv;
                int last = p.causal ? seqlen - p.seqlen_q + i : seqlen - 1;  // inclusive
                bool visible = sm.token_ok[lane] && t <= last && row < rows_here;
                sm.s[row * (kTokens + 1) + lane] = visible ? acc[r] * p.scale_log2 : -CUDART_INF_F;
            }
        }
        __syncthreads();

        // Online softmax: warp w owns rows 8w..8w+7, a lane per key.
        for (int r = 0; r < kRows / 8; ++r) {
            int row = score_row0 + r;
            float v = sm.s[row * (kTokens + 1) + lane];
            float m = v;
#pragma unroll
            for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));
            float m_old = sm.row_max[row];
            float m_new = fmaxf(m_old, m);
            float pv = (v == -CUDART_INF_F) ? 0.f : exp2f(v - m_new);
            float sum = pv;
#pragma unroll
            for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
            sm.s[row * (kTokens + 1) + lane] = pv;
            __syncwarp();
            if (lane == 0) {
                float alpha = (m_new == -CUDART_INF_F) ? 1.f : exp2f(m_old - m_new);  // m_old = -inf gives 0
                sm.row_alpha[row] = alpha;
                sm.row_sum[row] = sm.row_sum[row] * alpha + sum;
                sm.row_max[row] = m_new;
            }
        }
        __syncthreads();

        // O = O * alpha + P V, value columns tid and tid + 256.
#pragma unroll
        for (int r = 0; r < kRows; ++r) {
            float a = sm.row_alpha[r];
            o0[r] *= a;
            o1[r] *= a;
        }
        for (int j = 0; j < kTokens; ++j) {
            float v0 = sm.k[j * KS + tid];
            float v1 = sm.k[j * KS + tid + kThreads];
#pragma unroll
            for (int r = 0; r < kRows; ++r) {
                float pr = sm.s[r * (kTokens + 1) + j];
                o0[r] = fmaf(pr, v0, o0[r]);
                o1[r] = fmaf(pr, v1, o1[r]);
            }
        }
    }
    __syncthreads();

    // This split's result per row: the output normalised by its own sum, and its log-sum-exp.
    const int rows_b = p.seqlen_q * p.heads_q;
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
        if (r < rows_here) {
            int rr = row0 + r;
            int i = rr / heads_per_kv;
            int h = head_kv * heads_per_kv + rr % heads_per_kv;
            int64_t row_index = static_cast<int64_t>(split) * rows_b + i * p.heads_q + h;
            float l = sm.row_sum[r];
            float inv = l > 0.f ? 1.f / l : 0.f;
            float* dst = p.o_accum + row_index * kHeadDimV;
            dst[tid] = o0[r] * inv;
            dst[tid + kThreads] = o1[r] * inv;
            if (tid == 0) {
                p.lse_accum[row_index] = l > 0.f ? (sm.row_max[r] + log2f(l)) * CUDART_LN2_F : -CUDART_INF_F;
            }
        }
    }
}

}  // namespace infra4j::mla::sm90
