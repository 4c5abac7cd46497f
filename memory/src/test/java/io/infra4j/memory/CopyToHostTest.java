package io.infra4j.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.infra4j.ffm.CudaStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** TensorOps.copyToHost on the host path, and what it refuses before any copy. */
class CopyToHostTest {
    @Test
    void aHostTensorsBytesLandInTheSegment() {
        try (Tensor t = Tensor.empty(DType.I32, Device.CPU, 2, 3); Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < 6; i++) {
                t.setBits(i * 7 - 3, i / 3, i % 3);
            }
            MemorySegment out = arena.allocate(32);
            TensorOps.copyToHost(t, out, CudaStream.legacyDefault());
            assertArrayEquals(new int[] {-3, 4, 11, 18, 25, 32}, out.asSlice(0, 24).toArray(ValueLayout.JAVA_INT));
        }
    }

    @Test
    void badArgumentsAreRefused() {
        try (Tensor t = Tensor.empty(DType.I32, Device.CPU, 4, 4); Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> TensorOps.copyToHost(t, arena.allocate(63), CudaStream.legacyDefault()));
            assertThrows(IllegalArgumentException.class,
                    () -> TensorOps.copyToHost(t, MemorySegment.ofArray(new int[16]), CudaStream.legacyDefault()));
            assertThrows(IllegalArgumentException.class, () -> TensorOps.copyToHost(t, null, CudaStream.legacyDefault()));
            try (Tensor strided = t.transpose(0, 1)) {
                assertThrows(IllegalArgumentException.class,
                        () -> TensorOps.copyToHost(strided, arena.allocate(64), CudaStream.legacyDefault()));
            }
            assertThrows(IllegalArgumentException.class, () -> TensorOps.copyToHost(null, arena.allocate(64), CudaStream.legacyDefault()));
        }
    }
}
