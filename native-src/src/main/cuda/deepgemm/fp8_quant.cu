// infra4j_fp8_quant_*: BF16 -> e4m3 with DeepGEMM's fine-grained scales (1 x 128 per token, 128 x 128
// per block), and the M-major copy of the per-token scales that the GEMM kernels read.
//
// Every result must equal the Java reference (io.infra4j.deepgemm.internal.Fp8QuantReference) bit for
// bit: the arithmetic of one group is spelled out in common/fp8_group.cuh, which the expert-parallel
// low-latency dispatch shares.
#include <cuda_fp8.h>
#include "infra4j/fp8_gemm.h"
#include "common/fp8_group.cuh"
#include "common/layout.cuh"

namespace infra4j {
namespace {

using fp8::abs_max_bits;
using fp8::encode8;
using fp8::group_scale;
using fp8::GroupScale;

constexpr int kGroup = INFRA4J_FP8_BLOCK;       // values per scale along a row (and rows per block)
constexpr int kVec = 8;                         // BF16 values per thread: one 16-byte load
constexpr int kLanesPerGroup = kGroup / kVec;   // 16: half a warp covers one 128-wide group
// kAligned: x 16-byte aligned with rows of a multiple of 8 elements, out 8-byte aligned; else element by element.
template <bool kAligned>
__device__ __forceinline__ void load8(const uint16_t *__restrict__ p, uint32_t (&w)[4]) {
    if constexpr (kAligned) {
        const uint4 v = __ldg(reinterpret_cast<const uint4 *>(p));
        w[0] = v.x;
        w[1] = v.y;
        w[2] = v.z;
        w[3] = v.w;
    } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            w[j] = static_cast<uint32_t>(p[2 * j]) | (static_cast<uint32_t>(p[2 * j + 1]) << 16);
        }
    }
}

template <bool kAligned>
__device__ __forceinline__ void store8(uint8_t *__restrict__ p, uint2 q) {
    if constexpr (kAligned) {
        *reinterpret_cast<uint2 *>(p) = q;
    } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            p[j] = static_cast<uint8_t>(q.x >> (8 * j));
            p[4 + j] = static_cast<uint8_t>(q.y >> (8 * j));
        }
    }
}

// Per token: half a warp per 1 x 128 group, two groups per warp, eight values per lane. The loop runs
// per warp (not per half), so every lane reaches the shuffles, also where a half has no group left.
template <bool kAligned>
__global__ void __launch_bounds__(kThreads) quant_per_token(const uint16_t *__restrict__ x, int64_t rows, int64_t cols,
                                                            int64_t ld, uint8_t *__restrict__ out,
                                                            float *__restrict__ scales, int64_t col_groups) {
    const int lane = threadIdx.x % 32;
    const int half = lane / kLanesPerGroup;
    const int sub = lane % kLanesPerGroup;
    const int64_t total = rows * col_groups;
    const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
    for (int64_t pair = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32; pair * 2 < total;
         pair += warps) {
        const int64_t g = pair * 2 + half;  // row * col_groups + column group: also the scale's index
        const int64_t row = g / col_groups;
        const int64_t col = (g - row * col_groups) * kGroup + sub * kVec;
        const bool active = g < total && col < cols;  // the last group of a row may be short
        uint32_t w[4] = {0, 0, 0, 0};
        if (active) load8<kAligned>(x + row * ld + col, w);
        uint32_t amax = abs_max_bits(w);
#pragma unroll
        for (int o = kLanesPerGroup / 2; o > 0; o /= 2) {  // xor within 16 lanes: the halves stay apart
            amax = max(amax, __shfl_xor_sync(0xFFFFFFFFu, amax, o));
        }
        const GroupScale s = group_scale(amax);
        if (active) {
            store8<kAligned>(out + row * cols + col, encode8(w, s.mul));
            if (sub == 0) scales[g] = s.scale;
        }
    }
}

// Per block: one CTA of 256 threads per 128 x 128 block; 16 lanes span the block's columns, 16 rows a
// pass, 8 passes, the values kept in registers between the amax and the encoding.
constexpr int kBlockRowsPerPass = kThreads / kLanesPerGroup;  // 16
constexpr int kBlockPasses = kGroup / kBlockRowsPerPass;      // 8
constexpr int kWarps = kThreads / 32;

template <bool kAligned>
__global__ void __launch_bounds__(kThreads) quant_per_block(const uint16_t *__restrict__ x, int64_t rows, int64_t cols,
                                                            int64_t ld, uint8_t *__restrict__ out,
                                                            float *__restrict__ scales, int64_t col_blocks) {
    __shared__ uint32_t warp_amax[kWarps];
    const int64_t block = blockIdx.x;  // row block * col_blocks + column block: also the scale's index
    const int64_t row_block = block / col_blocks;
    const int64_t col = (block - row_block * col_blocks) * kGroup + (threadIdx.x % kLanesPerGroup) * kVec;
    const int64_t row0 = row_block * kGroup + threadIdx.x / kLanesPerGroup;
    uint32_t w[kBlockPasses][4];
    uint32_t amax = 0;
#pragma unroll
    for (int p = 0; p < kBlockPasses; ++p) {
        const int64_t row = row0 + p * kBlockRowsPerPass;
        w[p][0] = w[p][1] = w[p][2] = w[p][3] = 0;
        if (row < rows && col < cols) load8<kAligned>(x + row * ld + col, w[p]);
        amax = max(amax, abs_max_bits(w[p]));
    }
#pragma unroll
    for (int o = 16; o > 0; o /= 2) amax = max(amax, __shfl_xor_sync(0xFFFFFFFFu, amax, o));
    if (threadIdx.x % 32 == 0) warp_amax[threadIdx.x / 32] = amax;
    __syncthreads();
#pragma unroll
    for (int i = 0; i < kWarps; ++i) amax = max(amax, warp_amax[i]);
    const GroupScale s = group_scale(amax);
#pragma unroll
    for (int p = 0; p < kBlockPasses; ++p) {
        const int64_t row = row0 + p * kBlockRowsPerPass;
        if (row < rows && col < cols) store8<kAligned>(out + row * cols + col, encode8(w[p], s.mul));
    }
    if (threadIdx.x == 0) scales[block] = s.scale;
}

// [groups][m][kb] -> [groups][kb][m_pad], one thread per output element (writes coalesced; the
// scales are small next to the GEMM they feed, so the strided reads are left to the caches).
__global__ void scales_mn_major(const float *__restrict__ in, int64_t m, int64_t kb, int64_t m_pad, int64_t total,
                                float *__restrict__ out) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t r = i % m_pad;
        const int64_t gk = i / m_pad;
        const int64_t k = gk % kb;
        const int64_t g = gk / kb;
        out[i] = r < m ? in[(g * m + r) * kb + k] : 0.0f;
    }
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// INFRA4J_OK with *empty set when there is nothing to do; INVALID_ARGUMENT for sizes the ABI refuses.
int32_t check_quant(const void *x, int64_t rows, int64_t cols, int64_t ld, const void *out, const float *scales,
                    bool *empty) {
    *empty = false;
    if (rows < 0 || cols < 0 || cols % 16 != 0 || ld < cols) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if (rows == 0 || cols == 0) {
        *empty = true;
        return INFRA4J_OK;
    }
    if (x == nullptr || out == nullptr || scales == nullptr) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if (reinterpret_cast<uintptr_t>(x) % 2 != 0 || reinterpret_cast<uintptr_t>(scales) % 4 != 0) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    if ((rows - 1) > (INT64_MAX - cols) / ld) return INFRA4J_ERROR_INVALID_ARGUMENT;  // the last element's index
    return INFRA4J_OK;
}

bool vector_aligned(const void *x, int64_t ld, const void *out) {
    return reinterpret_cast<uintptr_t>(x) % 16 == 0 && ld % kVec == 0 && reinterpret_cast<uintptr_t>(out) % 8 == 0;
}

}  // namespace
}  // namespace infra4j

INFRA4J_API int64_t infra4j_fp8_scale_rows(int64_t m) {
    if (m < 0 || m > INT64_MAX - 3) return INFRA4J_ERROR_INVALID_ARGUMENT;
    return (m + 3) / 4 * 4;
}

INFRA4J_API int infra4j_fp8_quant_per_token(const void *x, int64_t rows, int64_t cols, int64_t ld, void *out,
                                            float *scales, void *stream) {
    using namespace infra4j;
    bool empty;
    const int32_t st = check_quant(x, rows, cols, ld, out, scales, &empty);
    if (st != INFRA4J_OK || empty) return st;
    const int64_t col_groups = ceil_div(cols, kGroup);
    const int64_t blocks = blocks_for(rows * col_groups * kLanesPerGroup);
    const auto *in = static_cast<const uint16_t *>(x);
    auto *q = static_cast<uint8_t *>(out);
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    if (vector_aligned(x, ld, out)) {
        quant_per_token<true><<<blocks, kThreads, 0, s>>>(in, rows, cols, ld, q, scales, col_groups);
    } else {
        quant_per_token<false><<<blocks, kThreads, 0, s>>>(in, rows, cols, ld, q, scales, col_groups);
    }
    return launch_status();
}

INFRA4J_API int infra4j_fp8_quant_per_block(const void *x, int64_t rows, int64_t cols, int64_t ld, void *out,
                                            float *scales, void *stream) {
    using namespace infra4j;
    bool empty;
    const int32_t st = check_quant(x, rows, cols, ld, out, scales, &empty);
    if (st != INFRA4J_OK || empty) return st;
    const int64_t col_blocks = ceil_div(cols, kGroup);
    const int64_t row_blocks = ceil_div(rows, kGroup);
    if (row_blocks > INT32_MAX / col_blocks) return INFRA4J_ERROR_INVALID_ARGUMENT;  // one CTA per block
    const int64_t blocks = row_blocks * col_blocks;
    const auto *in = static_cast<const uint16_t *>(x);
    auto *q = static_cast<uint8_t *>(out);
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    if (vector_aligned(x, ld, out)) {
        quant_per_block<true><<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(in, rows, cols, ld, q, scales,
                                                                                 col_blocks);
    } else {
        quant_per_block<false><<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(in, rows, cols, ld, q, scales,
                                                                                  col_blocks);
    }
    return launch_status();
}

INFRA4J_API int infra4j_fp8_scales_to_mn_major(const float *scales, int32_t groups, int64_t m, int32_t kb, float *out,
                                               void *stream) {
    using namespace infra4j;
    if (groups < 0 || m < 0 || kb < 0 || m > INT64_MAX - 3) return INFRA4J_ERROR_INVALID_ARGUMENT;
    const int64_t m_pad = infra4j_fp8_scale_rows(m);
    if (groups == 0 || m_pad == 0 || kb == 0) return INFRA4J_OK;
    if (scales == nullptr || out == nullptr) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if (m_pad > INT64_MAX / kb / groups) return INFRA4J_ERROR_INVALID_ARGUMENT;
    const int64_t total = static_cast<int64_t>(groups) * kb * m_pad;
    scales_mn_major<<<blocks_for(total), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(scales, m, kb, m_pad, total,
                                                                                           out);
    return launch_status();
}
