package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Copies on two streams run at the same time (host-to-device on one copy engine, device-to-host on
 * another): checked with events, whose timestamps must interleave, and with the data.
 */
@GpuTest
class StreamOverlapGpuTest {
    static final long N = 64L << 20; // 256 MiB of F32 each way

    @Test
    void asyncCopiesOnTwoStreamsOverlap() {
        CudaDevice gpu = Cuda.device(0);
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("overlap"));
        try (CudaStream a = CudaStream.create(gpu); CudaStream b = CudaStream.create(gpu);
             TensorScope s = TensorScope.open(a);
             CudaEvent go = CudaEvent.create(true); CudaEvent aStart = CudaEvent.create(true);
             CudaEvent aEnd = CudaEvent.create(true); CudaEvent bStart = CudaEvent.create(true);
             CudaEvent bEnd = CudaEvent.create(true)) {
            Tensor upHost = s.pinned(DType.F32, N);
            Tensor downHost = s.pinned(DType.F32, N);
            Tensor upDev = s.empty(DType.F32, GPU, N);
            Tensor downDev = s.empty(DType.F32, GPU, N);
            GpuTestSupport.randomBits(upHost, r);
            TensorOps.fill(downDev, 2.5, a);
            a.synchronize();

            // Alone, each copy takes about this long.
            float aloneUp = timed(a, aStart, aEnd, () -> TensorOps.copy(upHost, upDev, a));
            float aloneDown = timed(b, bStart, bEnd, () -> TensorOps.copy(downDev, downHost, b));

            // Together: both wait for one event, then copy.
            TensorOps.fill(upDev, 0, a);
            go.record(a);
            b.waitFor(go);
            aStart.record(a);
            TensorOps.copy(upHost, upDev, a);
            aEnd.record(a);
            bStart.record(b);
            TensorOps.copy(downDev, downHost, b);
            bEnd.record(b);
            a.synchronize();
            b.synchronize();
            float aS = CudaEvent.elapsedMillis(go, aStart);
            float aE = CudaEvent.elapsedMillis(go, aEnd);
            float bS = CudaEvent.elapsedMillis(go, bStart);
            float bE = CudaEvent.elapsedMillis(go, bEnd);
            float together = Math.max(aE, bE) - Math.min(aS, bS); // first start to last end
            System.out.printf("alone: h2d %.3f ms, d2h %.3f ms; together: h2d [%.3f, %.3f], d2h [%.3f, %.3f] ms, span %.3f ms%n",
                    aloneUp, aloneDown, aS, aE, bS, bE, together);
            assertTrue(bS < aE && aS < bE, "the two copies' intervals do not overlap");
            assertTrue(together < 0.8f * (aloneUp + aloneDown),
                    "together " + together + " ms is not faster than one after the other (" + (aloneUp + aloneDown) + " ms)");

            Tensor check = s.empty(DType.F32, Device.CPU, 4096);
            TensorOps.copy(upDev.slice(0, N - 4096, N), check, a);
            Tensor expected = s.empty(DType.F32, Device.CPU, 4096);
            TensorOps.copy(upHost.slice(0, N - 4096, N), expected, a);
            GpuTestSupport.assertSameBits(expected, check, "uploaded data");
            assertTrue(downHost.get(N - 1) == 2.5 && downHost.get(0) == 2.5, "downloaded data");
        }
    }

    private static float timed(CudaStream s, CudaEvent start, CudaEvent end, Runnable work) {
        work.run(); // warm
        start.record(s);
        work.run();
        end.record(s);
        end.synchronize();
        return CudaEvent.elapsedMillis(start, end);
    }
}
