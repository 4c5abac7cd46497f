package io.infra4j.memory;

import io.infra4j.bindings.cudart.CudaRuntime;
import io.infra4j.ffm.Cuda;
import java.lang.foreign.MemorySegment;

/**
 * Page-locks host memory the caller owns for CUDA ({@code cudaHostRegister}), so that copies between it and
 * a GPU go straight by DMA, without staging; {@link #unregister} undoes it and must come before the memory
 * is freed.
 */
public final class HostRegistration {
    private HostRegistration() {}

    /** Registers {@code memory} (native, non-empty) with every GPU; CudaUnavailableException without CUDA. */
    public static void register(MemorySegment memory) {
        check(memory);
        Cuda.requireAvailable();
        Cuda.check(CudaRuntime.cudaHostRegister(memory, memory.byteSize(), 0 /* cudaHostRegisterDefault */),
                "cudaHostRegister(" + memory.byteSize() + " bytes)");
    }

    public static void unregister(MemorySegment memory) {
        check(memory);
        Cuda.requireAvailable();
        Cuda.check(CudaRuntime.cudaHostUnregister(memory), "cudaHostUnregister");
    }

    private static void check(MemorySegment memory) {
        if (memory == null || !memory.isNative() || memory.byteSize() == 0) {
            throw new IllegalArgumentException("memory: expected a non-empty native segment, got " + memory);
        }
    }
}
