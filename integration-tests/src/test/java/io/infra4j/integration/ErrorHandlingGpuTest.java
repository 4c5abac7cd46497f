package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaException;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.memory.CastMode;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import org.junit.jupiter.api.Test;

/** Failures come back as Java exceptions, before any native call where Java can tell, and the JVM lives on. */
@GpuTest
class ErrorHandlingGpuTest {
    @Test
    void anInvalidLaunchRaisesCudaExceptionAndTheGpuStaysUsable() {
        try (CudaStream stream = CudaStream.create(Cuda.device(0))) {
            // CUDA 13 reports 4096 threads a block as cudaErrorInvalidValue, older runtimes as
            // cudaErrorInvalidConfiguration: either way a launch error, not a sticky one.
            CudaException e = assertThrows(CudaException.class, () -> KernelLibrary.launchEmptyKernel(1, 4096, stream));
            System.out.println("block 4096: " + e.getMessage());
            assertTrue(e.code() == 1 || e.code() == 9, "status " + e.code() + " " + e.errorName());
            assertTrue(e.errorName().equals("cudaErrorInvalidValue") || e.errorName().equals("cudaErrorInvalidConfiguration"),
                    e.errorName());
            assertEquals("infra4j_empty_kernel", e.call());
            assertTrue(e.getMessage().contains(e.errorName()) && e.getMessage().contains("infra4j_empty_kernel"), e.getMessage());
            CudaException zero = assertThrows(CudaException.class, () -> KernelLibrary.launchEmptyKernel(0, 32, stream));
            System.out.println("grid 0: " + zero.getMessage());
            assertTrue(zero.code() == 1 || zero.code() == 9, "status " + zero.code() + " " + zero.errorName());

            // Not sticky: the device and this stream keep working.
            KernelLibrary.launchEmptyKernel(4, 128, stream);
            stream.synchronize();
            try (TensorScope s = TensorScope.open(stream)) {
                Tensor t = s.full(DType.F32, GPU, 7, 100);
                Tensor h = s.empty(DType.F32, Device.CPU, 100);
                TensorOps.copy(t, h, stream);
                assertEquals(7.0, h.get(99));
            }
        }
    }

    @Test
    void badDeviceTensorInputIsRefusedInJava() {
        try (CudaStream stream = CudaStream.create(Cuda.device(0)); TensorScope s = TensorScope.open(stream)) {
            Tensor a = s.empty(DType.F32, GPU, 4, 8);
            Tensor b = s.empty(DType.BF16, GPU, 8, 4);
            Tensor i32 = s.empty(DType.I32, GPU, 4, 8);
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> TensorOps.cast(a, b, CastMode.STANDARD, stream));
            assertTrue(shape.getMessage().contains("shape"), shape.getMessage());
            assertThrows(IllegalArgumentException.class, () -> TensorOps.cast(a, i32, CastMode.STANDARD, stream));
            assertThrows(IllegalArgumentException.class, () -> TensorOps.copy(a, i32, stream));
            IllegalArgumentException devices = assertThrows(IllegalArgumentException.class,
                    () -> TensorOps.cast(a, s.empty(DType.BF16, Device.CPU, 4, 8), CastMode.STANDARD, stream));
            assertTrue(devices.getMessage().contains("cuda:0"), devices.getMessage());
            assertThrows(IllegalStateException.class, () -> a.get(0, 0), "Java cannot read device memory");
            assertThrows(IllegalArgumentException.class, () -> Tensor.empty(DType.F32, Device.cuda(7), 4),
                    "a GPU that does not exist");
            assertThrows(IllegalArgumentException.class, () -> a.slice(1, 0, 9));
            Tensor closed = s.empty(DType.F32, GPU, 4);
            closed.close();
            assertThrows(IllegalStateException.class, () -> TensorOps.fill(closed, 1, stream));
            assertThrows(IllegalStateException.class, closed::address);
            assertEquals(0, Cuda.takeLastError(), "nothing reached the GPU");
        }
    }
}
