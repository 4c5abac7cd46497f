package io.infra4j.ffm.cublas;

import static io.infra4j.bindings.cublaslt.CublasLtLib.C_POINTER;

import io.infra4j.bindings.cublaslt.CublasLtLib;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A matrix layout descriptor ({@code cublasLtMatrixLayout_t}): element type, rows, columns and
 * leading dimension of a column-major matrix as it is stored (before any transpose). Host memory
 * only; must be closed.
 */
public final class CublasLtMatrixLayout implements AutoCloseable {
    /** The kind under which open layouts are listed by {@link ResourceTracker}. */
    public static final String RESOURCE_KIND = "cublaslt-matrix-layout";

    private final MemorySegment handle;
    private final CublasLtDataType type;
    private final long rows;
    private final long cols;
    private final long ld;
    private final long trackerId;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CublasLtMatrixLayout(MemorySegment handle, CublasLtDataType type, long rows, long cols, long ld) {
        this.handle = handle;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.ld = ld;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, describe(type, rows, cols, ld), 0);
    }

    /** A column-major {@code rows x cols} matrix of {@code type} whose columns start {@code ld} elements apart. */
    public static CublasLtMatrixLayout columnMajor(CublasLtDataType type, long rows, long cols, long ld) {
        if (type == null) {
            throw new IllegalArgumentException("type: expected a value, got null");
        }
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("rows, cols: expected at least 0, got " + rows + " x " + cols);
        }
        if (ld < Math.max(1, rows)) {
            throw new IllegalArgumentException("ld: expected at least max(1, rows) = " + Math.max(1, rows) + ", got " + ld);
        }
        CublasLt.requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            CublasLt.check(CublasLtLib.cublasLtMatrixLayoutCreate(out, type.code(), rows, cols, ld),
                    "cublasLtMatrixLayoutCreate(" + describe(type, rows, cols, ld) + ")");
            return new CublasLtMatrixLayout(out.get(C_POINTER, 0), type, rows, cols, ld);
        }
    }

    private static String describe(CublasLtDataType type, long rows, long cols, long ld) {
        return type + " " + rows + " x " + cols + ", ld " + ld;
    }

    public CublasLtDataType type() {
        return type;
    }

    public long rows() {
        return rows;
    }

    public long cols() {
        return cols;
    }

    public long ld() {
        return ld;
    }

    /** The {@code cublasLtMatrixLayout_t}, for native calls. */
    public MemorySegment handle() {
        if (closed.get()) {
            throw new IllegalStateException("cuBLASLt matrix layout (" + this + ") is closed");
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
        CublasLt.check(CublasLtLib.cublasLtMatrixLayoutDestroy(handle), "cublasLtMatrixLayoutDestroy(" + this + ")");
    }

    @Override
    public String toString() {
        return describe(type, rows, cols, ld);
    }
}
