package io.infra4j.ffm.cublas;

import static io.infra4j.bindings.cublaslt.CublasLtLib.C_INT;
import static io.infra4j.bindings.cublaslt.CublasLtLib.C_LONG_LONG;
import static io.infra4j.bindings.cublaslt.CublasLtLib.C_POINTER;

import io.infra4j.bindings.cublaslt.CublasLtLib;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the heuristic may choose from ({@code cublasLtMatmulPreference_t}): the largest workspace the
 * algorithm may use and the alignment that every later call's pointers will have. Host memory only;
 * must be closed (it is needed only while asking the heuristic).
 */
public final class CublasLtPreference implements AutoCloseable {
    /** The kind under which open preferences are listed by {@link ResourceTracker}. */
    public static final String RESOURCE_KIND = "cublaslt-preference";

    private final MemorySegment handle;
    private final long trackerId;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CublasLtPreference(MemorySegment handle) {
        this.handle = handle;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "matmul preference", 0);
    }

    /** A preference with cuBLASLt's defaults (no workspace, 256-byte aligned pointers assumed). */
    public static CublasLtPreference create() {
        CublasLt.requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            CublasLt.check(CublasLtLib.cublasLtMatmulPreferenceCreate(out), "cublasLtMatmulPreferenceCreate");
            return new CublasLtPreference(out.get(C_POINTER, 0));
        }
    }

    /** The most workspace the chosen algorithm may use ({@code CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES}, uint64). */
    public CublasLtPreference maxWorkspaceBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes: expected at least 0, got " + bytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(C_LONG_LONG);
            v.set(C_LONG_LONG, 0, bytes);
            CublasLt.check(CublasLtLib.cublasLtMatmulPreferenceSetAttribute(handle(),
                    CublasLtLib.CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES(), v, C_LONG_LONG.byteSize()),
                    "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES " + bytes + ")");
        }
        return this;
    }

    /**
     * The alignment, in bytes, that A, B, C and D will have in every call made with the chosen
     * algorithm ({@code CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A/B/C/D_BYTES}, uint32). Without it the
     * heuristic assumes 256 bytes, and a plan reused with merely 16-byte aligned views could fail.
     */
    public CublasLtPreference minAlignmentBytes(int bytes) {
        if (bytes <= 0 || Integer.bitCount(bytes) != 1) {
            throw new IllegalArgumentException("bytes: expected a power of two, got " + bytes);
        }
        int[] attributes = {CublasLtLib.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES(),
                CublasLtLib.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES(), CublasLtLib.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES(),
                CublasLtLib.CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES()};
        String[] names = {"A", "B", "C", "D"};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(C_INT);
            v.set(C_INT, 0, bytes);
            for (int i = 0; i < attributes.length; i++) {
                CublasLt.check(CublasLtLib.cublasLtMatmulPreferenceSetAttribute(handle(), attributes[i], v, C_INT.byteSize()),
                        "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_" + names[i] + "_BYTES " + bytes + ")");
            }
        }
        return this;
    }

    /** The {@code cublasLtMatmulPreference_t}, for native calls. */
    public MemorySegment handle() {
        if (closed.get()) {
            throw new IllegalStateException("cuBLASLt matmul preference is closed");
        }
        return handle;
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** Destroys the preference; closing again does nothing. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ResourceTracker.release(trackerId);
        CublasLt.check(CublasLtLib.cublasLtMatmulPreferenceDestroy(handle), "cublasLtMatmulPreferenceDestroy");
    }
}
