package io.infra4j.ffm;

import static io.infra4j.bindings.cudart.CudaRuntime.C_INT;
import static io.infra4j.bindings.cudart.CudaRuntime.C_LONG;

import io.infra4j.bindings.cudart.CudaRuntime;
import io.infra4j.bindings.cudart.cudaDeviceProp;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;

/**
 * One GPU. The name, memory and compute capability are read once; other properties are read on
 * demand through {@link #attribute}.
 */
public final class CudaDevice {
    /** Free and total device memory, in bytes, as the driver reports them now. */
    public record MemoryInfo(long freeBytes, long totalBytes) {
        public long usedBytes() {
            return totalBytes - freeBytes;
        }
    }

    private final int ordinal;
    private final String name;
    private final long totalMemory;
    private final int major;
    private final int minor;
    private final String pciBusId;
    private final Map<CudaDeviceAttribute, Integer> attributes = new EnumMap<>(CudaDeviceAttribute.class);

    private CudaDevice(int ordinal, String name, long totalMemory, int major, int minor, String pciBusId) {
        this.ordinal = ordinal;
        this.name = name;
        this.totalMemory = totalMemory;
        this.major = major;
        this.minor = minor;
        this.pciBusId = pciBusId;
    }

    static CudaDevice query(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment props = cudaDeviceProp.allocate(arena);
            Cuda.check(CudaRuntime.cudaGetDeviceProperties(props, ordinal), "cudaGetDeviceProperties(" + ordinal + ")");
            MemorySegment bus = arena.allocate(64);
            String busId = CudaRuntime.cudaDeviceGetPCIBusId(bus, 64, ordinal) == 0 ? bus.getString(0) : "";
            return new CudaDevice(ordinal, cudaDeviceProp.name(props).getString(0),
                    cudaDeviceProp.totalGlobalMem(props), cudaDeviceProp.major(props), cudaDeviceProp.minor(props), busId);
        }
    }

    public int ordinal() {
        return ordinal;
    }

    /** The marketing name, e.g. "NVIDIA H200". */
    public String name() {
        return name;
    }

    /** Device memory in bytes. */
    public long totalMemory() {
        return totalMemory;
    }

    public int computeCapabilityMajor() {
        return major;
    }

    public int computeCapabilityMinor() {
        return minor;
    }

    /** "9.0" for Hopper. */
    public String computeCapability() {
        return major + "." + minor;
    }

    /** Whether this GPU runs the sm_90a code that libinfra4j_cuda carries (exactly compute capability 9.0). */
    public boolean isHopper() {
        return major == 9 && minor == 0;
    }

    public String pciBusId() {
        return pciBusId;
    }

    public int multiprocessorCount() {
        return attribute(CudaDeviceAttribute.MULTIPROCESSOR_COUNT);
    }

    public long l2CacheBytes() {
        return attribute(CudaDeviceAttribute.L2_CACHE_SIZE);
    }

    /** A device attribute (cached after the first read: attributes don't change). */
    public int attribute(CudaDeviceAttribute attribute) {
        synchronized (attributes) {
            Integer v = attributes.get(attribute);
            if (v != null) {
                return v;
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_INT);
            Cuda.check(CudaRuntime.cudaDeviceGetAttribute(out, attribute.code(), ordinal),
                    "cudaDeviceGetAttribute(" + attribute + ", " + ordinal + ")");
            int v = out.get(C_INT, 0);
            synchronized (attributes) {
                attributes.put(attribute, v);
            }
            return v;
        }
    }

    /** Free and total memory now. */
    public MemoryInfo memoryInfo() {
        makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(C_LONG);
            MemorySegment total = arena.allocate(C_LONG);
            Cuda.check(CudaRuntime.cudaMemGetInfo(free, total), "cudaMemGetInfo");
            return new MemoryInfo(free.get(C_LONG, 0), total.get(C_LONG, 0));
        }
    }

    /** Makes this the calling thread's current device. */
    public void makeCurrent() {
        Cuda.check(CudaRuntime.cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
    }

    /** Whether kernels on this device can read and write {@code peer}'s memory (NVLink or PCIe peer access). */
    public boolean canAccessPeer(CudaDevice peer) {
        if (peer == null) {
            throw new IllegalArgumentException("peer: expected a CudaDevice, got null");
        }
        if (peer.ordinal == ordinal) {
            return true;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_INT);
            Cuda.check(CudaRuntime.cudaDeviceCanAccessPeer(out, ordinal, peer.ordinal),
                    "cudaDeviceCanAccessPeer(" + ordinal + ", " + peer.ordinal + ")");
            return out.get(C_INT, 0) != 0;
        }
    }

    /**
     * Lets kernels on this device address {@code peer}'s memory ({@code cudaDeviceEnablePeerAccess}); doing it
     * again is not an error. Leaves this device current. IllegalStateException when the hardware cannot.
     */
    public void enablePeerAccess(CudaDevice peer) {
        if (!canAccessPeer(peer)) {
            throw new IllegalStateException(this + " cannot access " + peer + "'s memory (no peer access between them)");
        }
        if (peer.ordinal == ordinal) {
            return;
        }
        makeCurrent();
        int status = CudaRuntime.cudaDeviceEnablePeerAccess(peer.ordinal, 0);
        if (status == PEER_ACCESS_ALREADY_ENABLED) {
            CudaRuntime.cudaGetLastError(); // the runtime keeps the "error" as the last one: take it off
            return;
        }
        Cuda.check(status, "cudaDeviceEnablePeerAccess(" + peer.ordinal + ") on device " + ordinal);
    }

    private static final int PEER_ACCESS_ALREADY_ENABLED = 704; // cudaErrorPeerAccessAlreadyEnabled

    /** Waits until all work on this device is done. */
    public void synchronize() {
        makeCurrent();
        Cuda.check(CudaRuntime.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    }

    @Override
    public String toString() {
        return "cuda:" + ordinal + " (" + name + ", sm_" + major + minor + ", " + (totalMemory >> 20) + " MiB)";
    }
}
