/*
 * infra4j C ABI: the types shared by every infra4j native function.
 *
 * Rules of this ABI (see ARCHITECTURE.md): flat extern "C" functions over raw pointers, sizes and a
 * CUDA stream (passed as void*, NULL meaning the legacy default stream), each returning an int
 * status. No C++ types and no exceptions cross it. Java reaches these functions through the
 * jextract-generated package io.infra4j.bindings.kernels.
 */
#ifndef INFRA4J_TYPES_H
#define INFRA4J_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
#define INFRA4J_EXTERN_C extern "C"
#else
#define INFRA4J_EXTERN_C
#endif

#define INFRA4J_API INFRA4J_EXTERN_C __attribute__((visibility("default")))

/* Version of this ABI: major * 10000 + minor * 100 + patch. Java refuses a library of another major. */
#define INFRA4J_ABI_VERSION 100

/*
 * Status returned by every function: 0 is success; a positive value is the cudaError_t that the CUDA
 * runtime reported; a negative value is one of infra4j's own codes below.
 */
#define INFRA4J_OK 0
#define INFRA4J_ERROR_INVALID_ARGUMENT (-1)
#define INFRA4J_ERROR_UNSUPPORTED_DTYPE (-2)
#define INFRA4J_ERROR_SHAPE_MISMATCH (-3)

/* Element types; the numbers are io.infra4j.memory.DType#code() and never change meaning. */
#define INFRA4J_DTYPE_F32 0
#define INFRA4J_DTYPE_F16 1
#define INFRA4J_DTYPE_BF16 2
#define INFRA4J_DTYPE_F8_E4M3 3
#define INFRA4J_DTYPE_F8_E5M2 4
#define INFRA4J_DTYPE_I8 5
#define INFRA4J_DTYPE_U8 6
#define INFRA4J_DTYPE_I32 7
#define INFRA4J_DTYPE_I64 8
#define INFRA4J_DTYPE_BOOL 9

/* Highest tensor rank the strided kernels take. */
#define INFRA4J_MAX_RANK 8

/*
 * The layout of a strided view: rank dimensions, their sizes, and their strides in elements
 * (0 repeats an element; negative strides are not allowed). Unused entries are ignored.
 */
typedef struct infra4j_layout {
    int32_t rank;
    int64_t shape[INFRA4J_MAX_RANK];
    int64_t strides[INFRA4J_MAX_RANK];
} infra4j_layout;

/* The ABI version this library was built with (INFRA4J_ABI_VERSION). */
INFRA4J_API int32_t infra4j_abi_version(void);

#endif /* INFRA4J_TYPES_H */
