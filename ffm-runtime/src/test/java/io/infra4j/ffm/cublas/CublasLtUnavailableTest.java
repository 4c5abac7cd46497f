package io.infra4j.ffm.cublas;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.infra4j.ffm.LibrarySpec;
import io.infra4j.ffm.NativeLibrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link CublasLt} where libcublasLt is absent (CI, and the machine these tests are written on): it
 * must say so without an exception, and what needs cuBLASLt must refuse with the reason, not crash.
 * The tests that need the library to be absent are skipped, visibly, where it is found.
 */
class CublasLtUnavailableTest {

    private static void assumeNoLibcublasLt() {
        assumeFalse(NativeLibrary.search(LibrarySpec.CUBLASLT).found(),
                "libcublasLt is installed here; these tests are for machines without it");
    }

    @Test
    void probeNeverThrowsAndIsConsistent() {
        boolean available = assertDoesNotThrow(CublasLt::isAvailable, "CublasLt.isAvailable() must answer, not throw");
        assertEquals(available, CublasLt.isAvailable(), "the probe runs once per process: same answer twice");
        String reason = assertDoesNotThrow(CublasLt::unavailableReason);
        if (available) {
            assertEquals("", reason, "an available cuBLASLt has an empty reason");
            assertTrue(CublasLt.version() >= 110000, "version() of a loaded cuBLASLt: " + CublasLt.version());
        } else {
            assertFalse(reason.isBlank(), "an unavailable cuBLASLt says why");
            assertEquals(0, CublasLt.version(), "version() is 0 without cuBLASLt");
            assertEquals("none", CublasLt.versionString());
            assertFalse(CublasLt.hasBlockScaling());
        }
    }

    @Test
    void withoutLibcublasLtTheReasonSaysWhereItLooked() {
        assumeNoLibcublasLt();
        assertFalse(CublasLt.isAvailable());
        String reason = CublasLt.unavailableReason();
        assertTrue(reason.startsWith("libcublasLt could not be loaded: "), reason);
        assertTrue(reason.contains("INFRA4J_CUBLASLT_PATH"), "the reason names the override variable: " + reason);
        assertTrue(reason.contains("libcublasLt.so.13"), "the reason names the file it looked for: " + reason);
        assertTrue(NativeLibrary.loaded(LibrarySpec.CUBLASLT).isEmpty(), "nothing was loaded");
    }

    @Test
    void whatNeedsCublasLtThrowsCublasLtUnavailableWithTheReason() {
        assumeNoLibcublasLt();
        String reason = CublasLt.unavailableReason();
        Executable[] needsCublasLt = {CublasLt::requireAvailable, CublasLtMatmulDesc::fp32Compute, CublasLtPreference::create,
                () -> CublasLtMatrixLayout.columnMajor(CublasLtDataType.F8_E4M3, 128, 64, 128)};
        String[] names = {"requireAvailable()", "CublasLtMatmulDesc.fp32Compute()", "CublasLtPreference.create()",
                "CublasLtMatrixLayout.columnMajor(..)"};
        for (int i = 0; i < needsCublasLt.length; i++) {
            CublasLtUnavailableException e = assertThrows(CublasLtUnavailableException.class, needsCublasLt[i], names[i]);
            assertTrue(e.getMessage().startsWith("cuBLASLt is not available: "), names[i] + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(reason), names[i] + ": the message should carry the reason");
            assertInstanceOf(IllegalStateException.class, e);
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeAnyNativeCall() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CublasLtMatrixLayout.columnMajor(CublasLtDataType.BF16, 64, 8, 32));
        assertTrue(e.getMessage().startsWith("ld: expected at least max(1, rows) = 64, got 32"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CublasLtMatrixLayout.columnMajor(null, 1, 1, 1));
        assertTrue(e.getMessage().startsWith("type:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CublasLtMatrixLayout.columnMajor(CublasLtDataType.F32, -1, 1, 1));
        assertTrue(e.getMessage().startsWith("rows, cols:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CublasLtHandle.create(null, 0));
        assertTrue(e.getMessage().startsWith("device:"), e.getMessage());
    }

    @Test
    void statusesAreNamedWithOrWithoutTheLibrary() {
        assertEquals("CUBLAS_STATUS_SUCCESS", CublasLt.statusName(0));
        assertEquals("CUBLAS_STATUS_NOT_INITIALIZED", CublasLt.statusName(1));
        assertEquals("CUBLAS_STATUS_ALLOC_FAILED", CublasLt.statusName(3));
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", CublasLt.statusName(7));
        assertEquals("CUBLAS_STATUS_ARCH_MISMATCH", CublasLt.statusName(8));
        assertEquals("CUBLAS_STATUS_EXECUTION_FAILED", CublasLt.statusName(13));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", CublasLt.statusName(15));
        assertEquals("cublasStatus 42", CublasLt.statusName(42), "unknown codes are named by number");
        String text = assertDoesNotThrow(() -> CublasLt.statusString(15));
        assertFalse(text.isBlank());
        if (NativeLibrary.loaded(LibrarySpec.CUBLASLT).isEmpty()) {
            assertEquals("(libcublasLt not loaded)", text);
        }
    }

    @Test
    void versionsFormatAsCublasEncodesThem() {
        assertEquals("13.1.1", CublasLt.formatVersion(130101));
        assertEquals("12.9.0", CublasLt.formatVersion(CublasLt.BLOCK_SCALING_VERSION));
        assertEquals("12.8.4", CublasLt.formatVersion(120804));
        assertEquals("none", CublasLt.formatVersion(0));
        assertEquals("none", CublasLt.formatVersion(-1));
    }

    @Test
    void exceptionCarriesCodeNameTextAndCall() {
        CublasLtException e = new CublasLtException(7, "CUBLAS_STATUS_INVALID_VALUE", "an invalid value was used as an argument",
                "cublasLtMatmul(A F8_E4M3 7168 x 2112, ld 7168, B F8_E4M3 7168 x 64, ld 7168, D BF16 2112 x 64, ld 2112, cuda:0)");
        assertEquals(7, e.code());
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", e.statusName());
        assertEquals("an invalid value was used as an argument", e.statusString());
        assertTrue(e.call().startsWith("cublasLtMatmul(A F8_E4M3"));
        assertEquals(e.call() + " failed: CUBLAS_STATUS_INVALID_VALUE (7): an invalid value was used as an argument",
                e.getMessage());
    }

    @Test
    void noAlgorithmNamesTheProblemTheGpuAndTheVersion() {
        CublasLtException e = CublasLt.noAlgorithm("FP8 GEMM D[1, 576] = A[1, 7168] B[576, 7168]^T", 1);
        assertEquals(15, e.code());
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", e.statusName());
        assertTrue(e.getMessage().startsWith("cublasLtMatmulAlgoGetHeuristic(FP8 GEMM D[1, 576] = A[1, 7168] B[576, 7168]^T,"
                + " cuda:1) failed: CUBLAS_STATUS_NOT_SUPPORTED (15): cuBLASLt "), e.getMessage());
        assertTrue(e.getMessage().endsWith(CublasLt.versionString() + " has no algorithm for it"), e.getMessage());
    }

    @Test
    void typeAndModeCodesAreCublasOwn() {
        // The values of library_types.h and cublasLt.h (cuBLAS 13.1), read through the generated bindings.
        assertEquals(28, CublasLtDataType.F8_E4M3.code());
        assertEquals(14, CublasLtDataType.BF16.code());
        assertEquals(0, CublasLtDataType.F32.code());
        assertEquals(1, CublasLtDataType.F8_E4M3.byteSize());
        assertEquals(2, CublasLtDataType.BF16.byteSize());
        assertEquals(0, CublasLtScaleMode.SCALAR_32F.code());
        assertEquals(3, CublasLtScaleMode.OUTER_VEC_32F.code());
        assertEquals(4, CublasLtScaleMode.VEC128_32F.code());
        assertEquals(5, CublasLtScaleMode.BLK128X128_32F.code());
    }
}
