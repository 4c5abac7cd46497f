package io.infra4j.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.CudaUnavailableException;
import io.infra4j.ffm.ResourceTracker;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad input is refused in Java with an {@link IllegalArgumentException} whose message starts with
 * the name of the argument ("shape: ...", "dim1: ...", "dst: ..."); device memory on a machine
 * without CUDA is refused with a {@link CudaUnavailableException}, not a crash.
 */
class TensorBadInputTest {

    private static final String HOST = Storage.trackerKind(MemoryKind.HOST);
    private TensorScope scope;
    private Tensor t23;
    private long before;

    @BeforeEach
    void setUp() {
        before = ResourceTracker.liveBytes(HOST);
        scope = TensorScope.open();
        t23 = scope.empty(DType.F32, Device.CPU, 2, 3);
    }

    @AfterEach
    void tearDown() {
        scope.close();
        assertEquals(before, ResourceTracker.liveBytes(HOST), "host memory leaked by the test");
    }

    /** Asserts an IllegalArgumentException whose message starts with {@code argument + ":"} and contains the parts. */
    private static IllegalArgumentException refused(String argument, Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call,
                "expected an IllegalArgumentException naming '" + argument + "'");
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(argument + ":"),
                "the message should start with '" + argument + ":', got: " + e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "the message should contain '" + p + "', got: " + e.getMessage());
        }
        return e;
    }

    @Test
    void badAllocations() {
        refused("shape", () -> Tensor.empty(DType.F32, Device.CPU, 2, -1), "[2, -1]");
        refused("shape", () -> Tensor.empty(DType.F32, Device.CPU, Long.MIN_VALUE));
        refused("shape", () -> Tensor.empty(DType.F32, Device.CPU, (long[]) null));
        refused("dtype", () -> Tensor.empty(null, Device.CPU, 2), "null");
        refused("device", () -> Tensor.empty(DType.F32, null, 2), "null");
        refused("shape", () -> Tensor.empty(DType.F32, Device.CPU, Long.MAX_VALUE, 2), "overflows");
        refused("shape", () -> Tensor.empty(DType.F32, Device.CPU, 1L << 62), "overflows");
        refused("shape", () -> scope.empty(DType.F32, Device.CPU, -3));
        refused("shape", () -> Tensor.pinned(DType.F32, -3), "[-3]");
        refused("shape", () -> Tensor.empty(DType.F32, Device.cuda(0), -3), "[-3]");
        refused("dtype", () -> Tensor.ofFloats(DType.I32, new float[] {1, 2}, 2), "I32");
        refused("values", () -> Tensor.ofFloats(DType.F32, new float[] {1, 2, 3}, 2), "expected 2 floats", "got 3");
        refused("values", () -> scope.ofFloats(DType.F16, new float[] {1}, 2, 2), "expected 4 floats");
    }

    @Test
    void badIndices() {
        refused("index", () -> t23.get(0, 3), "coordinate 1", "0..2", "got 3");
        refused("index", () -> t23.get(-1, 0), "coordinate 0", "got -1");
        refused("index", () -> t23.get(2, 0), "coordinate 0", "0..1");
        refused("index", () -> t23.set(1, 0, 3), "coordinate 1");
        refused("index", () -> t23.getBits(5, 5));
        refused("index", () -> t23.get(0), "expected 2 coordinates", "got 1");
        refused("index", () -> t23.get(0, 0, 0), "expected 2 coordinates", "got 3");
        refused("index", () -> t23.get(), "expected 2 coordinates", "got 0");
        refused("index", () -> t23.select(1, 3), "takes 0..2", "got 3");
        refused("index", () -> t23.select(0, -1), "got -1");
    }

    @Test
    void badDimensions() {
        refused("dim", () -> t23.size(2), "[-2, 1]", "got 2");
        refused("dim", () -> t23.stride(-3), "got -3");
        refused("dim", () -> t23.slice(2, 0, 1), "got 2");
        refused("dim", () -> t23.select(-3, 0), "got -3");
        refused("dim0", () -> t23.transpose(5, 0), "got 5");
        refused("dim1", () -> t23.transpose(0, -3), "got -3");
        refused("order", () -> t23.permute(0), "expected 2 dimensions, got 1");
        refused("order", () -> t23.permute(0, 0), "appears twice");
        refused("order", () -> t23.permute(1, -1), "appears twice");
        refused("order[1]", () -> t23.permute(0, 2), "got 2");
        try (Tensor scalar = Tensor.empty(DType.F32, Device.CPU)) {
            refused("dim", () -> scalar.select(0, 0), "[0, -1]");
            refused("dim0", () -> scalar.transpose(0, 0));
        }
    }

    @Test
    void badSlices() {
        refused("slice", () -> t23.slice(1, -1, 2), "0 <= start <= end <= 3", "got start -1");
        refused("slice", () -> t23.slice(1, 0, 4), "end 4");
        refused("slice", () -> t23.slice(1, 2, 1), "start 2, end 1");
        refused("step", () -> t23.slice(1, 0, 3, 0), "expected > 0, got 0");
        refused("step", () -> t23.slice(1, 0, 3, -1), "got -1");
        refused("step", () -> t23.slice(0, 0, 2, Long.MIN_VALUE));
        refused("slice", () -> t23.slice(0, Long.MIN_VALUE, Long.MAX_VALUE));
        // a huge step is valid: one element
        try (Tensor one = t23.slice(1, 1, 3, Long.MAX_VALUE)) {
            assertEquals(1, one.size(1), "slice(1, 1, 3, Long.MAX_VALUE) keeps element 1 only");
            one.set(7, 1, 0);
            assertEquals(7, t23.get(1, 1));
        }
    }

    @Test
    void badCastsAndCopies() {
        Tensor i32 = scope.empty(DType.I32, Device.CPU, 2, 3);
        Tensor i8 = scope.empty(DType.I8, Device.CPU, 2, 3);
        Tensor f16 = scope.empty(DType.F16, Device.CPU, 2, 3);
        Tensor f32x6 = scope.empty(DType.F32, Device.CPU, 6);
        Tensor f16t = f16.transpose(0, 1);
        refused("dst", () -> TensorOps.cast(t23, i32), "I32");
        refused("src", () -> TensorOps.cast(i8, t23), "I8");
        refused("src", () -> TensorOps.cast(i8, i32));
        refused("dst", () -> TensorOps.cast(t23, f16t), "expected shape [2, 3]", "got [3, 2]");
        refused("dst", () -> TensorOps.cast(t23, f32x6), "[6]");
        refused("mode", () -> TensorOps.cast(t23, f16, null, CudaStream.legacyDefault()));
        refused("src", () -> TensorOps.cast(null, f16));
        refused("dst", () -> TensorOps.cast(t23, null));
        refused("dst", () -> TensorOps.copy(t23, f16), "dtype F32", "got F16", "use cast");
        refused("dst", () -> TensorOps.copy(t23, f32x6), "expected shape [2, 3]");
        refused("dst", () -> TensorOps.copy(t23, t23.transpose(0, 1)), "got [3, 2]");
        refused("src", () -> TensorOps.copy(null, t23));
        refused("dst", () -> TensorOps.copy(t23, null));
        refused("t", () -> TensorOps.fill(null, 1));
        refused("value", () -> TensorOps.fill(i32, 0.5), "whole numbers");
        refused("value", () -> TensorOps.fill(i8, 128), "does not fit I8");
    }

    @Test
    void overlappingSourceAndDestinationAreRefused() {
        Tensor row = scope.empty(DType.F32, Device.CPU, 8);
        refused("dst", () -> TensorOps.copy(row.slice(0, 0, 4), row.slice(0, 2, 6)), "overlaps src");
        refused("dst", () -> TensorOps.copy(row.slice(0, 2, 6), row.slice(0, 0, 4)), "overlaps src");
        refused("dst", () -> TensorOps.copy(row, row), "overlaps src");
        refused("dst", () -> TensorOps.cast(row.slice(0, 0, 4), row.slice(0, 3, 7)), "overlaps src");
        Tensor m = scope.empty(DType.F32, Device.CPU, 4, 4);
        refused("dst", () -> TensorOps.copy(m.transpose(0, 1), m), "overlaps src");
        // disjoint parts of one storage are fine
        TensorOps.copy(row.slice(0, 0, 4), row.slice(0, 4, 8));
        TensorOps.copy(m.select(0, 0), m.select(0, 3));
        // empty views overlap nothing
        TensorOps.copy(row.slice(0, 2, 2), row.slice(0, 3, 3));
    }

    @Test
    void badDevices() {
        refused("device", () -> Device.parse("gpu"), "'gpu'");
        refused("device", () -> Device.parse(""), "''");
        refused("device", () -> Device.parse("cuda:"), "'cuda:'");
        refused("device", () -> Device.parse("cuda:x"));
        refused("device", () -> Device.parse("cuda:99999999999"));
        refused("device", () -> Device.parse("cpu:0"));
        refused("device", () -> Device.parse(null), "null");
        refused("index", () -> Device.parse("cuda:-1"), "got -1");
        refused("index", () -> Device.cuda(-1), "a CUDA device ordinal is >= 0, got -1");
        refused("index", () -> new Device(Device.Kind.CPU, 0), "got 0");
        refused("kind", () -> new Device(null, 0));
        assertEquals(Device.CPU, Device.parse(" CPU "));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(3), Device.parse("Cuda:3"));
        assertEquals("cuda:3", Device.cuda(3).toString());
        assertEquals("cpu", Device.CPU.toString());
    }

    @Test
    void badScalarsAndCodes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.fromCode(10));
        assertTrue(e.getMessage().contains("code 10"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DType.fromCode(-1));
        for (DType d : DType.values()) {
            assertEquals(d, DType.fromCode(d.code()));
        }
    }

    @Test
    void deviceTensorsWithoutCudaThrowCudaUnavailable() {
        assumeFalse(Files.exists(Path.of("/proc/driver/nvidia/version")) || Files.exists(Path.of("/dev/nvidiactl")),
                "an NVIDIA driver is installed here");
        assumeFalse(Cuda.isAvailable(), "CUDA is available here");
        Executable[] calls = {
            () -> Tensor.empty(DType.F32, Device.cuda(0), 4),
            () -> Tensor.empty(DType.BF16, Device.cuda(3), 2, 2),
            () -> Tensor.empty(DType.F32, Device.cuda(0), 0),
            () -> Tensor.empty(DType.F32, Device.cuda(0), CudaStream.legacyDefault(), 4),
            () -> Tensor.pinned(DType.F32, 4),
            () -> scope.empty(DType.F32, Device.cuda(0), 4),
            () -> scope.pinned(DType.F32, 4),
            () -> scope.full(DType.F32, Device.cuda(0), 1.0, 4),
            () -> TensorOps.to(t23, Device.cuda(0), scope),
            () -> Allocators.poolStats(Device.cuda(0)),
            () -> Allocators.trim(Device.cuda(0)),
        };
        int open = scope.openTensors();
        for (int i = 0; i < calls.length; i++) {
            CudaUnavailableException ex = assertThrows(CudaUnavailableException.class, calls[i], "call #" + i);
            assertTrue(ex.getMessage().contains(Cuda.unavailableReason()), "call #" + i + ": " + ex.getMessage());
        }
        assertEquals(open, scope.openTensors(), "failed allocations leave nothing in the scope");
        assertEquals(before + 24, ResourceTracker.liveBytes(HOST), "failed allocations leave no host memory");
        assertEquals(0, ResourceTracker.liveBytes(Storage.trackerKind(MemoryKind.DEVICE)));
        assertEquals(0, ResourceTracker.liveBytes(Storage.trackerKind(MemoryKind.PINNED)));
    }
}
