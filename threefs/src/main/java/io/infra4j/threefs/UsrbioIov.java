package io.infra4j.threefs;

import io.infra4j.bindings.usrbio.hf3fs_iov;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A USRBIO data buffer ({@code struct hf3fs_iov}): shared memory the I/O engine reads into and writes
 * from, seen from Java as one {@link MemorySegment}. With 3FS it is registered with the file system's
 * agent; with the embedded backend it is POSIX shared memory another process can open by {@link #id()}.
 * {@link #pinForCuda} makes copies between it and a GPU go without staging. Closing it destroys it (an
 * I/O still using it must have completed).
 */
public final class UsrbioIov implements AutoCloseable {
    public static final String RESOURCE_KIND = "usrbio-iov";

    private final Usrbio usrbio;
    private final Arena arena;
    private final MemorySegment struct;
    private final MemorySegment data;
    private final long trackerId;
    private boolean pinned;
    private boolean closed;

    private UsrbioIov(Usrbio usrbio, Arena arena, MemorySegment struct) {
        this.usrbio = usrbio;
        this.arena = arena;
        this.struct = struct;
        // Scoped to this iov's arena: a slice kept past close fails in Java instead of reading unmapped memory.
        this.data = hf3fs_iov.base(struct).reinterpret(hf3fs_iov.size(struct), arena, null);
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "USRBIO iov of " + hf3fs_iov.size(struct) + " bytes", hf3fs_iov.size(struct));
    }

    /**
     * {@code hf3fs_iovcreate}: {@code size} bytes in blocks of {@code blockSize} (0: one block; an I/O may
     * not cross a block), on NUMA node {@code numa} (-1: no binding), for the file system mounted at
     * {@code mountPoint}.
     */
    static UsrbioIov create(Usrbio usrbio, String mountPoint, long size, long blockSize, int numa) {
        if (size <= 0) {
            throw new IllegalArgumentException("size: expected a positive number of bytes, got " + size);
        }
        if (blockSize < 0 || blockSize > size) {
            throw new IllegalArgumentException("blockSize: expected 0 (one block) up to size " + size + ", got " + blockSize);
        }
        checkMountPoint(mountPoint);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment s = hf3fs_iov.allocate(arena);
            int r = usrbio.calls().iovCreate(s, arena.allocateFrom(mountPoint), size, blockSize, numa);
            if (r != 0) {
                throw new UsrbioException("hf3fs_iovcreate(" + size + " bytes)", -r);
            }
            return new UsrbioIov(usrbio, arena, s);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** {@code hf3fs_iovopen}: maps the iov another handle (or process) made, by its 16-byte id. */
    static UsrbioIov open(Usrbio usrbio, byte[] id, String mountPoint, long size, long blockSize, int numa) {
        checkId(id);
        if (size <= 0 || blockSize < 0 || blockSize > size) {
            throw new IllegalArgumentException("size, blockSize: expected size > 0 and 0 <= blockSize <= size, got " + size + ", " + blockSize);
        }
        checkMountPoint(mountPoint);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment s = hf3fs_iov.allocate(arena);
            int r = usrbio.calls().iovOpen(s, arena.allocateFrom(ValueLayout.JAVA_BYTE, id), arena.allocateFrom(mountPoint), size, blockSize,
                    numa);
            if (r != 0) {
                throw new UsrbioException("hf3fs_iovopen(" + size + " bytes)", -r);
            }
            return new UsrbioIov(usrbio, arena, s);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * {@code hf3fs_iovwrap}: an iov over memory the caller owns (with 3FS it must be shared memory the file
     * system's agent can map); closing it leaves the memory alone.
     */
    static UsrbioIov wrap(Usrbio usrbio, MemorySegment memory, byte[] id, String mountPoint, long blockSize, int numa) {
        checkId(id);
        if (memory == null || !memory.isNative() || memory.byteSize() == 0) {
            throw new IllegalArgumentException("memory: expected a non-empty native segment, got " + memory);
        }
        if (blockSize < 0 || blockSize > memory.byteSize()) {
            throw new IllegalArgumentException("blockSize: expected 0 up to the memory's " + memory.byteSize() + " bytes, got " + blockSize);
        }
        checkMountPoint(mountPoint);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment s = hf3fs_iov.allocate(arena);
            int r = usrbio.calls().iovWrap(s, memory, arena.allocateFrom(ValueLayout.JAVA_BYTE, id), arena.allocateFrom(mountPoint),
                    memory.byteSize(), blockSize, numa);
            if (r != 0) {
                throw new UsrbioException("hf3fs_iovwrap(" + memory.byteSize() + " bytes)", -r);
            }
            return new UsrbioIov(usrbio, arena, s);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static void checkId(byte[] id) {
        if (id == null || id.length != 16) {
            throw new IllegalArgumentException("id: expected 16 bytes, got " + (id == null ? "null" : id.length));
        }
    }

    static void checkMountPoint(String mountPoint) {
        if (mountPoint == null || mountPoint.isEmpty()) {
            throw new IllegalArgumentException("mountPoint: expected the file system's mount point (Usrbio.mountPointOf), got "
                    + (mountPoint == null ? "null" : "an empty string"));
        }
        if (mountPoint.getBytes(java.nio.charset.StandardCharsets.UTF_8).length >= 256) {
            throw new IllegalArgumentException("mountPoint: at most 255 bytes, got " + mountPoint.length() + " characters");
        }
    }

    /** The buffer. Valid until close. */
    public MemorySegment segment() {
        checkOpen();
        return data;
    }

    public long size() {
        return data.byteSize();
    }

    public long blockSize() {
        return hf3fs_iov.block_size(struct);
    }

    /** The 16 id bytes another process opens it by. */
    public byte[] id() {
        return hf3fs_iov.id(struct).toArray(ValueLayout.JAVA_BYTE);
    }

    MemorySegment struct() {
        checkOpen();
        return struct;
    }

    Usrbio usrbio() {
        return usrbio;
    }

    /** Page-locks the buffer for CUDA (cudaHostRegister), so that copies to and from GPUs need no staging; undone on close. */
    public UsrbioIov pinForCuda() {
        checkOpen();
        if (!pinned) {
            io.infra4j.memory.HostRegistration.register(data);
            pinned = true;
        }
        return this;
    }

    public boolean isPinned() {
        return pinned;
    }

    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this USRBIO iov is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (pinned) {
                io.infra4j.memory.HostRegistration.unregister(data);
            }
            usrbio.calls().iovDestroy(struct);
        } finally {
            ResourceTracker.release(trackerId);
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "UsrbioIov(" + size() + " bytes, " + usrbio.backend() + (closed ? ", closed" : "") + ")";
    }
}
