// One 1 x 128 group of BF16 values to e4m3 with its FP32 scale: the arithmetic of every FP8 quantiser
// (deepgemm's fp8_quant.cu, the expert-parallel low-latency dispatch), bit for bit the Java reference
// io.infra4j.deepgemm.internal.Fp8QuantReference. amax is taken on the bits of |x| (an unsigned max,
// under which a NaN is larger than every number and so propagates), the divisions and products are IEEE
// round-to-nearest (__fdiv_rn, __fmul_rn, whatever the build flags), and every NaN is written in one
// canonical form: 0x7F for an e4m3 value, 0x7FC00000 for a scale.
#pragma once

#include <cstdint>
#include <cuda_fp8.h>

#include "infra4j/fp8_gemm.h"

namespace infra4j::fp8 {

constexpr uint8_t kE4m3Nan = 0x7F;
constexpr uint32_t kScaleNan = 0x7FC00000u;

// The multiplier that maps a group onto e4m3's range, and the scale that maps it back.
struct GroupScale {
    float mul;    // 448 / amax
    float scale;  // amax / 448
};

// amax_bits: the float bits of max |x| over the group (0 for an empty one).
__device__ __forceinline__ GroupScale group_scale(uint32_t amax_bits) {
    // The floor in the bit domain too: NaN bits exceed it, so a NaN amax stays NaN (fmaxf would drop it).
    const uint32_t bits = max(amax_bits, __float_as_uint(INFRA4J_FP8_AMAX_FLOOR));
    const float amax = __uint_as_float(bits);
    const float e4m3_max = static_cast<float>(INFRA4J_FP8_E4M3_MAX);
    GroupScale s;
    s.mul = __fdiv_rn(e4m3_max, amax);
    s.scale = isnan(amax) ? __uint_as_float(kScaleNan) : __fdiv_rn(amax, e4m3_max);
    return s;
}

// Two BF16 values packed in a word (element 2j in the low half) as float.
__device__ __forceinline__ float lo_of(uint32_t w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float hi_of(uint32_t w) { return __uint_as_float(w & 0xFFFF0000u); }

// Float bits of the largest |x| among eight BF16 values.
__device__ __forceinline__ uint32_t abs_max_bits(const uint32_t (&w)[4]) {
    uint32_t m = 0;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        m = max(m, (w[j] << 16) & 0x7FFFFFFFu);
        m = max(m, w[j] & 0x7FFF0000u);
    }
    return m;
}

// e4m3 of a * mul and b * mul (a in the low byte): round to nearest even, saturated to +-448; NaN as 0x7F.
__device__ __forceinline__ uint32_t encode_pair(float a, float b, float mul) {
    const float qa = __fmul_rn(a, mul);
    const float qb = __fmul_rn(b, mul);
    uint32_t r = __nv_cvt_float2_to_fp8x2(make_float2(qa, qb), __NV_SATFINITE, __NV_E4M3);
    // The hardware's NaN sign is not the reference's business: one canonical NaN.
    if (isnan(qa)) r = (r & 0xFF00u) | kE4m3Nan;
    if (isnan(qb)) r = (r & 0x00FFu) | (static_cast<uint32_t>(kE4m3Nan) << 8);
    return r & 0xFFFFu;
}

// Eight e4m3 bytes of eight BF16 values, in memory order.
__device__ __forceinline__ uint2 encode8(const uint32_t (&w)[4], float mul) {
    const uint32_t p0 = encode_pair(lo_of(w[0]), hi_of(w[0]), mul);
    const uint32_t p1 = encode_pair(lo_of(w[1]), hi_of(w[1]), mul);
    const uint32_t p2 = encode_pair(lo_of(w[2]), hi_of(w[2]), mul);
    const uint32_t p3 = encode_pair(lo_of(w[3]), hi_of(w[3]), mul);
    return make_uint2(p0 | (p1 << 16), p2 | (p3 << 16));
}

}  // namespace infra4j::fp8
