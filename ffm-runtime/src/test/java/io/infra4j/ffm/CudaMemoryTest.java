package io.infra4j.ffm;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** {@link CudaMemory}'s arguments are refused in Java, naming the argument, before any native call (no GPU needed). */
class CudaMemoryTest {
    private static final CudaStream S = CudaStream.legacyDefault();

    private static void assertRefused(String prefix, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(prefix), "expected '" + prefix + "...', got: " + e.getMessage());
    }

    @Test
    void badCopiesAreRefused() {
        assertRefused("widthBytes, rows:", () -> CudaMemory.copy2D(0x1000, 64, 0x2000, 64, -1, 2, S));
        assertRefused("dstPitch, srcPitch: expected at least widthBytes = 16, got 8, 16",
                () -> CudaMemory.copy2D(0x1000, 8, 0x2000, 16, 16, 2, S));
        assertRefused("dst: expected a device address, got 0", () -> CudaMemory.copy2D(0, 16, 0x2000, 16, 16, 2, S));
        assertRefused("src: expected a device address, got 0", () -> CudaMemory.copy2D(0x1000, 16, 0, 16, 16, 2, S));
        assertRefused("stream:", () -> CudaMemory.copy2D(0x1000, 16, 0x2000, 16, 16, 2, null));
        assertRefused("bytes:", () -> CudaMemory.fill(0x1000, 0, -4, S));
        assertRefused("dst:", () -> CudaMemory.fill(0, 0, 4, S));
    }

    @Test
    void emptyCopiesAndFillsDoNothing() {
        // Nothing to move: no native call, so no GPU needed.
        assertDoesNotThrow(() -> CudaMemory.copy2D(0, 0, 0, 0, 0, 0, S));
        assertDoesNotThrow(() -> CudaMemory.fill(0, 0, 0, S));
    }
}
