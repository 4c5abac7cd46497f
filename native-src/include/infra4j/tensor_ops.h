/*
 * infra4j C ABI: element-wise tensor operations on device memory (the GPU side of
 * io.infra4j.memory.TensorOps). Every function is asynchronous on the given stream, checks its
 * arguments, launches, and returns the launch status; errors of the running kernel surface at the
 * next synchronisation.
 */
#ifndef INFRA4J_TENSOR_OPS_H
#define INFRA4J_TENSOR_OPS_H

#include "infra4j/types.h"

/* Cast flag: out-of-range finite values and infinities become the largest finite value of the
 * target type (keeping the sign) instead of its infinity (F8_E5M2, F16, BF16) or NaN (F8_E4M3). */
#define INFRA4J_CAST_SATURATE 1

/*
 * Writes one element's bit pattern (the low elem_size bytes of bits, elem_size in 1, 2, 4, 8) to
 * every element of the strided view at dst.
 */
INFRA4J_API int32_t infra4j_fill(void *dst, const infra4j_layout *layout, int32_t elem_size,
                                 uint64_t bits, void *stream);

/*
 * Converts every element of the src view (src_dtype) into the dst view (dst_dtype), through
 * float32, rounding to nearest even, exactly as io.infra4j.memory.DTypeCodec does on the CPU.
 * Both dtypes are one of F32, F16, BF16, F8_E4M3, F8_E5M2; both layouts have the same shape.
 */
INFRA4J_API int32_t infra4j_cast(void *dst, int32_t dst_dtype, const infra4j_layout *dst_layout,
                                 const void *src, int32_t src_dtype, const infra4j_layout *src_layout,
                                 int32_t flags, void *stream);

/*
 * Copies every element of the src view into the dst view (same shape, elements of elem_size
 * bytes, 1, 2, 4 or 8). Both pointers must be readable/writable by the current device.
 */
INFRA4J_API int32_t infra4j_copy(void *dst, const infra4j_layout *dst_layout, const void *src,
                                 const infra4j_layout *src_layout, int32_t elem_size, void *stream);

#endif /* INFRA4J_TENSOR_OPS_H */
