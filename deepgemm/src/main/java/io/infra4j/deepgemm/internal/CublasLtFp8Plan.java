package io.infra4j.deepgemm.internal;

import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.cublas.CublasLtAlgo;
import io.infra4j.ffm.cublas.CublasLtDataType;
import io.infra4j.ffm.cublas.CublasLtHandle;
import io.infra4j.ffm.cublas.CublasLtMatmulDesc;
import io.infra4j.ffm.cublas.CublasLtMatrixLayout;
import io.infra4j.ffm.cublas.CublasLtPreference;
import io.infra4j.ffm.cublas.CublasLtScaleMode;

/**
 * The descriptors and the chosen algorithm of one {@code (m, n, k)}: made once (the heuristic costs
 * tens of microseconds), then each run only sets the two scale pointers and queues the matmul.
 * Not thread-safe: its owner ({@link CublasLtFp8Context}) runs one plan at a time.
 */
final class CublasLtFp8Plan implements AutoCloseable {
    /** Every pointer of every call is at least this aligned; the heuristic is told so. */
    static final int ALIGNMENT = 16;

    private final int m;
    private final int n;
    private final int k;
    private final CublasLtMatmulDesc desc;
    private final CublasLtMatrixLayout a; // cuBLASLt's A: our B [n, k] as column-major k x n, transposed
    private final CublasLtMatrixLayout b; // cuBLASLt's B: our A [m, k] as column-major k x m
    private final CublasLtMatrixLayout d; // D^T as column-major n x m: our D [m, n] row-major
    private final CublasLtAlgo algo;

    private CublasLtFp8Plan(int m, int n, int k, CublasLtMatmulDesc desc, CublasLtMatrixLayout a, CublasLtMatrixLayout b,
                            CublasLtMatrixLayout d, CublasLtAlgo algo) {
        this.m = m;
        this.n = n;
        this.k = k;
        this.desc = desc;
        this.a = a;
        this.b = b;
        this.d = d;
        this.algo = algo;
    }

    /**
     * Plans {@code D[m, n] = A[m, k] B[n, k]^T} on {@code handle}. The heuristic needs real scale
     * pointers for the block modes, so the first call's are given (later calls set their own).
     */
    static CublasLtFp8Plan create(CublasLtHandle handle, int m, int n, int k, long aScales, long bScales) {
        CublasLtMatmulDesc desc = null;
        CublasLtMatrixLayout la = null;
        CublasLtMatrixLayout lb = null;
        CublasLtMatrixLayout ld = null;
        try (CublasLtPreference preference = CublasLtPreference.create()) {
            desc = CublasLtMatmulDesc.fp32Compute()
                    .transposes(true, false) // FP8 on Hopper takes only "TN": A transposed, B not
                    .scaleModes(CublasLtScaleMode.BLK128X128_32F, CublasLtScaleMode.VEC128_32F)
                    .fastAccumulation(false); // the block modes promote to FP32 per K block; fast accumulation is refused
            setScales(desc, aScales, bScales);
            la = CublasLtMatrixLayout.columnMajor(CublasLtDataType.F8_E4M3, k, n, k);
            lb = CublasLtMatrixLayout.columnMajor(CublasLtDataType.F8_E4M3, k, m, k);
            ld = CublasLtMatrixLayout.columnMajor(CublasLtDataType.BF16, n, m, n);
            preference.maxWorkspaceBytes(handle.workspaceBytes()).minAlignmentBytes(ALIGNMENT);
            CublasLtAlgo algo = handle.bestAlgorithm(desc, la, lb, ld, ld, preference, CublasLtFp8Gemm.describe(m, n, k));
            return new CublasLtFp8Plan(m, n, k, desc, la, lb, ld, algo);
        } catch (RuntimeException e) {
            closeQuietly(e, desc, la, lb, ld);
            throw e;
        }
    }

    /** Queues the product on {@code stream}: our A's scales go to cuBLASLt's B and our B's to its A. */
    void run(CublasLtHandle handle, long dA, long aScales, long dB, long bScales, long dD, CudaStream stream) {
        setScales(desc, aScales, bScales);
        // alpha 1, beta 0: C is not read, so D stands in for it (same type and layout, as cuBLASLt wants).
        handle.matmul(desc, 1f, dB, a, dA, b, 0f, dD, d, dD, d, algo, stream);
    }

    private static void setScales(CublasLtMatmulDesc desc, long aScales, long bScales) {
        desc.scalePointers(bScales, aScales); // cuBLASLt's A is our B, its B our A
    }

    CublasLtAlgo algo() {
        return algo;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (AutoCloseable c : new AutoCloseable[] {desc, a, b, d}) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private static void closeQuietly(RuntimeException failure, AutoCloseable... resources) {
        for (AutoCloseable c : resources) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    failure.addSuppressed(e);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "CublasLtFp8Plan(m=" + m + ", n=" + n + ", k=" + k + ", " + algo + ")";
    }
}
