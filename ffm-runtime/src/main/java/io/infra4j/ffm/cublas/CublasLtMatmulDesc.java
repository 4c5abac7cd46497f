package io.infra4j.ffm.cublas;

import static io.infra4j.bindings.cublaslt.CublasLtLib.C_INT;
import static io.infra4j.bindings.cublaslt.CublasLtLib.C_LONG_LONG;
import static io.infra4j.bindings.cublaslt.CublasLtLib.C_POINTER;

import io.infra4j.bindings.cublaslt.CublasLtLib;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A matmul operation descriptor ({@code cublasLtMatmulDesc_t}): compute and scale types, the
 * transposes, and for FP8 the operands' scale modes and scale pointers. Host memory only (no GPU is
 * needed to make one); must be closed.
 *
 * <p>Setting attributes is not synchronised: a descriptor shared by threads needs its users to
 * serialise setting the scale pointers and the matmul that reads them.
 */
public final class CublasLtMatmulDesc implements AutoCloseable {
    /** The kind under which open descriptors are listed by {@link ResourceTracker}. */
    public static final String RESOURCE_KIND = "cublaslt-matmul-desc";

    private final MemorySegment handle;
    private final long trackerId;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CublasLtMatmulDesc(MemorySegment handle) {
        this.handle = handle;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "matmul descriptor", 0);
    }

    /** A descriptor computing in FP32 with FP32 alpha and beta ({@code CUBLAS_COMPUTE_32F}, {@code CUDA_R_32F}). */
    public static CublasLtMatmulDesc fp32Compute() {
        CublasLt.requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            CublasLt.check(CublasLtLib.cublasLtMatmulDescCreate(out, CublasLtLib.CUBLAS_COMPUTE_32F(),
                    CublasLtDataType.F32.code()), "cublasLtMatmulDescCreate(CUBLAS_COMPUTE_32F, CUDA_R_32F)");
            return new CublasLtMatmulDesc(out.get(C_POINTER, 0));
        }
    }

    /** Whether cuBLASLt transposes A and B ({@code CUBLASLT_MATMUL_DESC_TRANSA/B}: OP_T or OP_N). */
    public CublasLtMatmulDesc transposes(boolean transposeA, boolean transposeB) {
        setInt(CublasLtLib.CUBLASLT_MATMUL_DESC_TRANSA(), transposeA ? CublasLtLib.CUBLAS_OP_T() : CublasLtLib.CUBLAS_OP_N(),
                "TRANSA");
        setInt(CublasLtLib.CUBLASLT_MATMUL_DESC_TRANSB(), transposeB ? CublasLtLib.CUBLAS_OP_T() : CublasLtLib.CUBLAS_OP_N(),
                "TRANSB");
        return this;
    }

    /** How A's and B's scale pointers are read ({@code CUBLASLT_MATMUL_DESC_A/B_SCALE_MODE}). */
    public CublasLtMatmulDesc scaleModes(CublasLtScaleMode a, CublasLtScaleMode b) {
        setInt(CublasLtLib.CUBLASLT_MATMUL_DESC_A_SCALE_MODE(), a.code(), "A_SCALE_MODE " + a);
        setInt(CublasLtLib.CUBLASLT_MATMUL_DESC_B_SCALE_MODE(), b.code(), "B_SCALE_MODE " + b);
        return this;
    }

    /** The device addresses of A's and B's scales ({@code CUBLASLT_MATMUL_DESC_A/B_SCALE_POINTER}). */
    public CublasLtMatmulDesc scalePointers(long a, long b) {
        setPointer(CublasLtLib.CUBLASLT_MATMUL_DESC_A_SCALE_POINTER(), a, "A_SCALE_POINTER");
        setPointer(CublasLtLib.CUBLASLT_MATMUL_DESC_B_SCALE_POINTER(), b, "B_SCALE_POINTER");
        return this;
    }

    /** FP8's fast accumulation (no periodic promotion to FP32); off by default, and block scaling refuses it. */
    public CublasLtMatmulDesc fastAccumulation(boolean on) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_BYTE);
            v.set(ValueLayout.JAVA_BYTE, 0, (byte) (on ? 1 : 0)); // int8_t in cuBLASLt
            CublasLt.check(CublasLtLib.cublasLtMatmulDescSetAttribute(handle(), CublasLtLib.CUBLASLT_MATMUL_DESC_FAST_ACCUM(),
                    v, 1), "cublasLtMatmulDescSetAttribute(FAST_ACCUM)");
        }
        return this;
    }

    private void setInt(int attribute, int value, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(C_INT);
            v.set(C_INT, 0, value);
            CublasLt.check(CublasLtLib.cublasLtMatmulDescSetAttribute(handle(), attribute, v, C_INT.byteSize()),
                    "cublasLtMatmulDescSetAttribute(" + what + ")");
        }
    }

    private void setPointer(int attribute, long address, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(C_LONG_LONG); // a void* held by value: 8 bytes
            v.set(C_LONG_LONG, 0, address);
            CublasLt.check(CublasLtLib.cublasLtMatmulDescSetAttribute(handle(), attribute, v, C_POINTER.byteSize()),
                    "cublasLtMatmulDescSetAttribute(" + what + ")");
        }
    }

    /** The {@code cublasLtMatmulDesc_t}, for native calls. */
    public MemorySegment handle() {
        if (closed.get()) {
            throw new IllegalStateException("cuBLASLt matmul descriptor is closed");
        }
        return handle;
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** Destroys the descriptor; closing again does nothing. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ResourceTracker.release(trackerId);
        CublasLt.check(CublasLtLib.cublasLtMatmulDescDestroy(handle), "cublasLtMatmulDescDestroy");
    }
}
