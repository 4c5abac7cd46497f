package io.infra4j.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Fresh random inputs, poison, and bitwise comparison for the GPU tests. */
final class GpuTestSupport {
    static final Device GPU = Device.cuda(0);

    private GpuTestSupport() {}

    /** A seed that differs per run (fresh inputs), printed so that a failure can be replayed. */
    static long freshSeed(String test) {
        long seed = Long.getLong("infra4j.test.seed", System.nanoTime());
        System.out.println(test + ": seed " + seed + " (-Dinfra4j.test.seed=" + seed + " to replay)");
        return seed;
    }

    /** Poison bits for a dtype: a NaN for floating types, an unlikely pattern otherwise. */
    static long poison(DType dtype) {
        return switch (dtype) {
            case F32 -> 0x7FA5A5A5L; // a signalling NaN with a payload no kernel produces
            case F16, BF16 -> 0x7FA5L;
            case F8_E4M3 -> 0x7FL;
            case F8_E5M2 -> 0x7DL;
            default -> 0xA5A5A5A5A5A5A5A5L;
        };
    }

    /** Fills a host tensor with random raw bits: every pattern, NaNs, infinities and subnormals included. */
    static void randomBits(Tensor host, SplittableRandom r) {
        int elem = host.dtype().byteSize();
        long[] shape = host.shape();
        if (!host.isContiguous()) {
            throw new IllegalArgumentException("randomBits wants a contiguous host tensor");
        }
        MemorySegment seg = host.segment();
        long n = host.numel();
        for (long i = 0; i < n; i++) {
            long bits = r.nextLong();
            if (host.dtype() == DType.F32 && (i & 3) == 0) {
                // A quarter as ordinary values near the narrow types' ranges, not only raw bit noise.
                bits = Float.floatToRawIntBits((float) ((r.nextDouble() * 2 - 1) * Math.scalb(1.0, r.nextInt(-26, 18))));
            }
            switch (elem) {
                case 1 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) bits);
                case 2 -> seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i, (short) bits);
                case 4 -> seg.set(ValueLayout.JAVA_INT_UNALIGNED, 4 * i, (int) bits);
                default -> seg.set(ValueLayout.JAVA_LONG_UNALIGNED, 8 * i, bits);
            }
        }
        assertEquals(shape.length, host.rank());
    }

    /** A host copy of any tensor (dense, same dtype and shape). */
    static Tensor toHost(Tensor t, TensorScope scope, CudaStream stream) {
        Tensor h = scope.empty(t.dtype(), Device.CPU, t.shape());
        TensorOps.copy(t, h, stream);
        stream.synchronize();
        return h;
    }

    /** Asserts the two host tensors hold the same bits everywhere; reports the first differences. */
    static void assertSameBits(Tensor expected, Tensor actual, String what) {
        assertEquals(Arrays.toString(expected.shape()), Arrays.toString(actual.shape()), what + ": shapes");
        long[] shape = expected.shape();
        long n = expected.numel();
        long[] idx = new long[shape.length];
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        for (long k = 0; k < n; k++) {
            long e = expected.getBits(idx);
            long a = actual.getBits(idx);
            if (e != a) {
                if (bad < 8) {
                    sb.append("\n  at ").append(Arrays.toString(idx)).append(": expected 0x").append(Long.toHexString(e))
                            .append(", got 0x").append(Long.toHexString(a));
                }
                bad++;
            }
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + n + " elements differ" + sb);
        }
    }
}
