// What the intranode and low-latency expert-parallel kernels share.
#pragma once

#include <cstdint>

#include <cuda_bf16.h>

#include "infra4j/ep.h"

namespace infra4j::ep {

constexpr int kRowThreads = 128;  // threads of a CTA that moves rows

// W ranks holding E experts evenly, within the ranks one call addresses.
inline bool valid_world(int num_experts, int world_size) {
    return world_size >= 1 && world_size <= INFRA4J_EP_MAX_RANKS && num_experts >= world_size && num_experts % world_size == 0;
}

// Copies one row of `bytes` (a multiple of 4) with the CTA's threads: 16 bytes at a time when both
// ends allow it.
__device__ __forceinline__ void copy_row(uint8_t* dst, const uint8_t* src, int bytes) {
    if (bytes % 16 == 0 && reinterpret_cast<uintptr_t>(dst) % 16 == 0 && reinterpret_cast<uintptr_t>(src) % 16 == 0) {
        for (int i = threadIdx.x; i < bytes / 16; i += blockDim.x) reinterpret_cast<int4*>(dst)[i] = reinterpret_cast<const int4*>(src)[i];
    } else {
        for (int i = threadIdx.x; i < bytes / 4; i += blockDim.x)
            reinterpret_cast<int32_t*>(dst)[i] = reinterpret_cast<const int32_t*>(src)[i];
    }
}

// kVec BF16 values (8: one 16-byte access, 2: one 4-byte access) at p as floats.
template <int kVec>
__device__ __forceinline__ void load_bf16(const __nv_bfloat16* p, float (&v)[kVec]) {
    static_assert(kVec == 8 || kVec == 2, "8 or 2 values");
    __nv_bfloat162 x[kVec / 2];
    if constexpr (kVec == 8) {
        *reinterpret_cast<uint4*>(x) = *reinterpret_cast<const uint4*>(p);
    } else {
        x[0] = *reinterpret_cast<const __nv_bfloat162*>(p);
    }
#pragma unroll
    for (int i = 0; i < kVec / 2; ++i) {
        v[2 * i] = __bfloat162float(x[i].x);
        v[2 * i + 1] = __bfloat162float(x[i].y);
    }
}

// kVec floats to BF16 (round to nearest even) at p, in one access.
template <int kVec>
__device__ __forceinline__ void store_bf16(__nv_bfloat16* p, const float (&v)[kVec]) {
    __nv_bfloat162 out[kVec / 2];
#pragma unroll
    for (int i = 0; i < kVec / 2; ++i) out[i] = __floats2bfloat162_rn(v[2 * i], v[2 * i + 1]);
    if constexpr (kVec == 8) {
        *reinterpret_cast<uint4*>(p) = *reinterpret_cast<const uint4*>(out);
    } else {
        *reinterpret_cast<__nv_bfloat162*>(p) = out[0];
    }
}

}  // namespace infra4j::ep
