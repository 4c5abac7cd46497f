package io.infra4j.ffm.nccl;

import static io.infra4j.bindings.nccl.NcclLib.C_INT;
import static io.infra4j.bindings.nccl.NcclLib.C_POINTER;

import io.infra4j.bindings.nccl.NcclLib;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One rank of an NCCL communicator, bound to one GPU. Made by {@link #initRank} (one rank per
 * process or thread, meeting through an {@link NcclUniqueId}) or {@link #initAll} (every rank in
 * this process); must be closed. Operations are queued on a stream of the communicator's GPU;
 * several of them, of one or several communicators, form one launch inside {@link #group}.
 *
 * <p>Every argument is checked in Java before NCCL sees it: a closed communicator raises
 * {@link IllegalStateException}; a peer out of range, a negative count, a null buffer, a missing
 * type or a stream that is null, closed or on another GPU raise {@link IllegalArgumentException}.
 * A failed NCCL call raises {@link NcclException}, and the communicator is then aborted, not
 * destroyed, when closed.
 */
public final class NcclComm implements AutoCloseable {
    /** The kind under which open communicators are listed by {@link ResourceTracker}. */
    public static final String RESOURCE_KIND = "nccl-comm";

    private final MemorySegment handle;
    private final int rank;
    private final int size;
    private final CudaDevice device;
    private final long trackerId;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean failed;

    private NcclComm(MemorySegment handle, int rank, int size, CudaDevice device) {
        this.handle = handle;
        this.rank = rank;
        this.size = size;
        this.device = device;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "nccl rank " + rank + " of " + size
                + (device == null ? "" : " on cuda:" + device.ordinal()), 0);
    }

    /** A communicator with no native handle, for tests of the Java-side checks only. */
    static NcclComm unbound(int rank, int size) {
        return new NcclComm(MemorySegment.NULL, rank, size, null);
    }

    // ---- making communicators ----

    /**
     * Rank {@code rank} of an {@code nranks}-rank communicator on {@code device}. Blocks until every
     * rank has joined with the same id: call it once per rank from different processes or threads,
     * or for several ranks of this thread inside one {@link #group}.
     */
    public static NcclComm initRank(int nranks, NcclUniqueId id, int rank, CudaDevice device) {
        if (nranks < 1) {
            throw new IllegalArgumentException("nranks: expected at least 1, got " + nranks);
        }
        if (rank < 0 || rank >= nranks) {
            throw new IllegalArgumentException("rank: expected 0.." + (nranks - 1) + ", got " + rank);
        }
        requireArg(id, "id");
        requireArg(device, "device");
        Nccl.requireAvailable();
        Cuda.requireAvailable();
        device.makeCurrent(); // NCCL binds the new communicator to the current device
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            Nccl.check(NcclLib.ncclCommInitRank(out, nranks, id.toSegment(arena), rank),
                    "ncclCommInitRank(rank " + rank + " of " + nranks + ", cuda:" + device.ordinal() + ")",
                    MemorySegment.NULL);
            return new NcclComm(out.get(C_POINTER, 0), rank, nranks, device);
        }
    }

    /** One communicator per device, all in this process; rank i runs on {@code devices.get(i)}. */
    public static List<NcclComm> initAll(List<CudaDevice> devices) {
        if (devices == null || devices.isEmpty()) {
            throw new IllegalArgumentException("devices: expected at least one GPU, got " + devices);
        }
        Set<Integer> seen = new HashSet<>();
        for (CudaDevice d : devices) {
            requireArg(d, "devices[i]");
            // NCCL does not support two ranks of one communicator on one GPU (it may hang).
            if (!seen.add(d.ordinal())) {
                throw new IllegalArgumentException("devices: cuda:" + d.ordinal() + " appears twice in " + devices);
            }
        }
        Nccl.requireAvailable();
        Cuda.requireAvailable();
        int n = devices.size();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment comms = arena.allocate(C_POINTER, n);
            MemorySegment ordinals = arena.allocate(C_INT, n);
            for (int i = 0; i < n; i++) {
                ordinals.setAtIndex(C_INT, i, devices.get(i).ordinal());
            }
            Nccl.check(NcclLib.ncclCommInitAll(comms, n, ordinals), "ncclCommInitAll(" + n + " GPUs)", MemorySegment.NULL);
            List<NcclComm> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(new NcclComm(comms.getAtIndex(C_POINTER, i), i, n, devices.get(i)));
            }
            return List.copyOf(out);
        }
    }

    /**
     * Runs {@code body} between {@code ncclGroupStart} and {@code ncclGroupEnd}, so that the NCCL
     * calls it makes (sends and receives that pair up, collectives of several communicators) launch
     * together. The end is always called, also when {@code body} throws (its exception wins and a
     * failed end is added to it as suppressed), so that this thread's group depth stays balanced.
     */
    public static void group(Runnable body) {
        requireArg(body, "body");
        Nccl.requireAvailable();
        Nccl.check(NcclLib.ncclGroupStart(), "ncclGroupStart", MemorySegment.NULL);
        Throwable failure = null;
        try {
            body.run();
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            int status = NcclLib.ncclGroupEnd();
            if (status != 0) {
                NcclException e = Nccl.exception(status, "ncclGroupEnd", MemorySegment.NULL);
                if (failure == null) {
                    throw e;
                }
                failure.addSuppressed(e);
            }
        }
    }

    // ---- what it is ----

    /** This rank, in [0, size). */
    public int rank() {
        return rank;
    }

    /** The number of ranks. */
    public int size() {
        return size;
    }

    /** The GPU this rank runs on. */
    public CudaDevice device() {
        return device;
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** The {@code ncclComm_t}, for native calls. */
    public MemorySegment handle() {
        if (closed.get()) {
            throw new IllegalStateException("NCCL communicator (rank " + rank + " of " + size + ") is closed");
        }
        return handle;
    }

    // ---- point to point ----

    /** Queues on {@code stream} a send of {@code count} elements at device address {@code buffer} to {@code peer}. */
    public void send(long buffer, long count, NcclDataType type, int peer, CudaStream stream) {
        MemorySegment s = checkOp(buffer, count, type, stream, "buffer");
        checkPeer(peer, "peer");
        check(NcclLib.ncclSend(MemorySegment.ofAddress(buffer), count, type.code(), peer, handle, s),
                "ncclSend", count, type, "peer " + peer);
    }

    /** Queues on {@code stream} a receive of {@code count} elements from {@code peer} into device address {@code buffer}. */
    public void recv(long buffer, long count, NcclDataType type, int peer, CudaStream stream) {
        MemorySegment s = checkOp(buffer, count, type, stream, "buffer");
        checkPeer(peer, "peer");
        check(NcclLib.ncclRecv(MemorySegment.ofAddress(buffer), count, type.code(), peer, handle, s),
                "ncclRecv", count, type, "peer " + peer);
    }

    // ---- collectives ----

    /** Reduces {@code count} elements over all ranks with {@code op}; every rank gets the result (in place when the buffers are equal). */
    public void allReduce(long sendBuffer, long recvBuffer, long count, NcclDataType type, NcclRedOp op, CudaStream stream) {
        MemorySegment s = checkOp(sendBuffer, count, type, stream, "sendBuffer");
        checkBuffer(recvBuffer, count, "recvBuffer");
        requireArg(op, "op");
        check(NcclLib.ncclAllReduce(MemorySegment.ofAddress(sendBuffer), MemorySegment.ofAddress(recvBuffer), count,
                type.code(), op.code(), handle, s), "ncclAllReduce", count, type, op.name());
    }

    /** Copies {@code count} elements of rank {@code root}'s send buffer into every rank's receive buffer. */
    public void broadcast(long sendBuffer, long recvBuffer, long count, NcclDataType type, int root, CudaStream stream) {
        MemorySegment s = checkOp(recvBuffer, count, type, stream, "recvBuffer");
        checkPeer(root, "root");
        if (rank == root) {
            checkBuffer(sendBuffer, count, "sendBuffer");
        }
        check(NcclLib.ncclBroadcast(MemorySegment.ofAddress(sendBuffer), MemorySegment.ofAddress(recvBuffer), count,
                type.code(), root, handle, s), "ncclBroadcast", count, type, "root " + root);
    }

    /** Gathers {@code sendCount} elements from each rank into {@code size * sendCount} elements, in rank order, on every rank. */
    public void allGather(long sendBuffer, long recvBuffer, long sendCount, NcclDataType type, CudaStream stream) {
        MemorySegment s = checkOp(sendBuffer, sendCount, type, stream, "sendBuffer");
        checkBuffer(recvBuffer, sendCount, "recvBuffer");
        check(NcclLib.ncclAllGather(MemorySegment.ofAddress(sendBuffer), MemorySegment.ofAddress(recvBuffer), sendCount,
                type.code(), handle, s), "ncclAllGather", sendCount, type, "");
    }

    /** Reduces {@code size * recvCount} elements over all ranks; rank i gets block i of the result. */
    public void reduceScatter(long sendBuffer, long recvBuffer, long recvCount, NcclDataType type, NcclRedOp op,
                              CudaStream stream) {
        MemorySegment s = checkOp(recvBuffer, recvCount, type, stream, "recvBuffer");
        checkBuffer(sendBuffer, recvCount, "sendBuffer");
        requireArg(op, "op");
        check(NcclLib.ncclReduceScatter(MemorySegment.ofAddress(sendBuffer), MemorySegment.ofAddress(recvBuffer),
                recvCount, type.code(), op.code(), handle, s), "ncclReduceScatter", recvCount, type, op.name());
    }

    // ---- errors and lifetime ----

    /**
     * Throws {@link NcclException} if an operation of this communicator failed after it was queued
     * (a peer that left, a network error): NCCL reports those only when asked.
     */
    public void checkAsyncError() {
        MemorySegment h = handle();
        int error = asyncError(h);
        if (error != 0 && error != NcclLib.ncclInProgress()) {
            failed = true;
            throw Nccl.exception(error, "asynchronous error of NCCL rank " + rank + " of " + size, h);
        }
    }

    /**
     * Destroys the communicator ({@code ncclCommDestroy}), or aborts it ({@code ncclCommAbort}: no
     * waiting for queued work or peers) when one of its calls failed or an asynchronous error is
     * pending. Closing again does nothing.
     */
    @Override
    public void close() {
        boolean abort = failed || (!closed.get() && !handle.equals(MemorySegment.NULL) && asyncErrorOrFailure());
        release(abort);
    }

    /** Aborts the communicator ({@code ncclCommAbort}): for error paths, where peers may never answer. */
    public void abort() {
        release(true);
    }

    private void release(boolean abort) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ResourceTracker.release(trackerId);
        if (handle.equals(MemorySegment.NULL)) {
            return; // unbound: nothing native to free
        }
        int status = abort ? NcclLib.ncclCommAbort(handle) : NcclLib.ncclCommDestroy(handle);
        Nccl.check(status, (abort ? "ncclCommAbort" : "ncclCommDestroy") + "(rank " + rank + " of " + size + ")",
                MemorySegment.NULL);
    }

    /** The pending asynchronous error, or the status of asking for it when that fails. */
    private static int asyncError(MemorySegment h) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_INT);
            int status = NcclLib.ncclCommGetAsyncError(h, out);
            return status != 0 ? status : out.get(C_INT, 0);
        }
    }

    private boolean asyncErrorOrFailure() {
        int error = asyncError(handle);
        return error != 0 && error != NcclLib.ncclInProgress();
    }

    @Override
    public String toString() {
        return "NcclComm(rank " + rank + " of " + size + (device == null ? "" : ", cuda:" + device.ordinal())
                + (closed.get() ? ", closed" : "") + ")";
    }

    // ---- checks ----

    /** The checks every operation shares; returns the stream's handle. */
    private MemorySegment checkOp(long buffer, long count, NcclDataType type, CudaStream stream, String bufferName) {
        handle(); // closed?
        checkBuffer(buffer, count, bufferName);
        requireArg(type, "type");
        requireArg(stream, "stream");
        if (stream.isClosed()) {
            throw new IllegalArgumentException("stream: " + stream + " is closed");
        }
        if (!stream.isLegacyDefault() && device != null && stream.device() != device.ordinal()) {
            throw new IllegalArgumentException("stream: expected a stream of cuda:" + device.ordinal()
                    + " (this rank's GPU), got " + stream);
        }
        return stream.handle();
    }

    private static void checkBuffer(long buffer, long count, String name) {
        if (count < 0) {
            throw new IllegalArgumentException("count: expected at least 0, got " + count);
        }
        if (buffer == 0 && count > 0) {
            throw new IllegalArgumentException(name + ": expected a device address, got 0 (for " + count + " elements)");
        }
    }

    private void checkPeer(int peer, String name) {
        if (peer < 0 || peer >= size) {
            throw new IllegalArgumentException(name + ": expected a rank in 0.." + (size - 1) + ", got " + peer);
        }
    }

    private static void requireArg(Object value, String name) {
        if (value == null) {
            throw new IllegalArgumentException(name + ": expected a value, got null");
        }
    }

    private void check(int status, String function, long count, NcclDataType type, String detail) {
        if (status != 0) {
            failed = true;
            throw Nccl.exception(status, function + "(" + count + " x " + type + (detail.isEmpty() ? "" : ", " + detail)
                    + ") on rank " + rank + " of " + size, handle);
        }
    }
}
