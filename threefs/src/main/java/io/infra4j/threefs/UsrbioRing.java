package io.infra4j.threefs;

import io.infra4j.bindings.usrbio.hf3fs_cqe;
import io.infra4j.bindings.usrbio.hf3fs_ior;
import io.infra4j.bindings.usrbio.timespec;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A USRBIO ring ({@code struct hf3fs_ior}): reads, or writes, at file offsets, prepared into slots,
 * submitted in batches, completed in any order. A slot is taken by {@link #prepare} and given back when
 * {@link #await} returns its {@link Completion}; {@link #prepare} answers -1 when every slot is taken.
 * As with 3FS, one thread prepares and submits and one (possibly another) awaits.
 */
public final class UsrbioRing implements AutoCloseable {
    public static final String RESOURCE_KIND = "usrbio-ring";

    private final Usrbio usrbio;
    private final Arena arena;
    private final MemorySegment struct;
    private final MemorySegment cqes;
    private final MemorySegment deadline;
    private final int entries;
    private final boolean forRead;
    private final long trackerId;
    private volatile boolean closed;

    private UsrbioRing(Usrbio usrbio, Arena arena, MemorySegment struct, int entries, boolean forRead) {
        this.usrbio = usrbio;
        this.arena = arena;
        this.struct = struct;
        this.entries = entries;
        this.forRead = forRead;
        this.cqes = hf3fs_cqe.allocateArray(entries, arena);
        this.deadline = timespec.allocate(arena);
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "USRBIO " + (forRead ? "read" : "write") + " ring of " + entries, 0);
    }

    /**
     * {@code hf3fs_iorcreate4}: {@code entries} slots for reads ({@code forRead}) or writes. {@code ioDepth}
     * 0 submits all that is prepared, n > 0 only whole batches of n, -n batches of at most n; {@code timeout}
     * is how long a partial batch may wait for more (3FS), {@code numa} the node (-1: any), {@code flags}
     * {@code HF3FS_IOR_*}.
     */
    static UsrbioRing create(Usrbio usrbio, String mountPoint, int entries, boolean forRead, int ioDepth, Duration timeout, int numa,
            long flags) {
        if (entries < 1 || entries > 32768) {
            throw new IllegalArgumentException("entries: expected 1 to 32768 slots, got " + entries);
        }
        if (ioDepth > entries || ioDepth < -entries) {
            throw new IllegalArgumentException("ioDepth: expected -entries to entries (" + entries + "), got " + ioDepth);
        }
        if (timeout == null || timeout.isNegative() || timeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("timeout: expected zero or a positive duration, got " + timeout);
        }
        UsrbioIov.checkMountPoint(mountPoint);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment s = hf3fs_ior.allocate(arena);
            int r = usrbio.calls().iorCreate4(s, arena.allocateFrom(mountPoint), entries, forRead, ioDepth, (int) timeout.toMillis(), numa,
                    flags);
            if (r != 0) {
                throw new UsrbioException("hf3fs_iorcreate4(" + entries + " entries)", -r);
            }
            return new UsrbioRing(usrbio, arena, s, entries, forRead);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public int entries() {
        return entries;
    }

    public boolean forRead() {
        return forRead;
    }

    /**
     * {@code hf3fs_prep_io}: {@code length} bytes between {@code iov} at {@code iovOffset} and {@code file}
     * at {@code fileOffset}, tagged {@code userData}. Returns the slot, or -1 when every slot is taken (await
     * completions first). Bad arguments are IllegalArgumentException, a closed ring, iov or file
     * IllegalStateException, all before the library sees them; what the library refuses is a
     * UsrbioException with its errno.
     */
    public int prepare(UsrbioIov iov, long iovOffset, RegisteredFile file, long fileOffset, long length, long userData) {
        checkOpen();
        if (iov == null || file == null) {
            throw new IllegalArgumentException("iov and file: expected both, got " + iov + ", " + file);
        }
        if (iov.isClosed()) {
            throw new IllegalStateException("iov: " + iov + " is closed");
        }
        file.checkOpen();
        if (iov.usrbio().backend() != usrbio.backend() || file.usrbio().backend() != usrbio.backend()) {
            throw new IllegalArgumentException("iov and file: made by another USRBIO backend than this ring's (" + usrbio.backend() + ")");
        }
        if (length <= 0) {
            throw new IllegalArgumentException("length: expected a positive number of bytes, got " + length);
        }
        if (iovOffset < 0 || iovOffset > iov.size() || length > iov.size() - iovOffset) {
            throw new IllegalArgumentException("iovOffset, length: [" + iovOffset + ", " + iovOffset + " + " + length
                    + ") lies outside the iov's " + iov.size() + " bytes");
        }
        if (fileOffset < 0 || fileOffset > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException("fileOffset: expected >= 0 (with length within a long), got " + fileOffset);
        }
        if (forRead ? !file.mode().reads() : !file.mode().writes()) {
            throw new IllegalArgumentException("file: " + file + " is not open for " + (forRead ? "reading" : "writing")
                    + ", which this ring does");
        }
        long blockSize = iov.blockSize();
        if (blockSize > 0 && iovOffset / blockSize != (iovOffset + length - 1) / blockSize) {
            throw new IllegalArgumentException("iovOffset, length: an I/O may not cross a block of the iov (" + blockSize + " bytes)");
        }
        MemorySegment ptr = iov.segment().asSlice(iovOffset, length);
        int r = usrbio.calls().prepIo(struct, iov.struct(), forRead, ptr, file.fd(), fileOffset, length, MemorySegment.ofAddress(userData));
        if (r == -Errno.EAGAIN) {
            return -1;
        }
        if (r < 0) {
            throw new UsrbioException("hf3fs_prep_io(" + file.path() + " at " + fileOffset + ", " + length + " bytes)", -r);
        }
        return r;
    }

    /** {@code hf3fs_submit_ios}: hands what is prepared to the engine. */
    public void submit() {
        checkOpen();
        int r = usrbio.calls().submitIos(struct);
        if (r < 0) {
            throw new UsrbioException("hf3fs_submit_ios", -r);
        }
    }

    /**
     * {@code hf3fs_wait_for_ios}: completions, at least {@code minResults} unless {@code timeout} passes
     * first (then fewer, perhaps none: not an error), at most {@link #entries()}.
     */
    public List<Completion> await(int minResults, Duration timeout) {
        checkOpen();
        if (minResults < 0 || minResults > entries) {
            throw new IllegalArgumentException("minResults: expected 0 to entries (" + entries + "), got " + minResults);
        }
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout: expected zero or a positive duration, got " + timeout);
        }
        Instant end = Instant.now().plus(timeout);
        timespec.tv_sec(deadline, end.getEpochSecond());
        timespec.tv_nsec(deadline, end.getNano());
        int n = usrbio.calls().waitForIos(struct, cqes, entries, minResults, deadline);
        if (n < 0) {
            throw new UsrbioException("hf3fs_wait_for_ios", -n);
        }
        List<Completion> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            MemorySegment c = hf3fs_cqe.asSlice(cqes, i);
            out.add(new Completion(hf3fs_cqe.index(c), hf3fs_cqe.result(c), hf3fs_cqe.userdata(c).address()));
        }
        return out;
    }

    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this USRBIO ring is closed");
        }
    }

    /** {@code hf3fs_iordestroy}; I/Os in flight are finished or cancelled first. Not while another thread awaits on it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            usrbio.calls().iorDestroy(struct);
        } finally {
            ResourceTracker.release(trackerId);
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "UsrbioRing(" + (forRead ? "read" : "write") + ", " + entries + " entries, " + usrbio.backend() + (closed ? ", closed" : "")
                + ")";
    }
}
