package io.infra4j.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/** Helpers of the memory tests: strided views built from a recipe, index walks, byte comparisons. */
final class TestViews {
    private TestViews() {}

    static final DType[] ALL = DType.values();
    static final DType[] FLOATS = {DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2};

    /**
     * How to carve a view of a given logical shape out of a larger base: the base holds the view's
     * dimensions in the order {@code perm} (base dimension j is view dimension perm[j]), each with a
     * start, a step and padding after the last element, and optionally one extra dimension of size 2
     * that is {@code select}ed away. The view is made with select, permute and slice only.
     */
    record ViewSpec(long[] shape, int[] perm, long[] start, long[] step, long[] pad, int extraPos, long extraIndex) {

        static ViewSpec random(SplittableRandom r, long[] shape) {
            int n = shape.length;
            int[] perm = new int[n];
            for (int i = 0; i < n; i++) {
                perm[i] = i;
            }
            if (r.nextInt(2) == 0) { // otherwise keep the natural order
                for (int i = n - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1);
                    int t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                }
            }
            long[] start = new long[n];
            long[] step = new long[n];
            long[] pad = new long[n];
            for (int i = 0; i < n; i++) {
                start[i] = r.nextInt(5) < 3 ? 0 : 1 + r.nextInt(2);
                step[i] = r.nextInt(5) < 3 ? 1 : 2 + r.nextInt(2);
                pad[i] = r.nextInt(5) < 3 ? 0 : 1 + r.nextInt(2);
            }
            int extraPos = r.nextInt(4) == 0 ? r.nextInt(n + 1) : -1;
            return new ViewSpec(shape.clone(), perm, start, step, pad, extraPos, r.nextInt(2));
        }

        /** A dense, contiguous view: the base itself. */
        static ViewSpec dense(long[] shape) {
            int n = shape.length;
            int[] perm = new int[n];
            for (int i = 0; i < n; i++) {
                perm[i] = i;
            }
            return new ViewSpec(shape.clone(), perm, new long[n], filled(n, 1), new long[n], -1, 0);
        }

        private static long[] filled(int n, long v) {
            long[] a = new long[n];
            Arrays.fill(a, v);
            return a;
        }

        long end(int i) {
            return shape[i] == 0 ? start[i] : start[i] + (shape[i] - 1) * step[i] + 1;
        }

        long[] baseShape() {
            int n = shape.length;
            long[] b = new long[n + (extraPos >= 0 ? 1 : 0)];
            int k = 0;
            for (int j = 0; j < n; j++) {
                if (j == extraPos) {
                    b[k++] = 2;
                }
                int i = perm[j];
                b[k++] = end(i) + pad[i];
            }
            if (extraPos == n) {
                b[k] = 2;
            }
            return b;
        }

        /** The view of {@code base} (made with baseShape()); intermediate views are closed. */
        Tensor viewOf(Tensor base) {
            Tensor t = base;
            if (extraPos >= 0) {
                t = step(base, t, t.select(extraPos, extraIndex));
            }
            int n = shape.length;
            int[] inverse = new int[n];
            for (int j = 0; j < n; j++) {
                inverse[perm[j]] = j;
            }
            t = step(base, t, t.permute(inverse));
            for (int i = 0; i < n; i++) {
                t = step(base, t, t.slice(i, start[i], end(i), step[i]));
            }
            if (!Arrays.equals(shape, t.shape())) {
                fail("test recipe broken: wanted shape " + Arrays.toString(shape) + ", got " + t + " from " + this);
            }
            if (t == base) {
                t = base.view(base.shape()); // always hand back a separate view
            }
            return t;
        }

        private static Tensor step(Tensor base, Tensor from, Tensor to) {
            if (from != base) {
                from.close();
            }
            return to;
        }

        @Override
        public String toString() {
            return "ViewSpec[shape " + Arrays.toString(shape) + ", perm " + Arrays.toString(perm) + ", start "
                    + Arrays.toString(start) + ", step " + Arrays.toString(step) + ", pad " + Arrays.toString(pad)
                    + ", extra " + (extraPos < 0 ? "none" : "dim " + extraPos + " index " + extraIndex) + "]";
        }
    }

    static long[] randomShape(SplittableRandom r, int maxRank, int maxSize, boolean allowZero) {
        long[] s = new long[r.nextInt(maxRank + 1)];
        for (int i = 0; i < s.length; i++) {
            s[i] = allowZero && r.nextInt(12) == 0 ? 0 : 1 + r.nextInt(maxSize);
        }
        return s;
    }

    /** Calls {@code action} with every index of {@code shape} in row-major order (the array is reused). */
    static void forEachIndex(long[] shape, Consumer<long[]> action) {
        for (long s : shape) {
            if (s == 0) {
                return;
            }
        }
        long[] idx = new long[shape.length];
        while (true) {
            action.accept(idx);
            int d = shape.length - 1;
            while (d >= 0) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
                d--;
            }
            if (d < 0) {
                return;
            }
        }
    }

    static void fillRandomBytes(Tensor dense, SplittableRandom r) {
        MemorySegment seg = dense.segment();
        for (long i = 0; i < seg.byteSize(); i++) {
            seg.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
        }
    }

    static void copyBytes(Tensor from, Tensor to) {
        MemorySegment.copy(from.segment(), 0, to.segment(), 0, from.segment().byteSize());
    }

    /** Byte-for-byte equality of two dense bases, naming the first element that differs. */
    static void assertSameBytes(Tensor expected, Tensor actual, String what) {
        byte[] e = expected.segment().toArray(ValueLayout.JAVA_BYTE);
        byte[] a = actual.segment().toArray(ValueLayout.JAVA_BYTE);
        if (Arrays.equals(e, a)) {
            return;
        }
        int elem = expected.dtype().byteSize();
        for (int i = 0; i < e.length; i++) {
            if (e[i] != a[i]) {
                long flat = i / elem;
                long[] shape = expected.shape();
                long[] idx = new long[shape.length];
                long rem = flat;
                for (int d = shape.length - 1; d >= 0; d--) {
                    idx[d] = rem % shape[d];
                    rem /= shape[d];
                }
                assertArrayEquals(e, a, what + ": first difference at base element " + Arrays.toString(idx) + " (expected bits 0x"
                        + Long.toHexString(expected.getBits(idx)) + ", got 0x" + Long.toHexString(actual.getBits(idx)) + ")");
            }
        }
    }
}
