/*
 * infra4j C ABI: FP8 (e4m3) GEMMs with DeepSeek-V3's fine-grained scaling, as DeepGEMM lays them out,
 * for Hopper (sm_90a); and the quantisation that produces their operands.
 *
 *   D[m, n] (BF16) = sum over K blocks kb of  sa[m, kb] * sb[n / 128, kb] * (A[m, kb*128 ..] . B[n, kb*128 ..])
 *
 * A [m, k] and B [n, k] are e4m3 bytes, both K-major (row-major, rows of k bytes); D [m, n] is BF16,
 * row-major. A is scaled per 1 x 128 (one FP32 per row and K block), B per 128 x 128 block. The
 * products of one K block are summed by the tensor cores, and the scaled block sums in FP32 registers
 * (the "promotion" that keeps FP8's limited-precision accumulation to 128 values).
 *
 * The kernels read A's scales M-major: [kb][m_pad] per group, m_pad = infra4j_fp8_scale_rows(m) (m
 * rounded up to 16 bytes of floats), so that one K block's scales of 128 rows are one TMA box.
 * infra4j_fp8_scales_to_mn_major makes that layout from the row-major [m][kb] that quantisation writes.
 *
 * Grouped kinds (mixture of experts), B is [groups, n, k] with scales [groups, ceil(n/128), kb]:
 *   CONTIGUOUS: A [m, k] holds the rows of all groups one after another, each group's segment padded to
 *       a multiple of 128 rows; m_indices[m] (int32) names each row's group, -1 for padding rows, whose
 *       output rows are left unspecified (so are those of ids >= groups, which are skipped). Scales [kb][m_pad].
 *   MASKED:     A [groups, m, k] (m = m_max), masked_m[groups] (int32, in device memory, read by the
 *       kernel, clamped to [0, m]) valid rows per group; rows at or beyond masked_m[g] of D [groups, m, n]
 *       are not written.
 *       Scales [groups][kb][m_pad]. expected_m is a hint (the mean of masked_m) for choosing tiles.
 */
#ifndef INFRA4J_FP8_GEMM_H
#define INFRA4J_FP8_GEMM_H

#include "infra4j/types.h"

/* Values per scale group along K (and per side of a B block). */
#define INFRA4J_FP8_BLOCK 128
/* E4M3's largest finite value: scale = amax / 448. */
#define INFRA4J_FP8_E4M3_MAX 448
/* The smallest amax a group's scale is computed from (DeepGEMM's clamp), so all-zero groups get a scale. */
#define INFRA4J_FP8_AMAX_FLOOR 1e-4f

#define INFRA4J_FP8_GEMM_DENSE 0
#define INFRA4J_FP8_GEMM_CONTIGUOUS 1
#define INFRA4J_FP8_GEMM_MASKED 2

typedef struct infra4j_fp8_gemm_problem {
    int32_t kind;        /* INFRA4J_FP8_GEMM_DENSE, _CONTIGUOUS or _MASKED */
    int32_t m;           /* rows of A (all groups' for CONTIGUOUS; per group, m_max, for MASKED) */
    int32_t n;           /* rows of B (per group), a multiple of 16 */
    int32_t k;           /* a multiple of 128 */
    int32_t groups;      /* 1 for DENSE */
    int32_t expected_m;  /* MASKED: the expected valid rows per group (0: m) */
    int32_t block_n;     /* tile width: 0 chooses; else 16, 32, 64, 128, 192 or 256 (tuning, tests) */
    int32_t num_sms;     /* persistent CTAs: 0 is one per multiprocessor */
} infra4j_fp8_gemm_problem;

/* Rows of the M-major scale layout for m rows: m rounded up to a multiple of 4 (16 bytes). */
INFRA4J_API int64_t infra4j_fp8_scale_rows(int64_t m);

/*
 * Bytes of scratch the GEMM needs on the current device (0 for most shapes; dense products with fewer
 * tiles than multiprocessors split K over several CTAs and sum their FP32 partials there), or
 * INFRA4J_ERROR_INVALID_ARGUMENT for a problem the kernels do not take.
 */
INFRA4J_API int64_t infra4j_fp8_gemm_workspace_bytes(const infra4j_fp8_gemm_problem* problem);

/*
 * Runs the GEMM on `stream`. a, b: e4m3; sa: A's scales M-major (see above); sb: B's scales
 * row-major; m_indices only for CONTIGUOUS, masked_m only for MASKED (else NULL); d: BF16; workspace:
 * infra4j_fp8_gemm_workspace_bytes of device memory (NULL when that is 0), not used by other work until
 * the GEMM is done. Every pointer 16-byte aligned. Returns INFRA4J_ERROR_INVALID_ARGUMENT for shapes
 * the kernels do not take or a missing workspace.
 */
INFRA4J_API int infra4j_fp8_gemm(const infra4j_fp8_gemm_problem* problem, const void* a, const float* sa,
                                 const void* b, const float* sb, const int32_t* m_indices,
                                 const int32_t* masked_m, void* d, void* workspace, void* stream);

/*
 * Quantises BF16 x [rows, cols] (row stride ld elements) to e4m3 per 1 x 128 group of a row:
 * amax = max(max |x|, 1e-4), out = e4m3_satfinite(fp32(x) * (448 / amax)), scale = amax / 448,
 * scales [rows, ceil(cols / 128)] row-major. cols a multiple of 16; out [rows, cols] contiguous.
 */
INFRA4J_API int infra4j_fp8_quant_per_token(const void* x, int64_t rows, int64_t cols, int64_t ld, void* out,
                                            float* scales, void* stream);

/* The same per 128 x 128 block: scales [ceil(rows / 128), ceil(cols / 128)] row-major. */
INFRA4J_API int infra4j_fp8_quant_per_block(const void* x, int64_t rows, int64_t cols, int64_t ld, void* out,
                                            float* scales, void* stream);

/*
 * Copies scales [groups][m][kb] (row-major) to the kernels' M-major [groups][kb][m_pad] layout,
 * m_pad = infra4j_fp8_scale_rows(m); the padding rows are written as 0.
 */
INFRA4J_API int infra4j_fp8_scales_to_mn_major(const float* scales, int32_t groups, int64_t m, int32_t kb,
                                               float* out, void* stream);

#endif /* INFRA4J_FP8_GEMM_H */
