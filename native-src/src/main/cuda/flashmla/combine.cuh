// Merges the splits of each query row: out = sum_s exp(lse_s - lse) * o_s with
// lse = log(sum_s exp(lse_s)); a row no split saw gets out 0 and lse +inf.
#pragma once

#include <cuda_bf16.h>
#include <math_constants.h>

#include "flashmla/mla_params.cuh"

namespace infra4j::mla {

constexpr int kCombineWarps = 8;

// grid (batch, ceil(s_q * h_q / kCombineWarps)); a warp per row, 16 value columns per lane.
__global__ void __launch_bounds__(kCombineWarps * 32) combine_splits(DecodeParams p) {
    const int b = blockIdx.x;
    const int rows_b = p.seqlen_q * p.heads_q;
    const int row = blockIdx.y * kCombineWarps + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows_b) return;
    const int i = row / p.heads_q;
    const int h = row % p.heads_q;
    const int32_t* offsets = plan_offsets(p.plan);
    const int first = offsets[b];
    const int last = offsets[b + 1];

    float lse_max = -CUDART_INF_F;
    for (int s = first; s < last; ++s) {
        lse_max = fmaxf(lse_max, p.lse_accum[static_cast<int64_t>(s) * rows_b + row]);
    }
    float acc[16];
#pragma unroll
    for (int e = 0; e < 16; ++e) acc[e] = 0.f;
    float total = 0.f;
    if (lse_max != -CUDART_INF_F) {
        for (int s = first; s < last; ++s) {
            int64_t idx = static_cast<int64_t>(s) * rows_b + row;
            float w = expf(p.lse_accum[idx] - lse_max);  // not __expf: its error shows in lse near 0
            total += w;
            const float4* src = reinterpret_cast<const float4*>(p.o_accum + idx * kHeadDimV + lane * 16);
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                float4 v = src[e];
                acc[4 * e + 0] = fmaf(w, v.x, acc[4 * e + 0]);
                acc[4 * e + 1] = fmaf(w, v.y, acc[4 * e + 1]);
                acc[4 * e + 2] = fmaf(w, v.z, acc[4 * e + 2]);
                acc[4 * e + 3] = fmaf(w, v.w, acc[4 * e + 3]);
            }
        }
    }
    float inv = total > 0.f ? 1.f / total : 0.f;
    __nv_bfloat16* out = static_cast<__nv_bfloat16*>(p.out) +
                         ((static_cast<int64_t>(b) * p.seqlen_q + i) * p.heads_q + h) * kHeadDimV + lane * 16;
    alignas(16) __nv_bfloat16 vals[16];
#pragma unroll
    for (int e = 0; e < 16; ++e) vals[e] = __float2bfloat16_rn(acc[e] * inv);
    reinterpret_cast<uint4*>(out)[0] = reinterpret_cast<uint4*>(vals)[0];
    reinterpret_cast<uint4*>(out)[1] = reinterpret_cast<uint4*>(vals)[1];
    if (lane == 0) {
        p.lse[(static_cast<int64_t>(b) * p.heads_q + h) * p.seqlen_q + i] =
            total > 0.f ? lse_max + logf(total) : CUDART_INF_F;
    }
}

}  // namespace infra4j::mla
