package io.infra4j.threefs.internal;

import io.infra4j.bindings.usrbio.UsrbioLib;
import java.lang.foreign.MemorySegment;

/** libinfra4j_usrbio.so, which infra4j loads (the generated bindings find it through the class loader's lookup). */
public final class EmbeddedCalls implements UsrbioCalls {
    public static final EmbeddedCalls INSTANCE = new EmbeddedCalls();

    private EmbeddedCalls() {}

    @Override
    public boolean isHf3fs(int fd) {
        return UsrbioLib.hf3fs_is_hf3fs(fd);
    }

    @Override
    public int extractMountPoint(MemorySegment out, int size, MemorySegment path) {
        return UsrbioLib.hf3fs_extract_mount_point(out, size, path);
    }

    @Override
    public int iovCreate(MemorySegment iov, MemorySegment mountPoint, long size, long blockSize, int numa) {
        return UsrbioLib.hf3fs_iovcreate(iov, mountPoint, size, blockSize, numa);
    }

    @Override
    public int iovOpen(MemorySegment iov, MemorySegment id, MemorySegment mountPoint, long size, long blockSize, int numa) {
        return UsrbioLib.hf3fs_iovopen(iov, id, mountPoint, size, blockSize, numa);
    }

    @Override
    public int iovWrap(MemorySegment iov, MemorySegment base, MemorySegment id, MemorySegment mountPoint, long size, long blockSize, int numa) {
        return UsrbioLib.hf3fs_iovwrap(iov, base, id, mountPoint, size, blockSize, numa);
    }

    @Override
    public void iovUnlink(MemorySegment iov) {
        UsrbioLib.hf3fs_iovunlink(iov);
    }

    @Override
    public void iovDestroy(MemorySegment iov) {
        UsrbioLib.hf3fs_iovdestroy(iov);
    }

    @Override
    public int iorCreate4(MemorySegment ior, MemorySegment mountPoint, int entries, boolean forRead, int ioDepth, int timeoutMs, int numa,
            long flags) {
        return UsrbioLib.hf3fs_iorcreate4(ior, mountPoint, entries, forRead, ioDepth, timeoutMs, numa, flags);
    }

    @Override
    public void iorDestroy(MemorySegment ior) {
        UsrbioLib.hf3fs_iordestroy(ior);
    }

    @Override
    public int regFd(int fd, long flags) {
        return UsrbioLib.hf3fs_reg_fd(fd, flags);
    }

    @Override
    public void deregFd(int fd) {
        UsrbioLib.hf3fs_dereg_fd(fd);
    }

    @Override
    public int prepIo(MemorySegment ior, MemorySegment iov, boolean read, MemorySegment ptr, int fd, long off, long len,
            MemorySegment userdata) {
        return UsrbioLib.hf3fs_prep_io(ior, iov, read, ptr, fd, off, len, userdata);
    }

    @Override
    public int submitIos(MemorySegment ior) {
        return UsrbioLib.hf3fs_submit_ios(ior);
    }

    @Override
    public int waitForIos(MemorySegment ior, MemorySegment cqes, int cqec, int minResults, MemorySegment absTimeout) {
        return UsrbioLib.hf3fs_wait_for_ios(ior, cqes, cqec, minResults, absTimeout);
    }
}
