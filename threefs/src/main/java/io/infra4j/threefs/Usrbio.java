package io.infra4j.threefs;

import io.infra4j.ffm.LibraryProbe;
import io.infra4j.ffm.LibrarySpec;
import io.infra4j.threefs.internal.EmbeddedCalls;
import io.infra4j.threefs.internal.Hf3fsCalls;
import io.infra4j.threefs.internal.UsrbioCalls;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * 3FS's USRBIO client API ({@code hf3fs_usrbio.h}) for Java: shared I/O buffers ({@link UsrbioIov}), rings
 * of batched reads or writes at file offsets ({@link UsrbioRing}), registered files
 * ({@link RegisteredFile}). Two libraries implement it with the same C ABI:
 * <ul>
 *   <li>{@link Backend#HF3FS}: 3FS's own client, {@code libhf3fs_api_shared.so}, wherever the system's
 *       loader finds it, for files on a 3FS mount (it reads through the 3FS fuse agent's shared memory and
 *       RDMA; 3FS cannot run here, so this backend is bound to the ABI and tested only as far as that goes);
 *   <li>{@link Backend#EMBEDDED}: {@code libinfra4j_usrbio.so} from infra4j's jar, the same API over
 *       io_uring for any local file system (O_DIRECT where buffer, offset and length are 4 KiB aligned).
 * </ul>
 * {@link #forPath} picks 3FS's client for a path on a 3FS mount where the library is present, and the
 * embedded one otherwise.
 */
public final class Usrbio {
    /** Which library answers. */
    public enum Backend {
        EMBEDDED,
        HF3FS
    }

    private static final LibraryProbe EMBEDDED_PROBE = new LibraryProbe(LibrarySpec.INFRA4J_USRBIO, "hf3fs_ior_size", () -> {
        long size = io.infra4j.bindings.usrbio.UsrbioLib.hf3fs_ior_size(1);
        return size > 0 ? LibraryProbe.Result.of(1) : LibraryProbe.Result.failed("hf3fs_ior_size answered " + size);
    });

    private static volatile String hf3fsProblem; // null: not probed yet; "": usable

    private final Backend backend;
    private final UsrbioCalls calls;

    private Usrbio(Backend backend, UsrbioCalls calls) {
        this.backend = backend;
        this.calls = calls;
    }

    /** The embedded io_uring backend; UsrbioUnavailableException saying why when it cannot load. */
    public static Usrbio embedded() {
        LibraryProbe.Result r = EMBEDDED_PROBE.get();
        if (!r.available()) {
            throw new UsrbioUnavailableException("the embedded USRBIO library cannot be used: " + r.reason());
        }
        return new Usrbio(Backend.EMBEDDED, EmbeddedCalls.INSTANCE);
    }

    /** Whether the embedded backend loads here, without an exception. */
    public static boolean isEmbeddedAvailable() {
        return EMBEDDED_PROBE.get().available();
    }

    /** Why the embedded backend cannot be used, or an empty string. */
    public static String embeddedUnavailableReason() {
        return EMBEDDED_PROBE.get().reason();
    }

    /** 3FS's own client library; UsrbioUnavailableException where the system's loader does not find it. */
    public static Usrbio hf3fs() {
        String problem = hf3fsProblem();
        if (!problem.isEmpty()) {
            throw new UsrbioUnavailableException(problem);
        }
        return new Usrbio(Backend.HF3FS, Hf3fsCalls.INSTANCE);
    }

    /** Whether 3FS's client library can be loaded here. */
    public static boolean isHf3fsAvailable() {
        return hf3fsProblem().isEmpty();
    }

    private static String hf3fsProblem() {
        String p = hf3fsProblem;
        if (p == null) {
            try {
                io.infra4j.bindings.hf3fs.Hf3fsLib.hf3fs_ior_size(1); // its class finds the library by name
                p = "";
            } catch (IllegalArgumentException | LinkageError e) {
                Throwable root = e;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                p = "3FS's client library libhf3fs_api_shared.so is not where the system's loader looks (LD_LIBRARY_PATH, "
                        + "the loader cache): " + root.getMessage();
            }
            hf3fsProblem = p;
        }
        return p;
    }

    /**
     * The backend for files under {@code path}: 3FS's client when {@code path} lies on a 3FS mount (a
     * {@code fuse.hf3fs} file system in /proc/self/mounts) and its library loads; else the embedded one.
     */
    public static Usrbio forPath(Path path) {
        if (path == null) {
            throw new IllegalArgumentException("path: expected a path, got null");
        }
        if (onHf3fsMount(path) && isHf3fsAvailable()) {
            return hf3fs();
        }
        return embedded();
    }

    /** Whether {@code path} lies on a mounted 3FS file system (fuse.hf3fs), by /proc/self/mounts. */
    public static boolean onHf3fsMount(Path path) {
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            return false;
        }
        String best = null;
        String bestType = null;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length < 3) {
                    continue;
                }
                String dir = f[1].replace("\\040", " ");
                if (real.startsWith(dir) && (best == null || dir.length() >= best.length())) {
                    best = dir;
                    bestType = f[2];
                }
            }
        } catch (IOException e) {
            return false;
        }
        return bestType != null && bestType.toLowerCase(Locale.ROOT).equals("fuse.hf3fs");
    }

    public Backend backend() {
        return backend;
    }

    UsrbioCalls calls() {
        return calls;
    }

    /** The mount point of the file system holding {@code path} (the library's answer; for 3FS, its mount). */
    public String mountPointOf(Path path) {
        if (path == null) {
            throw new IllegalArgumentException("path: expected a path, got null");
        }
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("path: " + path + " does not exist");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(4096);
            int n = calls.extractMountPoint(out, 4096, a.allocateFrom(path.toAbsolutePath().toString()));
            if (n < 0 || n > 4096) {
                throw new UsrbioException("hf3fs_extract_mount_point(" + path + ") found no mount point (" + n + ")");
            }
            return out.getString(0);
        }
    }

    /** A new shared buffer of {@code size} bytes (see {@link UsrbioIov#create}). */
    public UsrbioIov createIov(String mountPoint, long size, long blockSize, int numa) {
        return UsrbioIov.create(this, mountPoint, size, blockSize, numa);
    }

    /** The iov another handle or process made, mapped here by its id (see {@link UsrbioIov#id()}). */
    public UsrbioIov openIov(byte[] id, String mountPoint, long size, long blockSize, int numa) {
        return UsrbioIov.open(this, id, mountPoint, size, blockSize, numa);
    }

    /** An iov over memory the caller owns; closing it leaves the memory alone. */
    public UsrbioIov wrapIov(MemorySegment memory, byte[] id, String mountPoint, long blockSize, int numa) {
        return UsrbioIov.wrap(this, memory, id, mountPoint, blockSize, numa);
    }

    /** A new ring (see {@link UsrbioRing#create}). */
    public UsrbioRing createRing(String mountPoint, int entries, boolean forRead, int ioDepth, Duration timeout, int numa, long flags) {
        return UsrbioRing.create(this, mountPoint, entries, forRead, ioDepth, timeout, numa, flags);
    }

    /** Opens {@code path} for reading (or writing: created if absent) and registers it. */
    public RegisteredFile register(Path path, RegisteredFile.Mode mode) {
        return RegisteredFile.open(this, path, mode);
    }

    /** The libraries this backend may come from, for messages. */
    public static List<String> libraries() {
        return List.of("libinfra4j_usrbio.so (embedded, io_uring)", "libhf3fs_api_shared.so (3FS)");
    }

    @Override
    public String toString() {
        return "Usrbio(" + backend + ")";
    }
}
