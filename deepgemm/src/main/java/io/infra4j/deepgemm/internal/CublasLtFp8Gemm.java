package io.infra4j.deepgemm.internal;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.cublas.CublasLt;
import io.infra4j.ffm.cublas.CublasLtUnavailableException;
import io.infra4j.memory.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * DeepGEMM's dense FP8 product through cuBLASLt: the fallback where infra4j's kernels cannot run a
 * shape, and the peer they are measured against.
 *
 * <p>{@code D[m, n] (BF16, row-major) = A[m, k] B[n, k]^T}, A and B e4m3 and K-major (rows of k
 * bytes), A scaled per 1 x 128 (one FP32 per row and K block), B per 128 x 128 block, the products
 * of each K block scaled and summed in FP32 (cuBLASLt's {@code VEC128_32F} and {@code BLK128x128_32F}
 * scale modes). The scales come as {@code infra4j_fp8_gemm} takes them: A's M-major
 * {@code [ceil(k / 128)][m_pad]}, {@code m_pad} = m rounded up to 4 (see {@link CublasLtScaleLayout}
 * for why that is cuBLASLt's own layout), B's row-major {@code [ceil(n / 128)][ceil(k / 128)]}
 * (copied into rows padded to 4 K blocks when {@code ceil(k / 128)} is not a multiple of 4).
 *
 * <p>What cuBLASLt itself needs, which {@link #unsupportedReason} reports and the public API checks
 * before calling here:
 * <ul>
 *   <li>a Hopper GPU (compute capability 9.0: cuBLASLt has these scale modes for FP8 there only) and
 *       cuBLAS 12.9 or newer ({@link #isAvailable()});</li>
 *   <li>m, n, k at least 1; k a multiple of 16 (A's and B's rows, cuBLASLt's leading dimensions, are
 *       k bytes and must be 16-byte aligned); n a multiple of 16 (FP8 matrices' dimensions in
 *       multiples of 16, as PyTorch's {@code _scaled_mm} also requires, and D's rows of n BF16
 *       16-byte aligned); m is free (partial last blocks of K and n are fine);</li>
 *   <li>FP8 only in the "TN" form: here cuBLASLt's A (our B) transposed, its B (our A) not;</li>
 *   <li>every pointer (A, B, D and both scales) 16-byte aligned; the plans are made for that.</li>
 * </ul>
 *
 * <p>Cost: the first call of a shape on a device plans it (descriptors and the heuristic); later
 * calls reuse the plan (64 shapes are kept per device) and only queue
 * the matmul. Each GPU gets one handle with a {@value #WORKSPACE_MIB} MiB workspace, kept until
 * {@link #releaseAll()}.
 *
 * <p>Threads: any thread may call {@link #gemmNt}; calls for one GPU are serialised (they share the
 * workspace), and a call on another stream than the previous one makes its stream wait for the
 * previous stream first.
 */
public final class CublasLtFp8Gemm {
    /** The workspace of each GPU's handle, in MiB. */
    public static final int WORKSPACE_MIB = 32;

    private static final ConcurrentHashMap<Integer, CublasLtFp8Context> CONTEXTS = new ConcurrentHashMap<>();

    private CublasLtFp8Gemm() {}

    // ---- whether it can run ----

    /** Whether the cuBLASLt path can run here: libcublasLt 12.9 or newer, CUDA, and GPU 0 a Hopper. */
    public static boolean isAvailable() {
        return unavailableReason().isEmpty();
    }

    /** Why the cuBLASLt path cannot run here, or an empty string when it can. */
    public static String unavailableReason() {
        if (!CublasLt.isAvailable()) {
            return CublasLt.unavailableReason();
        }
        if (!CublasLt.hasBlockScaling()) {
            return tooOldReason(CublasLt.version());
        }
        if (!Cuda.isAvailable()) {
            return "CUDA: " + Cuda.unavailableReason();
        }
        CudaDevice gpu = Cuda.device(0);
        String arch = deviceUnsupportedReason(gpu.ordinal(), gpu.name(), gpu.computeCapabilityMajor(), gpu.computeCapabilityMinor());
        return arch == null ? "" : arch;
    }

    static String tooOldReason(long version) {
        return "libcublasLt " + CublasLt.formatVersion(version) + " predates the FP32 block scales (1 x 128, 128 x 128) of cuBLAS "
                + CublasLt.formatVersion(CublasLt.BLOCK_SCALING_VERSION);
    }

    /** Why this GPU cannot run the block-scaled FP8 product, or null when it can (compute capability 9.0). */
    static String deviceUnsupportedReason(int ordinal, String name, int major, int minor) {
        if (major == 9 && minor == 0) {
            return null;
        }
        return "cuda:" + ordinal + " (" + name + ") is sm_" + major + minor + "; cuBLASLt runs FP8 with 1 x 128 and 128 x 128"
                + " block scales on sm_90 (Hopper) only";
    }

    /**
     * Why cuBLASLt cannot multiply these shapes, or null when it can: m, n, k at least 1, k and n
     * multiples of 16, m a multiple of 4 (see the class comment). Pointers, dtypes and devices are the caller's to check.
     */
    public static String unsupportedReason(int m, int n, int k) {
        if (m < 1 || n < 1 || k < 1) {
            return "m, n and k must be at least 1, got m=" + m + ", n=" + n + ", k=" + k + " (an empty product needs no GEMM)";
        }
        if (k % 16 != 0) {
            return "k=" + k + " is not a multiple of 16: cuBLASLt's FP8 GEMM needs the rows of A and B (k bytes each, its"
                    + " leading dimensions) 16-byte aligned";
        }
        if (n % 16 != 0) {
            return "n=" + n + " is not a multiple of 16: cuBLASLt's FP8 GEMM needs the rows of B and the columns of D in"
                    + " multiples of 16";
        }
        if (m % 4 != 0) {
            // Measured on an H200 with cuBLASLt 13.1: the heuristic returns no algorithm for m = 1 or 129 with
            // 1 x 128 scales, and one for every m that is a multiple of 4 that was tried.
            return "m=" + m + " is not a multiple of 4: cuBLASLt's block-scaled FP8 matmul has no algorithm for it (its"
                    + " 1 x 128 scales are read in rows of m floats, 16-byte aligned)";
        }
        return null;
    }

    /** The product in words, as errors name it. */
    static String describe(int m, int n, int k) {
        return "FP8 GEMM D[" + m + ", " + n + "] = A[" + m + ", " + k + "] B[" + n + ", " + k
                + "]^T with 1x128 and 128x128 FP32 scales";
    }

    // ---- running ----

    /**
     * Queues {@code D = A B^T} with DeepGEMM's scaling on {@code stream}.
     *
     * @param dA     A, e4m3 {@code [m, k]} row-major, on {@code device}
     * @param dSa    A's scales, FP32 M-major {@code [ceil(k / 128)][m_pad]}, {@code m_pad} =
     *               {@link CublasLtScaleLayout#aScaleRows(int)} (the padding rows are not read)
     * @param dB     B, e4m3 {@code [n, k]} row-major
     * @param dSb    B's scales, FP32 row-major {@code [ceil(n / 128)][ceil(k / 128)]}
     * @param dD     D, BF16 {@code [m, n]} row-major, written whole
     * @param device the GPU all of them are on
     * @param stream a stream of that GPU (or the legacy default stream)
     * @throws IllegalArgumentException for shapes cuBLASLt does not take, a null or misaligned pointer,
     *         a device that is not a GPU, a stream of another GPU
     * @throws CublasLtUnavailableException where libcublasLt, its block scales or a Hopper GPU are missing
     * @throws io.infra4j.ffm.cublas.CublasLtException when cuBLASLt has no algorithm or fails
     */
    public static void gemmNt(long dA, long dSa, long dB, long dSb, long dD, int m, int n, int k, Device device,
                              CudaStream stream) {
        String shape = unsupportedReason(m, n, k);
        if (shape != null) {
            throw new IllegalArgumentException("m, n, k: " + shape);
        }
        checkPointer(dA, "dA");
        checkPointer(dSa, "dSa");
        checkPointer(dB, "dB");
        checkPointer(dSb, "dSb");
        checkPointer(dD, "dD");
        if (device == null || !device.isCuda()) {
            throw new IllegalArgumentException("device: expected a CUDA device, got " + device);
        }
        if (stream == null || stream.isClosed()) {
            throw new IllegalArgumentException("stream: expected an open stream, got " + stream);
        }
        if (!stream.isLegacyDefault() && stream.device() != device.index()) {
            throw new IllegalArgumentException("stream: expected a stream of " + device + ", got " + stream);
        }
        context(device).run(dA, dSa, dB, dSb, dD, m, n, k, stream);
    }

    private static void checkPointer(long address, String name) {
        if (address == 0) {
            throw new IllegalArgumentException(name + ": expected a device address, got 0");
        }
        if (address % CublasLtFp8Plan.ALIGNMENT != 0) {
            throw new IllegalArgumentException(name + ": expected a " + CublasLtFp8Plan.ALIGNMENT
                    + "-byte aligned address, got 0x" + Long.toHexString(address));
        }
    }

    private static CublasLtFp8Context context(Device device) {
        CublasLtFp8Context c = CONTEXTS.get(device.index());
        if (c != null) {
            return c;
        }
        requireAvailable(device);
        return CONTEXTS.computeIfAbsent(device.index(),
                i -> new CublasLtFp8Context(Cuda.device(i), (long) WORKSPACE_MIB << 20));
    }

    private static void requireAvailable(Device device) {
        CublasLt.requireAvailable();
        if (!CublasLt.hasBlockScaling()) {
            throw new CublasLtUnavailableException(tooOldReason(CublasLt.version()));
        }
        Cuda.requireAvailable();
        if (device.index() >= Cuda.deviceCount()) {
            throw new IllegalArgumentException("device: expected one of the " + Cuda.deviceCount() + " GPUs here, got " + device);
        }
        CudaDevice gpu = Cuda.device(device.index());
        String arch = deviceUnsupportedReason(gpu.ordinal(), gpu.name(), gpu.computeCapabilityMajor(), gpu.computeCapabilityMinor());
        if (arch != null) {
            throw new CublasLtUnavailableException(arch);
        }
    }

    /** Plans cached for {@code device} (0 before its first call): how tests see that plans are reused. */
    public static int cachedPlans(Device device) {
        CublasLtFp8Context c = CONTEXTS.get(device.index());
        return c == null ? 0 : c.cachedPlans();
    }

    /**
     * Waits for each GPU used here, then frees its plans, scratch buffers, workspace and handle; the
     * next call starts afresh. For tests, benchmarks and orderly shutdowns, not while calls run.
     */
    public static void releaseAll() {
        List<CublasLtFp8Context> contexts = new ArrayList<>(CONTEXTS.values());
        CONTEXTS.clear();
        RuntimeException failure = null;
        for (CublasLtFp8Context c : contexts) {
            try {
                c.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
