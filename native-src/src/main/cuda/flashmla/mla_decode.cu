// C ABI of the MLA decode (include/infra4j/mla.h): checks the problem, then launches the split
// kernel and the combine kernel on the caller's stream.
#include <cmath>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include "common/tensor_map.cuh"
#include "flashmla/combine.cuh"
#include "flashmla/sm90/decode_splitkv_mma.cuh"
#include "flashmla/sm90/decode_splitkv_simt.cuh"
#include "flashmla/sm90/decode_splitkv_narrow.cuh"
#include "flashmla/sm90/decode_splitkv_wgmma.cuh"
#include "infra4j/mla.h"

namespace {

using infra4j::mla::DecodeParams;

bool valid(const infra4j_mla_problem* p) {
    if (p == nullptr) return false;
    bool dims = (p->head_dim == 576 || p->head_dim == 512) && p->head_dim_v == INFRA4J_MLA_HEAD_DIM_V;
    bool page = p->page_size == 16 || p->page_size == 32 || p->page_size == 64;
    bool heads = p->heads_q > 0 && p->heads_kv > 0 && p->heads_q % p->heads_kv == 0;
    bool sizes = p->batch >= 0 && p->seqlen_q > 0 && p->num_blocks >= 0 && p->max_blocks >= 0;
    bool dtype = p->kv_dtype == INFRA4J_DTYPE_BF16 || p->kv_dtype == INFRA4J_DTYPE_F8_E4M3;
    return dims && page && heads && sizes && dtype && (p->causal == 0 || p->causal == 1) && std::isfinite(p->softmax_scale);
}

// INFRA4J_MLA_KERNEL selects the split kernel: "wgmma" (the default: wgmma + TMA, FP8 expanded in
// shared memory), "mma" (mma.sync, the previous kernel) or "simt" (FP32 CUDA cores, the first
// kernel); the older two are kept to cross-check the default.
enum class SplitKernel { kDefault, kSimt, kMma, kWgmma };

SplitKernel chosen_kernel() {
    static const SplitKernel kernel = [] {
        const char* v = std::getenv("INFRA4J_MLA_KERNEL");
        if (v == nullptr) return SplitKernel::kDefault;
        if (std::strcmp(v, "simt") == 0) return SplitKernel::kSimt;
        if (std::strcmp(v, "mma") == 0) return SplitKernel::kMma;
        if (std::strcmp(v, "wgmma") == 0) return SplitKernel::kWgmma;
        return SplitKernel::kDefault;
    }();
    return kernel;
}

// INFRA4J_MLA_RS_P=0 feeds warpgroup 0's P V from shared memory, as warpgroup 1's (a cross-check;
// registers are the default: +2-11 % on the H200 benchmark).
bool rs_p() {
    static const bool on = [] {
        const char* v = std::getenv("INFRA4J_MLA_RS_P");
        return v == nullptr || std::strcmp(v, "0") != 0;
    }();
    return on;
}

// INFRA4J_MLA_NARROW=1 sends BF16 shapes of at most 32 query rows per KV head to the narrow kernel.
// Opt-in: it measured level with the wide kernel (both wait on the loads, DESIGN.md §12); it is the
// base for FP8 at those shapes.
bool narrow_enabled() {
    static const bool on = [] {
        const char* v = std::getenv("INFRA4J_MLA_NARROW");
        return v != nullptr && std::strcmp(v, "1") == 0;
    }();
    return on;
}

bool exact_p() {
    static const bool exact = [] {
        const char* v = std::getenv("INFRA4J_MLA_EXACT_P");
        return v != nullptr && std::strcmp(v, "1") == 0;
    }();
    return exact;
}

using infra4j::tensor_map_encoder;

// The cache as a 4-D tensor {d, h_kv, page, blocks} whose box is 64 dims of one head for every
// token of one page: BF16 lands in the 128-byte swizzle wgmma reads, FP8 as plain 64-byte rows that
// the kernel expands itself.
cudaError_t encode_kv_map(const DecodeParams& params, bool fp8, CUtensorMap* map) {
    PFN_cuTensorMapEncodeTiled_v12000 encode = tensor_map_encoder();
    if (encode == nullptr) return cudaErrorNotSupported;
    const cuuint64_t d = static_cast<cuuint64_t>(params.head_dim);
    cuuint64_t dims[4] = {d, static_cast<cuuint64_t>(params.heads_kv), static_cast<cuuint64_t>(params.page),
                          static_cast<cuuint64_t>(params.num_blocks)};
    const cuuint64_t elem = fp8 ? 1 : 2;
    cuuint64_t strides[3] = {d * elem, d * elem * params.heads_kv, d * elem * params.heads_kv * params.page};
    cuuint32_t box[4] = {64, 1, static_cast<cuuint32_t>(params.page), 1};
    cuuint32_t element_strides[4] = {1, 1, 1, 1};
    CUresult r = encode(map, fp8 ? CU_TENSOR_MAP_DATA_TYPE_UINT8 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4,
                        const_cast<void*>(params.kv), dims, strides, box, element_strides,
                        CU_TENSOR_MAP_INTERLEAVE_NONE, fp8 ? CU_TENSOR_MAP_SWIZZLE_NONE : CU_TENSOR_MAP_SWIZZLE_128B,
                        CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    return r == CUDA_SUCCESS ? cudaSuccess : cudaErrorInvalidValue;
}

template <typename KvT, int D>
cudaError_t launch_wgmma(const DecodeParams& params, dim3 grid, cudaStream_t stream) {
    CUtensorMap map;
    cudaError_t e = encode_kv_map(params, sizeof(KvT) == 1, &map);
    if (e != cudaSuccess) return e;
    using Layout = infra4j::mla::sm90::WgmmaLayout<D>;
    auto kernel = infra4j::mla::sm90::decode_splitkv_wgmma<KvT, D>;
    e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Layout::kAlloc);
    if (e != cudaSuccess) return e;
    kernel<<<grid, infra4j::mla::sm90::kWgmmaThreads, Layout::kAlloc, stream>>>(params, map);
#ifdef INFRA4J_MLA_TRACE
    infra4j::mla::sm90::mla_trace_print<<<1, 1, 0, stream>>>();
#endif
    return cudaGetLastError();
}

template <int D>
cudaError_t launch_narrow(const DecodeParams& params, dim3 grid, cudaStream_t stream) {
    CUtensorMap map;
    cudaError_t e = encode_kv_map(params, false, &map);
    if (e != cudaSuccess) return e;
    using Layout = infra4j::mla::sm90::NarrowLayout<D>;
    auto kernel = infra4j::mla::sm90::decode_splitkv_narrow<D>;
    e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Layout::kAlloc);
    if (e != cudaSuccess) return e;
    kernel<<<grid, infra4j::mla::sm90::kNarrowCta, Layout::kAlloc, stream>>>(params, map);
#ifdef INFRA4J_MLA_TRACE
    infra4j::mla::sm90::mla_trace_print<<<1, 1, 0, stream>>>();
#endif
    return cudaGetLastError();
}

// The current device's SM count, queried once per device (every decode launch needs it).
cudaError_t multiprocessors(int* sms) {
    static std::atomic<int> cached[64];
    int device = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e != cudaSuccess) return e;
    if (device >= 0 && device < 64 && (*sms = cached[device].load(std::memory_order_relaxed)) > 0) return cudaSuccess;
    e = cudaDeviceGetAttribute(sms, cudaDevAttrMultiProcessorCount, device);
    if (e == cudaSuccess && device >= 0 && device < 64) cached[device].store(*sms, std::memory_order_relaxed);
    return e;
}

template <typename KvT, int D>
cudaError_t launch_split(const DecodeParams& params, int total_splits, cudaStream_t stream) {
    dim3 grid(total_splits, params.heads_kv * params.row_tiles);
    SplitKernel choice = chosen_kernel();
    if (choice == SplitKernel::kSimt) {
        using Smem = infra4j::mla::sm90::SimtSmem<D>;
        auto kernel = infra4j::mla::sm90::decode_splitkv_simt<KvT, D>;
        cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, sizeof(Smem));
        if (e != cudaSuccess) return e;
        kernel<<<grid, infra4j::mla::sm90::kThreads, sizeof(Smem), stream>>>(params);
        return cudaGetLastError();
    }
    // The wgmma kernel reads the cache through a tensor map, which needs at least one block.
    if (choice != SplitKernel::kMma && params.num_blocks > 0) {
        // One CTA per part and (KV head, row tile), at most one per multiprocessor and row tile: the
        // kernel walks its parts, so any count is correct and the SM count balances best.
        int sms = 0;
        cudaError_t e = multiprocessors(&sms);
        if (e != cudaSuccess) return e;
        const unsigned parts = static_cast<unsigned>(std::min(total_splits, std::max(sms, 1)));
        const bool narrow = std::is_same_v<KvT, __nv_bfloat16> && choice == SplitKernel::kDefault && narrow_enabled() &&
                            params.seqlen_q * (params.heads_q / params.heads_kv) <= infra4j::mla::sm90::kNarrowRows;
        if (narrow) return launch_narrow<D>(params, dim3(grid.y, parts), stream);
        return launch_wgmma<KvT, D>(params, dim3(grid.y, parts), stream);
    }
    using Smem = infra4j::mla::sm90::MmaSmem<D>;
    auto kernel = infra4j::mla::sm90::decode_splitkv_mma<KvT, D>;
    cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, sizeof(Smem));
    if (e != cudaSuccess) return e;
    kernel<<<grid, infra4j::mla::sm90::kMmaThreads, sizeof(Smem), stream>>>(params);
    return cudaGetLastError();
}

}  // namespace

INFRA4J_API int64_t infra4j_mla_plan_words(int32_t batch) {
    return batch < 0 ? -1 : 2 + static_cast<int64_t>(batch) + 1;  // the head: parts, splits, split offsets
}

INFRA4J_API int64_t infra4j_mla_workspace_bytes(const infra4j_mla_problem* p, int32_t total_splits) {
    if (!valid(p) || total_splits < 0) return -1;
    int64_t rows = static_cast<int64_t>(p->seqlen_q) * p->heads_q;
    return static_cast<int64_t>(total_splits) * rows * (INFRA4J_MLA_HEAD_DIM_V + 1) * sizeof(float);
}

INFRA4J_API int infra4j_mla_decode(const infra4j_mla_problem* p, const void* q, const void* kv, const float* kv_scales,
                                   const int32_t* block_table, const int32_t* cache_seqlens, const int32_t* plan,
                                   int32_t total_splits, void* workspace, void* out, float* lse, void* stream) {
    if (!valid(p) || total_splits < 0) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if (p->batch == 0) return INFRA4J_OK;
    bool fp8 = p->kv_dtype == INFRA4J_DTYPE_F8_E4M3;
    if (q == nullptr || kv == nullptr || block_table == nullptr || cache_seqlens == nullptr || plan == nullptr ||
        out == nullptr || lse == nullptr || (fp8 && kv_scales == nullptr) || (total_splits > 0 && workspace == nullptr)) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    int64_t rows = static_cast<int64_t>(p->seqlen_q) * p->heads_q;

    DecodeParams params{};
    params.q = q;
    params.kv = kv;
    params.kv_scales = kv_scales;
    params.block_table = block_table;
    params.seqlens = cache_seqlens;
    params.plan = plan;
    params.o_accum = static_cast<float*>(workspace);
    params.lse_accum = static_cast<float*>(workspace) + static_cast<int64_t>(total_splits) * rows * INFRA4J_MLA_HEAD_DIM_V;
    params.out = out;
    params.lse = lse;
    params.batch = p->batch;
    params.seqlen_q = p->seqlen_q;
    params.heads_q = p->heads_q;
    params.heads_kv = p->heads_kv;
    params.head_dim = p->head_dim;
    params.page = p->page_size;
    params.num_blocks = p->num_blocks;
    params.max_blocks = p->max_blocks;
    params.causal = p->causal;
    params.scale_log2 = p->softmax_scale * 1.4426950408889634f;
    params.exact_p = exact_p() ? 1 : 0;
    params.rs_p = rs_p() ? 1 : 0;
    int rows_per_kv = p->seqlen_q * (p->heads_q / p->heads_kv);
    static_assert(infra4j::mla::sm90::kRows == infra4j::mla::sm90::kMmaRows && infra4j::mla::sm90::kRows == infra4j::mla::sm90::kWgmmaRows,
                  "every kernel tiles 64 rows");
    params.row_tiles = (rows_per_kv + infra4j::mla::sm90::kRows - 1) / infra4j::mla::sm90::kRows;

    cudaError_t e = cudaSuccess;
    if (total_splits > 0) {
        if (p->head_dim == 576) {
            e = fp8 ? launch_split<__nv_fp8_e4m3, 576>(params, total_splits, s) : launch_split<__nv_bfloat16, 576>(params, total_splits, s);
        } else {
            e = fp8 ? launch_split<__nv_fp8_e4m3, 512>(params, total_splits, s) : launch_split<__nv_bfloat16, 512>(params, total_splits, s);
        }
        if (e != cudaSuccess) return static_cast<int>(e);
    }
    dim3 grid(p->batch, static_cast<unsigned>((rows + infra4j::mla::kCombineWarps - 1) / infra4j::mla::kCombineWarps));
    infra4j::mla::combine_splits<<<grid, infra4j::mla::kCombineWarps * 32, 0, s>>>(params);
    return static_cast<int>(cudaGetLastError());
}
