package io.infra4j.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Reference-counted storage shared by views, closed tensors, and scopes. */
class TensorLifetimeTest {

    private static final String HOST = Storage.trackerKind(MemoryKind.HOST);
    private long before;

    @BeforeEach
    void remember() {
        before = ResourceTracker.liveBytes(HOST);
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(before, ResourceTracker.liveBytes(HOST), "host memory leaked by the test");
    }

    @Test
    void closingTheBaseKeepsAViewsMemoryAlive() {
        Tensor base = Tensor.empty(DType.I32, Device.CPU, 8, 8);
        assertEquals(before + 256, ResourceTracker.liveBytes(HOST), "256 bytes registered as host memory");
        TestViews.forEachIndex(base.shape(), idx -> base.set(idx[0] * 8 + idx[1], idx));
        Tensor rows = base.slice(0, 2, 4);
        Tensor view = rows.transpose(0, 1);
        rows.close(); // the transposed view keeps its own reference
        Tensor inner = view.select(0, 3);
        assertEquals(3, base.storageReferences());
        base.close();
        assertTrue(base.isClosed());
        assertFalse(view.isClosed(), "closing the base does not close its views");
        assertEquals(2, view.storageReferences());
        assertEquals(before + 256, ResourceTracker.liveBytes(HOST), "the storage lives while a view holds it");
        assertEquals(3 * 8 + 5, view.get(5, 1), "a view of a closed base still reads its elements");
        view.set(-1, 5, 1);
        assertEquals(-1, view.get(5, 1));
        view.close();
        assertEquals(2 * 8 + 3, inner.get(0), "the last view still reads");
        assertEquals(before + 256, ResourceTracker.liveBytes(HOST));
        inner.close();
        assertEquals(before, ResourceTracker.liveBytes(HOST), "the storage is freed when the last holder closes");
        assertEquals(0, inner.storageReferences());
    }

    @Test
    void aFreedStorageCannotBeTouchedThroughAnOldSegment() {
        Tensor t = Tensor.empty(DType.F32, Device.CPU, 16);
        MemorySegment seg = t.segment();
        seg.set(ValueLayout.JAVA_FLOAT, 0, 1f);
        t.close();
        // the arena is closed: FFM refuses the access instead of reading freed memory
        assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_FLOAT, 0));
    }

    @Test
    void closedTensorsRefuseEveryAccessWithAClearMessage() {
        Tensor t = Tensor.empty(DType.F32, Device.CPU, 2, 3);
        t.close();
        Map<String, Executable> calls = new LinkedHashMap<>();
        calls.put("get", () -> t.get(0, 0));
        calls.put("getBits", () -> t.getBits(0, 0));
        calls.put("set", () -> t.set(1, 0, 0));
        calls.put("setBits", () -> t.setBits(1, 0, 0));
        calls.put("segment", t::segment);
        calls.put("address", t::address);
        calls.put("slice", () -> t.slice(0, 0, 1));
        calls.put("slice with step", () -> t.slice(0, 0, 1, 1));
        calls.put("select", () -> t.select(0, 0));
        calls.put("transpose", () -> t.transpose(0, 1));
        calls.put("permute", () -> t.permute(1, 0));
        calls.put("view", () -> t.view(6));
        calls.put("toFloatArray", t::toFloatArray);
        calls.put("copyFromFloats", () -> t.copyFromFloats(new float[6]));
        calls.put("get with a bad index", () -> t.get(99, 99));
        calls.put("slice with a bad dim", () -> t.slice(9, 0, 1));
        for (Map.Entry<String, Executable> c : calls.entrySet()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, c.getValue(),
                    c.getKey() + " on a closed tensor");
            assertEquals("tensor is closed: float32[2, 3] on cpu", e.getMessage(), c.getKey());
        }
        // what it is stays readable
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertEquals(DType.F32, t.dtype());
        assertEquals(6, t.numel());
        assertTrue(t.isClosed());
    }

    @Test
    void opsRefuseClosedTensorsNamingTheArgument() {
        try (Tensor open = Tensor.empty(DType.F32, Device.CPU, 3)) {
            Tensor closed = Tensor.empty(DType.F32, Device.CPU, 3);
            closed.close();
            IllegalStateException e1 = assertThrows(IllegalStateException.class, () -> TensorOps.copy(closed, open));
            assertTrue(e1.getMessage().startsWith("src: tensor is closed"), e1.getMessage());
            IllegalStateException e2 = assertThrows(IllegalStateException.class, () -> TensorOps.copy(open, closed));
            assertTrue(e2.getMessage().startsWith("dst: tensor is closed"), e2.getMessage());
            IllegalStateException e3 = assertThrows(IllegalStateException.class, () -> TensorOps.cast(closed, open));
            assertTrue(e3.getMessage().startsWith("src: tensor is closed"), e3.getMessage());
            IllegalStateException e4 = assertThrows(IllegalStateException.class, () -> TensorOps.fill(closed, 1));
            assertTrue(e4.getMessage().startsWith("t: tensor is closed"), e4.getMessage());
        }
    }

    @Test
    void doubleCloseIsHarmless() {
        Tensor base = Tensor.empty(DType.F32, Device.CPU, 4);
        Tensor view = base.slice(0, 1, 3);
        view.close();
        assertDoesNotThrow(view::close);
        assertDoesNotThrow(view::close);
        assertEquals(1, base.storageReferences(), "closing a view twice drops one reference, not two");
        base.set(2, 3);
        assertEquals(2, base.get(3), "the base is still usable");
        base.close();
        assertDoesNotThrow(base::close);
        assertEquals(before, ResourceTracker.liveBytes(HOST));
    }

    @Test
    void emptyTensorsOwnNoMemory() {
        Tensor e = Tensor.empty(DType.F32, Device.CPU, 0, 5);
        assertEquals(before, ResourceTracker.liveBytes(HOST), "no bytes, nothing to track");
        assertEquals(0, e.numel());
        assertEquals(0, e.segment().byteSize());
        assertEquals(0, e.toFloatArray().length);
        e.close();
        e.close();
    }

    @Test
    void scopeClosesEverythingItMadeIncludingViews() {
        Tensor a;
        Tensor b;
        Tensor aView;
        Tensor viewOfView;
        Tensor own = Tensor.empty(DType.F32, Device.CPU, 2);
        try (TensorScope scope = TensorScope.open()) {
            a = scope.empty(DType.F32, Device.CPU, 4, 4);
            b = scope.ofFloats(DType.BF16, new float[] {1, 2, 3}, 3);
            aView = a.transpose(0, 1);
            viewOfView = aView.select(0, 2);
            assertEquals(4, scope.openTensors(), "views of scope tensors belong to the scope");
            assertEquals(before + 64 + 6 + 8, ResourceTracker.liveBytes(HOST));
            b.close();
            assertEquals(3, scope.openTensors(), "a tensor closed early leaves the scope");
            Tensor ownView = own.slice(0, 0, 1);
            assertEquals(3, scope.openTensors(), "views of caller-owned tensors are not the scope's");
            ownView.close();
            assertFalse(scope.isClosed());
        }
        assertTrue(a.isClosed() && aView.isClosed() && viewOfView.isClosed(), "the scope closed the tensor and its views");
        assertFalse(own.isClosed(), "a caller-owned tensor outlives the scope");
        assertEquals(before + 8, ResourceTracker.liveBytes(HOST));
        own.close();
    }

    @Test
    void closingAScopeTwiceIsHarmless() {
        TensorScope scope = TensorScope.open();
        scope.empty(DType.F32, Device.CPU, 3);
        scope.close();
        assertTrue(scope.isClosed());
        assertEquals(0, scope.openTensors());
        assertDoesNotThrow(scope::close);
    }

    @Test
    void aClosedScopeRefusesNewTensors() {
        TensorScope scope = TensorScope.open();
        scope.close();
        Map<String, Executable> calls = new LinkedHashMap<>();
        calls.put("empty", () -> scope.empty(DType.F32, Device.CPU, 2));
        calls.put("ofFloats", () -> scope.ofFloats(DType.F32, new float[] {1}, 1));
        calls.put("full", () -> scope.full(DType.F32, Device.CPU, 1, 2));
        calls.put("pinned", () -> scope.pinned(DType.F32, 2));
        calls.put("empty on cuda:0", () -> scope.empty(DType.F32, Device.cuda(0), 2));
        for (Map.Entry<String, Executable> c : calls.entrySet()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, c.getValue(), c.getKey());
            assertEquals("the tensor scope is closed", e.getMessage(), c.getKey());
        }
        assertEquals(before, ResourceTracker.liveBytes(HOST), "nothing was allocated for a closed scope");
    }

    @Test
    void scopeOfAStreamRefusesNull() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorScope.open(null));
        assertTrue(e.getMessage().startsWith("stream:"), e.getMessage());
    }

    @Test
    void scopeFullAndTo() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor f = scope.full(DType.F16, Device.CPU, 2.5, 2, 3);
            assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f}, f.toFloatArray());
            Tensor src = scope.ofFloats(DType.F32, new float[] {1, 2, 3, 4, 5, 6}, 2, 3).transpose(0, 1);
            Tensor dense = TensorOps.to(src, Device.CPU, scope);
            assertTrue(dense.isContiguous());
            assertFalse(dense.sharesStorageWith(src));
            assertArrayEquals(new long[] {3, 2}, dense.shape());
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, dense.toFloatArray());
            assertEquals(4, scope.openTensors());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorOps.to(src, Device.CPU, null));
            assertTrue(e.getMessage().startsWith("scope:"), e.getMessage());
        }
    }
}
