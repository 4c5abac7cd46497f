package io.infra4j.memory;

import io.infra4j.ffm.CudaStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A strided, typed view of off-heap memory on the host or a GPU: dtype, shape, strides (in
 * elements), a byte offset, a device, and a reference-counted {@link Storage} that views share.
 *
 * <p>Views ({@link #slice}, {@link #select}, {@link #transpose}, {@link #permute}, {@link #view})
 * copy nothing. Every tensor, view or not, is {@link AutoCloseable}: the storage is freed when the
 * last tensor on it closes. Tensors made through a {@link TensorScope} (and their views) close with
 * the scope. Host tensors expose their bytes as a {@link MemorySegment}; device tensors expose an
 * address only.
 *
 * <p>Bad arguments (an index out of range, a dimension that does not exist, a closed tensor) raise
 * {@link IllegalArgumentException} or {@link IllegalStateException} naming the argument, the
 * expected and the actual value.
 */
public final class Tensor implements AutoCloseable {
    private final Storage storage;
    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final long byteOffset;
    private final TensorScope scope;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Takes over one reference of {@code storage} (the caller has retained it for this tensor). */
    Tensor(Storage storage, DType dtype, long[] shape, long[] strides, long byteOffset, TensorScope scope) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.byteOffset = byteOffset;
        this.scope = scope;
        long span = spanBytes(dtype, shape, strides);
        if (byteOffset < 0 || byteOffset + span > storage.byteSize()) {
            storage.releaseOne();
            throw new IllegalArgumentException("view: bytes [" + byteOffset + ", " + (byteOffset + span)
                    + ") do not fit the storage of " + storage.byteSize() + " bytes");
        }
        if (scope != null) {
            scope.adopt(this);
        }
    }

    // ---- making tensors ----

    /** An uninitialised, caller-owned tensor; device memory is allocated on the legacy default stream. */
    public static Tensor empty(DType dtype, Device device, long... shape) {
        return TensorScope.allocate(dtype, device, MemoryKind.defaultFor(device), CudaStream.legacyDefault(), shape, null);
    }

    /** An uninitialised, caller-owned device tensor whose allocation and free are ordered on {@code stream}. */
    public static Tensor empty(DType dtype, Device device, CudaStream stream, long... shape) {
        return TensorScope.allocate(dtype, device, MemoryKind.defaultFor(device), stream, shape, null);
    }

    /** An uninitialised, caller-owned tensor in pinned (page-locked) host memory. */
    public static Tensor pinned(DType dtype, long... shape) {
        return TensorScope.allocate(dtype, Device.CPU, MemoryKind.PINNED, CudaStream.legacyDefault(), shape, null);
    }

    /** A caller-owned host tensor holding {@code values} converted to {@code dtype} (floating dtypes). */
    public static Tensor ofFloats(DType dtype, float[] values, long... shape) {
        Tensor t = empty(dtype, Device.CPU, shape);
        try {
            t.copyFromFloats(values);
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    // ---- what it is ----

    public DType dtype() {
        return dtype;
    }

    /** A copy of the sizes of each dimension. */
    public long[] shape() {
        return shape.clone();
    }

    /** A copy of the strides, in elements. */
    public long[] strides() {
        return strides.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long size(int dim) {
        return shape[checkDim(dim, "dim")];
    }

    public long stride(int dim) {
        return strides[checkDim(dim, "dim")];
    }

    /** Offset of element [0, ..., 0] from the start of the storage, in bytes. */
    public long byteOffset() {
        return byteOffset;
    }

    public Device device() {
        return storage.device();
    }

    public MemoryKind memoryKind() {
        return storage.kind();
    }

    /** Number of elements. */
    public long numel() {
        return numel(shape);
    }

    /** Bytes the elements would take if packed: numel * element size. */
    public long byteSize() {
        return numel() * dtype.byteSize();
    }

    /** Row-major and dense: the last stride is 1 and each other is the product of the sizes after it. */
    public boolean isContiguous() {
        return isContiguous(shape, strides);
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** Whether both tensors are views of the same storage. */
    public boolean sharesStorageWith(Tensor other) {
        return storage == other.storage;
    }

    /** Tensors (this one included) now holding the storage. */
    public int storageReferences() {
        return storage.references();
    }

    /** Address of element [0, ..., 0], for native calls. */
    public long address() {
        checkOpen();
        return storage.address() + byteOffset;
    }

    /**
     * The view's bytes: for host memory a segment from element [0, ..., 0] to just past the last
     * element; for device memory a zero-length segment at {@link #address()}, which Java cannot read.
     */
    public MemorySegment segment() {
        checkOpen();
        MemorySegment whole = storage.segment();
        if (!storage.kind().isHostAccessible()) {
            return MemorySegment.ofAddress(address());
        }
        return whole.asSlice(byteOffset, spanBytes(dtype, shape, strides));
    }

    /** The storage (internal: for ops that need the allocation itself). */
    Storage storage() {
        return storage;
    }

    /** The scope this tensor belongs to, or null when the caller owns it. */
    TensorScope scope() {
        return scope;
    }

    // ---- views ----

    /** Elements {@code start} (inclusive) to {@code end} (exclusive) of dimension {@code dim}. */
    public Tensor slice(int dim, long start, long end) {
        return slice(dim, start, end, 1);
    }

    /** Every {@code step}-th element from {@code start} up to {@code end} (exclusive) of {@code dim}. */
    public Tensor slice(int dim, long start, long end, long step) {
        checkOpen();
        int d = checkDim(dim, "dim");
        if (step <= 0) {
            throw new IllegalArgumentException("step: expected > 0, got " + step);
        }
        if (start < 0 || end < start || end > shape[d]) {
            throw new IllegalArgumentException("slice: expected 0 <= start <= end <= " + shape[d] + " for dim " + d
                    + " of shape " + Arrays.toString(shape) + ", got start " + start + ", end " + end);
        }
        long[] s = shape.clone();
        long[] st = strides.clone();
        s[d] = end == start ? 0 : (end - start - 1) / step + 1; // not (end - start + step - 1) / step: overflows
        st[d] = s[d] <= 1 ? strides[d] : strides[d] * step; // a huge step leaves one element, whose stride is moot
        return derive(s, st, byteOffset + start * strides[d] * dtype.byteSize());
    }

    /** The sub-tensor at {@code index} of dimension {@code dim}, one rank lower. */
    public Tensor select(int dim, long index) {
        checkOpen();
        int d = checkDim(dim, "dim");
        if (index < 0 || index >= shape[d]) {
            throw new IllegalArgumentException("index: dim " + d + " of shape " + Arrays.toString(shape)
                    + " takes 0.." + (shape[d] - 1) + ", got " + index);
        }
        long[] s = remove(shape, d);
        long[] st = remove(strides, d);
        return derive(s, st, byteOffset + index * strides[d] * dtype.byteSize());
    }

    /** Swaps two dimensions. */
    public Tensor transpose(int dim0, int dim1) {
        checkOpen();
        int a = checkDim(dim0, "dim0");
        int b = checkDim(dim1, "dim1");
        long[] s = shape.clone();
        long[] st = strides.clone();
        s[a] = shape[b];
        s[b] = shape[a];
        st[a] = strides[b];
        st[b] = strides[a];
        return derive(s, st, byteOffset);
    }

    /** Reorders the dimensions: dimension i of the result is dimension {@code order[i]} of this. */
    public Tensor permute(int... order) {
        checkOpen();
        if (order.length != shape.length) {
            throw new IllegalArgumentException("order: expected " + shape.length + " dimensions, got " + order.length);
        }
        boolean[] seen = new boolean[shape.length];
        long[] s = new long[shape.length];
        long[] st = new long[shape.length];
        for (int i = 0; i < order.length; i++) {
            int d = checkDim(order[i], "order[" + i + "]");
            if (seen[d]) {
                throw new IllegalArgumentException("order: dimension " + d + " appears twice in " + Arrays.toString(order));
            }
            seen[d] = true;
            s[i] = shape[d];
            st[i] = strides[d];
        }
        return derive(s, st, byteOffset);
    }

    /**
     * The same elements in another shape (one size may be -1, inferred). Needs a contiguous tensor:
     * copy a strided one first.
     */
    public Tensor view(long... newShape) {
        checkOpen();
        long[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        boolean anyZero = Arrays.stream(s).anyMatch(x -> x == 0); // then known is 0, whatever else: no overflow
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1 && infer < 0) {
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException("shape: sizes are >= 0 (one may be -1), got " + Arrays.toString(newShape));
            } else if (anyZero) {
                known = 0;
            } else {
                try {
                    known = Math.multiplyExact(known, s[i]);
                } catch (ArithmeticException e) {
                    throw new IllegalArgumentException("shape: " + Arrays.toString(newShape) + " overflows a long");
                }
            }
        }
        long n = numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException("shape: cannot infer -1 in " + Arrays.toString(newShape) + " for " + n + " elements");
            }
            s[infer] = n / known;
        }
        if (numel(s) != n) {
            throw new IllegalArgumentException("shape: " + Arrays.toString(newShape) + " holds " + numel(s)
                    + " elements, the tensor has " + n + " (shape " + Arrays.toString(shape) + ")");
        }
        if (!isContiguous()) {
            throw new IllegalArgumentException("view: needs a contiguous tensor, got shape " + Arrays.toString(shape)
                    + " with strides " + Arrays.toString(strides) + "; copy it to a contiguous tensor first");
        }
        return derive(s, contiguousStrides(s), byteOffset);
    }

    private Tensor derive(long[] s, long[] st, long off) {
        if (numel(s) == 0) {
            off = byteOffset; // no elements: where they would start may lie past the storage (x[::3][4:4])
        }
        storage.retain();
        return new Tensor(storage, dtype, s, st, off, scope);
    }

    // ---- elements (host memory only) ----

    /** Raw bits of one element (zero-extended). */
    public long getBits(long... index) {
        MemorySegment seg = hostStorage();
        return readRaw(seg, elementOffset(index), dtype.byteSize());
    }

    /** Writes the raw bits of one element (the low bytes of {@code bits}). */
    public void setBits(long bits, long... index) {
        MemorySegment seg = hostStorage();
        writeRaw(seg, elementOffset(index), dtype.byteSize(), bits);
    }

    /** One element's value. */
    public double get(long... index) {
        return DTypeCodec.decodeScalar(dtype, getBits(index));
    }

    /** Sets one element to {@code value} converted as {@link DTypeCodec#encodeScalar} does. */
    public void set(double value, long... index) {
        setBits(DTypeCodec.encodeScalar(dtype, value), index);
    }

    /** All elements in row-major order, decoded to float (floating dtypes, host memory). */
    public float[] toFloatArray() {
        requireFloating();
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("toFloatArray: " + n + " elements do not fit a Java array");
        }
        float[] out = new float[(int) n];
        MemorySegment seg = hostStorage();
        int elem = dtype.byteSize();
        int[] i = {0};
        forEachOffset(off -> out[i[0]++] = Float.intBitsToFloat(DTypeCodec.toF32Bits(dtype, readRaw(seg, off, elem))));
        return out;
    }

    /** Overwrites every element, in row-major order, with {@code values} converted to this dtype. */
    public void copyFromFloats(float[] values) {
        requireFloating();
        if (values.length != numel()) {
            throw new IllegalArgumentException("values: expected " + numel() + " floats for shape "
                    + Arrays.toString(shape) + ", got " + values.length);
        }
        MemorySegment seg = hostStorage();
        int elem = dtype.byteSize();
        int[] i = {0};
        forEachOffset(off -> writeRaw(seg, off, elem,
                DTypeCodec.fromF32Bits(dtype, Float.floatToRawIntBits(values[i[0]++]), false)));
    }

    /** Calls {@code action} with the byte offset (from the storage start) of each element, row-major. */
    void forEachOffset(java.util.function.LongConsumer action) {
        int r = shape.length;
        long n = numel();
        if (n == 0) {
            return;
        }
        long elem = dtype.byteSize();
        long[] idx = new long[r];
        long off = byteOffset;
        for (long k = 0; k < n; k++) {
            action.accept(off);
            for (int d = r - 1; d >= 0; d--) {
                idx[d]++;
                off += strides[d] * elem;
                if (idx[d] < shape[d]) {
                    break;
                }
                off -= strides[d] * elem * shape[d];
                idx[d] = 0;
            }
        }
    }

    static long readRaw(MemorySegment seg, long off, int elem) {
        return switch (elem) {
            case 1 -> seg.get(ValueLayout.JAVA_BYTE, off) & 0xFFL;
            case 2 -> seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, off) & 0xFFFFL;
            case 4 -> seg.get(ValueLayout.JAVA_INT_UNALIGNED, off) & 0xFFFFFFFFL;
            default -> seg.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
        };
    }

    static void writeRaw(MemorySegment seg, long off, int elem, long bits) {
        switch (elem) {
            case 1 -> seg.set(ValueLayout.JAVA_BYTE, off, (byte) bits);
            case 2 -> seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, off, (short) bits);
            case 4 -> seg.set(ValueLayout.JAVA_INT_UNALIGNED, off, (int) bits);
            default -> seg.set(ValueLayout.JAVA_LONG_UNALIGNED, off, bits);
        }
    }

    /** Byte offset from the storage start of the element at {@code index}. */
    long elementOffset(long... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index: expected " + shape.length + " coordinates for shape "
                    + Arrays.toString(shape) + ", got " + index.length);
        }
        long off = byteOffset;
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IllegalArgumentException("index: coordinate " + d + " takes 0.." + (shape[d] - 1)
                        + " (shape " + Arrays.toString(shape) + "), got " + index[d]);
            }
            off += index[d] * strides[d] * dtype.byteSize();
        }
        return off;
    }

    /** The whole storage as a segment, after checking that Java may read it. */
    MemorySegment hostStorage() {
        checkOpen();
        if (!storage.kind().isHostAccessible()) {
            throw new IllegalStateException("tensor is on " + device() + ": Java cannot read device memory; "
                    + "copy it to a host tensor first (TensorOps.copy)");
        }
        return storage.segment();
    }

    private void requireFloating() {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("dtype: expected a floating-point dtype, got " + dtype);
        }
    }

    // ---- lifetime ----

    void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("tensor is closed: " + describe());
        }
    }

    /** Drops this tensor's hold on the storage; the memory is freed when no tensor holds it. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            if (scope != null) {
                scope.forget(this);
            }
            storage.releaseOne();
        }
    }

    private String describe() {
        return dtype.torchName() + Arrays.toString(shape) + " on " + device();
    }

    @Override
    public String toString() {
        return "Tensor(" + describe() + (isContiguous() ? "" : ", strides " + Arrays.toString(strides))
                + (closed.get() ? ", closed" : "") + ")";
    }

    // ---- shape arithmetic ----

    private int checkDim(int dim, String name) {
        int d = dim < 0 ? dim + shape.length : dim;
        if (d < 0 || d >= shape.length) {
            throw new IllegalArgumentException(name + ": expected a dimension in [" + (-shape.length) + ", "
                    + (shape.length - 1) + "] for shape " + Arrays.toString(shape) + ", got " + dim);
        }
        return d;
    }

    static long numel(long[] shape) {
        for (long s : shape) {
            if (s == 0) {
                return 0; // before multiplying: [huge, huge, 0] is empty, not an overflow
            }
        }
        long n = 1;
        for (long s : shape) {
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    static long[] contiguousStrides(long[] shape) {
        long[] st = new long[shape.length];
        long acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = acc;
            acc *= Math.max(shape[d], 1);
        }
        return st;
    }

    static boolean isContiguous(long[] shape, long[] strides) {
        for (long s : shape) {
            if (s == 0) {
                return true; // no elements: as PyTorch, any strides will do (and view() may reshape it)
            }
        }
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /** Bytes from element [0, ..., 0] to just past the farthest element (0 for no elements). */
    static long spanBytes(DType dtype, long[] shape, long[] strides) {
        long last = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 0) {
                return 0;
            }
            last += (shape[d] - 1) * strides[d];
        }
        return (last + 1) * dtype.byteSize();
    }

    private static long[] remove(long[] a, int i) {
        long[] out = new long[a.length - 1];
        System.arraycopy(a, 0, out, 0, i);
        System.arraycopy(a, i + 1, out, i, a.length - i - 1);
        return out;
    }
}
