package io.infra4j.ffm;

import static io.infra4j.bindings.cudart.CudaRuntime.C_FLOAT;
import static io.infra4j.bindings.cudart.CudaRuntime.C_POINTER;

import io.infra4j.bindings.cudart.CudaRuntime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/** A CUDA event: a point in a stream to wait for or to time between. Must be closed. */
public final class CudaEvent implements AutoCloseable {
    private final MemorySegment handle;
    private final boolean timing;
    private final long trackerId;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CudaEvent(MemorySegment handle, boolean timing, long trackerId) {
        this.handle = handle;
        this.timing = timing;
        this.trackerId = trackerId;
    }

    /** A new event on the current device; {@code timing} false makes it cheaper when only waited for. */
    public static CudaEvent create(boolean timing) {
        Cuda.requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            int flags = timing ? CudaRuntime.cudaEventDefault() : CudaRuntime.cudaEventDisableTiming();
            Cuda.check(CudaRuntime.cudaEventCreateWithFlags(out, flags), "cudaEventCreateWithFlags");
            long id = ResourceTracker.register("cuda-event", timing ? "timing event" : "event", 0);
            return new CudaEvent(out.get(C_POINTER, 0), timing, id);
        }
    }

    /** A new event on the given device. */
    public static CudaEvent create(CudaDevice device, boolean timing) {
        Cuda.requireAvailable();
        device.makeCurrent();
        return create(timing);
    }

    /** The {@code cudaEvent_t}, for native calls. */
    public MemorySegment handle() {
        if (closed.get()) {
            throw new IllegalStateException("event is closed");
        }
        return handle;
    }

    public boolean isTiming() {
        return timing;
    }

    /** Records the event at the current end of the stream; returns this. */
    public CudaEvent record(CudaStream stream) {
        Cuda.check(CudaRuntime.cudaEventRecord(handle(), stream.handle()), "cudaEventRecord");
        return this;
    }

    /** Waits until the recorded point is reached. */
    public void synchronize() {
        Cuda.check(CudaRuntime.cudaEventSynchronize(handle()), "cudaEventSynchronize");
    }

    /** Whether the recorded point has been reached. */
    public boolean isDone() {
        int status = CudaRuntime.cudaEventQuery(handle());
        if (status == CudaRuntime.cudaErrorNotReady()) {
            return false;
        }
        Cuda.check(status, "cudaEventQuery");
        return true;
    }

    /** Milliseconds between two recorded, completed timing events (about 0.5 µs resolution). */
    public static float elapsedMillis(CudaEvent start, CudaEvent end) {
        if (!start.timing || !end.timing) {
            throw new IllegalArgumentException("elapsedMillis needs timing events (create(true)), got "
                    + (start.timing ? "end" : "start") + " without timing");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_FLOAT);
            Cuda.check(CudaRuntime.cudaEventElapsedTime(out, start.handle(), end.handle()), "cudaEventElapsedTime");
            return out.get(C_FLOAT, 0);
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ResourceTracker.release(trackerId);
        Cuda.check(CudaRuntime.cudaEventDestroy(handle), "cudaEventDestroy");
    }
}
