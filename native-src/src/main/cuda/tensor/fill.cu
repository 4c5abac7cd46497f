// infra4j_fill: one bit pattern into every element of a strided view.
#include "infra4j/tensor_ops.h"
#include "common/layout.cuh"

namespace infra4j {
namespace {

template <typename T>
__global__ void fill_contiguous(T *dst, int64_t n, T value) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        dst[i] = value;
    }
}

template <typename T>
__global__ void fill_strided(T *dst, int64_t n, infra4j_layout layout, T value) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        dst[offset_of(i, layout)] = value;
    }
}

template <typename T>
int32_t launch_fill(void *dst, const infra4j_layout *layout, uint64_t bits, cudaStream_t stream) {
    const int64_t n = element_count(layout);
    if (n == 0) return INFRA4J_OK;
    const T value = static_cast<T>(bits);
    if (is_contiguous(layout)) {
        // 16-byte stores when the pointer allows: the same pattern replicated into a uint4.
        if (reinterpret_cast<uintptr_t>(dst) % 16 == 0 && sizeof(T) < 16) {
            constexpr int per = 16 / sizeof(T);
            T lanes[per];
            for (int k = 0; k < per; ++k) lanes[k] = value;
            uint4 wide;
            memcpy(&wide, lanes, sizeof(wide));
            const int64_t nwide = n / per;
            if (nwide > 0) {
                fill_contiguous<uint4><<<blocks_for(nwide), kThreads, 0, stream>>>(static_cast<uint4 *>(dst), nwide, wide);
                const int32_t s = launch_status();
                if (s != 0) return s;
            }
            const int64_t tail = n - nwide * per;
            if (tail == 0) return INFRA4J_OK;
            fill_contiguous<T><<<1, kThreads, 0, stream>>>(static_cast<T *>(dst) + nwide * per, tail, value);
            return launch_status();
        }
        fill_contiguous<T><<<blocks_for(n), kThreads, 0, stream>>>(static_cast<T *>(dst), n, value);
        return launch_status();
    }
    fill_strided<T><<<blocks_for(n), kThreads, 0, stream>>>(static_cast<T *>(dst), n, *layout, value);
    return launch_status();
}

}  // namespace
}  // namespace infra4j

INFRA4J_API int32_t infra4j_fill(void *dst, const infra4j_layout *layout, int32_t elem_size, uint64_t bits,
                                 void *stream) {
    using namespace infra4j;
    if (dst == nullptr || !valid_layout(layout)) return INFRA4J_ERROR_INVALID_ARGUMENT;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    switch (elem_size) {
        case 1: return launch_fill<uint8_t>(dst, layout, bits, s);
        case 2: return launch_fill<uint16_t>(dst, layout, bits, s);
        case 4: return launch_fill<uint32_t>(dst, layout, bits, s);
        case 8: return launch_fill<uint64_t>(dst, layout, bits, s);
        default: return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
}
