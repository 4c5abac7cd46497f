package io.infra4j.ffm.cublas;

import static io.infra4j.bindings.cublaslt.CublasLtLib.C_FLOAT;
import static io.infra4j.bindings.cublaslt.CublasLtLib.C_INT;
import static io.infra4j.bindings.cublaslt.CublasLtLib.C_POINTER;

import io.infra4j.bindings.cublaslt.CublasLtLib;
import io.infra4j.bindings.cublaslt.cublasLtMatmulHeuristicResult_t;
import io.infra4j.bindings.cudart.CudaRuntime;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A cuBLASLt handle bound to one GPU, with the device workspace its matmuls use: one per device,
 * made by {@link #create}, closed when done (which frees the workspace).
 *
 * <p>Threads: cuBLASLt's functions may be called from several threads with the same handle, but the
 * workspace is one buffer, so two matmuls of this handle must never run on the GPU at the same time.
 * Callers that queue matmuls from several threads or on several streams must serialise them and
 * order the streams (one stream waiting for the other) themselves; matmuls queued on one stream are
 * ordered by the stream.
 */
public final class CublasLtHandle implements AutoCloseable {
    /** The kind under which open handles are listed by {@link ResourceTracker}. */
    public static final String RESOURCE_KIND = "cublaslt-handle";

    private final MemorySegment handle;
    private final CudaDevice device;
    private final MemorySegment workspace;
    private final long workspaceBytes;
    private final long trackerId;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CublasLtHandle(MemorySegment handle, CudaDevice device, MemorySegment workspace, long workspaceBytes) {
        this.handle = handle;
        this.device = device;
        this.workspace = workspace;
        this.workspaceBytes = workspaceBytes;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "cuBLASLt handle on cuda:" + device.ordinal()
                + " with a workspace of " + workspaceBytes + " bytes", workspaceBytes);
    }

    /**
     * A handle on {@code device} with {@code workspaceBytes} of device memory for its matmuls (32 MiB
     * suits Hopper's FP8 kernels; 0 allows only algorithms that need none).
     */
    public static CublasLtHandle create(CudaDevice device, long workspaceBytes) {
        if (device == null) {
            throw new IllegalArgumentException("device: expected a value, got null");
        }
        if (workspaceBytes < 0) {
            throw new IllegalArgumentException("workspaceBytes: expected at least 0, got " + workspaceBytes);
        }
        CublasLt.requireAvailable();
        Cuda.requireAvailable();
        device.makeCurrent(); // the handle and the workspace belong to the current device
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            CublasLt.check(CublasLtLib.cublasLtCreate(out), "cublasLtCreate(cuda:" + device.ordinal() + ")");
            MemorySegment h = out.get(C_POINTER, 0);
            MemorySegment ws = MemorySegment.NULL;
            if (workspaceBytes > 0) {
                int status = CudaRuntime.cudaMalloc(out, workspaceBytes);
                if (status != 0) {
                    CublasLtLib.cublasLtDestroy(h); // do not leak the handle; the allocation's failure is the news
                    Cuda.check(status, "cudaMalloc(" + workspaceBytes + " bytes of cuBLASLt workspace on cuda:"
                            + device.ordinal() + ")");
                }
                ws = out.get(C_POINTER, 0);
            }
            return new CublasLtHandle(h, device, ws, workspaceBytes);
        }
    }

    // ---- what it is ----

    /** The GPU this handle and its workspace belong to. */
    public CudaDevice device() {
        return device;
    }

    /** The device address of the workspace (0 when it has none). */
    public long workspaceAddress() {
        return workspace.address();
    }

    /** The workspace's size in bytes. */
    public long workspaceBytes() {
        return workspaceBytes;
    }

    /** The {@code cublasLtHandle_t}, for native calls. */
    public MemorySegment handle() {
        if (closed.get()) {
            throw new IllegalStateException("cuBLASLt handle on cuda:" + device.ordinal() + " is closed");
        }
        return handle;
    }

    public boolean isClosed() {
        return closed.get();
    }

    // ---- planning and running ----

    /**
     * Up to {@code requested} algorithms for {@code desc} on these layouts, the best first
     * ({@code cublasLtMatmulAlgoGetHeuristic}); an empty list when cuBLASLt has none for them (it
     * answers {@code CUBLAS_STATUS_NOT_SUPPORTED} or zero results). The descriptor's scale modes and,
     * for the block modes, its scale pointers must already be set.
     */
    public List<CublasLtAlgo> heuristic(CublasLtMatmulDesc desc, CublasLtMatrixLayout a, CublasLtMatrixLayout b,
                                        CublasLtMatrixLayout c, CublasLtMatrixLayout d, CublasLtPreference preference,
                                        int requested) {
        if (requested < 1) {
            throw new IllegalArgumentException("requested: expected at least 1, got " + requested);
        }
        requireArgs(desc, a, b, c, d);
        if (preference == null) {
            throw new IllegalArgumentException("preference: expected a value, got null");
        }
        Cuda.useDevice(device.ordinal());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment results = cublasLtMatmulHeuristicResult_t.allocateArray(requested, arena);
            MemorySegment count = arena.allocate(C_INT);
            int status = CublasLtLib.cublasLtMatmulAlgoGetHeuristic(handle(), desc.handle(), a.handle(), b.handle(),
                    c.handle(), d.handle(), preference.handle(), requested, results, count);
            if (status == CublasLtLib.CUBLAS_STATUS_NOT_SUPPORTED()) {
                return List.of();
            }
            CublasLt.check(status, "cublasLtMatmulAlgoGetHeuristic(A " + a + ", B " + b + ", D " + d + ", cuda:"
                    + device.ordinal() + ")");
            List<CublasLtAlgo> algos = new ArrayList<>();
            for (int i = 0; i < count.get(C_INT, 0); i++) {
                MemorySegment r = cublasLtMatmulHeuristicResult_t.asSlice(results, i);
                if (cublasLtMatmulHeuristicResult_t.state(r) == 0) { // only results whose state is SUCCESS are valid
                    algos.add(new CublasLtAlgo(cublasLtMatmulHeuristicResult_t.algo(r),
                            cublasLtMatmulHeuristicResult_t.workspaceSize(r), cublasLtMatmulHeuristicResult_t.wavesCount(r)));
                }
            }
            return List.copyOf(algos);
        }
    }

    /**
     * The heuristic's best algorithm for {@code desc} on these layouts, or {@link CublasLt#noAlgorithm}
     * naming {@code problem} (what the caller asked for, in its own terms) when it has none.
     */
    public CublasLtAlgo bestAlgorithm(CublasLtMatmulDesc desc, CublasLtMatrixLayout a, CublasLtMatrixLayout b,
                                      CublasLtMatrixLayout c, CublasLtMatrixLayout d, CublasLtPreference preference,
                                      String problem) {
        List<CublasLtAlgo> algos = heuristic(desc, a, b, c, d, preference, 1);
        if (algos.isEmpty()) {
            throw CublasLt.noAlgorithm(problem, device.ordinal());
        }
        return algos.get(0);
    }

    /**
     * Queues {@code D = alpha * op(A) op(B) + beta * C} on {@code stream} with {@code algo} and this
     * handle's workspace ({@code cublasLtMatmul}). A, B, C, D are device addresses; alpha and beta are
     * FP32 (the descriptor's scale type), read on the host when the call is made. C may be D when
     * beta is 0.
     */
    public void matmul(CublasLtMatmulDesc desc, float alpha, long a, CublasLtMatrixLayout aLayout, long b,
                       CublasLtMatrixLayout bLayout, float beta, long c, CublasLtMatrixLayout cLayout, long d,
                       CublasLtMatrixLayout dLayout, CublasLtAlgo algo, CudaStream stream) {
        requireArgs(desc, aLayout, bLayout, cLayout, dLayout);
        if (algo == null) {
            throw new IllegalArgumentException("algo: expected a value, got null");
        }
        if (algo.workspaceBytes() > workspaceBytes) {
            throw new IllegalArgumentException("algo: needs " + algo.workspaceBytes() + " bytes of workspace, this handle has "
                    + workspaceBytes);
        }
        if (stream == null || stream.isClosed()) {
            throw new IllegalArgumentException("stream: expected an open stream, got " + stream);
        }
        if (!stream.isLegacyDefault() && stream.device() != device.ordinal()) {
            throw new IllegalArgumentException("stream: expected a stream of cuda:" + device.ordinal() + " (this handle's GPU), got "
                    + stream);
        }
        Cuda.useDevice(device.ordinal()); // a no-op with one GPU: the hot path pays nothing
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scalars = arena.allocate(C_FLOAT, 2);
            scalars.setAtIndex(C_FLOAT, 0, alpha);
            scalars.setAtIndex(C_FLOAT, 1, beta);
            int status = CublasLtLib.cublasLtMatmul(handle(), desc.handle(), scalars, MemorySegment.ofAddress(a),
                    aLayout.handle(), MemorySegment.ofAddress(b), bLayout.handle(), scalars.asSlice(C_FLOAT.byteSize()),
                    MemorySegment.ofAddress(c), cLayout.handle(), MemorySegment.ofAddress(d), dLayout.handle(),
                    algo.segment(), workspace, workspaceBytes, stream.handle());
            CublasLt.check(status, "cublasLtMatmul(A " + aLayout + ", B " + bLayout + ", D " + dLayout + ", cuda:"
                    + device.ordinal() + ")");
        }
    }

    private static void requireArgs(CublasLtMatmulDesc desc, CublasLtMatrixLayout a, CublasLtMatrixLayout b,
                                    CublasLtMatrixLayout c, CublasLtMatrixLayout d) {
        Object[] values = {desc, a, b, c, d};
        String[] names = {"desc", "a", "b", "c", "d"};
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) {
                throw new IllegalArgumentException(names[i] + ": expected a value, got null");
            }
        }
    }

    // ---- lifetime ----

    /**
     * Frees the workspace and destroys the handle; closing again does nothing. {@code cudaFree}
     * waits for the device, so matmuls still queued finish before their workspace goes.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ResourceTracker.release(trackerId);
        device.makeCurrent();
        int freed = workspace.equals(MemorySegment.NULL) ? 0 : CudaRuntime.cudaFree(workspace);
        CublasLt.check(CublasLtLib.cublasLtDestroy(handle), "cublasLtDestroy(cuda:" + device.ordinal() + ")");
        Cuda.check(freed, "cudaFree(cuBLASLt workspace on cuda:" + device.ordinal() + ")");
    }

    @Override
    public String toString() {
        return "CublasLtHandle(cuda:" + device.ordinal() + ", workspace " + workspaceBytes + " B"
                + (closed.get() ? ", closed" : "") + ")";
    }
}
