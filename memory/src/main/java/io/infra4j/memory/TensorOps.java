package io.infra4j.memory;

import io.infra4j.ffm.CudaStream;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Fill, cast and copy, for tensors anywhere: the CPU path runs in Java on host memory, the GPU path
 * runs infra4j's kernels and the copy engines. Both give bit-identical results (the GPU tests hold
 * them to it).
 *
 * <p>Arguments are checked in Java before any native call. GPU work is queued on the given stream
 * (the legacy default stream when none is given) and is asynchronous, except that a copy into
 * pageable host memory waits for its stream so that the bytes can be read when it returns. Copies
 * into pinned memory do not wait: synchronise the stream before reading them.
 */
public final class TensorOps {
    private TensorOps() {}

    // ---- fill ----

    /** Sets every element to {@code value} (converted as {@link DTypeCodec#encodeScalar}). */
    public static void fill(Tensor t, double value) {
        fill(t, value, CudaStream.legacyDefault());
    }

    public static void fill(Tensor t, double value, CudaStream stream) {
        checkTensor(t, "t");
        fillBits(t, DTypeCodec.encodeScalar(t.dtype(), value), stream);
    }

    /** Sets every element to the raw bit pattern {@code bits} (its low bytes). */
    public static void fillBits(Tensor t, long bits, CudaStream stream) {
        checkTensor(t, "t");
        if (t.device().isCpu()) {
            CpuOps.fill(t, bits);
        } else {
            checkStream(stream, t.device());
            GpuOps.fill(t, bits, stream);
        }
    }

    // ---- cast ----

    /** Converts {@code src} into {@code dst} (same shape and device, floating dtypes), IEEE-style overflow. */
    public static void cast(Tensor src, Tensor dst) {
        cast(src, dst, CastMode.STANDARD, CudaStream.legacyDefault());
    }

    /**
     * Converts every element of {@code src} into {@code dst}'s dtype, through float32 with round to
     * nearest even. Both tensors have the same shape, live on the same device, and have one of the
     * dtypes F32, F16, BF16, F8_E4M3, F8_E5M2.
     */
    public static void cast(Tensor src, Tensor dst, CastMode mode, CudaStream stream) {
        checkTensor(src, "src");
        checkTensor(dst, "dst");
        if (mode == null) {
            throw new IllegalArgumentException("mode: expected a CastMode, got null");
        }
        if (!src.dtype().isCastable()) {
            throw new IllegalArgumentException("src: cast takes F32, F16, BF16, F8_E4M3 or F8_E5M2, got " + src.dtype());
        }
        if (!dst.dtype().isCastable()) {
            throw new IllegalArgumentException("dst: cast takes F32, F16, BF16, F8_E4M3 or F8_E5M2, got " + dst.dtype());
        }
        checkSameShape(src, dst);
        if (!src.device().equals(dst.device())) {
            throw new IllegalArgumentException("dst: expected a tensor on " + src.device() + " like src, got one on "
                    + dst.device() + " (copy between devices first)");
        }
        checkNoOverlap(src, dst);
        boolean saturate = mode == CastMode.SATURATE;
        if (src.device().isCpu()) {
            CpuOps.cast(src, dst, saturate);
        } else {
            checkStream(stream, dst.device());
            GpuOps.cast(src, dst, saturate, stream);
        }
    }

    // ---- copy ----

    /** Copies {@code src} into {@code dst} on the legacy default stream. */
    public static void copy(Tensor src, Tensor dst) {
        copy(src, dst, CudaStream.legacyDefault());
    }

    /**
     * Copies every element of {@code src} into {@code dst}: same dtype and shape, any strides, any
     * two devices (host to GPU, GPU to host, GPU to GPU, host to host).
     */
    public static void copy(Tensor src, Tensor dst, CudaStream stream) {
        checkTensor(src, "src");
        checkTensor(dst, "dst");
        if (src.dtype() != dst.dtype()) {
            throw new IllegalArgumentException("dst: expected dtype " + src.dtype() + " like src, got " + dst.dtype()
                    + " (use cast to convert)");
        }
        checkSameShape(src, dst);
        checkNoOverlap(src, dst);
        Device sd = src.device();
        Device dd = dst.device();
        if (sd.isCpu() && dd.isCpu()) {
            CpuOps.copy(src, dst);
            return;
        }
        if (sd.isCuda()) {
            checkStream(stream, sd, dd);
        } else {
            checkStream(stream, dd);
        }
        if (sd.equals(dd)) {
            GpuOps.copyOnDevice(src, dst, stream);
            return;
        }
        if (!GpuOps.copyByEngine(src, dst, stream)) {
            copyStaged(src, dst, stream);
        }
        if (dd.isCpu() && dst.memoryKind() == MemoryKind.HOST) {
            stream.synchronize();
        }
    }

    /**
     * Copies the bytes of a contiguous tensor (on a GPU or the host) into {@code dst}, a native segment of at
     * least that size the caller owns (a confined arena's, say), and waits for it: reading a few values back
     * without making a host tensor, whose shared arena costs a thread handshake when closed.
     */
    public static void copyToHost(Tensor src, MemorySegment dst, CudaStream stream) {
        checkTensor(src, "src");
        if (dst == null || !dst.isNative()) {
            throw new IllegalArgumentException("dst: expected a native memory segment, got " + (dst == null ? "null" : "a heap one"));
        }
        if (!src.isContiguous()) {
            throw new IllegalArgumentException("src: expected a contiguous tensor, got strides " + Arrays.toString(src.strides()));
        }
        long bytes = src.numel() * src.dtype().byteSize();
        if (dst.byteSize() < bytes) {
            throw new IllegalArgumentException("dst: " + dst.byteSize() + " bytes, src has " + bytes);
        }
        if (bytes == 0) {
            return;
        }
        if (src.device().isCpu()) {
            MemorySegment.copy(src.segment(), 0, dst, 0, bytes);
            return;
        }
        checkStream(stream, src.device());
        GpuOps.copyBytesToHost(src, dst, bytes, stream);
        stream.synchronize();
    }

    /** A new tensor on {@code device}, owned by {@code scope}, holding a dense copy of {@code src}. */
    public static Tensor to(Tensor src, Device device, TensorScope scope) {
        checkTensor(src, "src");
        if (scope == null) {
            throw new IllegalArgumentException("scope: expected a TensorScope, got null");
        }
        Tensor out = scope.empty(src.dtype(), device, src.shape());
        copy(src, out, scope.stream());
        return out;
    }

    /** Between memories, when the copy engine can't do it in one go: through dense temporaries. */
    private static void copyStaged(Tensor src, Tensor dst, CudaStream stream) {
        try (TensorScope tmp = TensorScope.open(stream)) {
            Tensor from = src;
            if (!src.isContiguous()) {
                from = tmp.empty(src.dtype(), src.device(), src.shape());
                copy(src, from, stream); // same device: kernel or CPU loop
            }
            Tensor to = dst.isContiguous() ? dst : tmp.empty(dst.dtype(), dst.device(), dst.shape());
            GpuOps.copyByEngine(from, to, stream);
            if (to != dst) {
                if (dst.device().isCpu()) {
                    stream.synchronize(); // the engine must land before the CPU loop reads
                }
                copy(to, dst, stream);
            }
            if (src.device().isCpu() || dst.device().isCpu()) {
                // Host temporaries are freed when this scope closes: the copies reading them must be done.
                stream.synchronize();
            }
        }
    }

    // ---- checks ----

    static void checkTensor(Tensor t, String name) {
        if (t == null) {
            throw new IllegalArgumentException(name + ": expected a tensor, got null");
        }
        if (t.isClosed()) {
            throw new IllegalStateException(name + ": tensor is closed: " + t);
        }
    }

    private static void checkSameShape(Tensor src, Tensor dst) {
        if (!Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalArgumentException("dst: expected shape " + Arrays.toString(src.shape()) + " like src, got "
                    + Arrays.toString(dst.shape()));
        }
    }

    private static void checkStream(CudaStream stream, Device... devices) {
        if (stream == null) {
            throw new IllegalArgumentException("stream: expected a CudaStream (CudaStream.legacyDefault() for the default), got null");
        }
        if (stream.isClosed()) {
            throw new IllegalStateException("stream: the stream is closed");
        }
        if (stream.isLegacyDefault()) {
            return;
        }
        for (Device d : devices) {
            if (d.isCuda() && d.index() == stream.device()) {
                return;
            }
        }
        throw new IllegalArgumentException("stream: expected a stream of " + Arrays.toString(devices)
                + ", got one of cuda:" + stream.device());
    }

    /** Writing into a view that overlaps the one being read gives order-dependent results: refuse it. */
    private static void checkNoOverlap(Tensor src, Tensor dst) {
        if (!src.sharesStorageWith(dst) || src.numel() == 0) {
            return;
        }
        long s0 = src.address();
        long s1 = s0 + Tensor.spanBytes(src.dtype(), src.shape(), src.strides());
        long d0 = dst.address();
        long d1 = d0 + Tensor.spanBytes(dst.dtype(), dst.shape(), dst.strides());
        if (s0 < d1 && d0 < s1) {
            throw new IllegalArgumentException("dst: overlaps src in the same storage (bytes [" + (d0 - s0) + ", "
                    + (d1 - s0) + ") of src's span); write into a separate tensor");
        }
    }
}
