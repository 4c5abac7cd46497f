// infra4j_copy: element copy between strided views of the same shape (device to device).
#include "infra4j/tensor_ops.h"
#include "common/layout.cuh"

namespace infra4j {
namespace {

template <typename T>
__global__ void copy_strided(T *dst, infra4j_layout dl, const T *src, infra4j_layout sl, int64_t n) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        dst[offset_of(i, dl)] = src[offset_of(i, sl)];
    }
}

template <typename T>
int32_t launch_copy(void *dst, const infra4j_layout *dl, const void *src, const infra4j_layout *sl,
                    int64_t elem_size, cudaStream_t stream) {
    const int64_t n = element_count(dl);
    if (n == 0) return INFRA4J_OK;
    if (is_contiguous(dl) && is_contiguous(sl)) {
        // Dense on both sides: the copy engine does it best.
        return static_cast<int32_t>(cudaMemcpyAsync(dst, src, n * elem_size, cudaMemcpyDeviceToDevice, stream));
    }
    copy_strided<T><<<blocks_for(n), kThreads, 0, stream>>>(static_cast<T *>(dst), *dl, static_cast<const T *>(src), *sl, n);
    return launch_status();
}

}  // namespace
}  // namespace infra4j

INFRA4J_API int32_t infra4j_copy(void *dst, const infra4j_layout *dst_layout, const void *src,
                                 const infra4j_layout *src_layout, int32_t elem_size, void *stream) {
    using namespace infra4j;
    if (dst == nullptr || src == nullptr || !valid_layout(dst_layout) || !valid_layout(src_layout)) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    if (!same_shape(dst_layout, src_layout)) return INFRA4J_ERROR_SHAPE_MISMATCH;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    switch (elem_size) {
        case 1: return launch_copy<uint8_t>(dst, dst_layout, src, src_layout, 1, s);
        case 2: return launch_copy<uint16_t>(dst, dst_layout, src, src_layout, 2, s);
        case 4: return launch_copy<uint32_t>(dst, dst_layout, src, src_layout, 4, s);
        case 8: return launch_copy<uint64_t>(dst, dst_layout, src, src_layout, 8, s);
        default: return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
}
