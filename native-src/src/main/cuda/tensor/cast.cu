// infra4j_cast: dtype conversion between F32, F16, BF16, F8_E4M3 and F8_E5M2 over strided views.
#include "infra4j/tensor_ops.h"
#include "common/codec.cuh"
#include "common/layout.cuh"

namespace infra4j {
namespace {

// Storage type and codec of each floating dtype, selected at compile time.
template <int DT> struct Fmt;
template <> struct Fmt<INFRA4J_DTYPE_F32> {
    using T = uint32_t;
    __device__ static float decode(T v) { return u2f(v); }
    __device__ static T encode(float f, bool) { return f2u(f); }
};
template <> struct Fmt<INFRA4J_DTYPE_F16> {
    using T = uint16_t;
    __device__ static float decode(T v) { return decode_f16(v); }
    __device__ static T encode(float f, bool sat) { return encode_f16(f, sat); }
};
template <> struct Fmt<INFRA4J_DTYPE_BF16> {
    using T = uint16_t;
    __device__ static float decode(T v) { return decode_bf16(v); }
    __device__ static T encode(float f, bool sat) { return encode_bf16(f, sat); }
};
template <> struct Fmt<INFRA4J_DTYPE_F8_E4M3> {
    using T = uint8_t;
    __device__ static float decode(T v) { return decode_e4m3(v); }
    __device__ static T encode(float f, bool sat) { return encode_e4m3(f, sat); }
};
template <> struct Fmt<INFRA4J_DTYPE_F8_E5M2> {
    using T = uint8_t;
    __device__ static float decode(T v) { return decode_e5m2(v); }
    __device__ static T encode(float f, bool sat) { return encode_e5m2(f, sat); }
};

template <int S, int D>
__device__ __forceinline__ typename Fmt<D>::T convert(typename Fmt<S>::T v, bool sat) {
    if constexpr (S == D) {
        return v;  // same dtype: the bits are copied untouched (no NaN canonicalisation)
    } else {
        return Fmt<D>::encode(Fmt<S>::decode(v), sat);
    }
}

// Eight elements a thread, loaded and stored as one aligned vector of each side's width.
constexpr int kVec = 8;
template <typename T> struct alignas(sizeof(T) * kVec) Pack { T v[kVec]; };

template <int S, int D>
__global__ void cast_contiguous_vec(typename Fmt<D>::T *dst, const typename Fmt<S>::T *src, int64_t npacks, bool sat) {
    using TS = typename Fmt<S>::T;
    using TD = typename Fmt<D>::T;
    const auto *in = reinterpret_cast<const Pack<TS> *>(src);
    auto *out = reinterpret_cast<Pack<TD> *>(dst);
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < npacks;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const Pack<TS> a = in[i];
        Pack<TD> b;
#pragma unroll
        for (int k = 0; k < kVec; ++k) b.v[k] = convert<S, D>(a.v[k], sat);
        out[i] = b;
    }
}

template <int S, int D>
__global__ void cast_contiguous(typename Fmt<D>::T *dst, const typename Fmt<S>::T *src, int64_t n, bool sat) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        dst[i] = convert<S, D>(src[i], sat);
    }
}

template <int S, int D>
__global__ void cast_strided(typename Fmt<D>::T *dst, infra4j_layout dl, const typename Fmt<S>::T *src,
                             infra4j_layout sl, int64_t n, bool sat) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        dst[offset_of(i, dl)] = convert<S, D>(src[offset_of(i, sl)], sat);
    }
}

template <int S, int D>
int32_t launch_cast(void *dst, const infra4j_layout *dl, const void *src, const infra4j_layout *sl, bool sat,
                    cudaStream_t stream) {
    using TS = typename Fmt<S>::T;
    using TD = typename Fmt<D>::T;
    const int64_t n = element_count(dl);
    if (n == 0) return INFRA4J_OK;
    auto *d = static_cast<TD *>(dst);
    const auto *s = static_cast<const TS *>(src);
    if (is_contiguous(dl) && is_contiguous(sl)) {
        const bool aligned = reinterpret_cast<uintptr_t>(d) % sizeof(Pack<TD>) == 0 &&
                             reinterpret_cast<uintptr_t>(s) % sizeof(Pack<TS>) == 0;
        int64_t done = 0;
        if (aligned && n >= kVec) {
            const int64_t npacks = n / kVec;
            cast_contiguous_vec<S, D><<<blocks_for(npacks), kThreads, 0, stream>>>(d, s, npacks, sat);
            const int32_t st = launch_status();
            if (st != 0) return st;
            done = npacks * kVec;
        }
        if (done == n) return INFRA4J_OK;
        cast_contiguous<S, D><<<blocks_for(n - done), kThreads, 0, stream>>>(d + done, s + done, n - done, sat);
        return launch_status();
    }
    cast_strided<S, D><<<blocks_for(n), kThreads, 0, stream>>>(d, *dl, s, *sl, n, sat);
    return launch_status();
}

template <int S>
int32_t dispatch_dst(int32_t dst_dtype, void *dst, const infra4j_layout *dl, const void *src,
                     const infra4j_layout *sl, bool sat, cudaStream_t stream) {
    switch (dst_dtype) {
        case INFRA4J_DTYPE_F32: return launch_cast<S, INFRA4J_DTYPE_F32>(dst, dl, src, sl, sat, stream);
        case INFRA4J_DTYPE_F16: return launch_cast<S, INFRA4J_DTYPE_F16>(dst, dl, src, sl, sat, stream);
        case INFRA4J_DTYPE_BF16: return launch_cast<S, INFRA4J_DTYPE_BF16>(dst, dl, src, sl, sat, stream);
        case INFRA4J_DTYPE_F8_E4M3: return launch_cast<S, INFRA4J_DTYPE_F8_E4M3>(dst, dl, src, sl, sat, stream);
        case INFRA4J_DTYPE_F8_E5M2: return launch_cast<S, INFRA4J_DTYPE_F8_E5M2>(dst, dl, src, sl, sat, stream);
        default: return INFRA4J_ERROR_UNSUPPORTED_DTYPE;
    }
}

}  // namespace
}  // namespace infra4j

INFRA4J_API int32_t infra4j_cast(void *dst, int32_t dst_dtype, const infra4j_layout *dst_layout, const void *src,
                                 int32_t src_dtype, const infra4j_layout *src_layout, int32_t flags, void *stream) {
    using namespace infra4j;
    if (dst == nullptr || src == nullptr || !valid_layout(dst_layout) || !valid_layout(src_layout)) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    if (!same_shape(dst_layout, src_layout)) return INFRA4J_ERROR_SHAPE_MISMATCH;
    if ((flags & ~INFRA4J_CAST_SATURATE) != 0) return INFRA4J_ERROR_INVALID_ARGUMENT;
    const bool sat = (flags & INFRA4J_CAST_SATURATE) != 0;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    switch (src_dtype) {
        case INFRA4J_DTYPE_F32: return dispatch_dst<INFRA4J_DTYPE_F32>(dst_dtype, dst, dst_layout, src, src_layout, sat, s);
        case INFRA4J_DTYPE_F16: return dispatch_dst<INFRA4J_DTYPE_F16>(dst_dtype, dst, dst_layout, src, src_layout, sat, s);
        case INFRA4J_DTYPE_BF16: return dispatch_dst<INFRA4J_DTYPE_BF16>(dst_dtype, dst, dst_layout, src, src_layout, sat, s);
        case INFRA4J_DTYPE_F8_E4M3: return dispatch_dst<INFRA4J_DTYPE_F8_E4M3>(dst_dtype, dst, dst_layout, src, src_layout, sat, s);
        case INFRA4J_DTYPE_F8_E5M2: return dispatch_dst<INFRA4J_DTYPE_F8_E5M2>(dst_dtype, dst, dst_layout, src, src_layout, sat, s);
        default: return INFRA4J_ERROR_UNSUPPORTED_DTYPE;
    }
}
