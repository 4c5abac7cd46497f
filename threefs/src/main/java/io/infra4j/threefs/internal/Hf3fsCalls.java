package io.infra4j.threefs.internal;

import io.infra4j.bindings.hf3fs.Hf3fsLib;
import java.lang.foreign.MemorySegment;

/** 3FS's own libhf3fs_api_shared.so, found by name by the system's loader (LD_LIBRARY_PATH, the loader cache). */
public final class Hf3fsCalls implements UsrbioCalls {
    public static final Hf3fsCalls INSTANCE = new Hf3fsCalls();

    private Hf3fsCalls() {}

    @Override
    public boolean isHf3fs(int fd) {
        return Hf3fsLib.hf3fs_is_hf3fs(fd);
    }

    @Override
    public int extractMountPoint(MemorySegment out, int size, MemorySegment path) {
        return Hf3fsLib.hf3fs_extract_mount_point(out, size, path);
    }

    @Override
    public int iovCreate(MemorySegment iov, MemorySegment mountPoint, long size, long blockSize, int numa) {
        return Hf3fsLib.hf3fs_iovcreate(iov, mountPoint, size, blockSize, numa);
    }

    @Override
    public int iovOpen(MemorySegment iov, MemorySegment id, MemorySegment mountPoint, long size, long blockSize, int numa) {
        return Hf3fsLib.hf3fs_iovopen(iov, id, mountPoint, size, blockSize, numa);
    }

    @Override
    public int iovWrap(MemorySegment iov, MemorySegment base, MemorySegment id, MemorySegment mountPoint, long size, long blockSize, int numa) {
        return Hf3fsLib.hf3fs_iovwrap(iov, base, id, mountPoint, size, blockSize, numa);
    }

    @Override
    public void iovUnlink(MemorySegment iov) {
        Hf3fsLib.hf3fs_iovunlink(iov);
    }

    @Override
    public void iovDestroy(MemorySegment iov) {
        Hf3fsLib.hf3fs_iovdestroy(iov);
    }

    @Override
    public int iorCreate4(MemorySegment ior, MemorySegment mountPoint, int entries, boolean forRead, int ioDepth, int timeoutMs, int numa,
            long flags) {
        return Hf3fsLib.hf3fs_iorcreate4(ior, mountPoint, entries, forRead, ioDepth, timeoutMs, numa, flags);
    }

    @Override
    public void iorDestroy(MemorySegment ior) {
        Hf3fsLib.hf3fs_iordestroy(ior);
    }

    @Override
    public int regFd(int fd, long flags) {
        return Hf3fsLib.hf3fs_reg_fd(fd, flags);
    }

    @Override
    public void deregFd(int fd) {
        Hf3fsLib.hf3fs_dereg_fd(fd);
    }

    @Override
    public int prepIo(MemorySegment ior, MemorySegment iov, boolean read, MemorySegment ptr, int fd, long off, long len,
            MemorySegment userdata) {
        return Hf3fsLib.hf3fs_prep_io(ior, iov, read, ptr, fd, off, len, userdata);
    }

    @Override
    public int submitIos(MemorySegment ior) {
        return Hf3fsLib.hf3fs_submit_ios(ior);
    }

    @Override
    public int waitForIos(MemorySegment ior, MemorySegment cqes, int cqec, int minResults, MemorySegment absTimeout) {
        return Hf3fsLib.hf3fs_wait_for_ios(ior, cqes, cqec, minResults, absTimeout);
    }
}
