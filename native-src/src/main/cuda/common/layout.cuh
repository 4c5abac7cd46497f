// Strided views on the device: argument checks on the host, offset arithmetic on the device.
#pragma once

#include <cstdint>
#include <cstring>
#include <cuda_runtime.h>
#include "infra4j/types.h"

namespace infra4j {

// Launch shape shared by the element-wise kernels: 256 threads, a grid capped so that large tensors
// go round a grid-stride loop instead of asking for billions of blocks.
constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535LL * 8;

inline int64_t blocks_for(int64_t work_items) {
    int64_t b = (work_items + kThreads - 1) / kThreads;
    if (b < 1) b = 1;
    return b < kMaxBlocks ? b : kMaxBlocks;
}

inline bool valid_layout(const infra4j_layout *l) {
    if (l == nullptr || l->rank < 0 || l->rank > INFRA4J_MAX_RANK) return false;
    for (int d = 0; d < l->rank; ++d) {
        if (l->shape[d] < 0 || l->strides[d] < 0) return false;
    }
    return true;
}

inline int64_t element_count(const infra4j_layout *l) {
    int64_t n = 1;
    for (int d = 0; d < l->rank; ++d) n *= l->shape[d];
    return n;
}

inline bool same_shape(const infra4j_layout *a, const infra4j_layout *b) {
    if (a->rank != b->rank) return false;
    for (int d = 0; d < a->rank; ++d) {
        if (a->shape[d] != b->shape[d]) return false;
    }
    return true;
}

// Row-major contiguous: the innermost stride is 1 and each outer stride is the product of the sizes inside.
inline bool is_contiguous(const infra4j_layout *l) {
    int64_t expected = 1;
    for (int d = l->rank - 1; d >= 0; --d) {
        if (l->shape[d] != 1 && l->strides[d] != expected) return false;
        expected *= l->shape[d];
    }
    return true;
}

// Offset, in elements, of the linear (row-major) index i in the view.
__device__ __forceinline__ int64_t offset_of(int64_t i, const infra4j_layout &l) {
    int64_t off = 0;
#pragma unroll
    for (int d = INFRA4J_MAX_RANK - 1; d >= 0; --d) {
        if (d < l.rank) {
            const int64_t size = l.shape[d];
            const int64_t q = i / size;
            off += (i - q * size) * l.strides[d];
            i = q;
        }
    }
    return off;
}

// Status of the launch just made (configuration errors, a missing kernel image), as the ABI returns it.
inline int32_t launch_status() { return static_cast<int32_t>(cudaGetLastError()); }

}  // namespace infra4j
