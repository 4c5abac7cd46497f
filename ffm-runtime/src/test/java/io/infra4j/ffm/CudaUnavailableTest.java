package io.infra4j.ffm;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link Cuda} on a machine without a GPU or a CUDA driver (CI, and the machine these tests are
 * written on): it must say so, without an exception, and everything that needs CUDA must refuse
 * with a {@link CudaUnavailableException} carrying the reason. The tests that need a driverless
 * machine are skipped, visibly, where an NVIDIA driver is installed.
 */
class CudaUnavailableTest {

    /** Whether this machine has an NVIDIA kernel driver (then CUDA may well be available). */
    static boolean nvidiaDriverPresent() {
        return Files.exists(Path.of("/proc/driver/nvidia/version")) || Files.exists(Path.of("/dev/nvidiactl"));
    }

    private static void assumeNoDriver() {
        assumeFalse(nvidiaDriverPresent(), "an NVIDIA driver is installed here; these tests are for GPU-less machines");
    }

    @Test
    void probeNeverThrowsAndIsConsistent() {
        boolean available = assertDoesNotThrow(Cuda::isAvailable, "Cuda.isAvailable() must answer, not throw");
        assertEquals(available, Cuda.isAvailable(), "the probe runs once per process: same answer twice");
        String reason = assertDoesNotThrow(Cuda::unavailableReason);
        if (available) {
            assertEquals("", reason, "an available CUDA has an empty reason");
            assertTrue(Cuda.deviceCount() > 0, "available CUDA has at least one device");
            assertEquals(Cuda.deviceCount(), Cuda.devices().size(), "devices() lists deviceCount() devices");
        } else {
            assertFalse(reason.isBlank(), "an unavailable CUDA says why");
            assertEquals(0, Cuda.deviceCount(), "deviceCount() is 0 when CUDA is unavailable");
            assertTrue(Cuda.devices().isEmpty(), "devices() is empty when CUDA is unavailable");
        }
    }

    @Test
    void withoutDriverCudaIsUnavailableAndSaysWhy() {
        assumeNoDriver();
        assertFalse(Cuda.isAvailable(), "no NVIDIA driver here, yet Cuda.isAvailable() is true");
        String reason = Cuda.unavailableReason();
        assertFalse(reason.isBlank(), "unavailableReason() must not be blank");
        assertTrue(reason.contains("cudaGetDeviceCount") || reason.contains("could not be loaded")
                        || reason.contains("disabled") || reason.contains("no CUDA device"),
                "the reason should name the failing step (library load, cudaGetDeviceCount, ...): " + reason);
        if (NativeLibrary.loaded(LibrarySpec.CUDART).isPresent() && reason.contains("cudaGetDeviceCount")) {
            // libcudart loaded, the driver did not answer: the reason carries the CUDA error's name and text.
            assertTrue(reason.contains("cudaError"), "the reason should carry the cudaError name: " + reason);
            assertTrue(reason.contains("[no CUDA driver found]") || Cuda.driverVersion() > 0,
                    "without a driver the reason says so: " + reason);
            assertTrue(Cuda.runtimeVersion() >= 13000, "libcudart 13 is loaded, runtimeVersion() = " + Cuda.runtimeVersion());
        }
        assertEquals(0, Cuda.deviceCount(), "deviceCount()");
        assertTrue(Cuda.devices().isEmpty(), "devices() should be empty, got " + Cuda.devices());
    }

    @Test
    void everythingThatNeedsCudaThrowsCudaUnavailableWithTheReason() {
        assumeNoDriver();
        String reason = Cuda.unavailableReason();
        Executable[] needsCuda = {
            Cuda::requireAvailable,
            () -> Cuda.device(0),
            () -> Cuda.device(-1),
            () -> Cuda.device(7),
            Cuda::takeLastError,
            Cuda::synchronizeCurrentDevice,
        };
        String[] names = {"requireAvailable()", "device(0)", "device(-1)", "device(7)", "takeLastError()",
            "synchronizeCurrentDevice()"};
        for (int i = 0; i < needsCuda.length; i++) {
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class, needsCuda[i],
                    names[i] + " must throw CudaUnavailableException without CUDA");
            assertTrue(e.getMessage().startsWith("CUDA is not available: "), names[i] + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(reason), names[i] + ": the message should carry the reason '"
                    + reason + "', got: " + e.getMessage());
            assertInstanceOf(IllegalStateException.class, e, "CudaUnavailableException is an IllegalStateException");
        }
        // useDevice is a no-op with fewer than two GPUs
        assertDoesNotThrow(() -> Cuda.useDevice(0));
    }

    @Test
    void kernelSymbolsAreAbsentWithoutCuda() {
        assumeNoDriver();
        assertFalse(KernelLibrary.hasSymbol("infra4j_fill"), "no kernels without CUDA");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> KernelLibrary.requireSymbols("MLA decoding", "infra4j_mla_decode"));
        assertTrue(e.getMessage().contains(Cuda.unavailableReason()), e.getMessage());
    }

    @Test
    void negativeStatusesAreInfra4jCodes() {
        assertEquals("INFRA4J_ERROR_INVALID_ARGUMENT", Cuda.errorName(-1));
        assertEquals("INFRA4J_ERROR_UNSUPPORTED_DTYPE", Cuda.errorName(-2));
        assertEquals("INFRA4J_ERROR_SHAPE_MISMATCH", Cuda.errorName(-3));
        assertEquals("INFRA4J_ERROR_42", Cuda.errorName(-42), "unknown negative codes are named by number");
        assertEquals("INFRA4J_ERROR_2147483648", Cuda.errorName(Integer.MIN_VALUE),
                "Integer.MIN_VALUE must not overflow into a negative name");
        assertTrue(Cuda.errorString(-1).contains("argument"), Cuda.errorString(-1));
        assertTrue(Cuda.errorString(-2).contains("dtype"), Cuda.errorString(-2));
        assertTrue(Cuda.errorString(-3).contains("shape"), Cuda.errorString(-3));
        assertEquals("unknown infra4j status", Cuda.errorString(-42));
    }

    @Test
    void negativeStatusBecomesCudaException() {
        assertDoesNotThrow(() -> Cuda.check(0, "infra4j_nothing"));
        CudaException e = assertThrows(CudaException.class, () -> Cuda.check(-3, "infra4j_cast(src, dst)"));
        assertEquals(-3, e.code());
        assertEquals("INFRA4J_ERROR_SHAPE_MISMATCH", e.errorName());
        assertEquals("infra4j_cast(src, dst)", e.call());
        assertEquals(Cuda.errorString(-3), e.errorMessage());
        assertTrue(e.getMessage().startsWith("infra4j_cast(src, dst) failed: INFRA4J_ERROR_SHAPE_MISMATCH (-3): "),
                e.getMessage());
        CudaException e2 = Cuda.exception(-1, "infra4j_fill");
        assertEquals(-1, e2.code());
        assertTrue(e2.getMessage().contains("INFRA4J_ERROR_INVALID_ARGUMENT"), e2.getMessage());
    }

    @Test
    void positiveStatusesAreNamedWithOrWithoutTheRuntime() {
        Cuda.isAvailable(); // loads libcudart where it exists
        String name = assertDoesNotThrow(() -> Cuda.errorName(1));
        String text = assertDoesNotThrow(() -> Cuda.errorString(1));
        assertFalse(name.isBlank());
        assertFalse(text.isBlank());
        if (NativeLibrary.loaded(LibrarySpec.CUDART).isPresent()) {
            assertEquals("cudaErrorInvalidValue", name, "libcudart names status 1");
        } else {
            assertEquals("cudaError 1", name, "without libcudart a status is named by number");
        }
    }

    @Test
    void versionsFormat() {
        assertEquals("13.0", Cuda.formatVersion(13000));
        assertEquals("12.8", Cuda.formatVersion(12080));
        assertEquals("none", Cuda.formatVersion(0));
        assertEquals("none", Cuda.formatVersion(-5));
    }
}
