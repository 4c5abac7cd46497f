package io.infra4j.ffm;

import static io.infra4j.bindings.cudart.CudaRuntime.C_POINTER;

import io.infra4j.bindings.cudart.CudaRuntime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A CUDA stream: an ordered queue of device work. Streams made by {@link #create} are non-blocking
 * (they don't synchronise with the legacy default stream) and must be closed; the legacy default
 * stream ({@link #legacyDefault()}) is never closed.
 */
public final class CudaStream implements AutoCloseable {
    private static final CudaStream LEGACY_DEFAULT = new CudaStream(MemorySegment.NULL, -1, 0);

    private final MemorySegment handle;
    private final int device;
    private final long trackerId;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CudaStream(MemorySegment handle, int device, long trackerId) {
        this.handle = handle;
        this.device = device;
        this.trackerId = trackerId;
    }

    /** A new non-blocking stream on the device, default priority. */
    public static CudaStream create(CudaDevice device) {
        return create(device, true, 0);
    }

    /**
     * A new stream on the device.
     *
     * @param nonBlocking whether it runs independently of the legacy default stream
     * @param priority    0 is the default; lower numbers are higher priorities (see
     *                    {@code cudaDeviceGetStreamPriorityRange})
     */
    public static CudaStream create(CudaDevice device, boolean nonBlocking, int priority) {
        Cuda.requireAvailable();
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            int flags = nonBlocking ? CudaRuntime.cudaStreamNonBlocking() : CudaRuntime.cudaStreamDefault();
            Cuda.check(CudaRuntime.cudaStreamCreateWithPriority(out, flags, priority), "cudaStreamCreateWithPriority");
            MemorySegment h = out.get(C_POINTER, 0);
            long id = ResourceTracker.register("cuda-stream", "stream on cuda:" + device.ordinal(), 0);
            return new CudaStream(h, device.ordinal(), id);
        }
    }

    /** The legacy default stream (handle NULL) of whichever device is current; closing it does nothing. */
    public static CudaStream legacyDefault() {
        return LEGACY_DEFAULT;
    }

    public boolean isLegacyDefault() {
        return this == LEGACY_DEFAULT;
    }

    /** The {@code cudaStream_t}, for native calls. */
    public MemorySegment handle() {
        if (closed.get()) {
            throw new IllegalStateException("stream is closed");
        }
        return handle;
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed.get();
    }

    /** The device ordinal, or -1 for the legacy default stream. */
    public int device() {
        return device;
    }

    /** Whether all work queued so far is done ({@code cudaStreamQuery}). */
    public boolean isDone() {
        requireRuntime();
        int status = CudaRuntime.cudaStreamQuery(handle());
        if (status == CudaRuntime.cudaErrorNotReady()) {
            return false;
        }
        Cuda.check(status, "cudaStreamQuery");
        return true;
    }

    /** Waits until all work queued so far is done. */
    public void synchronize() {
        requireRuntime();
        Cuda.check(CudaRuntime.cudaStreamSynchronize(handle()), "cudaStreamSynchronize");
    }

    /** Makes later work on this stream wait for the event's recorded point. */
    public void waitFor(CudaEvent event) {
        requireRuntime();
        Cuda.check(CudaRuntime.cudaStreamWaitEvent(handle(), event.handle(), 0), "cudaStreamWaitEvent");
    }

    /** Records a new timing-disabled event here: the point other streams can wait for. */
    public CudaEvent recordEvent() {
        CudaEvent e = CudaEvent.create(false);
        try {
            return e.record(this);
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
    }

    /** Streams made by create() imply a runtime; the shared legacy one must check that there is one. */
    private void requireRuntime() {
        if (this == LEGACY_DEFAULT) {
            Cuda.requireAvailable();
        }
    }

    @Override
    public void close() {
        if (this == LEGACY_DEFAULT || !closed.compareAndSet(false, true)) {
            return;
        }
        ResourceTracker.release(trackerId);
        Cuda.check(CudaRuntime.cudaStreamDestroy(handle), "cudaStreamDestroy");
    }

    @Override
    public String toString() {
        return isLegacyDefault() ? "stream(legacy default)" : "stream(cuda:" + device + ", 0x" + Long.toHexString(handle.address()) + ")";
    }
}
