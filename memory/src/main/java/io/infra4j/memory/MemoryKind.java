package io.infra4j.memory;

/** The kind of memory behind a tensor's storage. */
public enum MemoryKind {
    /** Pageable host memory from an FFM arena. */
    HOST,
    /** Page-locked host memory ({@code cudaHostAlloc}): fast, truly asynchronous copies to and from GPUs. */
    PINNED,
    /** GPU memory from the device's stream-ordered pool ({@code cudaMallocFromPoolAsync}). */
    DEVICE;

    /** Pageable host memory for the CPU, pooled device memory for a GPU. */
    public static MemoryKind defaultFor(Device device) {
        if (device == null) {
            throw new IllegalArgumentException("device: expected a Device, got null");
        }
        return device.isCpu() ? HOST : DEVICE;
    }

    /** Whether Java can read and write the bytes through a MemorySegment. */
    public boolean isHostAccessible() {
        return this != DEVICE;
    }
}
