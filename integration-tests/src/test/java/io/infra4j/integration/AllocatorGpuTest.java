package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import io.infra4j.memory.Allocators;
import io.infra4j.memory.DType;
import io.infra4j.memory.Storage;
import io.infra4j.memory.MemoryKind;
import io.infra4j.memory.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Device memory comes back: many allocate/free cycles leave the pool and the driver where they were. */
@GpuTest
class AllocatorGpuTest {
    @Test
    void hundredThousandAllocateFreeCyclesDoNotGrowDeviceMemory() {
        CudaDevice gpu = Cuda.device(0);
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("alloc cycles"));
        try (CudaStream stream = CudaStream.create(gpu)) {
            // Warm the pool with the largest size used, then take the baseline.
            Tensor.empty(DType.U8, GPU, stream, 64L << 20).close();
            stream.synchronize();
            Allocators.PoolStats before = Allocators.poolStats(GPU);
            long freeBefore = gpu.memoryInfo().freeBytes();
            long trackedBefore = ResourceTracker.liveBytes(Storage.trackerKind(MemoryKind.DEVICE));

            for (int i = 0; i < 100_000; i++) {
                long bytes = 1L << r.nextInt(8, 27); // 256 B .. 64 MiB
                Tensor t = Tensor.empty(DType.U8, GPU, stream, bytes);
                if ((i & 1023) == 0) {
                    stream.synchronize(); // now and then let the frees complete on the device
                }
                t.close();
            }
            stream.synchronize();

            Allocators.PoolStats after = Allocators.poolStats(GPU);
            long freeAfter = gpu.memoryInfo().freeBytes();
            System.out.println("pool before " + before + "\npool after  " + after + "\nfree before " + freeBefore
                    + ", after " + freeAfter);
            assertEquals(before.usedCurrent(), after.usedCurrent(), "bytes handed out by the pool after all frees");
            assertTrue(after.reservedCurrent() <= before.reservedCurrent() + (256L << 20),
                    "the pool grew from " + before.reservedCurrent() + " to " + after.reservedCurrent() + " bytes");
            assertTrue(freeAfter >= freeBefore - (256L << 20),
                    "device free memory fell from " + freeBefore + " to " + freeAfter);
            assertEquals(trackedBefore, ResourceTracker.liveBytes(Storage.trackerKind(MemoryKind.DEVICE)),
                    "device bytes still registered as live");
        }
    }

    @Test
    void pinnedMemoryIsFreedAndUnreadableAfterClose() {
        long trackedBefore = ResourceTracker.liveBytes(Storage.trackerKind(MemoryKind.PINNED));
        for (int i = 0; i < 1000; i++) {
            Tensor t = Tensor.pinned(DType.F32, 4096);
            t.set(1.5, 7);
            t.close();
        }
        assertEquals(trackedBefore, ResourceTracker.liveBytes(Storage.trackerKind(MemoryKind.PINNED)));
    }
}
