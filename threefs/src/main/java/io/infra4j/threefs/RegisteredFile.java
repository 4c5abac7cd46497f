package io.infra4j.threefs;

import io.infra4j.ffm.ResourceTracker;
import io.infra4j.threefs.internal.Libc;
import java.nio.file.Path;

/**
 * A file open for USRBIO I/O: a descriptor registered with the library ({@code hf3fs_reg_fd}). Closing it
 * deregisters and closes the descriptor; I/Os prepared on it after that are refused.
 */
public final class RegisteredFile implements AutoCloseable {
    public static final String RESOURCE_KIND = "usrbio-file";

    /** How the file is opened. */
    public enum Mode {
        READ(Libc.O_RDONLY),
        /** Read and write; created (mode 0644) when absent. */
        READ_WRITE(Libc.O_RDWR | Libc.O_CREAT),
        /** Write only; created (mode 0644) when absent. */
        WRITE(Libc.O_WRONLY | Libc.O_CREAT);

        final int flags;

        Mode(int flags) {
            this.flags = flags;
        }

        boolean reads() {
            return this != WRITE;
        }

        boolean writes() {
            return this != READ;
        }
    }

    private final Usrbio usrbio;
    private final Path path;
    private final Mode mode;
    private final int fd;
    private final long trackerId;
    private volatile boolean closed;

    private RegisteredFile(Usrbio usrbio, Path path, Mode mode, int fd) {
        this.usrbio = usrbio;
        this.path = path;
        this.mode = mode;
        this.fd = fd;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "USRBIO file " + path + " (" + mode + ")", 0);
    }

    static RegisteredFile open(Usrbio usrbio, Path path, Mode mode) {
        if (path == null || mode == null) {
            throw new IllegalArgumentException("path and mode: expected both, got " + path + ", " + mode);
        }
        int fd = Libc.open(path.toAbsolutePath().toString(), mode.flags | Libc.O_CLOEXEC, 0644);
        if (fd < 0) {
            throw new UsrbioException("open(" + path + ", " + mode + ")", Libc.lastErrno());
        }
        int r = usrbio.calls().regFd(fd, 0);
        if (r > 0) { // hf3fs_reg_fd: a positive errno on failure
            Libc.close(fd);
            throw new UsrbioException("hf3fs_reg_fd(" + path + ")", r);
        }
        return new RegisteredFile(usrbio, path, mode, fd);
    }

    public Path path() {
        return path;
    }

    public Mode mode() {
        return mode;
    }

    /** The registered descriptor (what {@code hf3fs_prep_io} takes). */
    public int fd() {
        checkOpen();
        return fd;
    }

    Usrbio usrbio() {
        return usrbio;
    }

    /** Flushes written data to the device ({@code fsync}). */
    public void fsync() {
        checkOpen();
        if (Libc.fsync(fd) != 0) {
            throw new UsrbioException("fsync(" + path + ")", Libc.lastErrno());
        }
    }

    public boolean isClosed() {
        return closed;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("file " + path + " is closed (deregistered)");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            usrbio.calls().deregFd(fd);
            Libc.close(fd);
        } finally {
            ResourceTracker.release(trackerId);
        }
    }

    @Override
    public String toString() {
        return "RegisteredFile(" + path + ", " + mode + (closed ? ", closed" : "") + ")";
    }
}
