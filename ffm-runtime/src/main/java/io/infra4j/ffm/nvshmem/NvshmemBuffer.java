package io.infra4j.ffm.nvshmem;

import io.infra4j.ffm.ResourceTracker;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A buffer on NVSHMEM's symmetric heap: every PE holds a copy of the same size at the same offset
 * of its heap, which the others reach by {@link NvshmemWorld#put put} and {@link NvshmemWorld#get get}
 * and, where they are connected by NVLink or PCIe peer access, by loads and stores at
 * {@link #peerAddress(int)}. Made by {@link NvshmemWorld#malloc} or {@link NvshmemWorld#align};
 * {@link #close()} frees it ({@code nvshmem_free}, collective: every PE frees it, in the same order).
 * Closing its world releases it too.
 */
public final class NvshmemBuffer implements AutoCloseable {
    /** The kind under which open buffers are listed by {@link ResourceTracker}. */
    public static final String RESOURCE_KIND = "nvshmem-buffer";

    private final NvshmemWorld world;
    private final long address;
    private final long size;
    private final long alignment;
    private final long trackerId;
    private final AtomicBoolean closed = new AtomicBoolean();

    NvshmemBuffer(NvshmemWorld world, long address, long size, long alignment) {
        this.world = world;
        this.address = address;
        this.size = size;
        this.alignment = alignment;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "symmetric buffer of PE " + world.myPe() + " of "
                + world.nPes(), size);
    }

    /** The world whose heap holds it. */
    public NvshmemWorld world() {
        return world;
    }

    /** This PE's copy: a device address, valid for kernels and copies on this PE's GPU. */
    public long address() {
        if (closed.get()) {
            throw new IllegalStateException(this + " is closed");
        }
        return address;
    }

    /** The address without the closed check, for the world's own calls (which check first). */
    long rawAddress() {
        return address;
    }

    /** Its size in bytes, the same on every PE. */
    public long size() {
        return size;
    }

    /** The alignment asked of {@link NvshmemWorld#align}, or 0 for {@link NvshmemWorld#malloc}. */
    public long alignment() {
        return alignment;
    }

    public boolean isClosed() {
        return closed.get();
    }

    /**
     * The address through which this PE reaches PE {@code pe}'s copy by loads and stores
     * ({@code nvshmem_ptr}), or 0 when it cannot (a PE on another node, or without peer access).
     * For this PE it is {@link #address()}.
     */
    public long peerAddress(int pe) {
        return world.peerAddress(this, pe);
    }

    /** Frees it ({@code nvshmem_free}, collective); closing again, or after its world closed, does nothing. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ResourceTracker.release(trackerId);
        world.free(this);
    }

    /** Its world was finalised, and the heap with it. */
    void releasedWithWorld() {
        if (closed.compareAndSet(false, true)) {
            ResourceTracker.release(trackerId);
        }
    }

    @Override
    public String toString() {
        return "NvshmemBuffer(" + size + " bytes at 0x" + Long.toHexString(address) + ", PE " + world.myPe() + " of "
                + world.nPes() + (closed.get() ? ", closed" : "") + ")";
    }
}
