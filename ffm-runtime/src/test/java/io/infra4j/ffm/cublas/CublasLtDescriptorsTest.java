package io.infra4j.ffm.cublas;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.infra4j.ffm.ResourceTracker;
import org.junit.jupiter.api.Test;

/**
 * The descriptors against a real libcublasLt, on the host only (no GPU is needed to make them).
 * cuBLASLt checks each attribute's size, so this proves the sizes Java hands it (int32 modes and
 * transposes, int8 fast accumulation, 8-byte pointers, uint64 workspace, uint32 alignments).
 * Skipped, visibly, where libcublasLt is absent; {@code INFRA4J_CUBLASLT_PATH} points at one (the
 * nvidia-cublas wheel's {@code nvidia/cu13/lib/libcublasLt.so.13} will do).
 */
class CublasLtDescriptorsTest {

    private static void assumeLibcublasLt() {
        assumeTrue(CublasLt.isAvailable(), "skipped, no libcublasLt: " + CublasLt.unavailableReason());
    }

    @Test
    void theBlockScaledFp8DescriptorIsAccepted() {
        assumeLibcublasLt();
        long before = ResourceTracker.live().stream().filter(e -> e.kind().startsWith("cublaslt-")).count();
        try (CublasLtMatmulDesc desc = CublasLtMatmulDesc.fp32Compute();
             CublasLtMatrixLayout a = CublasLtMatrixLayout.columnMajor(CublasLtDataType.F8_E4M3, 7168, 2112, 7168);
             CublasLtMatrixLayout b = CublasLtMatrixLayout.columnMajor(CublasLtDataType.F8_E4M3, 7168, 129, 7168);
             CublasLtMatrixLayout d = CublasLtMatrixLayout.columnMajor(CublasLtDataType.BF16, 2112, 129, 2112);
             CublasLtPreference preference = CublasLtPreference.create()) {
            assertDoesNotThrow(() -> desc.transposes(true, false)
                    .scaleModes(CublasLtScaleMode.BLK128X128_32F, CublasLtScaleMode.VEC128_32F)
                    .scalePointers(0x7f0000001000L, 0x7f0000002000L)
                    .fastAccumulation(false));
            assertDoesNotThrow(() -> preference.maxWorkspaceBytes(32L << 20).minAlignmentBytes(16));
            assertEquals("F8_E4M3 7168 x 2112, ld 7168", a.toString());
            assertEquals(129, b.cols());
            assertEquals(2112, d.ld());
            long open = ResourceTracker.live().stream().filter(e -> e.kind().startsWith("cublaslt-")).count();
            assertEquals(before + 5, open, "each descriptor is tracked while open");
        }
        long after = ResourceTracker.live().stream().filter(e -> e.kind().startsWith("cublaslt-")).count();
        assertEquals(before, after, "closing releases them");
    }

    @Test
    void closedDescriptorsRefuseUseAndCloseTwiceQuietly() {
        assumeLibcublasLt();
        CublasLtMatmulDesc desc = CublasLtMatmulDesc.fp32Compute();
        desc.close();
        desc.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> desc.transposes(true, false));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        CublasLtPreference p = CublasLtPreference.create();
        p.close();
        assertThrows(IllegalStateException.class, () -> p.maxWorkspaceBytes(1));
        try (CublasLtPreference q = CublasLtPreference.create()) {
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> q.minAlignmentBytes(12));
            assertTrue(bad.getMessage().startsWith("bytes: expected a power of two"), bad.getMessage());
        }
    }
}
