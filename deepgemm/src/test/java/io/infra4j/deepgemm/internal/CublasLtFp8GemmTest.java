package io.infra4j.deepgemm.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.LibrarySpec;
import io.infra4j.ffm.NativeLibrary;
import io.infra4j.ffm.cublas.CublasLt;
import io.infra4j.ffm.cublas.CublasLtException;
import io.infra4j.ffm.cublas.CublasLtUnavailableException;
import io.infra4j.memory.Device;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The cuBLASLt path where no GPU is (CI): what it supports, what it says when it cannot run, and
 * that every bad argument is refused in Java, naming it, before anything native happens. The GPU
 * side is integration-tests' CublasLtFp8GemmGpuTest.
 */
class CublasLtFp8GemmTest {
    private static final long P = 0x7f0000000000L; // an aligned stand-in address: never dereferenced here
    private static final Device GPU = Device.cuda(0);
    private static final CudaStream S = CudaStream.legacyDefault();

    @Test
    void supportedShapes() {
        assertNull(CublasLtFp8Gemm.unsupportedReason(4, 128, 128));
        assertNull(CublasLtFp8Gemm.unsupportedReason(132, 576, 7168), "n needs no whole 128 blocks");
        assertNull(CublasLtFp8Gemm.unsupportedReason(4096, 2112, 7168));
        assertNull(CublasLtFp8Gemm.unsupportedReason(4, 16, 16), "k needs no whole 128 blocks either");
        assertNull(CublasLtFp8Gemm.unsupportedReason(4096, 7168, 2048));
    }

    @Test
    void unsupportedShapesSayWhy() {
        String r = CublasLtFp8Gemm.unsupportedReason(0, 128, 128);
        assertTrue(r.startsWith("m, n and k must be at least 1, got m=0, n=128, k=128"), r);
        r = CublasLtFp8Gemm.unsupportedReason(64, 128, 136);
        assertTrue(r.startsWith("k=136 is not a multiple of 16: "), r);
        assertTrue(r.contains("16-byte aligned"), r);
        r = CublasLtFp8Gemm.unsupportedReason(64, 120, 128);
        assertTrue(r.startsWith("n=120 is not a multiple of 16: "), r);
        r = CublasLtFp8Gemm.unsupportedReason(129, 128, 128);
        assertTrue(r.startsWith("m=129 is not a multiple of 4: "), r);
        assertTrue(CublasLtFp8Gemm.unsupportedReason(1, 128, 7168).startsWith("m=1 is not a multiple of 4"));
        assertTrue(CublasLtFp8Gemm.unsupportedReason(-1, -1, -1).startsWith("m, n and k must be at least 1"));
    }

    @Test
    void whyAGpuOrALibraryCannotRunIt() {
        assertNull(CublasLtFp8Gemm.deviceUnsupportedReason(0, "NVIDIA H200", 9, 0));
        assertEquals("cuda:1 (NVIDIA B200) is sm_100; cuBLASLt runs FP8 with 1 x 128 and 128 x 128 block scales on sm_90"
                + " (Hopper) only", CublasLtFp8Gemm.deviceUnsupportedReason(1, "NVIDIA B200", 10, 0));
        assertEquals("cuda:0 (NVIDIA L40S) is sm_89; cuBLASLt runs FP8 with 1 x 128 and 128 x 128 block scales on sm_90"
                + " (Hopper) only", CublasLtFp8Gemm.deviceUnsupportedReason(0, "NVIDIA L40S", 8, 9));
        assertEquals("libcublasLt 12.8.4 predates the FP32 block scales (1 x 128, 128 x 128) of cuBLAS 12.9.0",
                CublasLtFp8Gemm.tooOldReason(120804));
    }

    @Test
    void theNoAlgorithmErrorNamesMnkAndTheVersion() {
        CublasLtException e = CublasLt.noAlgorithm(CublasLtFp8Gemm.describe(129, 576, 7168), 0);
        assertEquals("cublasLtMatmulAlgoGetHeuristic(FP8 GEMM D[129, 576] = A[129, 7168] B[576, 7168]^T with 1x128 and"
                + " 128x128 FP32 scales, cuda:0) failed: CUBLAS_STATUS_NOT_SUPPORTED (15): cuBLASLt "
                + CublasLt.versionString() + " has no algorithm for it", e.getMessage());
    }

    @Test
    void availabilityAnswersWithoutThrowing() {
        boolean available = assertDoesNotThrow(CublasLtFp8Gemm::isAvailable);
        String reason = assertDoesNotThrow(CublasLtFp8Gemm::unavailableReason);
        assertEquals(available, reason.isEmpty(), "available exactly when there is no reason: " + reason);
    }

    @Test
    void withoutLibcublasLtACallIsRefusedWithTheReason() {
        assumeFalse(NativeLibrary.search(LibrarySpec.CUBLASLT).found(),
                "libcublasLt is installed here; this test is for machines without it");
        assertFalse(CublasLtFp8Gemm.isAvailable());
        assertTrue(CublasLtFp8Gemm.unavailableReason().contains("INFRA4J_CUBLASLT_PATH"), CublasLtFp8Gemm.unavailableReason());
        CublasLtUnavailableException e = assertThrows(CublasLtUnavailableException.class,
                () -> CublasLtFp8Gemm.gemmNt(P, P, P, P, P, 64, 128, 512, GPU, S));
        assertTrue(e.getMessage().startsWith("cuBLASLt is not available: libcublasLt could not be loaded"), e.getMessage());
        assertEquals(0, CublasLtFp8Gemm.cachedPlans(GPU));
        assertDoesNotThrow(CublasLtFp8Gemm::releaseAll, "nothing to release is fine");
    }

    @Test
    void badArgumentsAreRefusedNamingThem() {
        assertRefused("m, n, k: k=100 is not a multiple of 16", () -> CublasLtFp8Gemm.gemmNt(P, P, P, P, P, 64, 128, 100, GPU, S));
        assertRefused("m, n, k: n=8 is not a multiple of 16", () -> CublasLtFp8Gemm.gemmNt(P, P, P, P, P, 64, 8, 128, GPU, S));
        assertRefused("m, n, k: m, n and k must be at least 1", () -> CublasLtFp8Gemm.gemmNt(P, P, P, P, P, 0, 128, 128, GPU, S));
        assertRefused("dA: expected a device address, got 0", () -> CublasLtFp8Gemm.gemmNt(0, P, P, P, P, 4, 128, 128, GPU, S));
        assertRefused("dSa: expected a 16-byte aligned address, got 0x7f0000000008",
                () -> CublasLtFp8Gemm.gemmNt(P, P + 8, P, P, P, 4, 128, 128, GPU, S));
        assertRefused("dB:", () -> CublasLtFp8Gemm.gemmNt(P, P, P + 4, P, P, 4, 128, 128, GPU, S));
        assertRefused("dSb:", () -> CublasLtFp8Gemm.gemmNt(P, P, P, 0, P, 4, 128, 128, GPU, S));
        assertRefused("dD:", () -> CublasLtFp8Gemm.gemmNt(P, P, P, P, P + 2, 4, 128, 128, GPU, S));
        assertRefused("device: expected a CUDA device, got cpu",
                () -> CublasLtFp8Gemm.gemmNt(P, P, P, P, P, 4, 128, 128, Device.CPU, S));
        assertRefused("device:", () -> CublasLtFp8Gemm.gemmNt(P, P, P, P, P, 4, 128, 128, null, S));
        assertRefused("stream:", () -> CublasLtFp8Gemm.gemmNt(P, P, P, P, P, 4, 128, 128, GPU, null));
    }

    private static void assertRefused(String prefix, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(prefix), "expected '" + prefix + "...', got: " + e.getMessage());
    }
}
