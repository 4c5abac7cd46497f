// What the intranode and low-latency expert-parallel kernels share.
#pragma once

#include <cstdint>

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

}  // namespace infra4j::ep
