// C ABI of the FP8 GEMMs (include/infra4j/fp8_gemm.h): checks the problem, encodes the TMA maps,
// picks the tile width and launches the persistent kernel on the caller's stream.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include <cuda.h>
#include <cuda_runtime.h>

#include "common/tensor_map.cuh"
#include "deepgemm/sm90/fp8_gemm_kernel.cuh"
#include "infra4j/fp8_gemm.h"

namespace {

using infra4j::gemm::sm90::GemmParams;
using infra4j::gemm::sm90::GemmSmem;

int64_t scale_rows(int64_t m) { return (m + 3) / 4 * 4; }

bool valid(const infra4j_fp8_gemm_problem* p) {
    if (p == nullptr) return false;
    bool kind = p->kind == INFRA4J_FP8_GEMM_DENSE || p->kind == INFRA4J_FP8_GEMM_CONTIGUOUS ||
                p->kind == INFRA4J_FP8_GEMM_MASKED;
    bool sizes = p->m >= 0 && p->n > 0 && p->n % 16 == 0 && p->k > 0 && p->k % INFRA4J_FP8_BLOCK == 0 &&
                 p->groups > 0 && (p->kind != INFRA4J_FP8_GEMM_DENSE || p->groups == 1);
    bool block = p->block_n == 0 || p->block_n == 16 || p->block_n == 32 || p->block_n == 64 || p->block_n == 128 ||
                 p->block_n == 192 || p->block_n == 256;
    // TMA boxes address rows with 32-bit coordinates.
    bool fits = static_cast<int64_t>(p->groups) * std::max(p->m, p->n) < (int64_t{1} << 31);
    return kind && sizes && block && fits && p->num_sms >= 0 && p->expected_m >= 0;
}

// A K-major e4m3 matrix of `rows` rows of k bytes, read in boxes of box_rows x 128 bytes that land in
// the 128-byte swizzle wgmma reads. Rows past the end read as zeros.
cudaError_t encode_operand(CUtensorMap* map, const void* base, int64_t rows, int k, int box_rows) {
    auto encode = infra4j::tensor_map_encoder();
    if (encode == nullptr) return cudaErrorNotSupported;
    cuuint64_t dims[2] = {static_cast<cuuint64_t>(k), static_cast<cuuint64_t>(rows)};
    cuuint64_t strides[1] = {static_cast<cuuint64_t>(k)};
    cuuint32_t box[2] = {INFRA4J_FP8_BLOCK, static_cast<cuuint32_t>(box_rows)};
    cuuint32_t element_strides[2] = {1, 1};
    CUresult r = encode(map, CU_TENSOR_MAP_DATA_TYPE_UINT8, 2, const_cast<void*>(base), dims, strides, box,
                        element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                        CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    return r == CUDA_SUCCESS ? cudaSuccess : cudaErrorInvalidValue;
}

// A's scales, M-major: `planes` rows (group x K block) of m_pad floats, read box_rows rows of A at a time.
cudaError_t encode_scales(CUtensorMap* map, const float* base, int64_t m_pad, int64_t planes, int box_rows) {
    auto encode = infra4j::tensor_map_encoder();
    if (encode == nullptr) return cudaErrorNotSupported;
    cuuint64_t dims[2] = {static_cast<cuuint64_t>(m_pad), static_cast<cuuint64_t>(planes)};
    cuuint64_t strides[1] = {static_cast<cuuint64_t>(m_pad * 4)};
    cuuint32_t box[2] = {static_cast<cuuint32_t>(box_rows), 1};
    cuuint32_t element_strides[2] = {1, 1};
    CUresult r = encode(map, CU_TENSOR_MAP_DATA_TYPE_FLOAT32, 2, const_cast<float*>(base), dims, strides, box,
                        element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_NONE,
                        CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    return r == CUDA_SUCCESS ? cudaSuccess : cudaErrorInvalidValue;
}

int multiprocessors() {
    int device = 0, sms = 0;
    if (cudaGetDevice(&device) != cudaSuccess) return 132;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms <= 0) return 132;
    return sms;
}

// How one GEMM runs: the tile (BLOCK_M x BLOCK_N), clusters or not, splits of K.
struct LaunchPlan {
    int block_m;
    int block_n;
    bool pair;
    int splits;
};

// Rows per group the tiles are sized for: masked problems use the expected count when given.
int rows_per_group(const infra4j_fp8_gemm_problem* p) {
    return p->kind == INFRA4J_FP8_GEMM_MASKED && p->expected_m > 0 ? p->expected_m : p->m;
}

int64_t tile_count(const infra4j_fp8_gemm_problem* p, int block_m, int block_n) {
    const int groups = p->kind == INFRA4J_FP8_GEMM_MASKED ? p->groups : 1;
    return static_cast<int64_t>(groups) * ((std::max(1, rows_per_group(p)) + block_m - 1) / block_m) *
           ((p->n + block_n - 1) / block_n);
}

// The tile. Each multiprocessor's intake of A and B bytes bounds this kernel (DESIGN.md §5): a tile of
// BM x BN costs about (BM + BN) bytes per K value, so the tile with the fewest waves times that cost wins
// (wide tiles for large shapes, narrow ones when few tiles would leave SMs idle). Tiles of 64 rows serve
// at most 64 rows per group (decode), so that no intake goes to rows that do not exist.
// INFRA4J_FP8_GEMM_BLOCK_N / _BLOCK_M override.
void choose_tile(const infra4j_fp8_gemm_problem* p, int sms, int* block_m, int* block_n) {
    int bm = p->kind != INFRA4J_FP8_GEMM_CONTIGUOUS && rows_per_group(p) <= 64 ? 64 : 128;
    if (const char* v = std::getenv("INFRA4J_FP8_GEMM_BLOCK_M")) bm = std::atoi(v) == 64 && p->kind != INFRA4J_FP8_GEMM_CONTIGUOUS ? 64 : 128;
    int forced = p->block_n;
    if (forced == 0) {
        if (const char* v = std::getenv("INFRA4J_FP8_GEMM_BLOCK_N")) forced = std::atoi(v);
    }
    const bool forced_ok = forced == 16 || forced == 32 || forced == 64 || forced == 128 || forced == 192 || forced == 256;
    if (bm == 64 && forced == 192) bm = 128;  // 64-row tiles split their columns in two 8-aligned halves
    *block_m = bm;
    if (forced_ok) {
        *block_n = forced;
        return;
    }
    int best = 128;
    int64_t best_cost = INT64_MAX;
    for (int bn : {256, 192, 128, 64, 32}) {  // 16 only when asked: it measured slower wherever 32 ran
        if (bm == 64 && bn == 192) continue;
        const int64_t cost = (tile_count(p, bm, bn) + sms - 1) / sms * (bm + bn);
        if (cost < best_cost) {
            best = bn;
            best_cost = cost;
        }
    }
    *block_n = best;
}

// Split-K for dense products with fewer tiles than multiprocessors (decode-sized m): enough splits
// to give every multiprocessor a unit, each at least 8 K blocks (shorter splits measured slower: their
// pipeline fill and the final sum of the slabs outweigh the work). Only for warpgroups of at most 128
// columns: the split epilogue would cost wider ones registers. INFRA4J_FP8_GEMM_SPLITS overrides.
int choose_splits(const infra4j_fp8_gemm_problem* p, int block_m, int block_n, int sms) {
    const int wg_cols = block_m == 128 ? block_n : block_n / 2;
    if (p->kind != INFRA4J_FP8_GEMM_DENSE || wg_cols > 128) return 1;
    const int k_blocks = p->k / INFRA4J_FP8_BLOCK;
    const int64_t tiles = tile_count(p, block_m, block_n);
    int splits = tiles >= sms ? 1 : static_cast<int>(sms / std::max<int64_t>(tiles, 1));
    if (const char* v = std::getenv("INFRA4J_FP8_GEMM_SPLITS")) splits = std::atoi(v);
    return std::max(1, std::min(splits, k_blocks / 8));
}

// Clusters of two CTAs sharing A's tile (multicast), opt-in with INFRA4J_FP8_GEMM_CLUSTER=2: they
// measured level with single CTAs (DESIGN.md §5), as each multiprocessor's intake, not L2, is the bound.
bool use_cluster(const infra4j_fp8_gemm_problem* p, int block_m, int block_n) {
    const char* v = std::getenv("INFRA4J_FP8_GEMM_CLUSTER");
    return v != nullptr && std::atoi(v) == 2 && block_m == 128 && block_n >= 64 && (p->n + block_n - 1) / block_n >= 2;
}

LaunchPlan plan_for(const infra4j_fp8_gemm_problem* p, int sms) {
    LaunchPlan plan{};
    choose_tile(p, sms, &plan.block_m, &plan.block_n);
    plan.pair = use_cluster(p, plan.block_m, plan.block_n);
    plan.splits = plan.pair ? 1 : choose_splits(p, plan.block_m, plan.block_n, sms);
    return plan;
}

// Scratch of a split-K launch: one counter per tile (256-byte aligned), then the partial slabs.
int64_t counter_bytes(const infra4j_fp8_gemm_problem* p, const LaunchPlan& plan) {
    return (tile_count(p, plan.block_m, plan.block_n) * 4 + 255) / 256 * 256;
}

int64_t workspace_bytes(const infra4j_fp8_gemm_problem* p, const LaunchPlan& plan) {
    if (plan.splits <= 1) return 0;
    return counter_bytes(p, plan) + static_cast<int64_t>(plan.splits) * p->m * p->n * 4;
}

template <int BLOCK_N, int CLUSTER, int BLOCK_M = 128>
cudaError_t launch(const infra4j_fp8_gemm_problem* p, const void* a, const float* sa, const void* b, const float* sb,
                   const int32_t* m_indices, const int32_t* masked_m, void* d, void* workspace, const LaunchPlan& plan,
                   cudaStream_t stream, int sms) {
    using L = infra4j::gemm::sm90::GemmSmem<BLOCK_N, BLOCK_M>;
    const int splits = plan.splits;
    const int groups = p->groups;
    const int64_t a_rows = p->kind == INFRA4J_FP8_GEMM_MASKED ? static_cast<int64_t>(groups) * p->m : p->m;
    const int k_blocks = p->k / INFRA4J_FP8_BLOCK;
    const int64_t m_pad = scale_rows(p->m);
    const int64_t sa_planes = (p->kind == INFRA4J_FP8_GEMM_MASKED ? groups : 1) * static_cast<int64_t>(k_blocks);
    CUtensorMap a_map, b_map, sa_map;
    cudaError_t e = encode_operand(&a_map, a, std::max<int64_t>(a_rows, 1), p->k, BLOCK_M / CLUSTER);
    if (e == cudaSuccess) e = encode_operand(&b_map, b, static_cast<int64_t>(groups) * p->n, p->k, BLOCK_N);
    if (e == cudaSuccess) e = encode_scales(&sa_map, sa, std::max<int64_t>(m_pad, 4), sa_planes, BLOCK_M);
    if (e != cudaSuccess) return e;

    GemmParams params{};
    params.kind = p->kind;
    params.m = p->m;
    params.n = p->n;
    params.groups = groups;
    params.k_blocks = k_blocks;
    params.n_scale_blocks = (p->n + INFRA4J_FP8_BLOCK - 1) / INFRA4J_FP8_BLOCK;
    params.m_tiles = (p->m + BLOCK_M - 1) / BLOCK_M;
    params.n_tiles = (p->n + BLOCK_N - 1) / BLOCK_N;
    params.band = 8;
    if (const char* v = std::getenv("INFRA4J_FP8_GEMM_BAND")) params.band = std::max(1, std::atoi(v));
    params.k_splits = splits;
    if (splits > 1) {
        const int64_t counters = counter_bytes(p, plan);
        params.counters = static_cast<int*>(workspace);
        params.partial = reinterpret_cast<float*>(static_cast<char*>(workspace) + counters);
        cudaError_t z = cudaMemsetAsync(workspace, 0, counters, stream);
        if (z != cudaSuccess) return z;
    }
    params.sb = sb;
    params.m_indices = m_indices;
    params.masked_m = masked_m;
    params.d = static_cast<__nv_bfloat16*>(d);

    // Units of CLUSTER tiles side by side; the persistent grid is one CTA per multiprocessor (whole
    // clusters only, as many as fit at once), or fewer when there are fewer units.
    const int64_t n_units = (params.n_tiles + CLUSTER - 1) / CLUSTER;
    const int64_t units =
        static_cast<int64_t>(p->kind == INFRA4J_FP8_GEMM_MASKED ? groups : 1) * params.m_tiles * n_units * splits;
    // INFRA4J_FP8_GEMM_SMS caps the persistent CTAs (experiments: is a shape bound per SM or GPU-wide?).
    int ctas = p->num_sms > 0 ? p->num_sms : sms;
    if (const char* v = std::getenv("INFRA4J_FP8_GEMM_SMS")) ctas = std::max(1, std::min(ctas, std::atoi(v)));
    auto kernel = infra4j::gemm::sm90::fp8_gemm_kernel<BLOCK_N, CLUSTER, BLOCK_M>;
    e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, L::kAlloc);
    if (e != cudaSuccess) return e;
    cudaLaunchConfig_t config{};
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = CLUSTER;
    attr[0].val.clusterDim.y = 1;
    attr[0].val.clusterDim.z = 1;
    config.blockDim = dim3(infra4j::gemm::sm90::kThreads);
    config.dynamicSmemBytes = L::kAlloc;
    config.stream = stream;
    config.attrs = attr;
    config.numAttrs = 1;
    int clusters = ctas / CLUSTER;
    if (CLUSTER > 1) {
        config.gridDim = dim3(ctas / CLUSTER * CLUSTER);
        int fit = 0;
        if (cudaOccupancyMaxActiveClusters(&fit, kernel, &config) == cudaSuccess && fit > 0) clusters = std::min(clusters, fit);
    }
    const int grid = static_cast<int>(std::min<int64_t>(units, std::max(clusters, 1))) * CLUSTER;
    if (std::getenv("INFRA4J_FP8_GEMM_VERBOSE") != nullptr) {
        std::fprintf(stderr, "infra4j_fp8_gemm: block %dx%d cluster %d splits %d units %lld grid %d (cap %d CTAs)\n",
                     BLOCK_M, BLOCK_N, CLUSTER, splits, static_cast<long long>(units), grid, ctas);
    }
    if (grid == 0) return cudaSuccess;
    config.gridDim = dim3(grid);
    e = cudaLaunchKernelEx(&config, kernel, params, a_map, b_map, sa_map);
    if (e != cudaSuccess) return e;
    return cudaGetLastError();
}

}  // namespace

INFRA4J_API int64_t infra4j_fp8_gemm_workspace_bytes(const infra4j_fp8_gemm_problem* problem) {
    if (!valid(problem)) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if (problem->m == 0) return 0;
    return workspace_bytes(problem, plan_for(problem, multiprocessors()));
}

INFRA4J_API int infra4j_fp8_gemm(const infra4j_fp8_gemm_problem* problem, const void* a, const float* sa,
                                 const void* b, const float* sb, const int32_t* m_indices, const int32_t* masked_m,
                                 void* d, void* workspace, void* stream) {
    if (!valid(problem)) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if (a == nullptr || sa == nullptr || b == nullptr || sb == nullptr || d == nullptr) {
        return INFRA4J_ERROR_INVALID_ARGUMENT;
    }
    // The epilogue stores 16-byte chunks of D.
    if (reinterpret_cast<uintptr_t>(d) % 16 != 0) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if ((problem->kind == INFRA4J_FP8_GEMM_CONTIGUOUS) != (m_indices != nullptr)) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if ((problem->kind == INFRA4J_FP8_GEMM_MASKED) != (masked_m != nullptr)) return INFRA4J_ERROR_INVALID_ARGUMENT;
    if (problem->m == 0) return INFRA4J_OK;
    const int sms = multiprocessors();
    auto s = static_cast<cudaStream_t>(stream);
    const LaunchPlan plan = plan_for(problem, sms);
    if (plan.splits > 1 && workspace == nullptr) return INFRA4J_ERROR_INVALID_ARGUMENT;
    void* w = workspace;
    if (plan.block_m == 64) {
        switch (plan.block_n) {
            case 256: return launch<256, 1, 64>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
            case 128: return launch<128, 1, 64>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
            case 64: return launch<64, 1, 64>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
            case 32: return launch<32, 1, 64>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
            default: return launch<16, 1, 64>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
        }
    }
    switch (plan.block_n * (plan.pair ? -1 : 1)) {
        case 16: return launch<16, 1>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
        case 32: return launch<32, 1>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
        case 256: return launch<256, 1>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
        case -256: return launch<256, 2>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
        case 64: return launch<64, 1>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
        case 192: return launch<192, 1>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
        case 128: return launch<128, 1>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
        case -64: return launch<64, 2>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
        case -192: return launch<192, 2>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
        default: return launch<128, 2>(problem, a, sa, b, sb, m_indices, masked_m, d, w, plan, s, sms);
    }
}
