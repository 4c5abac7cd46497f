package io.infra4j.memory;

import static io.infra4j.memory.TestViews.forEachIndex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Views copy nothing: slice, select, transpose, permute and view give the right shape, strides and
 * byte offset, share the base's storage, and read (and write) the base's elements at the mapped index.
 */
class TensorViewTest {

    private TensorScope scope;
    /** F32 [4, 5, 6], element [i, j, k] = 100 i + 10 j + k. */
    private Tensor base;

    @BeforeEach
    void makeBase() {
        scope = TensorScope.open();
        base = scope.empty(DType.F32, Device.CPU, 4, 5, 6);
        forEachIndex(base.shape(), idx -> base.set(value(idx[0], idx[1], idx[2]), idx));
    }

    @AfterEach
    void closeAll() {
        scope.close();
        assertTrue(base.isClosed(), "the scope closes the base");
    }

    private static double value(long i, long j, long k) {
        return 100 * i + 10 * j + k;
    }

    /** Every element of {@code view} equals the base element at {@code map(index)}. */
    private void assertMapsTo(Tensor view, Function<long[], long[]> map, String what) {
        forEachIndex(view.shape(), idx -> {
            long[] b = map.apply(idx.clone());
            assertEquals(base.get(b), view.get(idx), what + ": view " + Arrays.toString(idx) + " should read base "
                    + Arrays.toString(b));
        });
        assertTrue(view.sharesStorageWith(base), what + ": a view shares its base's storage");
    }

    private static void assertLayout(Tensor t, long[] shape, long[] strides, long byteOffset, String what) {
        assertArrayEquals(shape, t.shape(), what + ": shape");
        assertArrayEquals(strides, t.strides(), what + ": strides");
        assertEquals(byteOffset, t.byteOffset(), what + ": byteOffset");
    }

    @Test
    void baseLayout() {
        assertLayout(base, new long[] {4, 5, 6}, new long[] {30, 6, 1}, 0, "base");
        assertTrue(base.isContiguous());
        assertEquals(120, base.numel());
        assertEquals(480, base.byteSize());
        assertEquals(3, base.rank());
        assertEquals(5, base.size(1));
        assertEquals(5, base.size(-2));
        assertEquals(6, base.size(-1));
        assertEquals(30, base.stride(-3));
        assertEquals(MemoryKind.HOST, base.memoryKind());
        assertEquals(Device.CPU, base.device());
        assertEquals(1, base.storageReferences());
    }

    @Test
    void slice() {
        Tensor s = base.slice(1, 1, 5, 2);
        assertLayout(s, new long[] {4, 2, 6}, new long[] {30, 12, 1}, 6 * 4, "slice(1, 1, 5, 2)");
        assertFalse(s.isContiguous());
        assertMapsTo(s, i -> new long[] {i[0], 1 + 2 * i[1], i[2]}, "slice(1, 1, 5, 2)");

        Tensor uneven = base.slice(2, 1, 6, 4); // elements 1 and 5
        assertLayout(uneven, new long[] {4, 5, 2}, new long[] {30, 6, 4}, 4, "slice(2, 1, 6, 4)");
        assertMapsTo(uneven, i -> new long[] {i[0], i[1], 1 + 4 * i[2]}, "slice(2, 1, 6, 4)");

        Tensor rows = base.slice(0, 1, 3);
        assertLayout(rows, new long[] {2, 5, 6}, new long[] {30, 6, 1}, 30 * 4, "slice(0, 1, 3)");
        assertTrue(rows.isContiguous(), "a slice of whole leading rows is contiguous");
        assertMapsTo(rows, i -> new long[] {1 + i[0], i[1], i[2]}, "slice(0, 1, 3)");

        Tensor neg = base.slice(-1, 2, 4);
        assertLayout(neg, new long[] {4, 5, 2}, new long[] {30, 6, 1}, 2 * 4, "slice(-1, 2, 4)");
        assertMapsTo(neg, i -> new long[] {i[0], i[1], 2 + i[2]}, "slice(-1, 2, 4)");

        Tensor empty = base.slice(0, 2, 2);
        assertArrayEquals(new long[] {0, 5, 6}, empty.shape());
        assertEquals(0, empty.numel());
        Tensor whole = base.slice(1, 0, 5);
        assertLayout(whole, base.shape(), base.strides(), 0, "slice of everything");

        Tensor ofSlice = s.slice(2, 3, 6, 2);
        assertLayout(ofSlice, new long[] {4, 2, 2}, new long[] {30, 12, 2}, (6 + 3) * 4, "slice of a slice");
        assertMapsTo(ofSlice, i -> new long[] {i[0], 1 + 2 * i[1], 3 + 2 * i[2]}, "slice of a slice");
    }

    @Test
    void emptySlicesAtTheEndAreValid() {
        Tensor stepped = base.slice(2, 0, 6, 3); // [.., .., 2] stride 3
        Tensor emptyAtEnd = stepped.slice(2, 2, 2);
        assertArrayEquals(new long[] {4, 5, 0}, emptyAtEnd.shape());
        assertEquals(0, emptyAtEnd.numel());
        assertEquals(0, emptyAtEnd.toFloatArray().length);
        Tensor lastRow = base.slice(0, 4, 4);
        assertEquals(0, lastRow.numel());
        assertEquals(0, lastRow.segment().byteSize());

        // x[::3][4:4] of 10 elements: empty, but start * stride lies past the storage
        try (Tensor ten = Tensor.empty(DType.F32, Device.CPU, 10);
             Tensor every3rd = ten.slice(0, 0, 10, 3);
             Tensor none = every3rd.slice(0, 4, 4)) {
            assertArrayEquals(new long[] {4}, every3rd.shape());
            assertArrayEquals(new long[] {0}, none.shape());
            assertEquals(0, none.segment().byteSize());
            assertEquals(0, none.toFloatArray().length);
        }
        // views of a tensor with no elements: any in-range start or index is valid
        try (Tensor empty = Tensor.empty(DType.F32, Device.CPU, 0, 3);
             Tensor col = empty.select(1, 2);
             Tensor cols = empty.slice(1, 1, 3)) {
            assertArrayEquals(new long[] {0}, col.shape());
            assertArrayEquals(new long[] {0, 2}, cols.shape());
            assertEquals(0, col.segment().byteSize());
            TensorOps.fill(cols, 1.0);
        }
    }

    @Test
    void select() {
        Tensor s = base.select(1, 3);
        assertLayout(s, new long[] {4, 6}, new long[] {30, 1}, 3 * 6 * 4, "select(1, 3)");
        assertMapsTo(s, i -> new long[] {i[0], 3, i[1]}, "select(1, 3)");

        Tensor last = base.select(-1, 2);
        assertLayout(last, new long[] {4, 5}, new long[] {30, 6}, 2 * 4, "select(-1, 2)");
        assertMapsTo(last, i -> new long[] {i[0], i[1], 2}, "select(-1, 2)");

        Tensor scalar = base.select(0, 3).select(0, 4).select(0, 5);
        assertEquals(0, scalar.rank());
        assertEquals(1, scalar.numel());
        assertEquals(value(3, 4, 5), scalar.get(), "a rank-0 view reads one element");
        assertEquals((3 * 30 + 4 * 6 + 5) * 4, scalar.byteOffset());
    }

    @Test
    void transpose() {
        Tensor t = base.transpose(0, 2);
        assertLayout(t, new long[] {6, 5, 4}, new long[] {1, 6, 30}, 0, "transpose(0, 2)");
        assertFalse(t.isContiguous());
        assertMapsTo(t, i -> new long[] {i[2], i[1], i[0]}, "transpose(0, 2)");

        Tensor neg = base.transpose(-1, -3);
        assertLayout(neg, new long[] {6, 5, 4}, new long[] {1, 6, 30}, 0, "transpose(-1, -3)");

        Tensor same = base.transpose(1, 1);
        assertLayout(same, base.shape(), base.strides(), 0, "transpose(1, 1)");

        Tensor back = t.transpose(2, 0);
        assertLayout(back, base.shape(), base.strides(), 0, "transposed twice");
        assertTrue(back.isContiguous());
    }

    @Test
    void permute() {
        Tensor p = base.permute(2, 0, 1);
        assertLayout(p, new long[] {6, 4, 5}, new long[] {1, 30, 6}, 0, "permute(2, 0, 1)");
        assertMapsTo(p, i -> new long[] {i[1], i[2], i[0]}, "permute(2, 0, 1)");

        Tensor neg = base.permute(-1, 0, -2);
        assertLayout(neg, new long[] {6, 4, 5}, new long[] {1, 30, 6}, 0, "permute(-1, 0, -2)");

        Tensor identity = base.permute(0, 1, 2);
        assertLayout(identity, base.shape(), base.strides(), 0, "identity permutation");

        Tensor ofSlice = base.slice(1, 1, 4).permute(1, 2, 0);
        assertLayout(ofSlice, new long[] {3, 6, 4}, new long[] {6, 1, 30}, 6 * 4, "permute of a slice");
        assertMapsTo(ofSlice, i -> new long[] {i[2], 1 + i[0], i[1]}, "permute of a slice");
    }

    @Test
    void viewReshapesContiguousTensors() {
        Tensor v = base.view(20, 6);
        assertLayout(v, new long[] {20, 6}, new long[] {6, 1}, 0, "view(20, 6)");
        assertMapsTo(v, i -> new long[] {i[0] / 5, i[0] % 5, i[1]}, "view(20, 6)");

        Tensor flat = base.view(-1);
        assertLayout(flat, new long[] {120}, new long[] {1}, 0, "view(-1)");
        assertMapsTo(flat, i -> new long[] {i[0] / 30, i[0] / 6 % 5, i[0] % 6}, "view(-1)");

        Tensor inferred = base.view(2, -1, 3);
        assertLayout(inferred, new long[] {2, 20, 3}, new long[] {60, 3, 1}, 0, "view(2, -1, 3)");

        Tensor withOnes = base.view(1, 4, 1, 30);
        assertLayout(withOnes, new long[] {1, 4, 1, 30}, new long[] {120, 30, 30, 1}, 0, "view(1, 4, 1, 30)");

        Tensor rows = base.slice(0, 1, 3).view(-1, 6);
        assertLayout(rows, new long[] {10, 6}, new long[] {6, 1}, 30 * 4, "view of a contiguous slice keeps its offset");
        assertMapsTo(rows, i -> new long[] {1 + i[0] / 5, i[0] % 5, i[1]}, "view of a contiguous slice");

        Tensor plane = base.select(0, 2).view(30);
        assertLayout(plane, new long[] {30}, new long[] {1}, 60 * 4, "view of a selected plane");

        Tensor oneColumn = base.slice(2, 4, 5); // [4, 5, 1]: not contiguous
        assertFalse(oneColumn.isContiguous());
        assertThrows(IllegalArgumentException.class, () -> oneColumn.view(20));

        try (Tensor scalar = Tensor.empty(DType.F32, Device.CPU)) {
            scalar.set(3.5);
            Tensor one = scalar.view(1, 1);
            assertLayout(one, new long[] {1, 1}, new long[] {1, 1}, 0, "view of a scalar");
            assertEquals(3.5, one.get(0, 0));
            Tensor backToScalar = one.view();
            assertEquals(0, backToScalar.rank());
            assertEquals(3.5, backToScalar.get());
            one.close();
            backToScalar.close();
        }
    }

    @Test
    void emptyTensorsAreContiguousAndCanBeReshaped() {
        try (Tensor e = Tensor.empty(DType.F32, Device.CPU, 3, 0);
             Tensor huge = Tensor.empty(DType.F32, Device.CPU, 0, Long.MAX_VALUE, 2);
             Tensor flipped = huge.permute(1, 2, 0)) {
            assertTrue(e.isContiguous(), "a tensor with no elements is contiguous, whatever its strides");
            assertEquals(0, e.numel());
            try (Tensor v = e.view(0, 7)) {
                assertArrayEquals(new long[] {0, 7}, v.shape());
            }
            assertEquals(0, flipped.numel(), "[huge, 2, 0] has no elements (not an overflow)");
            assertEquals(0, flipped.byteSize());
            assertArrayEquals(new long[] {Long.MAX_VALUE, 2, 0}, flipped.shape());
        }
    }

    @Test
    void viewOfANonContiguousTensorThrows() {
        Tensor t = base.transpose(0, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.view(120));
        assertTrue(e.getMessage().startsWith("view: needs a contiguous tensor"), e.getMessage());
        assertTrue(e.getMessage().contains("[5, 4, 6]") && e.getMessage().contains("[6, 30, 1]"),
                "the message shows shape and strides: " + e.getMessage());
        Tensor s = base.slice(2, 0, 6, 2);
        assertThrows(IllegalArgumentException.class, () -> s.view(-1));
    }

    @Test
    void viewInferenceAndSizeErrors() {
        IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class, () -> base.view(7, 3));
        assertTrue(mismatch.getMessage().startsWith("shape: [7, 3] holds 21 elements, the tensor has 120"),
                mismatch.getMessage());
        IllegalArgumentException twoInferred = assertThrows(IllegalArgumentException.class, () -> base.view(-1, -1));
        assertTrue(twoInferred.getMessage().startsWith("shape:"), twoInferred.getMessage());
        IllegalArgumentException notDivisible = assertThrows(IllegalArgumentException.class, () -> base.view(-1, 7));
        assertTrue(notDivisible.getMessage().startsWith("shape: cannot infer -1"), notDivisible.getMessage());
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> base.view(0, -1));
        assertTrue(zero.getMessage().startsWith("shape:"), zero.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> base.view(-2, -60));
        assertTrue(negative.getMessage().startsWith("shape:"), negative.getMessage());
        IllegalArgumentException overflow = assertThrows(IllegalArgumentException.class,
                () -> base.view(Long.MAX_VALUE, 4, -1));
        assertTrue(overflow.getMessage().startsWith("shape:"), overflow.getMessage());
        try (Tensor empty = Tensor.empty(DType.F32, Device.CPU, 0, 4)) {
            Tensor inferredZero = empty.view(2, -1, 2);
            assertArrayEquals(new long[] {2, 0, 2}, inferredZero.shape(), "-1 of an empty tensor is 0");
            inferredZero.close();
        }
    }

    @Test
    void viewsShareStorageAndCountReferences() {
        Tensor a = base.slice(0, 0, 2);
        Tensor b = a.transpose(1, 2);
        Tensor c = b.select(0, 1);
        assertTrue(a.sharesStorageWith(base) && b.sharesStorageWith(base) && c.sharesStorageWith(a));
        assertEquals(4, base.storageReferences(), "base and three views hold the storage");
        try (Tensor other = Tensor.empty(DType.F32, Device.CPU, 4, 5, 6)) {
            assertFalse(other.sharesStorageWith(base));
        }
        assertEquals(base.address() + c.byteOffset(), c.address(), "address() is the storage start plus the offset");
        c.close();
        assertEquals(3, base.storageReferences());
    }

    @Test
    void writesThroughViewsLandInTheBase() {
        Tensor t = base.transpose(0, 2).slice(1, 1, 5, 3); // [6, 2, 4]: base [k, 1 + 3 j, i]
        t.set(-1, 5, 1, 3); // base [3, 4, 5]
        assertEquals(-1, base.get(3, 4, 5));
        TensorOps.fill(t.select(0, 0), -2); // base [*, 1 and 4, 0]
        for (long i = 0; i < 4; i++) {
            assertEquals(-2, base.get(i, 1, 0));
            assertEquals(-2, base.get(i, 4, 0));
            assertEquals(value(i, 2, 0), base.get(i, 2, 0), "elements outside the view are untouched");
        }
        float[] f = new float[8];
        Arrays.fill(f, 9f);
        t.select(0, 1).copyFromFloats(f);
        assertEquals(9, base.get(2, 4, 1));
        assertEquals(value(2, 3, 1), base.get(2, 3, 1));
    }

    @Test
    void segmentCoversExactlyTheViewsSpan() {
        Tensor s = base.slice(1, 1, 3); // [4, 2, 6], strides [30, 6, 1], offset 24 bytes
        long span = ((4 - 1) * 30 + (2 - 1) * 6 + (6 - 1) + 1) * 4L;
        assertEquals(span, s.segment().byteSize());
        assertEquals(base.segment().address() + 24, s.segment().address());
        assertEquals(480, base.segment().byteSize());
    }

    @Test
    void toStringDescribesTheView() {
        assertEquals("Tensor(float32[4, 5, 6] on cpu)", base.toString());
        Tensor t = base.transpose(0, 1);
        assertEquals("Tensor(float32[5, 4, 6] on cpu, strides [6, 30, 1])", t.toString());
        t.close();
        assertEquals("Tensor(float32[5, 4, 6] on cpu, strides [6, 30, 1], closed)", t.toString());
    }
}
