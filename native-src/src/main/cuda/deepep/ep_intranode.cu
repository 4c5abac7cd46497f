// Expert-parallel layout, dispatch and combine within one node (include/infra4j/ep.h): DeepEP's normal
// mode over peers' buffers addressed directly. Correct and simple first: one CTA per token for the
// row copies, 16-byte accesses where rows allow them.
#include <cstdint>

#include <cub/block/block_scan.cuh>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "deepep/ep_common.cuh"
#include "infra4j/ep.h"

namespace {

using infra4j::ep::copy_row;
using infra4j::ep::load_bf16;
using infra4j::ep::store_bf16;
using infra4j::ep::kRowThreads;
using infra4j::ep::valid_world;

constexpr int kScanThreads = 256;

// Which ranks each token goes to, the (token, slot) counts per expert, and ids outside [-1, E).
__global__ void mark_kernel(const int64_t* topk_idx, int num_tokens, int top_k, int num_experts, int world_size,
                            int32_t* tokens_per_expert, uint8_t* in_rank, int32_t* bad_ids) {
    const int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= num_tokens) return;
    const int per_rank = num_experts / world_size;
    uint64_t mask = 0;  // one bit per rank: INFRA4J_EP_MAX_RANKS <= 64
    for (int j = 0; j < top_k; ++j) {
        const int64_t e = topk_idx[static_cast<int64_t>(t) * top_k + j];
        if (e < -1 || e >= num_experts) {
            atomicAdd(bad_ids, 1);
        } else if (e >= 0) {
            atomicAdd(&tokens_per_expert[e], 1);
            mask |= uint64_t{1} << (e / per_rank);
        }
    }
    for (int w = 0; w < world_size; ++w) in_rank[static_cast<int64_t>(t) * world_size + w] = (mask >> w) & 1u;
    static_assert(INFRA4J_EP_MAX_RANKS <= 64, "one mask bit per rank");
}

// One CTA per destination rank: each token's place among those going there, and their count.
__global__ void __launch_bounds__(kScanThreads) offset_kernel(const uint8_t* in_rank, int num_tokens, int world_size,
                                                              int32_t* send_offset, int32_t* tokens_per_rank) {
    using Scan = cub::BlockScan<int, kScanThreads>;
    __shared__ typename Scan::TempStorage temp;
    const int w = blockIdx.x;
    int running = 0;
    for (int base = 0; base < num_tokens; base += kScanThreads) {
        const int t = base + threadIdx.x;
        const int flag = t < num_tokens ? in_rank[static_cast<int64_t>(t) * world_size + w] : 0;
        int offset, total;
        Scan(temp).ExclusiveSum(flag, offset, total);
        if (t < num_tokens) send_offset[static_cast<int64_t>(t) * world_size + w] = flag ? running + offset : -1;
        running += total;
        __syncthreads();  // temp is reused by the next chunk
    }
    if (threadIdx.x == 0) tokens_per_rank[w] = running;
}

struct DispatchArgs {
    const uint8_t* x;
    int row_bytes;
    const int64_t* topk_idx;
    const float* topk_weights;
    int top_k;
    int per_rank;
    int world_size;
    const uint8_t* in_rank;
    const int32_t* send_offset;
    const int32_t* rank_begin;
    infra4j_ep_peers recv_x, recv_idx, recv_weights, recv_src;
};

// One CTA per token: its row, remapped ids, weights and index to every rank it goes to.
__global__ void __launch_bounds__(kRowThreads) dispatch_kernel(const __grid_constant__ DispatchArgs a) {
    const int t = blockIdx.x;
    for (int dst = 0; dst < a.world_size; ++dst) {
        const int64_t cell = static_cast<int64_t>(t) * a.world_size + dst;
        if (!a.in_rank[cell]) continue;
        const int64_t row = a.rank_begin[dst] + a.send_offset[cell];
        copy_row(static_cast<uint8_t*>(a.recv_x.ptr[dst]) + row * a.row_bytes, a.x + static_cast<int64_t>(t) * a.row_bytes,
                 a.row_bytes);
        if (a.recv_idx.ptr[dst] == nullptr) continue;  // a second payload (FP8 scales): the routing went with the first
        for (int j = threadIdx.x; j < a.top_k; j += blockDim.x) {
            const int64_t e = a.topk_idx[static_cast<int64_t>(t) * a.top_k + j];
            const bool mine = e >= 0 && e / a.per_rank == dst;
            static_cast<int64_t*>(a.recv_idx.ptr[dst])[row * a.top_k + j] = mine ? e - static_cast<int64_t>(dst) * a.per_rank : -1;
            static_cast<float*>(a.recv_weights.ptr[dst])[row * a.top_k + j] =
                mine ? a.topk_weights[static_cast<int64_t>(t) * a.top_k + j] : 0.f;
        }
        if (threadIdx.x == 0) static_cast<int32_t*>(a.recv_src.ptr[dst])[row] = t;
    }
}

struct CombineArgs {
    infra4j_ep_peers expert_out;
    int hidden;
    int world_size;
    const uint8_t* in_rank;
    const int32_t* send_offset;
    const int32_t* rank_begin;
    __nv_bfloat16* out;
};

// Per token (blockIdx.x) and slice of kVec * blockDim.x columns (blockIdx.y): the sum, in rank order, of the
// rows the ranks that got the token return.
template <int kVec>
__global__ void __launch_bounds__(kRowThreads) combine_kernel(const __grid_constant__ CombineArgs a) {
    const int t = blockIdx.x;
    __shared__ int64_t rows[INFRA4J_EP_MAX_RANKS];  // the token's row on each rank, -1 where it did not go
    for (int dst = threadIdx.x; dst < a.world_size; dst += blockDim.x) {
        const int64_t cell = static_cast<int64_t>(t) * a.world_size + dst;
        rows[dst] = a.in_rank[cell] ? a.rank_begin[dst] + a.send_offset[cell] : -1;
    }
    __syncthreads();
    const int c = (blockIdx.y * blockDim.x + threadIdx.x) * kVec;
    if (c >= a.hidden) return;
    float acc[kVec];
#pragma unroll
    for (int v = 0; v < kVec; ++v) acc[v] = 0.f;
    for (int dst = 0; dst < a.world_size; ++dst) {
        if (rows[dst] < 0) continue;
        float x[kVec];
        load_bf16<kVec>(static_cast<const __nv_bfloat16*>(a.expert_out.ptr[dst]) + rows[dst] * a.hidden + c, x);
#pragma unroll
        for (int v = 0; v < kVec; ++v) acc[v] = __fadd_rn(acc[v], x[v]);
    }
    store_bf16<kVec>(a.out + static_cast<int64_t>(t) * a.hidden + c, acc);
}

// One thread per destination: the running sum down its column of tokens_per_rank.
__global__ void block_starts_kernel(const int32_t* counts, int row_stride, int world_size, int32_t* begin) {
    const int dst = blockIdx.x * blockDim.x + threadIdx.x;
    if (dst >= world_size) return;
    int running = 0;
    for (int s = 0; s < world_size; ++s) {
        begin[s * world_size + dst] = running;
        running += counts[static_cast<int64_t>(s) * row_stride + 1 + dst];
    }
}

}  // namespace

INFRA4J_API int infra4j_ep_layout(const int64_t* topk_idx, int32_t num_tokens, int32_t top_k, int32_t num_experts,
                                  int32_t world_size, int32_t* tokens_per_rank, int32_t* tokens_per_expert,
                                  uint8_t* is_token_in_rank, int32_t* send_offset, int32_t* bad_ids, void* stream) {
    if (num_tokens < 0 || top_k < 1 || !valid_world(num_experts, world_size)) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if (tokens_per_rank == nullptr || tokens_per_expert == nullptr || bad_ids == nullptr) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if (num_tokens > 0 && (topk_idx == nullptr || is_token_in_rank == nullptr || send_offset == nullptr)) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    auto s = static_cast<cudaStream_t>(stream);
    cudaError_t e = cudaMemsetAsync(tokens_per_expert, 0, sizeof(int32_t) * num_experts, s);
    if (e == cudaSuccess) e = cudaMemsetAsync(bad_ids, 0, sizeof(int32_t), s);
    if (e != cudaSuccess) return e;
    if (num_tokens > 0) {
        mark_kernel<<<(num_tokens + 255) / 256, 256, 0, s>>>(topk_idx, num_tokens, top_k, num_experts, world_size,
                                                             tokens_per_expert, is_token_in_rank, bad_ids);
    }
    offset_kernel<<<world_size, kScanThreads, 0, s>>>(is_token_in_rank, num_tokens, world_size, send_offset, tokens_per_rank);
    return cudaGetLastError();
}

INFRA4J_API int infra4j_ep_dispatch(const void* x, int32_t row_bytes, const int64_t* topk_idx,
                                    const float* topk_weights, int32_t num_tokens, int32_t top_k, int32_t num_experts,
                                    int32_t world_size, int32_t rank, const uint8_t* is_token_in_rank,
                                    const int32_t* send_offset, const int32_t* rank_begin, const infra4j_ep_peers* recv_x,
                                    const infra4j_ep_peers* recv_topk_idx, const infra4j_ep_peers* recv_topk_weights,
                                    const infra4j_ep_peers* recv_src_idx, void* stream) {
    if (num_tokens < 0 || top_k < 1 || row_bytes < 4 || row_bytes % 4 != 0 || !valid_world(num_experts, world_size) ||
        rank < 0 || rank >= world_size) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    if (recv_x == nullptr || recv_topk_idx == nullptr || recv_topk_weights == nullptr || recv_src_idx == nullptr) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    if (num_tokens == 0) return INFRA4J_OK;
    if (x == nullptr || topk_idx == nullptr || topk_weights == nullptr || is_token_in_rank == nullptr ||
        send_offset == nullptr || rank_begin == nullptr) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    DispatchArgs a{static_cast<const uint8_t*>(x), row_bytes, topk_idx, topk_weights, top_k, num_experts / world_size,
                   world_size, is_token_in_rank, send_offset, rank_begin, *recv_x, *recv_topk_idx, *recv_topk_weights,
                   *recv_src_idx};
    dispatch_kernel<<<num_tokens, kRowThreads, 0, static_cast<cudaStream_t>(stream)>>>(a);
    return cudaGetLastError();
}

INFRA4J_API int infra4j_ep_combine(const infra4j_ep_peers* expert_out, int32_t hidden, int32_t num_tokens,
                                   int32_t world_size, const uint8_t* is_token_in_rank, const int32_t* send_offset,
                                   const int32_t* rank_begin, void* out, void* stream) {
    if (expert_out == nullptr || hidden < 2 || hidden % 2 != 0 || num_tokens < 0 || world_size < 1 ||
        world_size > INFRA4J_EP_MAX_RANKS) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    if (num_tokens == 0) return INFRA4J_OK;
    if (is_token_in_rank == nullptr || send_offset == nullptr || rank_begin == nullptr || out == nullptr) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    CombineArgs a{*expert_out, hidden, world_size, is_token_in_rank, send_offset, rank_begin, static_cast<__nv_bfloat16*>(out)};
    // 16-byte rows everywhere: eight columns a thread; else two.
    bool wide = hidden % 8 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0;
    for (int r = 0; r < world_size; ++r) wide = wide && reinterpret_cast<uintptr_t>(expert_out->ptr[r]) % 16 == 0;
    const int vec = wide ? 8 : 2;
    const dim3 grid(num_tokens, (hidden + kRowThreads * vec - 1) / (kRowThreads * vec));
    auto s = static_cast<cudaStream_t>(stream);
    if (wide) {
        combine_kernel<8><<<grid, kRowThreads, 0, s>>>(a);
    } else {
        combine_kernel<2><<<grid, kRowThreads, 0, s>>>(a);
    }
    return cudaGetLastError();
}

INFRA4J_API int infra4j_ep_block_starts(const int32_t* counts, int32_t row_stride, int32_t world_size, int32_t* begin,
                                        void* stream) {
    if (counts == nullptr || begin == nullptr || world_size < 1 || world_size > INFRA4J_EP_MAX_RANKS || row_stride < 1 + world_size) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    block_starts_kernel<<<1, INFRA4J_EP_MAX_RANKS, 0, static_cast<cudaStream_t>(stream)>>>(counts, row_stride, world_size, begin);
    return cudaGetLastError();
}
