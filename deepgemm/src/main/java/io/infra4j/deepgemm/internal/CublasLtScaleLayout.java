package io.infra4j.deepgemm.internal;

import java.util.Locale;

/**
 * The scale layouts cuBLASLt's block-scaled FP8 matmul reads, said in DeepGEMM's terms, and what it
 * takes to get there from the layouts infra4j's kernels use (the arithmetic only; no GPU needed).
 *
 * <p>cuBLASLt is column-major, so {@code D[m, n] = A[m, k] B[n, k]^T} (all row-major) runs as
 * {@code D^T = B^T' A'}: cuBLASLt's A is our B read as the column-major {@code k x n} matrix and
 * transposed, with the 128 x 128 block scales ({@code BLK128x128_32F}); cuBLASLt's B is our A read as
 * the column-major {@code k x m} matrix, not transposed, with the 1 x 128 scales ({@code VEC128_32F}).
 * Per cuBLAS's "scaling factors layouts" (as PyTorch's {@code _scaled_mm} and NVIDIA's cuBLASMp
 * samples apply them):
 * <ul>
 *   <li>1 x 128 (our A): outer-dimension major. For each K block, the scales of all m rows follow
 *       one another; K blocks are {@link #aScaleRows(int)} floats apart. That is exactly the
 *       kernels' M-major layout {@code [kb][m_pad]} ({@code infra4j_fp8_scales_to_mn_major},
 *       {@code m_pad} = m rounded up to 4), so it is passed as it is.</li>
 *   <li>128 x 128 (our B): for each block row of n, its K blocks follow one another, rows
 *       {@link #bScaleRowPitch(int)} = {@code roundUp(kb, 4)} floats apart. Ours are row-major
 *       {@code [ceil(n / 128)][kb]}: the same bytes when {@code kb % 4 == 0} (k a multiple of 512),
 *       else copied row by row into a padded buffer first.</li>
 * </ul>
 * The padding of the 1 x 128 layout for m not a multiple of 4 is the one point the sources read
 * differently (PyTorch writes the block stride as m, NVIDIA's samples as m rounded up to 4); this
 * follows NVIDIA's and DeepGEMM's. {@code INFRA4J_CUBLASLT_A_SCALE_LD=m} switches to m (the scales
 * are then copied into an unpadded buffer), to settle it on a GPU in one run.
 */
public final class CublasLtScaleLayout {
    /** Values per scale along K, and per side of a B block. */
    public static final int BLOCK = 128;

    /** How far apart cuBLASLt reads the K blocks of A's 1 x 128 scales. */
    enum APitch {
        /** m rounded up to 4 floats (16 bytes): the kernels' M-major layout as it is. */
        PADDED,
        /** m floats: the kernels' layout copied without its padding. */
        EXACT;

        static APitch fromEnvironment() {
            String v = System.getenv("INFRA4J_CUBLASLT_A_SCALE_LD");
            return parse(v == null ? System.getProperty("infra4j.cublaslt.aScaleLd") : v);
        }

        static APitch parse(String v) {
            if (v == null || v.isBlank()) {
                return PADDED;
            }
            return switch (v.trim().toLowerCase(Locale.ROOT)) {
                case "m" -> EXACT;
                case "m4", "padded" -> PADDED;
                default -> throw new IllegalArgumentException("INFRA4J_CUBLASLT_A_SCALE_LD: expected m or m4, got " + v);
            };
        }
    }

    private static final APitch A_PITCH = APitch.fromEnvironment();

    private CublasLtScaleLayout() {}

    /** K blocks: {@code ceil(k / 128)}. */
    public static int kBlocks(int k) {
        return Math.ceilDiv(k, BLOCK);
    }

    /** Block rows of B: {@code ceil(n / 128)}. */
    public static int nBlocks(int n) {
        return Math.ceilDiv(n, BLOCK);
    }

    /** Rows of the kernels' M-major A scales ({@code m_pad}): m rounded up to a multiple of 4. */
    public static int aScaleRows(int m) {
        return roundUp(m, 4);
    }

    /** Floats between the K blocks of the A scales cuBLASLt is handed. */
    static int aScalePitchForCublas(int m, APitch pitch) {
        return pitch == APitch.PADDED ? aScaleRows(m) : m;
    }

    static int aScalePitchForCublas(int m) {
        return aScalePitchForCublas(m, A_PITCH);
    }

    /** Whether the M-major A scales must be copied (only without padding, and only when m % 4 != 0). */
    static boolean aScalesNeedCopy(int m) {
        return aScalePitchForCublas(m) != aScaleRows(m);
    }

    /** Floats between the block rows of the B scales cuBLASLt reads: kb rounded up to 4. */
    public static int bScaleRowPitch(int k) {
        return roundUp(kBlocks(k), 4);
    }

    /** Whether B's row-major scales must be copied into rows padded to {@link #bScaleRowPitch}. */
    public static boolean bScalesNeedCopy(int k) {
        return bScaleRowPitch(k) != kBlocks(k);
    }

    /** Floats of the padded B scales: {@code ceil(n / 128) * roundUp(kb, 4)}. */
    static long bScaleFloats(int n, int k) {
        return (long) nBlocks(n) * bScaleRowPitch(k);
    }

    /** Floats of the unpadded A scales: {@code kb * m}. */
    static long aScaleFloatsExact(int m, int k) {
        return (long) kBlocks(k) * m;
    }

    static int roundUp(int x, int multiple) {
        return Math.ceilDiv(x, multiple) * multiple;
    }
}
