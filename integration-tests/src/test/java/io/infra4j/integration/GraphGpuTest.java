package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaGraph;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.CastMode;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import org.junit.jupiter.api.Test;

/** Capture once, replay many times: the replays redo the captured work on whatever the inputs hold now. */
@GpuTest
class GraphGpuTest {
    @Test
    void capturedWorkReplaysOnNewInputs() {
        try (CudaStream stream = CudaStream.create(Cuda.device(0)); TensorScope s = TensorScope.open(stream)) {
            Tensor in = s.empty(DType.F32, GPU, 512, 300);
            Tensor mid = s.empty(DType.BF16, GPU, 512, 300);
            Tensor out = s.empty(DType.BF16, GPU, 300, 512);
            TensorOps.fill(in, 0, stream);
            stream.synchronize();
            try (CudaGraph graph = CudaGraph.capture(stream, () -> {
                TensorOps.cast(in, mid, CastMode.STANDARD, stream);
                TensorOps.copy(mid.transpose(0, 1), out, stream);
            })) {
                assertTrue(graph.nodeCount() >= 2, "nodes captured: " + graph.nodeCount());
                graph.upload(stream);
                for (int round = 1; round <= 50; round++) {
                    TensorOps.fill(in, round * 1.25, stream);
                    TensorOps.fill(out, -1, stream);
                    graph.launch(stream);
                    Tensor h = s.empty(DType.BF16, Device.CPU, 300, 512);
                    TensorOps.copy(out, h, stream);
                    assertEquals(round * 1.25, h.get(299, 511), "replay " + round);
                    assertEquals(round * 1.25, h.get(0, 0), "replay " + round);
                    h.close();
                }
            }
        }
    }

    @Test
    void aFailingCaptureEndsTheCaptureAndTheStreamStaysUsable() {
        try (CudaStream stream = CudaStream.create(Cuda.device(0)); TensorScope s = TensorScope.open(stream)) {
            Tensor t = s.empty(DType.F32, GPU, 1024);
            IllegalStateException boom = new IllegalStateException("boom");
            assertSame(boom, assertThrows(IllegalStateException.class,
                    () -> CudaGraph.capture(stream, () -> {
                        TensorOps.fill(t, 1, stream);
                        throw boom;
                    })));
            TensorOps.fill(t, 3, stream);
            Tensor h = s.empty(DType.F32, Device.CPU, 1024);
            TensorOps.copy(t, h, stream);
            assertEquals(3.0, h.get(1023));
        }
    }

    @Test
    void theLegacyDefaultStreamCannotBeCaptured() {
        assertThrows(IllegalArgumentException.class, () -> CudaGraph.capture(CudaStream.legacyDefault(), () -> {}));
    }
}
