package io.infra4j.memory;

import io.infra4j.ffm.CudaStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Owns the tensors made through it, and their views, and closes them all when it closes, like an
 * FFM arena. Device memory made here is allocated and freed in order on the scope's stream.
 *
 * <pre>{@code
 * try (TensorScope scope = TensorScope.open(stream)) {
 *     Tensor q = scope.empty(DType.BF16, Device.cuda(0), 64, 576);
 *     Tensor host = scope.pinned(DType.BF16, 64, 576);
 *     ...
 * } // everything above is freed here
 * }</pre>
 */
public final class TensorScope implements AutoCloseable {
    private final CudaStream stream;
    private final Set<Tensor> open = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    private TensorScope(CudaStream stream) {
        this.stream = stream;
    }

    /** A scope whose device memory is ordered on the legacy default stream. */
    public static TensorScope open() {
        return new TensorScope(CudaStream.legacyDefault());
    }

    /** A scope whose device memory is allocated and freed in order on {@code stream}. */
    public static TensorScope open(CudaStream stream) {
        if (stream == null) {
            throw new IllegalArgumentException("stream: expected a CudaStream, got null");
        }
        return new TensorScope(stream);
    }

    /** The stream device allocations and frees of this scope are ordered on. */
    public CudaStream stream() {
        return stream;
    }

    /** An uninitialised tensor: pageable host memory for the CPU, pooled device memory for a GPU. */
    public Tensor empty(DType dtype, Device device, long... shape) {
        return allocate(dtype, device, MemoryKind.defaultFor(device), stream, shape, this);
    }

    /** An uninitialised tensor in pinned host memory. */
    public Tensor pinned(DType dtype, long... shape) {
        return allocate(dtype, Device.CPU, MemoryKind.PINNED, stream, shape, this);
    }

    /** A host tensor holding {@code values} converted to {@code dtype}. */
    public Tensor ofFloats(DType dtype, float[] values, long... shape) {
        Tensor t = empty(dtype, Device.CPU, shape);
        t.copyFromFloats(values);
        return t;
    }

    /** A tensor of {@code dtype} on {@code device} with every element {@code value}. */
    public Tensor full(DType dtype, Device device, double value, long... shape) {
        Tensor t = empty(dtype, device, shape);
        TensorOps.fill(t, value, stream);
        return t;
    }

    /** Tensors (views included) of this scope not yet closed. */
    public int openTensors() {
        return open.size();
    }

    public boolean isClosed() {
        return closed.get();
    }

    void adopt(Tensor t) {
        if (closed.get()) {
            t.close();
            throw new IllegalStateException("the tensor scope is closed");
        }
        open.add(t);
    }

    void forget(Tensor t) {
        open.remove(t);
    }

    /** Closes every tensor still open here; the first failure is thrown after all were tried. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        RuntimeException failure = null;
        List<Tensor> all = new ArrayList<>(open);
        for (Tensor t : all) {
            try {
                t.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        open.clear();
        if (failure != null) {
            throw failure;
        }
    }

    static Tensor allocate(DType dtype, Device device, MemoryKind kind, CudaStream stream, long[] shape, TensorScope scope) {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype: expected a DType, got null");
        }
        if (device == null) {
            throw new IllegalArgumentException("device: expected a Device, got null");
        }
        if (shape == null) {
            throw new IllegalArgumentException("shape: expected sizes, got null");
        }
        for (long s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("shape: sizes must be >= 0, got " + Arrays.toString(shape));
            }
        }
        if (scope != null && scope.isClosed()) {
            throw new IllegalStateException("the tensor scope is closed");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Tensor.numel(shape), (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape: " + Arrays.toString(shape) + " of " + dtype + " overflows 2^63 bytes");
        }
        String site = dtype.torchName() + Arrays.toString(shape);
        Storage storage = switch (kind) {
            case HOST -> Allocators.host(bytes, site);
            case PINNED -> Allocators.pinned(bytes, site);
            case DEVICE -> Allocators.device(device, bytes, stream, site);
        };
        return new Tensor(storage, dtype, shape.clone(), Tensor.contiguousStrides(shape), 0, scope);
    }
}
