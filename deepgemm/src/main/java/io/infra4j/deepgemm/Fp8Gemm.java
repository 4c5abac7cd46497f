package io.infra4j.deepgemm;

import io.infra4j.deepgemm.internal.CublasLtFp8Gemm;
import io.infra4j.deepgemm.internal.Fp8GemmKernel;
import io.infra4j.deepgemm.internal.Fp8GemmReference;
import io.infra4j.deepgemm.internal.GemmKind;
import io.infra4j.deepgemm.internal.GemmShape;
import io.infra4j.memory.Tensor;

/**
 * FP8 matrix products with DeepSeek-V3's fine-grained scaling, in DeepGEMM's layouts:
 * {@code D[m, n] (BF16) = A[m, k] B[n, k]^T} with A and B in e4m3, both K-major, A scaled per 1 x 128
 * ({@link Fp8Quant#perToken}) and B per 128 x 128 block ({@link Fp8Quant#perBlock}). The products
 * of each 128-wide K block are summed by the tensor cores and the scaled block sums accumulate in FP32.
 *
 * <pre>{@code
 * try (Fp8Tensor a = Fp8Quant.perToken(x, stream); Fp8Tensor b = Fp8Quant.perBlock(w, stream);
 *      Tensor d = Tensor.empty(DType.BF16, device, stream, m, n)) {
 *     Fp8Gemm.gemmNt(a, b, d, GemmOptions.on(stream));
 * }
 * }</pre>
 *
 * Device tensors run on infra4j's sm_90a kernel (or cuBLASLt's block-scaled FP8 matmul, dense only:
 * {@link GemmBackend}), host tensors on
 * the Java reference. A's scales may come in any layout: the kernel reads them M-major
 * ({@link Fp8Quant#toMnMajor}), and converts other layouts into a temporary copy on the stream;
 * pass M-major scales to save that copy. Every argument is checked in Java first: bad input is an
 * {@link IllegalArgumentException} naming the argument, never a native fault.
 */
public final class Fp8Gemm {
    private Fp8Gemm() {}

    /** Whether infra4j's FP8 GEMM kernel can run on a GPU here. */
    public static boolean isKernelAvailable() {
        return Fp8GemmKernel.isAvailable();
    }

    /** Whether cuBLASLt's block-scaled FP8 matmul ({@link GemmBackend#CUBLASLT}) can run here. */
    public static boolean isCublasLtAvailable() {
        return CublasLtFp8Gemm.isAvailable();
    }

    /** Why cuBLASLt cannot run here, or an empty string. */
    public static String cublasLtUnavailableReason() {
        return CublasLtFp8Gemm.unavailableReason();
    }

    /** Dense: {@code d[m, n] = a[m, k] b[n, k]^T}. */
    public static void gemmNt(Fp8Tensor a, Fp8Tensor b, Tensor d, GemmOptions options) {
        GemmShape s = GemmArgs.check(GemmKind.DENSE, a, b, d, null, options);
        run(s, a, b, d, null, 0, options);
    }

    /**
     * Grouped, contiguous (the mixture-of-experts layout of training and prefill): a holds the rows
     * of all groups one after another, each group's segment padded to a multiple of 128 rows;
     * {@code mIndices} (I32 [m]) names each row's group, -1 for padding rows, whose rows of d are left
     * unspecified. b is [groups, n, k] with scales [groups, ceil(n/128), k/128].
     */
    public static void mGroupedContiguous(Fp8Tensor a, Fp8Tensor b, Tensor mIndices, Tensor d, GemmOptions options) {
        GemmShape s = GemmArgs.check(GemmKind.CONTIGUOUS, a, b, d, mIndices, options);
        if (!d.device().isCuda()) {
            checkGroupIds(mIndices, s.groups());
        }
        run(s, a, b, d, mIndices, 0, options);
    }

    /**
     * Grouped, masked (the layout of expert-parallel dispatch in low-latency mode): a is
     * [groups, m_max, k], {@code maskedM} (I32 [groups], read by the kernel on the device, so no host
     * synchronisation) the valid rows of each group; rows of d at or beyond a group's count are not
     * written. {@code expectedM} is a hint (about the mean count, 0 for m_max) for choosing tiles. A
     * count outside [0, m_max] is clamped to it.
     */
    public static void mGroupedMasked(Fp8Tensor a, Fp8Tensor b, Tensor maskedM, int expectedM, Tensor d,
                                      GemmOptions options) {
        GemmShape s = GemmArgs.check(GemmKind.MASKED, a, b, d, maskedM, options);
        if (expectedM < 0) {
            throw new IllegalArgumentException("expectedM: expected 0 (unknown) or the expected rows per group, got "
                    + expectedM);
        }
        run(s, a, b, d, maskedM, expectedM, options);
    }

    private static void run(GemmShape s, Fp8Tensor a, Fp8Tensor b, Tensor d, Tensor groupInfo, int expectedM,
                            GemmOptions o) {
        GemmBackend backend = backendFor(s, d, o.backend());
        if (s.m() == 0) {
            return; // no rows: nothing to compute (and empty tensors may have no address)
        }
        switch (backend) {
            case REFERENCE -> Fp8GemmReference.gemm(s, a.values(), a.scales(), b.values(), b.scales(), groupInfo, d);
            case KERNEL, CUBLASLT -> runOnDevice(backend, s, a, b, d, groupInfo, expectedM, o);
            default -> throw new IllegalStateException("backend " + backend);
        }
    }

    private static GemmBackend backendFor(GemmShape s, Tensor d, GemmBackend requested) {
        boolean device = d.device().isCuda();
        GemmBackend b = requested;
        if (b == GemmBackend.AUTO) {
            // The kernel where it can run; cuBLASLt for a dense product when the library lacks the kernel.
            b = !device ? GemmBackend.REFERENCE
                    : !Fp8GemmKernel.isAvailable() && s.kind() == GemmKind.DENSE && CublasLtFp8Gemm.isAvailable()
                            ? GemmBackend.CUBLASLT : GemmBackend.KERNEL;
        }
        if (b == GemmBackend.REFERENCE && device) {
            throw new IllegalArgumentException("options: the REFERENCE backend runs on host tensors, d is on " + d.device());
        }
        if (b != GemmBackend.REFERENCE && !device) {
            throw new IllegalArgumentException("options: the " + b + " backend runs on device tensors, d is on " + d.device());
        }
        if (b == GemmBackend.CUBLASLT) {
            if (s.kind() != GemmKind.DENSE) {
                throw new IllegalArgumentException("options: the CUBLASLT backend runs dense products only, this is "
                        + s.kind().name().toLowerCase());
            }
            String why = CublasLtFp8Gemm.unsupportedReason(s.m(), s.n(), s.k());
            if (why != null) {
                throw new IllegalArgumentException("options: cuBLASLt does not take " + s + ": " + why);
            }
        }
        return b;
    }

    private static void runOnDevice(GemmBackend backend, GemmShape s, Fp8Tensor a, Fp8Tensor b, Tensor d, Tensor groupInfo,
                                    int expectedM, GemmOptions o) {
        if (backend == GemmBackend.KERNEL) {
            Fp8GemmKernel.require();
        } else if (!CublasLtFp8Gemm.isAvailable()) {
            throw new io.infra4j.ffm.CudaUnavailableException("cuBLASLt's block-scaled FP8 matmul cannot run here: "
                    + CublasLtFp8Gemm.unavailableReason());
        }
        // Both read A's scales M-major: other layouts go through a temporary copy.
        boolean copy = !Fp8Quant.isMnMajor(a.scales());
        Tensor sa = copy ? Fp8Quant.toMnMajor(a.scales(), o.stream()) : a.scales();
        try {
            if (backend == GemmBackend.CUBLASLT) {
                CublasLtFp8Gemm.gemmNt(a.values().address(), sa.address(), b.values().address(), b.scales().address(),
                        d.address(), s.m(), s.n(), s.k(), d.device(), o.stream());
                return;
            }
            long info = groupInfo == null ? 0 : groupInfo.address();
            Fp8GemmKernel.gemm(s, expectedM, o.blockN(), o.numSms(), new Fp8GemmKernel.Pointers(a.values().address(),
                    sa.address(), b.values().address(), b.scales().address(),
                    s.kind() == GemmKind.CONTIGUOUS ? info : 0, s.kind() == GemmKind.MASKED ? info : 0, d.address()),
                    d.device(), o.stream());
        } finally {
            if (copy) {
                sa.close(); // freed in stream order, after the GEMM
            }
        }
    }

    private static void checkGroupIds(Tensor mIndices, int groups) {
        for (long i = 0; i < mIndices.size(0); i++) {
            long g = (int) mIndices.getBits(i);
            if (g < -1 || g >= groups) {
                throw new IllegalArgumentException("mIndices: row " + i + " names group " + g + ", expected -1 (padding) or"
                        + " 0.." + (groups - 1));
            }
        }
    }
}
