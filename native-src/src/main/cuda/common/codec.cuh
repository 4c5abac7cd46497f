// Device side of the dtype codecs: bit-for-bit the rules of io.infra4j.memory.DTypeCodec (PyTorch's
// c10 CPU conversions). Every conversion goes through float32; encodes round to nearest even.
// Float additions use __fadd_rn so that no contraction or fast-math flag can change a result.
#pragma once

#include <cstdint>
#include "infra4j/types.h"

namespace infra4j {

__device__ __forceinline__ uint32_t f2u(float f) { return __float_as_uint(f); }
__device__ __forceinline__ float u2f(uint32_t u) { return __uint_as_float(u); }

// Decoding: exact; a NaN keeps its sign and payload and is made quiet (as PyTorch on x86-64).
__device__ __forceinline__ float decode_bf16(uint16_t h) { return u2f(static_cast<uint32_t>(h) << 16); }

__device__ __forceinline__ float decode_minifloat(uint32_t bits, int exp_bits, int man_bits, bool e4m3fn) {
    const uint32_t sign = (bits >> (exp_bits + man_bits)) << 31;
    const uint32_t exp = (bits >> man_bits) & ((1u << exp_bits) - 1u);
    const uint32_t man = bits & ((1u << man_bits) - 1u);
    const int bias = (1 << (exp_bits - 1)) - 1;
    const uint32_t exp_max = (1u << exp_bits) - 1u;
    if (e4m3fn) {
        if (exp == exp_max && man == ((1u << man_bits) - 1u)) {
            return u2f(sign | 0x7FC00000u | (man << (23 - man_bits)));
        }
    } else if (exp == exp_max) {
        return u2f(man == 0 ? (sign | 0x7F800000u) : (sign | 0x7FC00000u | (man << (23 - man_bits))));
    }
    if (exp == 0) {
        if (man == 0) return u2f(sign);
        // Subnormal: man * 2^(1 - bias - man_bits), exact in float32.
        const float v = static_cast<float>(man) * u2f(static_cast<uint32_t>(127 + 1 - bias - man_bits) << 23);
        return u2f(sign | f2u(v));
    }
    return u2f(sign | ((exp - bias + 127) << 23) | (man << (23 - man_bits)));
}

__device__ __forceinline__ float decode_f16(uint16_t h) { return decode_minifloat(h, 5, 10, false); }
__device__ __forceinline__ float decode_e4m3(uint8_t b) { return decode_minifloat(b, 4, 3, true); }
__device__ __forceinline__ float decode_e5m2(uint8_t b) { return decode_minifloat(b, 5, 2, false); }

// Encoding.
__device__ __forceinline__ uint16_t encode_bf16(float f, bool saturate) {
    uint32_t u = f2u(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0;  // NaN, sign dropped (as c10)
    uint32_t r = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    if (saturate && (r & 0x7FFFu) == 0x7F80u) r = (r & 0x8000u) | 0x7F7Fu;
    return static_cast<uint16_t>(r);
}

__device__ __forceinline__ uint16_t encode_f16(float f, bool saturate) {
    const uint32_t w = f2u(f);
    const uint32_t sign = w & 0x80000000u;
    const uint32_t abs = w ^ sign;
    if (abs > 0x7F800000u) return static_cast<uint16_t>((sign >> 16) | 0x7E00u);
    uint32_t h;
    if (abs >= 0x477FF000u) {            // rounds to 65536 or more: infinity
        h = saturate ? 0x7BFFu : 0x7C00u;
    } else if (abs < 0x38800000u) {      // below 2^-14: subnormal half, quantum 2^-24
        // Adding 0.5 (quantum 2^-24 at that exponent) rounds to nearest even in hardware.
        const uint32_t t = f2u(__fadd_rn(u2f(abs), 0.5f));
        h = t - 0x3F000000u;
    } else {
        const uint32_t odd = (abs >> 13) & 1u;
        h = (abs + 0xC8000FFFu + odd) >> 13;   // rebias by -112 exponents, round to nearest even
    }
    return static_cast<uint16_t>((sign >> 16) | h);
}

__device__ __forceinline__ uint8_t encode_e4m3(float f, bool saturate) {
    uint32_t u = f2u(f);
    const uint32_t sign = u & 0x80000000u;
    u ^= sign;
    if (saturate && u >= 0x43E00000u && u <= 0x7F800000u) u = 0x43E00000u;  // |x| >= 448, inf: 448
    uint8_t r;
    if (u >= 0x43F00000u) {              // >= 480 before rounding (or NaN, inf): NaN
        r = 0x7F;
    } else if (u < 0x3C800000u) {        // below 2^-6: subnormal, quantum 2^-9
        r = static_cast<uint8_t>(f2u(__fadd_rn(u2f(u), 16384.0f)) - 0x46800000u);
    } else {
        const uint32_t odd = (u >> 20) & 1u;
        u += 0xC407FFFFu + odd;          // rebias by -120 exponents, round to nearest even
        r = static_cast<uint8_t>(u >> 20);
    }
    return static_cast<uint8_t>(r | (sign >> 24));
}

__device__ __forceinline__ uint8_t encode_e5m2(float f, bool saturate) {
    uint32_t u = f2u(f);
    const uint32_t sign = u & 0x80000000u;
    u ^= sign;
    uint8_t r;
    if (u > 0x7F800000u) {
        r = 0x7F;
    } else if (u >= 0x47700000u) {       // rounds to 65536 or more: infinity
        r = saturate ? 0x7B : 0x7C;
    } else if (u < 0x38800000u) {        // below 2^-14: subnormal, quantum 2^-16
        r = static_cast<uint8_t>(f2u(__fadd_rn(u2f(u), 128.0f)) - 0x43000000u);
    } else {
        const uint32_t odd = (u >> 21) & 1u;
        u += 0xC80FFFFFu + odd;          // rebias by -112 exponents, round to nearest even
        r = static_cast<uint8_t>(u >> 21);
    }
    return static_cast<uint8_t>(r | (sign >> 24));
}

}  // namespace infra4j
