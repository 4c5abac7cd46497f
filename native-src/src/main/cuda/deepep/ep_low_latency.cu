// Expert-parallel low-latency mode (include/infra4j/ep.h): every (token, slot) pair goes straight to its
// expert's rows on the expert's rank, with no host synchronisation; the weighted combine pulls them back.
#include <cstdint>

#include <cub/block/block_scan.cuh>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "common/fp8_group.cuh"
#include "deepep/ep_common.cuh"
#include "infra4j/ep.h"

namespace {

using infra4j::ep::copy_row;
using infra4j::ep::load_bf16;
using infra4j::ep::store_bf16;
using infra4j::ep::kRowThreads;
using infra4j::ep::valid_world;

constexpr int kScanThreads = 256;

struct ReserveArgs {
    const int64_t* topk_idx;
    int slots, num_experts, per_rank, world_size, rank, rows;
    int32_t* slot_pos;
    int32_t* expert_begin;
    int32_t* bad_ids;
    infra4j_ep_peers recv_count, recv_range;
};

// One CTA per expert: each of its slots' place among this rank's slots of that expert (in token, then slot
// order), then one block of the expert's rows on its rank for all of them (an atomic add on the receiver's
// count, so blocks of different senders land in arrival order) and the block's range there. CTA 0 also
// counts ids outside [-1, E).
__global__ void __launch_bounds__(kScanThreads) reserve_kernel(const __grid_constant__ ReserveArgs a) {
    using Scan = cub::BlockScan<int, kScanThreads>;
    __shared__ typename Scan::TempStorage temp;
    const int e = blockIdx.x;
    int running = 0, bad = 0;
    for (int base = 0; base < a.slots; base += kScanThreads) {
        const int i = base + threadIdx.x;
        const int64_t id = i < a.slots ? a.topk_idx[i] : -1;
        const int flag = id == e;
        if (e == 0 && i < a.slots && (id < -1 || id >= a.num_experts)) ++bad;
        int offset, total;
        Scan(temp).ExclusiveSum(flag, offset, total);
        if (flag) a.slot_pos[i] = running + offset;
        running += total;
        __syncthreads();
    }
    if (bad > 0) atomicAdd(a.bad_ids, bad);
    if (threadIdx.x != 0) return;
    const int count = running;
    const int dst = e / a.per_rank, le = e % a.per_rank;
    // Also for no pairs: the range then starts where the expert's rows stand, as the reference's does.
    const int begin = atomicAdd(static_cast<int32_t*>(a.recv_count.ptr[dst]) + le, count);
    const int kept = max(0, min(count, a.rows - begin));
    if (kept < count) atomicAdd(a.bad_ids, count - kept);  // more pairs than the expert's rows hold
    static_cast<int64_t*>(a.recv_range.ptr[dst])[static_cast<int64_t>(le) * a.world_size + a.rank] =
        (static_cast<int64_t>(begin) << 32) | static_cast<uint32_t>(kept);
    a.expert_begin[e] = begin;
}

struct SendArgs {
    const uint8_t* x;  // BF16 [T, hidden]
    int hidden;
    const int64_t* topk_idx;
    int top_k, num_experts, per_rank, rows;
    const int32_t* slot_pos;
    const int32_t* expert_begin;
    infra4j_ep_peers recv_x, recv_scales, recv_src;
};

constexpr int kGroup = INFRA4J_FP8_BLOCK;
constexpr int kLanesPerGroup = kGroup / 8;  // 16 lanes, eight values each: half a warp per group

// Quantises row `row` (BF16, 16-byte aligned) into shared memory: e4m3 values [hidden], then the
// groups' scales. The loop runs per warp, so every lane reaches the shuffles.
__device__ __forceinline__ void quantise_row(const uint8_t* row, int hidden, uint8_t* values, float* scales) {
    const int groups = hidden / kGroup;
    const int lane = threadIdx.x % 32, half = lane / kLanesPerGroup, sub = lane % kLanesPerGroup;
    for (int g0 = (threadIdx.x / 32) * 2; g0 < groups; g0 += blockDim.x / 32 * 2) {
        const int g = g0 + half;
        const bool active = g < groups;
        uint32_t w[4] = {0, 0, 0, 0};
        if (active) {
            const uint4 v = *reinterpret_cast<const uint4*>(row + (static_cast<int64_t>(g) * kGroup + sub * 8) * 2);
            w[0] = v.x;
            w[1] = v.y;
            w[2] = v.z;
            w[3] = v.w;
        }
        uint32_t amax = infra4j::fp8::abs_max_bits(w);
#pragma unroll
        for (int o = kLanesPerGroup / 2; o > 0; o /= 2) amax = max(amax, __shfl_xor_sync(0xFFFFFFFFu, amax, o));
        const infra4j::fp8::GroupScale s = infra4j::fp8::group_scale(amax);
        if (active) {
            *reinterpret_cast<uint2*>(values + g * kGroup + sub * 8) = infra4j::fp8::encode8(w, s.mul);
            if (sub == 0) scales[g] = s.scale;
        }
    }
    __syncthreads();
}

// One CTA per token: its row (BF16 as it is, or quantised once when kFp8) to each of its experts' rows.
template <bool kFp8>
__global__ void __launch_bounds__(kRowThreads) send_kernel(const __grid_constant__ SendArgs a) {
    extern __shared__ __align__(16) uint8_t staged[];  // kFp8: e4m3 [hidden], then FP32 scales [hidden / 128]
    const int t = blockIdx.x;
    const uint8_t* row = a.x + static_cast<int64_t>(t) * a.hidden * 2;
    const int value_bytes = kFp8 ? a.hidden : a.hidden * 2;
    const int scale_bytes = a.hidden / kGroup * 4;
    if constexpr (kFp8) quantise_row(row, a.hidden, staged, reinterpret_cast<float*>(staged + a.hidden));
    for (int j = 0; j < a.top_k; ++j) {
        const int64_t i = static_cast<int64_t>(t) * a.top_k + j;
        const int64_t e = a.topk_idx[i];
        if (e < 0 || e >= a.num_experts) continue;
        const int row_in = a.expert_begin[e] + a.slot_pos[i];
        if (row_in >= a.rows) continue;  // did not fit (counted in bad_ids)
        const int dst = static_cast<int>(e / a.per_rank), le = static_cast<int>(e % a.per_rank);
        const int64_t cell = static_cast<int64_t>(le) * a.rows + row_in;
        uint8_t* to = static_cast<uint8_t*>(a.recv_x.ptr[dst]) + cell * value_bytes;
        if constexpr (kFp8) {
            copy_row(to, staged, value_bytes);
            copy_row(static_cast<uint8_t*>(a.recv_scales.ptr[dst]) + cell * scale_bytes, staged + a.hidden, scale_bytes);
        } else {
            copy_row(to, row, value_bytes);
        }
        if (threadIdx.x == 0) static_cast<int32_t*>(a.recv_src.ptr[dst])[cell] = t;
    }
}

struct LlCombineArgs {
    infra4j_ep_peers expert_out;
    int hidden;
    const int64_t* topk_idx;
    const float* topk_weights;
    int top_k, num_experts, per_rank, rows;
    const int32_t* slot_pos;
    const int32_t* expert_begin;
    __nv_bfloat16* out;
};

// Per token (blockIdx.x) and slice of kVec * blockDim.x columns (blockIdx.y): the weighted sum of the token's
// expert rows, slot by slot, without fused multiply-adds. The slots' rows and weights are looked up once per
// CTA into shared memory: top_k pointers, then top_k weights.
template <int kVec>
__global__ void __launch_bounds__(kRowThreads) ll_combine_kernel(const __grid_constant__ LlCombineArgs a) {
    extern __shared__ __align__(16) uint8_t slots[];
    auto rows = reinterpret_cast<const __nv_bfloat16**>(slots);
    auto weights = reinterpret_cast<float*>(slots + sizeof(void*) * a.top_k);
    const int t = blockIdx.x;
    for (int j = threadIdx.x; j < a.top_k; j += blockDim.x) {
        const int64_t i = static_cast<int64_t>(t) * a.top_k + j;
        const int64_t e = a.topk_idx[i];
        const __nv_bfloat16* row = nullptr;
        if (e >= 0 && e < a.num_experts) {
            const int r = a.expert_begin[e] + a.slot_pos[i];
            if (r < a.rows) {  // else it did not fit (counted in bad_ids)
                const int dst = static_cast<int>(e / a.per_rank), le = static_cast<int>(e % a.per_rank);
                row = static_cast<const __nv_bfloat16*>(a.expert_out.ptr[dst]) + (static_cast<int64_t>(le) * a.rows + r) * a.hidden;
            }
        }
        rows[j] = row;
        weights[j] = row != nullptr ? a.topk_weights[i] : 0.f;
    }
    __syncthreads();
    const int c = (blockIdx.y * blockDim.x + threadIdx.x) * kVec;
    if (c >= a.hidden) return;
    float acc[kVec];
#pragma unroll
    for (int v = 0; v < kVec; ++v) acc[v] = 0.f;
    for (int j = 0; j < a.top_k; ++j) {
        const __nv_bfloat16* row = rows[j];
        if (row == nullptr) continue;
        const float w = weights[j];
        float x[kVec];
        load_bf16<kVec>(row + c, x);
#pragma unroll
        for (int v = 0; v < kVec; ++v) acc[v] = __fadd_rn(acc[v], __fmul_rn(w, x[v]));
    }
    store_bf16<kVec>(a.out + static_cast<int64_t>(t) * a.hidden + c, acc);
}

}  // namespace

INFRA4J_API int infra4j_ep_ll_dispatch(const void* x, int32_t hidden, int32_t fp8, const int64_t* topk_idx, int32_t num_tokens,
                                       int32_t top_k, int32_t num_experts, int32_t world_size, int32_t rank,
                                       int32_t max_tokens, int32_t* slot_pos, int32_t* expert_begin, int32_t* bad_ids,
                                       const infra4j_ep_peers* recv_x, const infra4j_ep_peers* recv_scales,
                                       const infra4j_ep_peers* recv_count, const infra4j_ep_peers* recv_src,
                                       const infra4j_ep_peers* recv_range, void* stream) {
    if (num_tokens < 0 || num_tokens > max_tokens || top_k < 1 || hidden < 2 || hidden % 2 != 0 || (fp8 != 0 && fp8 != 1) ||
        !valid_world(num_experts, world_size) || rank < 0 || rank >= world_size) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    if (fp8 && (hidden % kGroup != 0 || hidden > INFRA4J_EP_LL_FP8_MAX_HIDDEN || recv_scales == nullptr ||
                reinterpret_cast<uintptr_t>(x) % 16 != 0)) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    if (expert_begin == nullptr || bad_ids == nullptr || recv_x == nullptr || recv_count == nullptr || recv_src == nullptr ||
        recv_range == nullptr || (num_tokens > 0 && (x == nullptr || topk_idx == nullptr || slot_pos == nullptr))) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    if (static_cast<int64_t>(world_size) * max_tokens > INT32_MAX || static_cast<int64_t>(num_tokens) * top_k > INT32_MAX) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    auto s = static_cast<cudaStream_t>(stream);
    cudaError_t e = cudaMemsetAsync(bad_ids, 0, sizeof(int32_t), s);
    if (e != cudaSuccess) return e;
    const int rows = world_size * max_tokens;
    // Every expert gets its range written (count 0 where this rank sends nothing).
    ReserveArgs r{topk_idx, num_tokens * top_k, num_experts, num_experts / world_size, world_size, rank, rows, slot_pos,
                  expert_begin, bad_ids, *recv_count, *recv_range};
    reserve_kernel<<<num_experts, kScanThreads, 0, s>>>(r);
    if (num_tokens > 0) {
        SendArgs a{static_cast<const uint8_t*>(x), hidden, topk_idx, top_k, num_experts, num_experts / world_size, rows,
                   slot_pos, expert_begin, *recv_x, fp8 ? *recv_scales : infra4j_ep_peers{}, *recv_src};
        if (fp8) {
            const size_t smem = static_cast<size_t>(hidden) + static_cast<size_t>(hidden / kGroup) * 4;  // <= 33 KB
            send_kernel<true><<<num_tokens, kRowThreads, smem, s>>>(a);
        } else {
            send_kernel<false><<<num_tokens, kRowThreads, 0, s>>>(a);
        }
    }
    return cudaGetLastError();
}

INFRA4J_API int infra4j_ep_ll_combine(const infra4j_ep_peers* expert_out, int32_t hidden, const int64_t* topk_idx,
                                      const float* topk_weights, int32_t num_tokens, int32_t top_k, int32_t num_experts,
                                      int32_t world_size, int32_t max_tokens, const int32_t* slot_pos,
                                      const int32_t* expert_begin, void* out, void* stream) {
    if (expert_out == nullptr || hidden < 2 || hidden % 2 != 0 || num_tokens < 0 || num_tokens > max_tokens || top_k < 1 ||
        !valid_world(num_experts, world_size)) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    if (num_tokens == 0) return INFRA4J_OK;
    if (topk_idx == nullptr || topk_weights == nullptr || slot_pos == nullptr || expert_begin == nullptr || out == nullptr) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    LlCombineArgs a{*expert_out, hidden, topk_idx, topk_weights, top_k, num_experts, num_experts / world_size,
                    world_size * max_tokens, slot_pos, expert_begin, static_cast<__nv_bfloat16*>(out)};
    // 16-byte rows everywhere: eight columns a thread; else two.
    bool wide = hidden % 8 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0;
    for (int r = 0; r < world_size; ++r) wide = wide && reinterpret_cast<uintptr_t>(expert_out->ptr[r]) % 16 == 0;
    const int vec = wide ? 8 : 2;
    const dim3 grid(num_tokens, (hidden + kRowThreads * vec - 1) / (kRowThreads * vec));
    const size_t smem = (sizeof(void*) + sizeof(float)) * static_cast<size_t>(top_k);
    if (smem > 48 * 1024) return INFRA4J_ERROR_INVALID_ARGUMENT;
    auto s = static_cast<cudaStream_t>(stream);
    if (wide) {
        ll_combine_kernel<8><<<grid, kRowThreads, smem, s>>>(a);
    } else {
        ll_combine_kernel<2><<<grid, kRowThreads, smem, s>>>(a);
    }
    return cudaGetLastError();
}
