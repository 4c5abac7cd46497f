package io.infra4j.memory;

import io.infra4j.bindings.cudart.CudaRuntime;
import io.infra4j.bindings.kernels.Infra4jKernels;
import io.infra4j.bindings.kernels.infra4j_layout;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The GPU path of {@link TensorOps}: the kernels of libinfra4j_cuda for fill, cast and strided
 * copies on one device, and the runtime's copy engines (1-D, pitched 2-D, peer) between memories.
 * Arguments are checked by TensorOps before anything here runs.
 */
final class GpuOps {
    private GpuOps() {}

    static final int MAX_RANK = 8;

    private static MemorySegment layout(Arena arena, StridedLayout l, int view) {
        if (l.rank() > MAX_RANK) {
            throw new IllegalArgumentException("layout: after merging dense dimensions the view has rank " + l.rank()
                    + "; the GPU kernels take at most " + MAX_RANK);
        }
        MemorySegment seg = infra4j_layout.allocate(arena);
        infra4j_layout.rank(seg, l.rank());
        for (int d = 0; d < l.rank(); d++) {
            infra4j_layout.shape(seg, d, l.shape[d]);
            infra4j_layout.strides(seg, d, l.strides[view][d]);
        }
        return seg;
    }

    private static MemorySegment ptr(Tensor t) {
        return MemorySegment.ofAddress(t.address());
    }

    static void fill(Tensor t, long bits, CudaStream stream) {
        if (t.numel() == 0) {
            return; // nothing to write (and an empty allocation may have no address)
        }
        KernelLibrary.require();
        Cuda.useDevice(t.device().index());
        StridedLayout l = StridedLayout.of(t);
        try (Arena arena = Arena.ofConfined()) {
            Cuda.check(Infra4jKernels.infra4j_fill(ptr(t), layout(arena, l, 0), t.dtype().byteSize(), bits, stream.handle()),
                    "infra4j_fill");
        }
    }

    static void cast(Tensor src, Tensor dst, boolean saturate, CudaStream stream) {
        if (dst.numel() == 0) {
            return;
        }
        KernelLibrary.require();
        Cuda.useDevice(dst.device().index());
        StridedLayout l = StridedLayout.of(dst, src);
        try (Arena arena = Arena.ofConfined()) {
            int flags = saturate ? Infra4jKernels.INFRA4J_CAST_SATURATE() : 0;
            Cuda.check(Infra4jKernels.infra4j_cast(ptr(dst), dst.dtype().code(), layout(arena, l, 0),
                    ptr(src), src.dtype().code(), layout(arena, l, 1), flags, stream.handle()), "infra4j_cast");
        }
    }

    /** Strided copy between two views on the same device. */
    static void copyOnDevice(Tensor src, Tensor dst, CudaStream stream) {
        if (dst.numel() == 0) {
            return;
        }
        KernelLibrary.require();
        Cuda.useDevice(dst.device().index());
        StridedLayout l = StridedLayout.of(dst, src);
        try (Arena arena = Arena.ofConfined()) {
            Cuda.check(Infra4jKernels.infra4j_copy(ptr(dst), layout(arena, l, 0), ptr(src), layout(arena, l, 1),
                    src.dtype().byteSize(), stream.handle()), "infra4j_copy");
        }
    }

    /**
     * Copies between memories with the copy engine when both views are dense, or rows with a pitch;
     * returns false when neither holds (the caller stages through dense buffers).
     */
    /** The first {@code bytes} of a contiguous device tensor into host memory, queued on {@code stream}. */
    static void copyBytesToHost(Tensor src, MemorySegment dst, long bytes, CudaStream stream) {
        Cuda.useDevice(src.device().index());
        Cuda.check(CudaRuntime.cudaMemcpyAsync(dst, ptr(src), bytes, CudaRuntime.cudaMemcpyDefault(), stream.handle()),
                "cudaMemcpyAsync(device to host, " + bytes + " bytes)");
    }

    static boolean copyByEngine(Tensor src, Tensor dst, CudaStream stream) {
        StridedLayout l = StridedLayout.of(dst, src);
        long elem = src.dtype().byteSize();
        int kind = CudaRuntime.cudaMemcpyDefault(); // unified addressing: the runtime knows each side
        if (l.numel() == 0) {
            return true;
        }
        if (src.device().isCuda()) {
            Cuda.useDevice(src.device().index());
        } else if (dst.device().isCuda()) {
            Cuda.useDevice(dst.device().index());
        }
        if (l.isDense(0) && l.isDense(1)) {
            if (src.device().isCuda() && dst.device().isCuda() && !src.device().equals(dst.device())) {
                Cuda.check(CudaRuntime.cudaMemcpyPeerAsync(ptr(dst), dst.device().index(), ptr(src),
                        src.device().index(), l.numel() * elem, stream.handle()), "cudaMemcpyPeerAsync");
            } else {
                Cuda.check(CudaRuntime.cudaMemcpyAsync(ptr(dst), ptr(src), l.numel() * elem, kind, stream.handle()),
                        "cudaMemcpyAsync");
            }
            return true;
        }
        if (l.isPitched2d() && !(src.device().isCuda() && dst.device().isCuda() && !src.device().equals(dst.device()))) {
            Cuda.check(CudaRuntime.cudaMemcpy2DAsync(ptr(dst), l.strides[0][0] * elem, ptr(src), l.strides[1][0] * elem,
                    l.shape[1] * elem, l.shape[0], kind, stream.handle()), "cudaMemcpy2DAsync");
            return true;
        }
        return false;
    }
}
