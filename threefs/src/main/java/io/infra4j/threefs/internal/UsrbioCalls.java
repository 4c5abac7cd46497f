package io.infra4j.threefs.internal;

import java.lang.foreign.MemorySegment;

/**
 * The calls of 3FS's USRBIO API that infra4j makes, over one library: 3FS's own client or infra4j's
 * io_uring implementation. Both export the same C ABI (native-src/include/infra4j/usrbio.h); the structs
 * are laid out as {@code io.infra4j.bindings.usrbio}'s classes say.
 */
public interface UsrbioCalls {
    boolean isHf3fs(int fd);

    int extractMountPoint(MemorySegment out, int size, MemorySegment path);

    int iovCreate(MemorySegment iov, MemorySegment mountPoint, long size, long blockSize, int numa);

    int iovOpen(MemorySegment iov, MemorySegment id, MemorySegment mountPoint, long size, long blockSize, int numa);

    int iovWrap(MemorySegment iov, MemorySegment base, MemorySegment id, MemorySegment mountPoint, long size, long blockSize, int numa);

    void iovUnlink(MemorySegment iov);

    void iovDestroy(MemorySegment iov);

    int iorCreate4(MemorySegment ior, MemorySegment mountPoint, int entries, boolean forRead, int ioDepth, int timeoutMs, int numa, long flags);

    void iorDestroy(MemorySegment ior);

    int regFd(int fd, long flags);

    void deregFd(int fd);

    int prepIo(MemorySegment ior, MemorySegment iov, boolean read, MemorySegment ptr, int fd, long off, long len, MemorySegment userdata);

    int submitIos(MemorySegment ior);

    int waitForIos(MemorySegment ior, MemorySegment cqes, int cqec, int minResults, MemorySegment absTimeout);
}
