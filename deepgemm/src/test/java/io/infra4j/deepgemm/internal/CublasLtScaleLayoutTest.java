package io.infra4j.deepgemm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.deepgemm.internal.CublasLtScaleLayout.APitch;
import org.junit.jupiter.api.Test;

/** The layout arithmetic between infra4j's scale layouts and cuBLASLt's (see {@link CublasLtScaleLayout}). */
class CublasLtScaleLayoutTest {

    @Test
    void blocksRoundUp() {
        assertEquals(1, CublasLtScaleLayout.kBlocks(16));
        assertEquals(1, CublasLtScaleLayout.kBlocks(128));
        assertEquals(2, CublasLtScaleLayout.kBlocks(144), "a partial last K block has a scale of its own");
        assertEquals(56, CublasLtScaleLayout.kBlocks(7168));
        assertEquals(5, CublasLtScaleLayout.nBlocks(576));
        assertEquals(17, CublasLtScaleLayout.nBlocks(2112));
    }

    @Test
    void aScalesAreTheKernelsMMajorLayout() {
        assertEquals(4, CublasLtScaleLayout.aScaleRows(1));
        assertEquals(64, CublasLtScaleLayout.aScaleRows(64));
        assertEquals(132, CublasLtScaleLayout.aScaleRows(129));
        assertEquals(132, CublasLtScaleLayout.aScalePitchForCublas(129, APitch.PADDED), "padded: handed over as they are");
        assertEquals(129, CublasLtScaleLayout.aScalePitchForCublas(129, APitch.EXACT), "exact: copied without the padding");
        assertEquals(256, CublasLtScaleLayout.aScalePitchForCublas(256, APitch.EXACT));
        assertEquals(56L * 129, CublasLtScaleLayout.aScaleFloatsExact(129, 7168));
    }

    @Test
    void bScalesArePaddedToFourKBlocksPerRow() {
        assertEquals(4, CublasLtScaleLayout.bScaleRowPitch(128));
        assertTrue(CublasLtScaleLayout.bScalesNeedCopy(128), "kb = 1: rows of 1 scale become rows of 4");
        assertEquals(4, CublasLtScaleLayout.bScaleRowPitch(512));
        assertFalse(CublasLtScaleLayout.bScalesNeedCopy(512), "kb = 4: the row-major scales are cuBLASLt's layout");
        assertEquals(56, CublasLtScaleLayout.bScaleRowPitch(7168));
        assertFalse(CublasLtScaleLayout.bScalesNeedCopy(7168), "DeepSeek-V3's hidden size needs no copy");
        assertEquals(8, CublasLtScaleLayout.bScaleRowPitch(640));
        assertTrue(CublasLtScaleLayout.bScalesNeedCopy(640));
        assertEquals(5L * 8, CublasLtScaleLayout.bScaleFloats(576, 640));
    }

    @Test
    void thePitchSwitchIsParsedStrictly() {
        assertEquals(APitch.PADDED, APitch.parse(null));
        assertEquals(APitch.PADDED, APitch.parse(" "));
        assertEquals(APitch.PADDED, APitch.parse("m4"));
        assertEquals(APitch.PADDED, APitch.parse("padded"));
        assertEquals(APitch.EXACT, APitch.parse("M"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> APitch.parse("rows"));
        assertTrue(e.getMessage().startsWith("INFRA4J_CUBLASLT_A_SCALE_LD: expected m or m4, got rows"), e.getMessage());
    }
}
