package io.infra4j.ffm;

import io.infra4j.bindings.cudart.CudaRuntime;

/** Device attributes that {@link CudaDevice#attribute} reads (the runtime's {@code cudaDevAttr*}). */
public enum CudaDeviceAttribute {
    COMPUTE_CAPABILITY_MAJOR(CudaRuntime.cudaDevAttrComputeCapabilityMajor()),
    COMPUTE_CAPABILITY_MINOR(CudaRuntime.cudaDevAttrComputeCapabilityMinor()),
    MULTIPROCESSOR_COUNT(CudaRuntime.cudaDevAttrMultiProcessorCount()),
    L2_CACHE_SIZE(CudaRuntime.cudaDevAttrL2CacheSize()),
    MAX_SHARED_MEMORY_PER_BLOCK_OPTIN(CudaRuntime.cudaDevAttrMaxSharedMemoryPerBlockOptin()),
    MAX_SHARED_MEMORY_PER_MULTIPROCESSOR(CudaRuntime.cudaDevAttrMaxSharedMemoryPerMultiprocessor()),
    MAX_THREADS_PER_BLOCK(CudaRuntime.cudaDevAttrMaxThreadsPerBlock()),
    MAX_BLOCKS_PER_MULTIPROCESSOR(CudaRuntime.cudaDevAttrMaxBlocksPerMultiprocessor()),
    MAX_REGISTERS_PER_BLOCK(CudaRuntime.cudaDevAttrMaxRegistersPerBlock()),
    MAX_BLOCK_DIM_X(CudaRuntime.cudaDevAttrMaxBlockDimX()),
    MAX_GRID_DIM_X(CudaRuntime.cudaDevAttrMaxGridDimX()),
    WARP_SIZE(CudaRuntime.cudaDevAttrWarpSize()),
    CLOCK_RATE_KHZ(CudaRuntime.cudaDevAttrClockRate()),
    MEMORY_CLOCK_RATE_KHZ(CudaRuntime.cudaDevAttrMemoryClockRate()),
    GLOBAL_MEMORY_BUS_WIDTH(CudaRuntime.cudaDevAttrGlobalMemoryBusWidth()),
    ASYNC_ENGINE_COUNT(CudaRuntime.cudaDevAttrAsyncEngineCount()),
    MEMORY_POOLS_SUPPORTED(CudaRuntime.cudaDevAttrMemoryPoolsSupported()),
    UNIFIED_ADDRESSING(CudaRuntime.cudaDevAttrUnifiedAddressing()),
    COOPERATIVE_LAUNCH(CudaRuntime.cudaDevAttrCooperativeLaunch()),
    CONCURRENT_MANAGED_ACCESS(CudaRuntime.cudaDevAttrConcurrentManagedAccess()),
    INTEGRATED(CudaRuntime.cudaDevAttrIntegrated()),
    PCI_BUS_ID(CudaRuntime.cudaDevAttrPciBusId()),
    PCI_DEVICE_ID(CudaRuntime.cudaDevAttrPciDeviceId());

    private final int code;

    CudaDeviceAttribute(int code) {
        this.code = code;
    }

    /** The {@code cudaDeviceAttr} value. */
    public int code() {
        return code;
    }
}
