package io.infra4j.memory;

import java.util.Arrays;

/**
 * The shape and strides that one or two same-shaped views walk together, simplified: dimensions of
 * size 1 dropped and neighbouring dimensions merged wherever every view is dense across them. A
 * contiguous tensor becomes one dimension, a row-pitched matrix two, whatever rank they started at.
 */
final class StridedLayout {
    final long[] shape;
    final long[][] strides; // strides[view][dim], in elements

    private StridedLayout(long[] shape, long[][] strides) {
        this.shape = shape;
        this.strides = strides;
    }

    static StridedLayout of(Tensor... views) {
        long[] shape = views[0].shape();
        long[][] st = new long[views.length][];
        for (int v = 0; v < views.length; v++) {
            st[v] = views[v].strides();
        }
        return collapse(shape, st);
    }

    static StridedLayout collapse(long[] shape, long[][] strides) {
        int n = strides.length;
        long[] s = new long[shape.length];
        long[][] st = new long[n][shape.length];
        int r = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            if (r > 0 && mergeable(s[r - 1], st, r - 1, shape[d], strides, d)) {
                s[r - 1] *= shape[d];
                for (int v = 0; v < n; v++) {
                    st[v][r - 1] = strides[v][d];
                }
                continue;
            }
            s[r] = shape[d];
            for (int v = 0; v < n; v++) {
                st[v][r] = strides[v][d];
            }
            r++;
        }
        if (r == 0) { // a scalar, or all sizes 1: one element
            long[][] one = new long[n][];
            for (int v = 0; v < n; v++) {
                one[v] = new long[] {1};
            }
            return new StridedLayout(new long[] {Arrays.stream(shape).anyMatch(x -> x == 0) ? 0 : 1}, one);
        }
        long[][] out = new long[n][];
        for (int v = 0; v < n; v++) {
            out[v] = Arrays.copyOf(st[v], r);
        }
        return new StridedLayout(Arrays.copyOf(s, r), out);
    }

    /** Outer dimension (size so far, strides so far) followed by inner dimension d: one dimension in every view? */
    private static boolean mergeable(long outerSize, long[][] outerStrides, int outerIndex, long innerSize,
                                     long[][] innerStrides, int d) {
        for (int v = 0; v < outerStrides.length; v++) {
            if (outerStrides[v][outerIndex] != innerSize * innerStrides[v][d]) {
                return false;
            }
        }
        return outerSize > 0;
    }

    int rank() {
        return shape.length;
    }

    long numel() {
        long n = 1;
        for (long x : shape) {
            n *= x;
        }
        return n;
    }

    /** Whether view v is one dense run. */
    boolean isDense(int v) {
        return shape.length == 1 && strides[v][0] == 1;
    }

    /** Whether every view is rows of dense elements with a pitch: rank 2, inner stride 1. */
    boolean isPitched2d() {
        if (shape.length != 2) {
            return false;
        }
        for (long[] st : strides) {
            if (st[1] != 1 || st[0] < shape[1]) {
                return false;
            }
        }
        return true;
    }
}
