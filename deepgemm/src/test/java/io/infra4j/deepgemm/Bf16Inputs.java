package io.infra4j.deepgemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Random BF16 inputs for the tests, and the bits of the results to compare. */
final class Bf16Inputs {
    private Bf16Inputs() {}

    /**
     * Gaussian values, each row times its own power of two in [2^-24, 2^24] so that the groups' amax
     * spans many binades (some far below the 1e-4 floor); a few exact zeros and negative zeros.
     */
    static float[] gaussian(SplittableRandom r, long rows, long cols) {
        float[] v = new float[Math.toIntExact(rows * cols)];
        for (int row = 0; row < rows; row++) {
            double scale = Math.scalb(1.0, r.nextInt(-24, 25));
            for (int c = 0; c < cols; c++) {
                int i = Math.toIntExact(row * cols + c);
                int kind = r.nextInt(200);
                v[i] = kind == 0 ? 0f : kind == 1 ? -0f : (float) (r.nextGaussian() * scale);
            }
        }
        return v;
    }

    /** A host BF16 tensor of {@code values} (rounded to nearest even). */
    static Tensor bf16(float[] values, long... shape) {
        return Tensor.ofFloats(DType.BF16, values, shape);
    }

    /** The exact floats a BF16 tensor holds, row-major. */
    static float[] floats(Tensor t) {
        return t.toFloatArray();
    }

    /** The bytes of a contiguous host e4m3 tensor. */
    static byte[] bytes(Tensor t) {
        return t.segment().toArray(ValueLayout.JAVA_BYTE);
    }

    /** The bits of a host F32 tensor, row-major through its strides (raw: no float round trip). */
    static int[] bits(Tensor t) {
        long[] shape = t.shape();
        int[] b = new int[Math.toIntExact(t.numel())];
        long[] idx = new long[shape.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (int) t.getBits(idx);
            for (int d = shape.length - 1; d >= 0 && ++idx[d] == shape[d]; d--) {
                idx[d] = 0;
            }
        }
        return b;
    }

    /** A host tensor of the same elements in a fresh contiguous storage. */
    static Tensor copyOf(Tensor t) {
        Tensor c = Tensor.empty(t.dtype(), Device.CPU, t.shape());
        io.infra4j.memory.TensorOps.copy(t, c);
        return c;
    }

    static void assertSame(NaiveFp8.Result expected, Fp8Tensor actual, String what) {
        assertArrayEquals(expected.values(), bytes(actual.values()), what + ": values");
        assertArrayEquals(expected.scales(), bits(actual.scales()), what + ": scale bits");
    }
}
