package io.infra4j.memory;

import static io.infra4j.bindings.cudart.CudaRuntime.C_LONG;
import static io.infra4j.bindings.cudart.CudaRuntime.C_POINTER;

import io.infra4j.bindings.cudart.CudaRuntime;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The three allocators behind tensors: pageable host memory (an FFM arena per allocation, so a
 * freed buffer can no longer be touched from Java), pinned host memory ({@code cudaHostAlloc}), and
 * device memory from each GPU's default stream-ordered pool ({@code cudaMallocFromPoolAsync} /
 * {@code cudaFreeAsync}), which keeps freed blocks for reuse instead of returning them to the driver.
 */
public final class Allocators {
    /** Host allocations are aligned for any vector load. */
    public static final long HOST_ALIGNMENT = 64;

    private static final ConcurrentHashMap<Integer, MemorySegment> POOLS = new ConcurrentHashMap<>();

    private Allocators() {}

    /** Statistics of a device's memory pool, in bytes. */
    public record PoolStats(long reservedCurrent, long reservedHigh, long usedCurrent, long usedHigh) {}

    static Storage host(long bytes, String site) {
        checkBytes(bytes);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = arena.allocate(Math.max(bytes, 1), HOST_ALIGNMENT).asSlice(0, bytes);
            return new Storage(MemoryKind.HOST, Device.CPU, seg, bytes, arena::close, site);
        } catch (OutOfMemoryError | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @SuppressWarnings("restricted")
    static Storage pinned(long bytes, String site) {
        checkBytes(bytes);
        Cuda.requireAvailable();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment out = tmp.allocate(C_POINTER);
            Cuda.check(CudaRuntime.cudaHostAlloc(out, Math.max(bytes, 1), CudaRuntime.cudaHostAllocPortable()),
                    "cudaHostAlloc(" + bytes + " bytes)");
            MemorySegment raw = out.get(C_POINTER, 0);
            Arena view = Arena.ofShared();
            MemorySegment seg = raw.reinterpret(bytes, view, null);
            return new Storage(MemoryKind.PINNED, Device.CPU, seg, bytes, () -> {
                view.close();
                Cuda.check(CudaRuntime.cudaFreeHost(raw), "cudaFreeHost");
            }, site);
        }
    }

    static Storage device(Device device, long bytes, CudaStream stream, String site) {
        checkBytes(bytes);
        if (!device.isCuda()) {
            throw new IllegalArgumentException("device: expected a CUDA device, got " + device);
        }
        Cuda.requireAvailable();
        checkOrdinal(device);
        checkStream(device, stream);
        if (bytes == 0) {
            return new Storage(MemoryKind.DEVICE, device, MemorySegment.NULL, 0, () -> {}, site);
        }
        Cuda.useDevice(device.index());
        MemorySegment pool = pool(device.index());
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment out = tmp.allocate(C_POINTER);
            Cuda.check(CudaRuntime.cudaMallocFromPoolAsync(out, bytes, pool, stream.handle()),
                    "cudaMallocFromPoolAsync(" + bytes + " bytes on " + device + ")");
            MemorySegment ptr = out.get(C_POINTER, 0);
            return new Storage(MemoryKind.DEVICE, device, ptr, bytes, () -> freeDevice(device, ptr, stream), site);
        }
    }

    /**
     * Frees in stream order on the allocation's stream. If that stream was closed meanwhile, its work
     * may still be running: wait for the whole device, then free on the legacy default stream.
     */
    private static void freeDevice(Device device, MemorySegment ptr, CudaStream stream) {
        Cuda.useDevice(device.index());
        if (stream.isClosed()) {
            Cuda.synchronizeCurrentDevice();
            Cuda.check(CudaRuntime.cudaFreeAsync(ptr, MemorySegment.NULL), "cudaFreeAsync");
        } else {
            Cuda.check(CudaRuntime.cudaFreeAsync(ptr, stream.handle()), "cudaFreeAsync");
        }
    }

    /** The device's default memory pool, set (once) to keep freed memory for reuse. */
    private static MemorySegment pool(int ordinal) {
        return POOLS.computeIfAbsent(ordinal, o -> {
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment out = tmp.allocate(C_POINTER);
                Cuda.check(CudaRuntime.cudaDeviceGetDefaultMemPool(out, o), "cudaDeviceGetDefaultMemPool(" + o + ")");
                MemorySegment pool = out.get(C_POINTER, 0);
                MemorySegment threshold = tmp.allocate(C_LONG);
                threshold.set(C_LONG, 0, -1L); // UINT64_MAX: never shrink on synchronisation
                Cuda.check(CudaRuntime.cudaMemPoolSetAttribute(pool, CudaRuntime.cudaMemPoolAttrReleaseThreshold(), threshold),
                        "cudaMemPoolSetAttribute(ReleaseThreshold)");
                return pool;
            }
        });
    }

    /** Memory the pool of {@code device} holds from the driver and hands out now (and at most). */
    public static PoolStats poolStats(Device device) {
        Cuda.requireAvailable();
        checkOrdinal(device);
        MemorySegment pool = pool(device.index());
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment v = tmp.allocate(C_LONG);
            long[] out = new long[4];
            int[] attrs = {CudaRuntime.cudaMemPoolAttrReservedMemCurrent(), CudaRuntime.cudaMemPoolAttrReservedMemHigh(),
                    CudaRuntime.cudaMemPoolAttrUsedMemCurrent(), CudaRuntime.cudaMemPoolAttrUsedMemHigh()};
            for (int i = 0; i < 4; i++) {
                Cuda.check(CudaRuntime.cudaMemPoolGetAttribute(pool, attrs[i], v), "cudaMemPoolGetAttribute");
                out[i] = v.get(C_LONG, 0);
            }
            return new PoolStats(out[0], out[1], out[2], out[3]);
        }
    }

    /**
     * Lets kernels on {@code accessor} read and write the tensors {@code owner}'s pool hands out. Peer access
     * between devices ({@code cudaDeviceEnablePeerAccess}) does not reach stream-ordered pool memory: a pool
     * grants it itself ({@code cudaMemPoolSetAccess}), for what it holds now and later. Needs peer access
     * between the two devices; a no-op for the same device.
     */
    public static void grantAccess(Device owner, Device accessor) {
        Cuda.requireAvailable();
        checkOrdinal(owner);
        checkOrdinal(accessor);
        if (owner.equals(accessor)) {
            return;
        }
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment desc = io.infra4j.bindings.cudart.cudaMemAccessDesc.allocate(tmp);
            MemorySegment where = io.infra4j.bindings.cudart.cudaMemAccessDesc.location(desc);
            io.infra4j.bindings.cudart.cudaMemLocation.type(where, CudaRuntime.cudaMemLocationTypeDevice());
            io.infra4j.bindings.cudart.cudaMemLocation.id(where, accessor.index());
            io.infra4j.bindings.cudart.cudaMemAccessDesc.flags(desc, CudaRuntime.cudaMemAccessFlagsProtReadWrite());
            Cuda.check(CudaRuntime.cudaMemPoolSetAccess(pool(owner.index()), desc, 1),
                    "cudaMemPoolSetAccess(pool of " + owner + ", for " + accessor + ")");
        }
    }

    /** Returns the pool's unused memory to the driver (after the device's pending frees complete). */
    public static void trim(Device device) {
        Cuda.requireAvailable();
        checkOrdinal(device);
        Cuda.check(CudaRuntime.cudaMemPoolTrimTo(pool(device.index()), 0), "cudaMemPoolTrimTo");
    }

    private static void checkBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes: expected >= 0, got " + bytes);
        }
    }

    static void checkOrdinal(Device device) {
        if (device.index() >= Cuda.deviceCount()) {
            throw new IllegalArgumentException("device: " + device + " does not exist (this machine has "
                    + Cuda.deviceCount() + " GPU(s))");
        }
    }

    static void checkStream(Device device, CudaStream stream) {
        if (stream == null) {
            throw new IllegalArgumentException("stream: expected a CudaStream (CudaStream.legacyDefault() for the default), got null");
        }
        if (!stream.isLegacyDefault() && stream.device() != device.index()) {
            throw new IllegalArgumentException("stream: expected a stream of " + device + ", got one of cuda:" + stream.device());
        }
    }
}
