package io.infra4j.ffm;

import io.infra4j.bindings.cudart.CudaRuntime;
import java.lang.foreign.MemorySegment;

/**
 * Stream-ordered copies and fills of raw device memory, for code that holds addresses rather than
 * tensors (libraries' own scratch buffers, layouts a native library wants). Tensors have
 * {@code TensorOps} in io.infra4j.memory; this is the runtime's copy engine underneath.
 */
public final class CudaMemory {
    private CudaMemory() {}

    /**
     * Queues on {@code stream} a copy of {@code rows} rows of {@code widthBytes} bytes from
     * {@code src} (rows {@code srcPitch} bytes apart) to {@code dst} (rows {@code dstPitch} bytes
     * apart), between any memories of one address space ({@code cudaMemcpy2DAsync}, kind default).
     * Bytes between the rows of {@code dst} are left as they are.
     */
    public static void copy2D(long dst, long dstPitch, long src, long srcPitch, long widthBytes, long rows,
                              CudaStream stream) {
        if (widthBytes < 0 || rows < 0) {
            throw new IllegalArgumentException("widthBytes, rows: expected at least 0, got " + widthBytes + ", " + rows);
        }
        if (dstPitch < widthBytes || srcPitch < widthBytes) {
            throw new IllegalArgumentException("dstPitch, srcPitch: expected at least widthBytes = " + widthBytes + ", got "
                    + dstPitch + ", " + srcPitch);
        }
        requireAddress(dst, "dst", widthBytes * rows);
        requireAddress(src, "src", widthBytes * rows);
        requireStream(stream);
        if (widthBytes == 0 || rows == 0) {
            return;
        }
        Cuda.requireAvailable();
        Cuda.check(CudaRuntime.cudaMemcpy2DAsync(MemorySegment.ofAddress(dst), dstPitch, MemorySegment.ofAddress(src),
                srcPitch, widthBytes, rows, CudaRuntime.cudaMemcpyDefault(), stream.handle()),
                "cudaMemcpy2DAsync(" + rows + " rows of " + widthBytes + " bytes, pitches " + srcPitch + " -> " + dstPitch + ")");
    }

    /** Queues on {@code stream} setting {@code bytes} bytes at device address {@code dst} to {@code value} ({@code cudaMemsetAsync}). */
    public static void fill(long dst, int value, long bytes, CudaStream stream) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes: expected at least 0, got " + bytes);
        }
        requireAddress(dst, "dst", bytes);
        requireStream(stream);
        if (bytes == 0) {
            return;
        }
        Cuda.requireAvailable();
        Cuda.check(CudaRuntime.cudaMemsetAsync(MemorySegment.ofAddress(dst), value, bytes, stream.handle()),
                "cudaMemsetAsync(" + bytes + " bytes)");
    }

    private static void requireStream(CudaStream stream) {
        if (stream == null || stream.isClosed()) {
            throw new IllegalArgumentException("stream: expected an open stream, got " + stream);
        }
    }

    private static void requireAddress(long address, String name, long bytes) {
        if (address == 0 && bytes > 0) {
            throw new IllegalArgumentException(name + ": expected a device address, got 0 (for " + bytes + " bytes)");
        }
    }
}
