package io.infra4j.memory;

import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bytes owned by one allocation and shared, by reference count, among a tensor and its views. The
 * memory is freed when the last holder closes. Device and pinned memory are never freed by the GC.
 */
public final class Storage {
    /** Frees the memory of one storage; runs exactly once. */
    @FunctionalInterface
    interface Release {
        void run();
    }

    private final MemoryKind kind;
    private final Device device;
    private final long address;
    private final long byteSize;
    private final MemorySegment segment;
    private final Release release;
    private final AtomicInteger refs = new AtomicInteger(1);
    private final long trackerId;

    Storage(MemoryKind kind, Device device, MemorySegment segment, long byteSize, Release release, String site) {
        this.kind = kind;
        this.device = device;
        this.address = segment.address();
        this.byteSize = byteSize;
        this.segment = segment;
        this.release = release;
        this.trackerId = byteSize == 0 ? 0 : ResourceTracker.register(trackerKind(kind),
                kind.name().toLowerCase(java.util.Locale.ROOT) + " storage on " + device + (site.isEmpty() ? "" : " for " + site),
                byteSize);
    }

    /** The leak-report kind of each memory kind: "host-memory", "pinned-memory", "device-memory". */
    public static String trackerKind(MemoryKind kind) {
        return switch (kind) {
            case HOST -> "host-memory";
            case PINNED -> "pinned-memory";
            case DEVICE -> "device-memory";
        };
    }

    public MemoryKind kind() {
        return kind;
    }

    public Device device() {
        return device;
    }

    /** Start address of the allocation (0 for an empty one). */
    public long address() {
        return address;
    }

    public long byteSize() {
        return byteSize;
    }

    /** The whole allocation as a segment: readable for host kinds, zero-length for device memory. */
    MemorySegment segment() {
        checkLive();
        return segment;
    }

    /** Holders now (0 once freed). */
    public int references() {
        return Math.max(0, refs.get());
    }

    public boolean isFreed() {
        return refs.get() <= 0;
    }

    void checkLive() {
        if (refs.get() <= 0) {
            throw new IllegalStateException("the storage (" + byteSize + " bytes of " + kind + " on " + device + ") is freed");
        }
    }

    void retain() {
        while (true) {
            int r = refs.get();
            if (r <= 0) {
                throw new IllegalStateException("cannot share a freed storage");
            }
            if (refs.compareAndSet(r, r + 1)) {
                return;
            }
        }
    }

    void releaseOne() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            if (trackerId != 0) {
                ResourceTracker.release(trackerId);
            }
            release.run();
        } else if (r < 0) {
            throw new IllegalStateException("storage released more often than retained");
        }
    }
}
