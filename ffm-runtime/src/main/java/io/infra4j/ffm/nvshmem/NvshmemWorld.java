package io.infra4j.ffm.nvshmem;

import io.infra4j.bindings.nvshmem.NvshmemLib;
import io.infra4j.bindings.nvshmem.nvshmemx_init_args_v1;
import io.infra4j.bindings.nvshmem.nvshmemx_init_attr_v1;
import io.infra4j.bindings.nvshmem.nvshmemx_uniqueid_args_v1;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * This process's place in an NVSHMEM world of {@link #nPes()} processing elements (PEs), one per
 * process and GPU: made by {@link #init} from an {@link NvshmemUniqueId} that every process shares,
 * closed by {@link #close()} ({@code nvshmemx_hostlib_finalize}). It allocates the symmetric heap's
 * buffers ({@link #malloc}, {@link #align}), synchronises the PEs ({@link #barrierAll}, {@link #quiet})
 * and queues puts and gets of bytes between a local device address and a PE's copy of a symmetric
 * buffer on a stream ({@link #put}, {@link #get}).
 *
 * <p>NVSHMEM allows one initialisation per process: a second {@link #init}, also after the first
 * world was closed or its initialisation failed, raises {@link IllegalStateException}. Allocation,
 * freeing, barriers and closing are collective: every PE makes the same calls in the same order.
 * NVSHMEM runs {@code NVSHMEM_THREAD_SERIALIZED}: calls on a world are serialised on it.
 *
 * <p>Closing the world with buffers still open is allowed: they are marked closed without
 * {@code nvshmem_free} (collective, it would hang if the PEs had closed different buffers), and
 * finalisation releases the whole heap with them.
 *
 * <p>Every argument is checked in Java before NVSHMEM sees it (its host calls return nothing, print
 * and often exit the process on bad input): a closed world or buffer raises
 * {@link IllegalStateException}; a PE out of range, a negative or too large offset or size, a null
 * address, a buffer of another world or a stream that is null, closed or on another GPU raise
 * {@link IllegalArgumentException}.
 */
public final class NvshmemWorld implements AutoCloseable {
    /** The kind under which an open world is listed by {@link ResourceTracker}. */
    public static final String RESOURCE_KIND = "nvshmem-world";

    // One initialisation per process: where it stands, and what happened to it (for the message).
    private enum Phase { NONE, INITIALISING, OPEN, DONE }

    private static final Object INIT_LOCK = new Object();
    private static Phase phase = Phase.NONE;
    private static String history = "";

    private final int pe;
    private final int nPes;
    private final CudaDevice device;
    private final boolean bound;
    private final long trackerId;
    private final Set<NvshmemBuffer> buffers = new LinkedHashSet<>();
    private volatile boolean closed;

    private NvshmemWorld(int pe, int nPes, CudaDevice device, boolean bound) {
        this.pe = pe;
        this.nPes = nPes;
        this.device = device;
        this.bound = bound;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "nvshmem PE " + pe + " of " + nPes
                + (device == null ? "" : " on cuda:" + device.ordinal()), 0);
    }

    /** A world with no NVSHMEM behind it, for tests of the Java-side checks only (no global state). */
    static NvshmemWorld unbound(int pe, int nPes) {
        return new NvshmemWorld(pe, nPes, null, false);
    }

    // ---- making the world ----

    /**
     * Initialises NVSHMEM as PE {@code rank} of {@code nranks} on {@code device}, meeting the others
     * through {@code id} ({@code nvshmemx_set_attr_uniqueid_args}, then
     * {@code nvshmemx_hostlib_init_attr} with {@code NVSHMEMX_INIT_WITH_UNIQUEID}). Blocks until every
     * PE has joined. Makes {@code device} current on this thread first, as NVSHMEM binds to the
     * current GPU; sets NVSHMEM's environment defaults first (see {@link Nvshmem#environmentDefaults()}).
     *
     * @throws IllegalStateException if NVSHMEM was initialised in this process before (also when that
     *                               world is closed or its initialisation failed)
     */
    public static NvshmemWorld init(NvshmemUniqueId id, int rank, int nranks, CudaDevice device) {
        if (nranks < 1) {
            throw new IllegalArgumentException("nranks: expected at least 1, got " + nranks);
        }
        if (rank < 0 || rank >= nranks) {
            throw new IllegalArgumentException("rank: expected 0.." + (nranks - 1) + ", got " + rank);
        }
        requireArg(id, "id");
        requireArg(device, "device");
        String what = "PE " + rank + " of " + nranks + " on cuda:" + device.ordinal();
        synchronized (INIT_LOCK) {
            switch (phase) {
                case NONE -> { }
                case INITIALISING -> throw new IllegalStateException("NVSHMEM is being initialised by another thread ("
                        + history + "); NVSHMEM allows one initialisation per process");
                case OPEN -> throw new IllegalStateException("NVSHMEM is already initialised in this process ("
                        + history + "); NVSHMEM allows one initialisation per process: use that world");
                case DONE -> throw new IllegalStateException("NVSHMEM was initialised in this process before ("
                        + history + "); NVSHMEM allows one initialisation per process");
            }
            // No NVSHMEM call has happened yet: after a failure here a later attempt may still succeed.
            Nvshmem.requireAvailable();
            Cuda.requireAvailable();
            // A current context on this thread: NVSHMEM takes its GPU from cuCtxGetDevice.
            device.synchronize();
            NvshmemEnv.prepare();
            phase = Phase.INITIALISING;
            history = what;
        }
        NvshmemWorld world;
        try {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment attr = nvshmemx_init_attr_v1.allocate(arena);
                initAttr(attr);
                Nvshmem.check(NvshmemLib.nvshmemx_set_attr_uniqueid_args(rank, nranks, id.toSegment(arena), attr),
                        "nvshmemx_set_attr_uniqueid_args(" + what + ")");
                Nvshmem.check(NvshmemLib.nvshmemx_hostlib_init_attr(NvshmemLib.NVSHMEMX_INIT_WITH_UNIQUEID(), attr),
                        "nvshmemx_hostlib_init_attr(NVSHMEMX_INIT_WITH_UNIQUEID, " + what + ")");
            }
            world = new NvshmemWorld(NvshmemLib.nvshmem_my_pe(), NvshmemLib.nvshmem_n_pes(), device, true);
        } catch (RuntimeException | Error e) {
            synchronized (INIT_LOCK) {
                phase = Phase.DONE;
                history = "an initialisation as " + what + " that failed: " + e.getMessage();
            }
            throw e;
        }
        synchronized (INIT_LOCK) {
            phase = Phase.OPEN;
            history = "the world of " + world;
        }
        if (world.pe != rank || world.nPes != nranks) {
            IllegalStateException e = new IllegalStateException("NVSHMEM initialised as " + what + " reports PE "
                    + world.pe + " of " + world.nPes);
            try {
                world.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return world;
    }

    /**
     * Fills a zeroed {@code nvshmemx_init_attr_t} as {@code NVSHMEMX_INIT_ATTR_INITIALIZER} does: the
     * version of each nested struct ((1 << 16) + its size, which NVSHMEM reads to know the layout),
     * no MPI communicator, no unique id, rank and size -1 until {@code nvshmemx_set_attr_uniqueid_args}.
     */
    static void initAttr(MemorySegment attr) {
        nvshmemx_init_attr_v1.version(attr, (1 << 16) + (int) nvshmemx_init_attr_v1.sizeof());
        nvshmemx_init_attr_v1.mpi_comm(attr, MemorySegment.NULL);
        MemorySegment args = nvshmemx_init_attr_v1.args(attr);
        nvshmemx_init_args_v1.version(args, (1 << 16) + (int) nvshmemx_init_args_v1.sizeof());
        MemorySegment uid = nvshmemx_init_args_v1.uid_args(args);
        nvshmemx_uniqueid_args_v1.version(uid, (1 << 16) + (int) nvshmemx_uniqueid_args_v1.sizeof());
        nvshmemx_uniqueid_args_v1.id(uid, MemorySegment.NULL);
        nvshmemx_uniqueid_args_v1.myrank(uid, -1);
        nvshmemx_uniqueid_args_v1.nranks(uid, -1);
    }

    // ---- what it is ----

    /** This process's PE, in [0, nPes). */
    public int myPe() {
        return pe;
    }

    /** The number of PEs. */
    public int nPes() {
        return nPes;
    }

    /** The GPU this PE runs on (null only for the test-only unbound world). */
    public CudaDevice device() {
        return device;
    }

    public boolean isClosed() {
        return closed;
    }

    /** The buffers of this world still open, oldest first. */
    public synchronized List<NvshmemBuffer> openBuffers() {
        return List.copyOf(buffers);
    }

    // ---- the symmetric heap ----

    /** A symmetric buffer of {@code bytes} bytes ({@code nvshmem_malloc}); collective: every PE asks for the same size. */
    public synchronized NvshmemBuffer malloc(long bytes) {
        checkOpen();
        checkAllocation(bytes);
        return allocate(0, bytes);
    }

    /**
     * A symmetric buffer of {@code bytes} bytes whose address is a multiple of {@code alignment}, a
     * power of two ({@code nvshmem_align}); collective: every PE asks for the same.
     */
    public synchronized NvshmemBuffer align(long alignment, long bytes) {
        checkOpen();
        if (alignment < 1 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment: expected a power of two, got " + alignment);
        }
        checkAllocation(bytes);
        return allocate(alignment, bytes);
    }

    private NvshmemBuffer allocate(long alignment, long bytes) {
        String call = alignment == 0 ? "nvshmem_malloc(" + bytes + " bytes)"
                : "nvshmem_align(" + alignment + ", " + bytes + " bytes)";
        requireBound(call);
        device.makeCurrent();
        MemorySegment p = alignment == 0 ? NvshmemLib.nvshmem_malloc(bytes) : NvshmemLib.nvshmem_align(alignment, bytes);
        if (p.equals(MemorySegment.NULL)) {
            throw new NvshmemException(NvshmemLib.NVSHMEMX_ERROR_OUT_OF_MEMORY(),
                    Nvshmem.statusName(NvshmemLib.NVSHMEMX_ERROR_OUT_OF_MEMORY()), call,
                    "it returned NULL: the symmetric heap is too small (NVSHMEM_SYMMETRIC_SIZE, 1 GiB by default)"
                            + " or the PEs asked for different sizes");
        }
        NvshmemBuffer b = new NvshmemBuffer(this, p.address(), bytes, alignment);
        buffers.add(b);
        return b;
    }

    /** A buffer at a made-up address, for tests of the checks on an unbound world. */
    synchronized NvshmemBuffer unboundBuffer(long address, long bytes) {
        if (bound) {
            throw new IllegalStateException("unboundBuffer is for unbound worlds only");
        }
        NvshmemBuffer b = new NvshmemBuffer(this, address, bytes, 0);
        buffers.add(b);
        return b;
    }

    /** Frees {@code b} ({@code nvshmem_free}, collective); called by {@link NvshmemBuffer#close()}. */
    synchronized void free(NvshmemBuffer b) {
        if (!buffers.remove(b)) {
            return; // released with the world
        }
        if (bound && !closed) {
            device.makeCurrent();
            NvshmemLib.nvshmem_free(MemorySegment.ofAddress(b.rawAddress()));
        }
    }

    /** {@code nvshmem_ptr}: the address through which this PE reaches {@code pe}'s copy of {@code b}, 0 if none. */
    synchronized long peerAddress(NvshmemBuffer b, int pe) {
        checkBuffer(b, "buffer");
        checkPe(pe);
        requireBound("nvshmem_ptr");
        return NvshmemLib.nvshmem_ptr(MemorySegment.ofAddress(b.rawAddress()), pe).address();
    }

    // ---- synchronisation ----

    /** Waits on the host until every PE arrives and all of their puts and gets are complete ({@code nvshmem_barrier_all}). */
    public synchronized void barrierAll() {
        checkOpen();
        requireBound("nvshmem_barrier_all");
        device.makeCurrent();
        NvshmemLib.nvshmem_barrier_all();
    }

    /** Queues on {@code stream} a barrier of all PEs that also completes their earlier puts and gets ({@code nvshmemx_barrier_all_on_stream}). */
    public synchronized void barrierAll(CudaStream stream) {
        checkOpen();
        MemorySegment s = checkStream(stream);
        requireBound("nvshmemx_barrier_all_on_stream");
        device.makeCurrent();
        NvshmemLib.nvshmemx_barrier_all_on_stream(s);
    }

    /** Waits until the puts and gets this PE issued are complete ({@code nvshmem_quiet}). */
    public synchronized void quiet() {
        checkOpen();
        requireBound("nvshmem_quiet");
        device.makeCurrent();
        NvshmemLib.nvshmem_quiet();
    }

    /** Queues on {@code stream} the completion of the puts and gets this PE issued ({@code nvshmemx_quiet_on_stream}). */
    public synchronized void quiet(CudaStream stream) {
        checkOpen();
        MemorySegment s = checkStream(stream);
        requireBound("nvshmemx_quiet_on_stream");
        device.makeCurrent();
        NvshmemLib.nvshmemx_quiet_on_stream(s);
    }

    // ---- remote memory access on a stream ----

    /**
     * Queues on {@code stream} a copy of {@code bytes} bytes from the local device address
     * {@code source} into PE {@code pe}'s copy of {@code dest}, at {@code destOffset}
     * ({@code nvshmemx_putmem_on_stream}). Complete when the stream reaches it; visible to the other
     * PE after a quiet or barrier.
     */
    public synchronized void put(NvshmemBuffer dest, long destOffset, long source, long bytes, int pe, CudaStream stream) {
        checkRma(dest, destOffset, bytes, pe, "dest", "destOffset");
        checkAddress(source, bytes, "source");
        MemorySegment s = checkStream(stream);
        if (bytes == 0) {
            return;
        }
        requireBound("nvshmemx_putmem_on_stream");
        device.makeCurrent();
        NvshmemLib.nvshmemx_putmem_on_stream(MemorySegment.ofAddress(dest.rawAddress() + destOffset),
                MemorySegment.ofAddress(source), bytes, pe, s);
    }

    /**
     * Queues on {@code stream} a copy of {@code bytes} bytes from PE {@code pe}'s copy of
     * {@code source}, at {@code sourceOffset}, to the local device address {@code dest}
     * ({@code nvshmemx_getmem_on_stream}).
     */
    public synchronized void get(long dest, NvshmemBuffer source, long sourceOffset, long bytes, int pe, CudaStream stream) {
        checkRma(source, sourceOffset, bytes, pe, "source", "sourceOffset");
        checkAddress(dest, bytes, "dest");
        MemorySegment s = checkStream(stream);
        if (bytes == 0) {
            return;
        }
        requireBound("nvshmemx_getmem_on_stream");
        device.makeCurrent();
        NvshmemLib.nvshmemx_getmem_on_stream(MemorySegment.ofAddress(dest),
                MemorySegment.ofAddress(source.rawAddress() + sourceOffset), bytes, pe, s);
    }

    // ---- lifetime ----

    /**
     * Finalises NVSHMEM ({@code nvshmemx_hostlib_finalize}, collective: it waits for every PE).
     * Buffers still open are marked closed and released with the heap. NVSHMEM cannot be
     * initialised again in this process. Closing again does nothing.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (NvshmemBuffer b : buffers) {
                b.releasedWithWorld();
            }
            buffers.clear();
            ResourceTracker.release(trackerId);
            if (bound) {
                try {
                    device.makeCurrent();
                    NvshmemLib.nvshmemx_hostlib_finalize();
                } finally {
                    synchronized (INIT_LOCK) {
                        phase = Phase.DONE;
                        history = "the world of " + this + ", now finalised";
                    }
                }
            }
        }
    }

    @Override
    public String toString() {
        return "NvshmemWorld(PE " + pe + " of " + nPes + (device == null ? "" : ", cuda:" + device.ordinal())
                + (closed ? ", closed" : "") + ")";
    }

    // ---- checks ----

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("NVSHMEM world (PE " + pe + " of " + nPes + ") is closed");
        }
    }

    private void requireBound(String call) {
        if (!bound) {
            throw new IllegalStateException(call + ": this world has no NVSHMEM behind it (a test-only unbound world)");
        }
    }

    private static void checkAllocation(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes: expected at least 1, got " + bytes);
        }
    }

    private void checkBuffer(NvshmemBuffer b, String name) {
        checkOpen();
        requireArg(b, name);
        if (b.world() != this) {
            throw new IllegalArgumentException(name + ": " + b + " belongs to another world, not " + this);
        }
        if (b.isClosed()) {
            throw new IllegalStateException(name + ": " + b + " is closed");
        }
    }

    private void checkPe(int p) {
        if (p < 0 || p >= nPes) {
            throw new IllegalArgumentException("pe: expected a PE in 0.." + (nPes - 1) + ", got " + p);
        }
    }

    /** The buffer, PE and byte range of a put or get. */
    private void checkRma(NvshmemBuffer b, long offset, long bytes, int p, String name, String offsetName) {
        checkBuffer(b, name);
        checkPe(p);
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes: expected at least 0, got " + bytes);
        }
        if (offset < 0) {
            throw new IllegalArgumentException(offsetName + ": expected at least 0, got " + offset);
        }
        if (offset > b.size() || bytes > b.size() - offset) {
            throw new IllegalArgumentException(offsetName + " + bytes: " + offset + " + " + bytes + " runs past the "
                    + b.size() + " bytes of " + name + " " + b);
        }
    }

    private static void checkAddress(long address, long bytes, String name) {
        if (address == 0 && bytes > 0) {
            throw new IllegalArgumentException(name + ": expected a device address, got 0 (for " + bytes + " bytes)");
        }
    }

    /** Null, closed, or another GPU's stream is refused; returns the handle. */
    private MemorySegment checkStream(CudaStream stream) {
        requireArg(stream, "stream");
        if (stream.isClosed()) {
            throw new IllegalArgumentException("stream: " + stream + " is closed");
        }
        if (!stream.isLegacyDefault() && device != null && stream.device() != device.ordinal()) {
            throw new IllegalArgumentException("stream: expected a stream of cuda:" + device.ordinal()
                    + " (this PE's GPU), got " + stream);
        }
        return stream.handle();
    }

    private static void requireArg(Object value, String name) {
        if (value == null) {
            throw new IllegalArgumentException(name + ": expected a value, got null");
        }
    }

    /** For the test of the one-initialisation rule: what the guard would say now, without touching NVSHMEM. */
    static String initPhase() {
        synchronized (INIT_LOCK) {
            return phase + (history.isEmpty() ? "" : ": " + history);
        }
    }
}
