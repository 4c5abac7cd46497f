package io.infra4j.cli;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Checks on host bytes: round-trip errors, transposition, bit-for-bit equality. Plain loops, obviously right. */
final class HostChecks {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt BITS32 = ValueLayout.JAVA_INT_UNALIGNED;

    private HostChecks() {}

    /**
     * Error of {@code got} against {@code ref} (both n float32).
     *
     * @param relL2     ||got - ref||₂ / ||ref||₂ over the finite results
     * @param maxAbs    largest |got - ref| over the finite results
     * @param nonFinite results that are NaN or infinite
     * @param clipped   inputs beyond {@code limit} in magnitude (saturated or overflowed)
     */
    record RoundTripError(double relL2, double maxAbs, long nonFinite, long clipped) {}

    static RoundTripError roundTrip(MemorySegment ref, MemorySegment got, long n, double limit) {
        double diff2 = 0;
        double ref2 = 0;
        double maxAbs = 0;
        long nonFinite = 0;
        long clipped = 0;
        for (long i = 0; i < n; i++) {
            double r = ref.getAtIndex(F32, i);
            double g = got.getAtIndex(F32, i);
            if (Math.abs(r) > limit) {
                clipped++;
            }
            if (!Double.isFinite(g)) {
                nonFinite++;
                continue;
            }
            double d = g - r;
            diff2 += d * d;
            ref2 += r * r;
            maxAbs = Math.max(maxAbs, Math.abs(d));
        }
        return new RoundTripError(ref2 == 0 ? 0 : Math.sqrt(diff2 / ref2), maxAbs, nonFinite, clipped);
    }

    /** Elements of {@code dst} ([cols, rows], contiguous) that are not the transpose of {@code src} ([rows, cols]). */
    static long transposeMismatches(MemorySegment src, long rows, long cols, MemorySegment dst) {
        long bad = 0;
        for (long j = 0; j < cols; j++) {
            for (long i = 0; i < rows; i++) {
                if (dst.getAtIndex(BITS32, j * rows + i) != src.getAtIndex(BITS32, i * cols + j)) {
                    bad++;
                }
            }
        }
        return bad;
    }

    /** Elements whose bytes differ between two equally long runs of {@code elemBytes}-byte elements. */
    static long bitMismatches(MemorySegment a, MemorySegment b, int elemBytes) {
        if (a.byteSize() != b.byteSize()) {
            throw new IllegalArgumentException("b: expected " + a.byteSize() + " bytes like a, got " + b.byteSize());
        }
        long first = a.mismatch(b);
        if (first < 0) {
            return 0;
        }
        long bad = 0;
        for (long e = first / elemBytes; e < a.byteSize() / elemBytes; e++) {
            long off = e * elemBytes;
            if (MemorySegment.mismatch(a, off, off + elemBytes, b, off, off + elemBytes) >= 0) {
                bad++;
            }
        }
        return bad;
    }
}
