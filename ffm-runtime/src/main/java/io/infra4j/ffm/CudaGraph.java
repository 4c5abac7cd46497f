package io.infra4j.ffm;

import static io.infra4j.bindings.cudart.CudaRuntime.C_LONG;
import static io.infra4j.bindings.cudart.CudaRuntime.C_POINTER;

import io.infra4j.bindings.cudart.CudaRuntime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A CUDA graph captured from a stream and instantiated, ready to replay: many launches for the
 * price of one. Must be closed.
 */
public final class CudaGraph implements AutoCloseable {
    private final MemorySegment graph;
    private final MemorySegment exec;
    private final long trackerId;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CudaGraph(MemorySegment graph, MemorySegment exec, long trackerId) {
        this.graph = graph;
        this.exec = exec;
        this.trackerId = trackerId;
    }

    /**
     * Captures the work that {@code work} queues on {@code stream} (nothing runs during capture) and
     * instantiates it. Capture is thread-local: other threads may use CUDA meanwhile. If {@code work}
     * throws, the capture is ended and discarded and the exception propagates.
     */
    public static CudaGraph capture(CudaStream stream, Runnable work) {
        if (stream.isLegacyDefault()) {
            throw new IllegalArgumentException("stream: the legacy default stream cannot be captured; use CudaStream.create");
        }
        Cuda.check(CudaRuntime.cudaStreamBeginCapture(stream.handle(), CudaRuntime.cudaStreamCaptureModeThreadLocal()),
                "cudaStreamBeginCapture");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            try {
                work.run();
            } catch (RuntimeException | Error e) {
                if (CudaRuntime.cudaStreamEndCapture(stream.handle(), out) == 0) {
                    MemorySegment partial = out.get(C_POINTER, 0);
                    if (!partial.equals(MemorySegment.NULL)) {
                        CudaRuntime.cudaGraphDestroy(partial);
                    }
                }
                throw e;
            }
            Cuda.check(CudaRuntime.cudaStreamEndCapture(stream.handle(), out), "cudaStreamEndCapture");
            MemorySegment graph = out.get(C_POINTER, 0);
            int status = CudaRuntime.cudaGraphInstantiate(out, graph, 0L);
            if (status != 0) {
                CudaRuntime.cudaGraphDestroy(graph);
                throw Cuda.exception(status, "cudaGraphInstantiate");
            }
            long id = ResourceTracker.register("cuda-graph", "graph captured on " + stream, 0);
            return new CudaGraph(graph, out.get(C_POINTER, 0), id);
        }
    }

    /** Queues one replay of the whole graph on the stream. */
    public void launch(CudaStream stream) {
        check();
        Cuda.check(CudaRuntime.cudaGraphLaunch(exec, stream.handle()), "cudaGraphLaunch");
    }

    /** Uploads the graph to the device ahead of the first launch, so that launch is as fast as later ones. */
    public void upload(CudaStream stream) {
        check();
        Cuda.check(CudaRuntime.cudaGraphUpload(exec, stream.handle()), "cudaGraphUpload");
    }

    /** Number of nodes (kernels, copies, ...) captured. */
    public long nodeCount() {
        check();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocate(C_LONG);
            Cuda.check(CudaRuntime.cudaGraphGetNodes(graph, MemorySegment.NULL, n), "cudaGraphGetNodes");
            return n.get(C_LONG, 0);
        }
    }

    private void check() {
        if (closed.get()) {
            throw new IllegalStateException("graph is closed");
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ResourceTracker.release(trackerId);
        int a = CudaRuntime.cudaGraphExecDestroy(exec);
        int b = CudaRuntime.cudaGraphDestroy(graph);
        Cuda.check(a, "cudaGraphExecDestroy");
        Cuda.check(b, "cudaGraphDestroy");
    }
}
