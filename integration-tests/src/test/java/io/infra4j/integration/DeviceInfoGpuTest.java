package io.infra4j.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaDeviceAttribute;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.ffm.LibrarySpec;
import io.infra4j.ffm.NativeLibrary;
import org.junit.jupiter.api.Test;

/** What the runtime reports about the GPU machine. */
@GpuTest
class DeviceInfoGpuTest {
    @Test
    void theDeviceAndLibrariesAreDescribed() {
        assertTrue(Cuda.deviceCount() >= 1);
        CudaDevice d = Cuda.device(0);
        System.out.println(d + ", driver CUDA " + Cuda.formatVersion(Cuda.driverVersion()) + ", runtime "
                + Cuda.formatVersion(Cuda.runtimeVersion()) + ", " + d.multiprocessorCount() + " SMs, L2 "
                + (d.l2CacheBytes() >> 20) + " MiB, " + NativeLibrary.loaded(LibrarySpec.CUDART).orElseThrow()
                + ", " + NativeLibrary.loaded(LibrarySpec.INFRA4J_CUDA).orElseThrow());
        assertTrue(d.totalMemory() > (1L << 30));
        assertTrue(!d.name().isBlank());
        assertEquals(d.computeCapabilityMajor(), d.attribute(CudaDeviceAttribute.COMPUTE_CAPABILITY_MAJOR));
        assertTrue(d.isHopper(), "the kernels are built for sm_90a; this GPU is " + d.computeCapability());
        assertTrue(d.memoryInfo().freeBytes() > 0);
        assertEquals(100, KernelLibrary.abiVersion());
        assertTrue(Cuda.runtimeVersion() >= 13000);
    }
}
