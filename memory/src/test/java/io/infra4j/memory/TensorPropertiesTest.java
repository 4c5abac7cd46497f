package io.infra4j.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.CudaUnavailableException;
import io.infra4j.ffm.ResourceTracker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * No input crashes: random shapes, view chains, indices, closes and ops, valid or not, either
 * succeed or throw {@link IllegalArgumentException} / {@link IllegalStateException}, never anything
 * else. Beyond that, a plain model (each view as the list of base elements it shows, row-major)
 * says which calls must succeed, and every successful view must show exactly the model's elements.
 * Seeds are fixed, so runs are repeatable.
 */
class TensorPropertiesTest {

    private static final String HOST = Storage.trackerKind(MemoryKind.HOST);

    // ------------------------------------------------------------------ generators

    /** One step of a view chain; which fields matter depends on {@code kind}. */
    record Op(int kind, int a, int b, long x, long y, long z, List<Long> sizes) {
        static final String[] NAMES = {"slice", "select", "transpose", "permute", "view", "get", "closeView",
            "closeBase", "segment", "toFloatArray"};

        @Override
        public String toString() {
            return NAMES[kind] + "(a=" + a + ", b=" + b + ", x=" + x + ", y=" + y + ", z=" + z + ", sizes=" + sizes + ")";
        }
    }

    private static Arbitrary<Long> numbers() {
        return Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.longs().between(-2, 7)),
                Tuple.of(1, Arbitraries.of(Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE - 1, Integer.MAX_VALUE + 1L,
                        -(1L << 40), 1L << 32)));
    }

    @Provide
    Arbitrary<Op> ops() {
        Arbitrary<Integer> kind = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.just(0)), Tuple.of(4, Arbitraries.just(1)), Tuple.of(3, Arbitraries.just(2)),
                Tuple.of(3, Arbitraries.just(3)), Tuple.of(5, Arbitraries.just(4)), Tuple.of(4, Arbitraries.just(5)),
                Tuple.of(1, Arbitraries.just(6)), Tuple.of(1, Arbitraries.just(7)), Tuple.of(2, Arbitraries.just(8)),
                Tuple.of(1, Arbitraries.just(9)));
        Arbitrary<Integer> dim = Arbitraries.frequencyOf(
                Tuple.of(10, Arbitraries.integers().between(-4, 4)),
                Tuple.of(1, Arbitraries.of(Integer.MIN_VALUE, Integer.MAX_VALUE, 7, -9)));
        Arbitrary<List<Long>> sizes = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.longs().between(1, 4)), Tuple.of(2, Arbitraries.just(-1L)),
                Tuple.of(1, numbers())).list().ofMaxSize(5);
        return Combinators.combine(kind, dim, dim, numbers(), numbers(), numbers(), sizes).as(Op::new);
    }

    @Provide
    Arbitrary<List<Long>> baseShapes() {
        return Arbitraries.frequencyOf(
                Tuple.of(20, Arbitraries.longs().between(0, 5)),
                Tuple.of(1, Arbitraries.of(-1L, -7L, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 31, 1L << 62))).list().ofMaxSize(4);
    }

    // ------------------------------------------------------------------ the model

    /** A view as the model sees it: its shape and, row-major, the base element index of each element. */
    record Model(long[] shape, long[] elems) {
        int rank() {
            return shape.length;
        }

        int dim(int d) {
            int r = shape.length;
            if (d < -r || d >= r) {
                return -1;
            }
            return d < 0 ? d + r : d;
        }

        long[] strides() { // row-major strides of the model's own index space
            long[] st = new long[shape.length];
            long acc = 1;
            for (int d = shape.length - 1; d >= 0; d--) {
                st[d] = acc;
                acc *= Math.max(shape[d], 1);
            }
            return st;
        }

        long at(long[] idx) {
            long[] st = strides();
            long k = 0;
            for (int d = 0; d < idx.length; d++) {
                k += idx[d] * st[d];
            }
            return elems[(int) k];
        }

        /** A new model from a new shape and a function of its index to an index of this one. */
        Model derive(long[] newShape, java.util.function.Function<long[], long[]> toOld) {
            List<Long> out = new ArrayList<>();
            TestViews.forEachIndex(newShape, idx -> out.add(at(toOld.apply(idx.clone()))));
            return new Model(newShape, out.stream().mapToLong(Long::longValue).toArray());
        }

        boolean consecutive() {
            for (int i = 1; i < elems.length; i++) {
                if (elems[i] != elems[0] + i) {
                    return false;
                }
            }
            return true;
        }
    }

    /** A dimension in range for the rank, counted from the end when {@code a} is negative. */
    private static int fitDim(int a, int rank) {
        int d = Math.floorMod(a, rank);
        return a < 0 ? d - rank : d;
    }

    private static long[] toArray(List<Long> l) {
        return l.stream().mapToLong(Long::longValue).toArray();
    }

    /** The low bits of element k of the base: distinct enough to see a wrong mapping. */
    private static long pattern(DType dt, long k) {
        long h = k * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        long bits = dt.byteSize() == 8 ? h : h & ((1L << (8 * dt.byteSize())) - 1);
        return dt == DType.BOOL ? (k & 1) : bits;
    }

    /** How a call ended; EITHER: OK or BAD_ARGUMENT (not CLOSED, not UNAVAILABLE). */
    private enum Outcome { OK, BAD_ARGUMENT, CLOSED, UNAVAILABLE, EITHER }

    /** Runs the call, and fails unless it ended as the model says (and never with another exception). */
    private static <T> T expect(Outcome expected, Supplier<T> call, String what) {
        T result = null;
        Outcome actual;
        Throwable thrown = null;
        try {
            result = call.get();
            actual = Outcome.OK;
        } catch (CudaUnavailableException e) {
            actual = Outcome.UNAVAILABLE;
            thrown = e;
        } catch (IllegalStateException e) {
            actual = Outcome.CLOSED;
            thrown = e;
        } catch (IllegalArgumentException e) {
            actual = Outcome.BAD_ARGUMENT;
            thrown = e;
            if (e.getMessage() == null || !e.getMessage().matches("(?s)^[a-zA-Z0-9\\[\\]]+: .*")) {
                fail(what + ": an IllegalArgumentException should start with the argument's name, got: " + e.getMessage());
            }
        } catch (Throwable e) {
            throw new AssertionError(what + ": threw " + e + ", neither IllegalArgumentException nor IllegalStateException", e);
        }
        if (expected == Outcome.EITHER && (actual == Outcome.OK || actual == Outcome.BAD_ARGUMENT)) {
            return result;
        }
        if (expected != actual) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual + (thrown == null ? "" : ": " + thrown), thrown);
        }
        return result;
    }

    // ------------------------------------------------------------------ properties

    @Property(tries = 1500, seed = "4242", shrinking = ShrinkingMode.BOUNDED)
    void randomViewChainsNeverCrashAndShowTheModelsElements(
            @ForAll("baseShapes") List<Long> baseShape,
            @ForAll DType dtype,
            @ForAll @Size(max = 8) List<@net.jqwik.api.From("ops") Op> ops) {
        long hostBefore = ResourceTracker.liveBytes(HOST);
        long[] shape = toArray(baseShape);
        boolean negative = Arrays.stream(shape).anyMatch(s -> s < 0);
        boolean overflow = false;
        long elems = 1;
        if (Arrays.stream(shape).anyMatch(s -> s == 0)) {
            elems = 0; // no elements, whatever the other sizes: [huge, huge, 0] is no overflow
        } else try {
            for (long s : shape) {
                elems = Math.multiplyExact(elems, s);
            }
            Math.multiplyExact(elems, dtype.byteSize());
        } catch (ArithmeticException e) {
            overflow = true;
        }
        if (!negative && !overflow && elems > 4096) {
            return; // a valid but large allocation: not what this property is about
        }
        String what = "empty(" + dtype + ", " + Arrays.toString(shape) + ")";
        try (TensorScope scope = TensorScope.open()) {
            Tensor base = expect(negative || overflow ? Outcome.BAD_ARGUMENT : Outcome.OK,
                    () -> scope.empty(dtype, Device.CPU, shape), what);
            if (base == null) {
                return;
            }
            long[] all = new long[(int) elems];
            for (int k = 0; k < all.length; k++) {
                all[k] = k;
            }
            final Tensor b0 = base;
            TestViews.forEachIndex(shape, idx -> {
                long k = 0;
                long[] st = b0.strides();
                for (int d = 0; d < idx.length; d++) {
                    k += idx[d] * st[d];
                }
                b0.setBits(pattern(dtype, k), idx);
            });
            Model model = new Model(shape, all);
            Tensor view = base.view(shape);
            boolean viewClosed = false;
            List<String> trail = new ArrayList<>();
            trail.add(what);
            for (Op op : ops) {
                trail.add(op.toString());
                String here = String.join(" -> ", trail);
                Tensor v = view;
                Model m = model;
                Outcome closed = viewClosed ? Outcome.CLOSED : null;
                switch (op.kind()) {
                    case 0 -> { // slice: raw arguments when b is odd, arguments made valid when b is even
                        boolean fit = (op.b() & 1) == 0 && m.rank() > 0;
                        int dimArg = fit ? fitDim(op.a(), m.rank()) : op.a();
                        int d = m.dim(dimArg);
                        long size = d >= 0 ? m.shape()[d] : 0;
                        long start = fit ? Math.floorMod(op.x(), size + 1) : op.x();
                        long end = fit ? start + Math.floorMod(op.y(), size - start + 1) : op.y();
                        long step = fit ? 1 + Math.floorMod(op.z(), 3) : op.z() == 0 ? 1 : op.z();
                        boolean ok = d >= 0 && step > 0 && start >= 0 && start <= end && end <= m.shape()[d];
                        Tensor r = expect(closed != null ? closed : ok ? Outcome.OK : Outcome.BAD_ARGUMENT,
                                () -> v.slice(dimArg, start, end, step), here + " [slice(" + dimArg + ", " + start + ", "
                                        + end + ", " + step + ")]");
                        if (r != null) {
                            long[] ns = m.shape().clone();
                            ns[d] = end == start ? 0 : (end - start - 1) / step + 1;
                            model = m.derive(ns, i -> {
                                i[d] = start + i[d] * step;
                                return i;
                            });
                            view = r;
                        }
                    }
                    case 1 -> { // select
                        boolean fit = (op.b() & 1) == 0 && m.rank() > 0;
                        int dimArg = fit ? fitDim(op.a(), m.rank()) : op.a();
                        int d = m.dim(dimArg);
                        long index = fit && m.shape()[d] > 0 ? Math.floorMod(op.x(), m.shape()[d]) : op.x();
                        boolean ok = d >= 0 && index >= 0 && index < m.shape()[d];
                        Tensor r = expect(closed != null ? closed : ok ? Outcome.OK : Outcome.BAD_ARGUMENT,
                                () -> v.select(dimArg, index), here + " [select(" + dimArg + ", " + index + ")]");
                        if (r != null) {
                            long[] ns = new long[m.rank() - 1];
                            for (int i = 0, j = 0; i < m.rank(); i++) {
                                if (i != d) {
                                    ns[j++] = m.shape()[i];
                                }
                            }
                            model = m.derive(ns, i -> {
                                long[] old = new long[m.rank()];
                                for (int k = 0, j = 0; k < old.length; k++) {
                                    old[k] = k == d ? index : i[j++];
                                }
                                return old;
                            });
                            view = r;
                        }
                    }
                    case 2 -> { // transpose
                        int d0 = m.dim(op.a());
                        int d1 = m.dim(op.b());
                        boolean ok = d0 >= 0 && d1 >= 0;
                        Tensor r = expect(closed != null ? closed : ok ? Outcome.OK : Outcome.BAD_ARGUMENT,
                                () -> v.transpose(op.a(), op.b()), here);
                        if (r != null) {
                            long[] ns = m.shape().clone();
                            ns[d0] = m.shape()[d1];
                            ns[d1] = m.shape()[d0];
                            model = m.derive(ns, i -> {
                                long t = i[d0];
                                i[d0] = i[d1];
                                i[d1] = t;
                                return i;
                            });
                            view = r;
                        }
                    }
                    case 3 -> { // permute: a valid shuffle half the time, the raw sizes otherwise
                        int[] order;
                        if ((op.a() & 1) == 0) {
                            SplittableRandom rnd = new SplittableRandom(op.x());
                            order = new int[m.rank()];
                            for (int i = 0; i < order.length; i++) {
                                order[i] = i;
                            }
                            for (int i = order.length - 1; i > 0; i--) {
                                int j = rnd.nextInt(i + 1);
                                int t = order[i];
                                order[i] = order[j];
                                order[j] = t;
                            }
                            if (order.length > 0 && rnd.nextBoolean()) {
                                order[0] -= order.length; // the same dimension, counted from the end
                            }
                        } else {
                            order = op.sizes().stream().mapToInt(Long::intValue).toArray();
                        }
                        int[] norm = new int[order.length];
                        boolean ok = order.length == m.rank();
                        boolean[] seen = new boolean[m.rank()];
                        for (int i = 0; ok && i < order.length; i++) {
                            norm[i] = m.dim(order[i]);
                            ok = norm[i] >= 0 && !seen[norm[i]];
                            if (ok) {
                                seen[norm[i]] = true;
                            }
                        }
                        final int[] o = order;
                        Tensor r = expect(closed != null ? closed : ok ? Outcome.OK : Outcome.BAD_ARGUMENT,
                                () -> v.permute(o), here);
                        if (r != null) {
                            long[] ns = new long[m.rank()];
                            for (int i = 0; i < ns.length; i++) {
                                ns[i] = m.shape()[norm[i]];
                            }
                            model = m.derive(ns, i -> {
                                long[] old = new long[m.rank()];
                                for (int k = 0; k < old.length; k++) {
                                    old[norm[k]] = i[k];
                                }
                                return old;
                            });
                            view = r;
                        }
                    }
                    case 4 -> { // view
                        long[] req = toArray(op.sizes());
                        long n = m.elems().length;
                        long[] ns = req.clone();
                        Outcome o = Outcome.OK;
                        int infer = -1;
                        long known = 1;
                        boolean anyZero = Arrays.stream(ns).anyMatch(q -> q == 0);
                        for (int i = 0; i < ns.length && o == Outcome.OK; i++) {
                            if (ns[i] == -1 && infer < 0) {
                                infer = i;
                            } else if (ns[i] < 0) {
                                o = Outcome.BAD_ARGUMENT;
                            } else if (anyZero) {
                                known = 0;
                            } else {
                                try {
                                    known = Math.multiplyExact(known, ns[i]);
                                } catch (ArithmeticException e) {
                                    o = Outcome.BAD_ARGUMENT;
                                }
                            }
                        }
                        if (o == Outcome.OK && infer >= 0) {
                            if (known == 0 || n % known != 0) {
                                o = Outcome.BAD_ARGUMENT;
                            } else {
                                ns[infer] = n / known;
                            }
                        }
                        if (o == Outcome.OK && infer < 0 && known != n) {
                            o = Outcome.BAD_ARGUMENT;
                        }
                        if (o == Outcome.OK && !m.consecutive()) {
                            o = Outcome.BAD_ARGUMENT;
                        }
                        if (o == Outcome.OK && n == 0) {
                            o = Outcome.EITHER; // no elements: contiguity is a matter of strides
                        }
                        Tensor r = expect(closed != null ? closed : o, () -> v.view(req), here);
                        if (r != null) {
                            model = new Model(ns, m.elems());
                            view = r;
                        }
                    }
                    case 5 -> { // get: the raw sizes as the index when b is odd, an index in range when b is even
                        long[] idx = toArray(op.sizes());
                        if ((op.b() & 1) == 0 && m.elems().length > 0) {
                            SplittableRandom rnd = new SplittableRandom(op.x());
                            idx = new long[m.rank()];
                            for (int d = 0; d < idx.length; d++) {
                                idx[d] = rnd.nextLong(m.shape()[d]);
                            }
                        }
                        final long[] index = idx;
                        boolean ok = idx.length == m.rank();
                        for (int d = 0; ok && d < idx.length; d++) {
                            ok = idx[d] >= 0 && idx[d] < m.shape()[d];
                        }
                        Long bits = expect(closed != null ? closed : ok ? Outcome.OK : Outcome.BAD_ARGUMENT,
                                () -> v.getBits(index), here + " [get" + Arrays.toString(index) + "]");
                        if (bits != null) {
                            assertEquals(pattern(dtype, m.at(index)), bits.longValue(), here + ": element " + Arrays.toString(index));
                        }
                    }
                    case 6 -> { // close the view (the chain goes on with a closed tensor)
                        v.close();
                        viewClosed = true;
                    }
                    case 7 -> base.close(); // the views keep the storage alive
                    case 8 -> { // the view's bytes
                        expect(closed != null ? closed : Outcome.OK, () -> {
                            v.segment();
                            return Boolean.TRUE;
                        }, here);
                    }
                    case 9 -> {
                        // the dtype is checked before the tensor is: a closed I32 tensor says "dtype: ..."
                        float[] f = expect(!dtype.isFloatingPoint() ? Outcome.BAD_ARGUMENT : closed != null ? closed : Outcome.OK,
                                v::toFloatArray, here);
                        if (f != null) {
                            assertEquals(m.elems().length, f.length, here);
                            for (int i = 0; i < f.length; i++) {
                                float e = Float.intBitsToFloat(DTypeCodec.toF32Bits(dtype, pattern(dtype, m.elems()[i])));
                                assertEquals(Float.floatToIntBits(e), Float.floatToIntBits(f[i]), here + ": toFloatArray[" + i + "]");
                            }
                        }
                    }
                    default -> throw new AssertionError(op.toString());
                }
                if (!viewClosed) {
                    checkAgainstModel(view, model, dtype, base, here);
                }
            }
        }
        assertEquals(hostBefore, ResourceTracker.liveBytes(HOST), "the scope freed everything");
    }

    private static void checkAgainstModel(Tensor v, Model m, DType dtype, Tensor base, String here) {
        assertArrayEquals(m.shape(), v.shape(), here + ": shape");
        long elem = dtype.byteSize();
        long[] k = {0};
        TestViews.forEachIndex(m.shape(), idx -> {
            long expected = m.elems()[(int) k[0]++];
            assertEquals(expected * elem, v.elementOffset(idx), here + ": byte offset of " + Arrays.toString(idx));
            assertEquals(pattern(dtype, expected), v.getBits(idx), here + ": element " + Arrays.toString(idx));
        });
        if (m.elems().length > 0) {
            assertEquals(m.elems()[0] * elem, v.byteOffset(), here + ": byteOffset");
            assertEquals(m.consecutive(), v.isContiguous(), here + ": isContiguous");
            long last = Arrays.stream(m.elems()).max().orElseThrow();
            assertTrue(v.segment().byteSize() >= (last - m.elems()[0] + 1) * elem, here + ": segment covers the elements");
        }
        assertTrue(v.sharesStorageWith(base), here + ": a view shares the base's storage");
        assertTrue(v.byteOffset() >= 0, here + ": byteOffset >= 0");
    }

    @Property(tries = 800, seed = "777")
    void allocationEitherSucceedsOrNamesTheShape(
            @ForAll("baseShapes") List<Long> shape, @ForAll DType dtype, @ForAll @IntRange(min = 0, max = 2) int where) {
        long[] s = toArray(shape);
        long elems = 1;
        boolean bad = false;
        for (long x : s) {
            if (x < 0) {
                bad = true;
            }
        }
        if (!bad && Arrays.stream(s).anyMatch(x -> x == 0)) {
            elems = 0;
        } else if (!bad) {
            try {
                for (long x : s) {
                    elems = Math.multiplyExact(elems, x);
                }
                Math.multiplyExact(elems, dtype.byteSize());
            } catch (ArithmeticException e) {
                bad = true;
            }
        }
        if (!bad && elems > (1 << 16)) {
            return;
        }
        Device device = where == 0 ? Device.CPU : Device.cuda(where - 1);
        Outcome expected = bad ? Outcome.BAD_ARGUMENT
                : device.isCpu() || Cuda.deviceCount() > device.index() ? Outcome.OK
                : Cuda.isAvailable() ? Outcome.BAD_ARGUMENT : Outcome.UNAVAILABLE;
        Tensor t = expect(expected,
                () -> Tensor.empty(dtype, device, s), "empty(" + dtype + ", " + device + ", " + Arrays.toString(s) + ")");
        if (t != null) {
            assertEquals(elems, t.numel());
            assertArrayEquals(s, t.shape());
            t.close();
        }
    }

    @Property(tries = 1500, seed = "99")
    void opsOnRandomPairsNeverCrashAndRefuseExactlyTheBadOnes(
            @ForAll DType srcType, @ForAll DType dstType, @ForAll @IntRange(min = 0, max = 4) int op,
            @ForAll @IntRange(min = 0, max = 3) int sameStorage /* 0: one storage, 1: same dtype */, @ForAll @IntRange(min = 0, max = 19) int closing,
            @ForAll long seed) {
        long hostBefore = ResourceTracker.liveBytes(HOST);
        SplittableRandom r = new SplittableRandom(seed);
        long[] shapeA = TestViews.randomShape(r, 3, 4, true);
        long[] shapeB = r.nextInt(3) == 0 ? TestViews.randomShape(r, 3, 4, true) : shapeA.clone();
        boolean shared = sameStorage == 0;
        boolean sameHalf = shared && r.nextBoolean();
        try (TensorScope scope = TensorScope.open()) {
            TestViews.ViewSpec sa = TestViews.ViewSpec.random(r, shapeA);
            TestViews.ViewSpec sb = TestViews.ViewSpec.random(r, shapeB);
            Tensor src;
            Tensor dst;
            if (shared) { // two views of one storage: the same half (overlapping) or the two halves (disjoint)
                long[] bs = sa.baseShape();
                long[] twice = new long[bs.length + 1];
                twice[0] = 2;
                System.arraycopy(bs, 0, twice, 1, bs.length);
                Tensor both = scope.empty(srcType, Device.CPU, twice);
                TestViews.fillRandomBytes(both, r);
                int i = r.nextInt(2);
                src = sa.viewOf(both.select(0, i));
                dst = sa.viewOf(both.select(0, sameHalf ? i : 1 - i));
            } else {
                Tensor baseA = scope.empty(srcType, Device.CPU, sa.baseShape());
                TestViews.fillRandomBytes(baseA, r);
                src = sa.viewOf(baseA);
                Tensor baseB = scope.empty(sameStorage == 1 ? srcType : dstType, Device.CPU, sb.baseShape());
                TestViews.fillRandomBytes(baseB, r);
                dst = sb.viewOf(baseB);
            }
            Tensor d = dst;
            boolean closedSrc = closing == 0;
            boolean closedDst = closing == 1;
            if (closedSrc) {
                src.close();
            }
            if (closedDst) {
                d.close();
            }
            boolean sameShape = Arrays.equals(src.shape(), d.shape());
            boolean overlap = sameHalf && src.numel() > 0;
            String what = Op2.values()[op] + " " + src + " -> " + d;
            Outcome expected;
            boolean fill = op >= 3;
            if (closedDst || closedSrc && !fill) {
                expected = Outcome.CLOSED;
            } else {
                expected = switch (Op2.values()[op]) {
                    case COPY -> src.dtype() == d.dtype() && sameShape && !overlap ? Outcome.OK : Outcome.BAD_ARGUMENT;
                    case CAST, CAST_SATURATE -> src.dtype().isCastable() && d.dtype().isCastable() && sameShape && !overlap
                            ? Outcome.OK : Outcome.BAD_ARGUMENT;
                    case FILL -> Outcome.EITHER; // integers refuse fractions and out-of-range values
                    case FILL_BITS -> Outcome.OK;
                };
            }
            double value = (r.nextDouble() - 0.5) * 600;
            expect(expected, () -> {
                switch (Op2.values()[op]) {
                    case COPY -> TensorOps.copy(src, d);
                    case CAST -> TensorOps.cast(src, d);
                    case CAST_SATURATE -> TensorOps.cast(src, d, CastMode.SATURATE, CudaStream.legacyDefault());
                    case FILL -> TensorOps.fill(d, value);
                    case FILL_BITS -> TensorOps.fillBits(d, r.nextLong(), null);
                }
                return Boolean.TRUE;
            }, what);
        }
        assertEquals(hostBefore, ResourceTracker.liveBytes(HOST), "the scope freed everything");
    }

    private enum Op2 { COPY, CAST, CAST_SATURATE, FILL, FILL_BITS }
}
