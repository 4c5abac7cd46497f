package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class HostChecksTest {
    @Test
    void transposeOfTwoByThree() {
        MemorySegment src = MemorySegment.ofArray(new float[] {1, 2, 3, 4, 5, 6});
        assertEquals(0, HostChecks.transposeMismatches(src, 2, 3, MemorySegment.ofArray(new float[] {1, 4, 2, 5, 3, 6})));
        assertEquals(2, HostChecks.transposeMismatches(src, 2, 3, MemorySegment.ofArray(new float[] {1, 2, 4, 5, 3, 6})));
    }

    @Test
    void bitMismatchesCountsElements() {
        MemorySegment a = MemorySegment.ofArray(new short[] {1, 2, 3, 4});
        assertEquals(0, HostChecks.bitMismatches(a, MemorySegment.ofArray(new short[] {1, 2, 3, 4}), 2));
        assertEquals(2, HostChecks.bitMismatches(a, MemorySegment.ofArray(new short[] {1, 9, 3, 0x104}), 2));
        // -0.0 and 0.0 compare equal as floats but not as bits
        assertEquals(1, HostChecks.bitMismatches(MemorySegment.ofArray(new float[] {0f}), MemorySegment.ofArray(new float[] {-0f}), 4));
    }

    @Test
    void roundTripErrors() {
        MemorySegment ref = MemorySegment.ofArray(new float[] {3, 4, 500});
        HostChecks.RoundTripError e = HostChecks.roundTrip(ref, MemorySegment.ofArray(new float[] {3, 4, 448}), 3, 448);
        assertEquals(52, e.maxAbs(), 0);
        assertEquals(1, e.clipped());
        assertEquals(52 / Math.sqrt(9 + 16 + 250000), e.relL2(), 1e-12);
        HostChecks.RoundTripError nan = HostChecks.roundTrip(ref, MemorySegment.ofArray(new float[] {3, Float.NaN, 500}), 3, 448);
        assertEquals(1, nan.nonFinite());
    }
}
