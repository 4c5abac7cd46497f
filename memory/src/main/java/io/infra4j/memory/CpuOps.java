package io.infra4j.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The CPU path of {@link TensorOps}: the same operations as the GPU kernels, in Java, over host
 * segments. It serves machines without a GPU and is the oracle of the GPU tests, so it favours
 * plain, obviously right loops; dense runs use bulk segment operations.
 */
final class CpuOps {
    /** Dense casts of at least this many elements are split over the cores. */
    static final long PARALLEL_THRESHOLD = 1 << 20;

    private CpuOps() {}

    /** Walks two same-shaped layouts together, handing each pair of element byte offsets to the visitor. */
    @FunctionalInterface
    interface PairVisitor {
        void visit(long dstOffset, long srcOffset);
    }

    static void walk(StridedLayout l, long dstBase, long dstElem, long srcBase, long srcElem, PairVisitor visitor) {
        long n = l.numel();
        if (n == 0) {
            return;
        }
        int r = l.rank();
        long[] shape = l.shape;
        long[] ds = l.strides[0];
        long[] ss = l.strides[1];
        long[] idx = new long[r];
        long d = dstBase;
        long s = srcBase;
        long inner = shape[r - 1];
        long dInner = ds[r - 1] * dstElem;
        long sInner = ss[r - 1] * srcElem;
        for (long done = 0; done < n; done += inner) {
            long dd = d;
            long sss = s;
            for (long i = 0; i < inner; i++) {
                visitor.visit(dd, sss);
                dd += dInner;
                sss += sInner;
            }
            // advance the outer dimensions like an odometer
            for (int k = r - 2; k >= 0; k--) {
                idx[k]++;
                d += ds[k] * dstElem;
                s += ss[k] * srcElem;
                if (idx[k] < shape[k]) {
                    break;
                }
                d -= ds[k] * dstElem * shape[k];
                s -= ss[k] * srcElem * shape[k];
                idx[k] = 0;
            }
        }
    }

    static void fill(Tensor t, long bits) {
        MemorySegment seg = t.hostStorage();
        int elem = t.dtype().byteSize();
        StridedLayout l = StridedLayout.of(t, t);
        if (l.isDense(0)) {
            MemorySegment run = seg.asSlice(t.byteOffset(), l.numel() * elem);
            if (sameBytes(bits, elem)) {
                run.fill((byte) bits);
            } else {
                for (long i = 0; i < l.numel(); i++) {
                    Tensor.writeRaw(run, i * elem, elem, bits);
                }
            }
            return;
        }
        walk(l, t.byteOffset(), elem, t.byteOffset(), elem, (d, s) -> Tensor.writeRaw(seg, d, elem, bits));
    }

    private static boolean sameBytes(long bits, int elem) {
        byte b = (byte) bits;
        for (int i = 1; i < elem; i++) {
            if ((byte) (bits >>> (8 * i)) != b) {
                return false;
            }
        }
        return true;
    }

    static void copy(Tensor src, Tensor dst) {
        MemorySegment ss = src.hostStorage();
        MemorySegment ds = dst.hostStorage();
        int elem = src.dtype().byteSize();
        StridedLayout l = StridedLayout.of(dst, src);
        if (l.numel() == 0) {
            return; // the row loop below would address rows of an empty storage
        }
        if (l.isDense(0) && l.isDense(1)) {
            MemorySegment.copy(ss, src.byteOffset(), ds, dst.byteOffset(), l.numel() * elem);
            return;
        }
        if (l.rank() == 2 && l.strides[0][1] == 1 && l.strides[1][1] == 1) {
            long rowBytes = l.shape[1] * elem;
            for (long r = 0; r < l.shape[0]; r++) {
                MemorySegment.copy(ss, src.byteOffset() + r * l.strides[1][0] * elem,
                        ds, dst.byteOffset() + r * l.strides[0][0] * elem, rowBytes);
            }
            return;
        }
        walk(l, dst.byteOffset(), elem, src.byteOffset(), elem,
                (d, s) -> Tensor.writeRaw(ds, d, elem, Tensor.readRaw(ss, s, elem)));
    }

    static void cast(Tensor src, Tensor dst, boolean saturate) {
        MemorySegment ss = src.hostStorage();
        MemorySegment ds = dst.hostStorage();
        DType from = src.dtype();
        DType to = dst.dtype();
        if (from == to) {
            copy(src, dst);
            return;
        }
        int se = from.byteSize();
        int de = to.byteSize();
        StridedLayout l = StridedLayout.of(dst, src);
        if (l.isDense(0) && l.isDense(1)) {
            // Dense on both sides: a plain indexed loop, split over the cores when it is large.
            long n = l.numel();
            long so = src.byteOffset();
            long dO = dst.byteOffset();
            int parts = n >= PARALLEL_THRESHOLD ? Runtime.getRuntime().availableProcessors() * 4 : 1;
            java.util.stream.IntStream range = java.util.stream.IntStream.range(0, parts);
            (parts > 1 ? range.parallel() : range).forEach(p -> {
                long from0 = n * p / parts;
                long to0 = n * (p + 1) / parts;
                if (from == DType.F32) {
                    for (long i = from0; i < to0; i++) {
                        int f = ss.get(ValueLayout.JAVA_INT_UNALIGNED, so + 4 * i);
                        Tensor.writeRaw(ds, dO + i * de, de, DTypeCodec.fromF32Bits(to, f, saturate));
                    }
                } else {
                    for (long i = from0; i < to0; i++) {
                        long raw = Tensor.readRaw(ss, so + i * se, se);
                        Tensor.writeRaw(ds, dO + i * de, de, DTypeCodec.convert(from, to, raw, saturate));
                    }
                }
            });
            return;
        }
        walk(l, dst.byteOffset(), de, src.byteOffset(), se,
                (d, s) -> Tensor.writeRaw(ds, d, de, DTypeCodec.convert(from, to, Tensor.readRaw(ss, s, se), saturate)));
    }
}
