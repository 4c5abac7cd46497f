package io.infra4j.dualpipe;

import io.infra4j.ffm.CudaException;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.nccl.NcclComm;
import io.infra4j.ffm.nccl.NcclDataType;
import io.infra4j.ffm.nccl.NcclException;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A communicator for one pipeline rank over NCCL: a payload is a list of contiguous device tensors
 * of fixed dtypes and shapes (upstream's {@code set_p2p_tensor_shapes} and {@code set_p2p_dtype}),
 * sent whole with {@code ncclSend} and received into fresh tensors with {@code ncclRecv}.
 *
 * <p>As upstream's {@code batch_isend_irecv} followed by waiting on every request, a batch is posted
 * inside one NCCL group on this rank's stream, then waited for. Received tensors are allocated on
 * that stream and belong to the caller, who closes them; sent tensors must be ready on that stream
 * (or before the call) and stay the caller's. Ranks run in separate threads or processes: the wait
 * lasts until the peers have posted their halves.
 *
 * <p>The NCCL communicator and the stream stay the caller's: closing this communicator only stops
 * its use. When an exchange fails (an NCCL error, an asynchronous error such as a peer that left,
 * or a wait past the timeout) the NCCL communicator is aborted, since NCCL cannot go on with it,
 * and a {@link CommunicationException} is thrown.
 */
public final class NcclCommunicator implements Communicator<List<Tensor>> {
    /** How long an exchange waits for its transfers when the communicator was made without a timeout. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /** The dtype and shape of one tensor of every message. */
    public record TensorSpec(DType dtype, long[] shape) {
        public TensorSpec {
            if (dtype == null || shape == null) {
                throw new IllegalArgumentException("a tensor spec needs a dtype and a shape, got " + dtype + ", "
                        + Arrays.toString(shape));
            }
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("shape: sizes must be >= 0, got " + Arrays.toString(shape));
                }
            }
            shape = shape.clone();
        }

        public static TensorSpec of(DType dtype, long... shape) {
            return new TensorSpec(dtype, shape);
        }

        /** A copy of the shape. */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        boolean matches(Tensor t) {
            return t.dtype() == dtype && Arrays.equals(t.shape(), shape);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorSpec s && s.dtype == dtype && Arrays.equals(s.shape, shape);
        }

        @Override
        public int hashCode() {
            return 31 * dtype.hashCode() + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return dtype + Arrays.toString(shape);
        }
    }

    private final NcclComm comm;
    private final CudaStream stream;
    private final List<TensorSpec> specs;
    private final Duration timeout;
    private final Device device;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** A communicator for {@code comm}'s rank, exchanging messages of {@code specs} on {@code stream}; the default timeout. */
    public NcclCommunicator(NcclComm comm, CudaStream stream, List<TensorSpec> specs) {
        this(comm, stream, specs, DEFAULT_TIMEOUT);
    }

    /**
     * @param comm    this rank's NCCL communicator (not closed by this one)
     * @param stream  a stream of {@code comm}'s GPU, where transfers and received tensors are ordered
     * @param specs   the dtype and shape of each tensor of a message, in order
     * @param timeout the longest an exchange waits for its transfers
     */
    public NcclCommunicator(NcclComm comm, CudaStream stream, List<TensorSpec> specs, Duration timeout) {
        if (comm == null || comm.isClosed()) {
            throw new IllegalArgumentException("comm: expected an open NCCL communicator, got " + comm);
        }
        if (stream == null || stream.isClosed()) {
            throw new IllegalArgumentException("stream: expected an open CUDA stream, got " + stream);
        }
        if (stream.device() != comm.device().ordinal()) {
            throw new IllegalArgumentException("stream: expected a stream of cuda:" + comm.device().ordinal()
                    + " (the rank's GPU), got " + stream);
        }
        if (specs == null || specs.isEmpty() || specs.stream().anyMatch(Objects::isNull)) {
            throw new IllegalArgumentException("specs: expected the spec of each tensor of a message, got " + specs);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: expected a positive duration, got " + timeout);
        }
        this.comm = comm;
        this.stream = stream;
        this.specs = List.copyOf(specs);
        this.timeout = timeout;
        this.device = Device.cuda(comm.device().ordinal());
    }

    /** The NCCL element type that carries a tensor of {@code dtype} (bool travels as bytes). */
    public static NcclDataType ncclType(DType dtype) {
        return switch (dtype) {
            case F32 -> NcclDataType.FLOAT32;
            case F16 -> NcclDataType.FLOAT16;
            case BF16 -> NcclDataType.BFLOAT16;
            case F8_E4M3 -> NcclDataType.FLOAT8_E4M3;
            case F8_E5M2 -> NcclDataType.FLOAT8_E5M2;
            case I8 -> NcclDataType.INT8;
            case U8, BOOL -> NcclDataType.UINT8;
            case I32 -> NcclDataType.INT32;
            case I64 -> NcclDataType.INT64;
        };
    }

    @Override
    public int rank() {
        return comm.rank();
    }

    @Override
    public int size() {
        return comm.size();
    }

    /** The dtype and shape of each tensor of a message. */
    public List<TensorSpec> specs() {
        return specs;
    }

    @Override
    public List<List<Tensor>> exchange(List<Transfer<List<Tensor>>> batch) {
        if (closed.get()) {
            throw new IllegalStateException("rank " + rank() + ": the NCCL communicator is closed");
        }
        if (batch == null) {
            throw new IllegalArgumentException("batch is null");
        }
        if (batch.isEmpty()) {
            return List.of();
        }
        if (comm.isClosed()) {
            throw new IllegalStateException("rank " + rank() + ": the NCCL communicator under it was closed");
        }
        checkBatch(batch);
        List<List<Tensor>> received = allocateReceives(batch);
        try {
            NcclComm.group(() -> post(batch, received));
            await();
            return received;
        } catch (NcclException | CudaException | CommunicationException e) {
            CommunicationException failure = e instanceof CommunicationException c ? c
                    : new CommunicationException("rank " + rank() + ": NCCL exchange failed: " + e.getMessage(), e);
            abortQuietly(failure);
            closeAll(received);
            throw failure;
        } catch (RuntimeException | Error e) {
            closeAll(received);
            throw e;
        }
    }

    /** Stops the use of this communicator; the NCCL communicator and the stream stay open. */
    @Override
    public void close() {
        closed.set(true);
    }

    // ---- the steps of an exchange ----

    /** Refuses bad input before anything is allocated or posted. */
    private void checkBatch(List<Transfer<List<Tensor>>> batch) {
        for (Transfer<List<Tensor>> t : batch) {
            if (t == null) {
                throw new IllegalArgumentException("rank " + rank() + ": a transfer of the batch is null");
            }
            if (t.peer() < 0 || t.peer() >= size()) {
                throw new IllegalArgumentException("rank " + rank() + ": peer " + t.peer() + " out of [0, " + size() + ")");
            }
            if (t instanceof Transfer.Send<List<Tensor>> s) {
                checkPayload(s.peer(), s.payload());
            }
        }
    }

    private void checkPayload(int peer, List<Tensor> payload) {
        String to = "rank " + rank() + ": the send to rank " + peer;
        if (payload == null || payload.size() != specs.size()) {
            throw new IllegalArgumentException(to + ": expected " + specs.size() + " tensors " + specs + ", got "
                    + (payload == null ? "null" : payload.size()));
        }
        for (int i = 0; i < payload.size(); i++) {
            Tensor t = payload.get(i);
            String what = to + ", tensor " + i;
            if (t == null || t.isClosed()) {
                throw new IllegalArgumentException(what + ": expected an open tensor, got " + (t == null ? "null" : "a closed one"));
            }
            if (!t.device().equals(device)) {
                throw new IllegalArgumentException(what + ": expected a tensor on " + device + ", got one on " + t.device());
            }
            if (!t.isContiguous()) {
                throw new IllegalArgumentException(what + ": expected a contiguous tensor, got strides "
                        + Arrays.toString(t.strides()) + " for shape " + Arrays.toString(t.shape()));
            }
            if (!specs.get(i).matches(t)) {
                throw new IllegalArgumentException(what + ": expected " + specs.get(i) + ", got " + t.dtype()
                        + Arrays.toString(t.shape()));
            }
        }
    }

    /** One list of fresh device tensors per receive, allocated on the stream in batch order. */
    private List<List<Tensor>> allocateReceives(List<Transfer<List<Tensor>>> batch) {
        List<List<Tensor>> out = new ArrayList<>();
        try {
            for (Transfer<List<Tensor>> t : batch) {
                if (t instanceof Transfer.Recv<List<Tensor>>) {
                    List<Tensor> message = new ArrayList<>(specs.size());
                    out.add(message);
                    for (TensorSpec s : specs) {
                        message.add(Tensor.empty(s.dtype(), device, stream, s.shape()));
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            closeAll(out);
            throw e;
        }
        return out.stream().map(List::copyOf).toList();
    }

    /** Every send and receive of the batch, in order (inside the caller's NCCL group). */
    private void post(List<Transfer<List<Tensor>>> batch, List<List<Tensor>> received) {
        int next = 0;
        for (Transfer<List<Tensor>> t : batch) {
            List<Tensor> tensors = t instanceof Transfer.Send<List<Tensor>> s ? s.payload() : received.get(next++);
            for (Tensor x : tensors) {
                NcclDataType type = ncclType(x.dtype());
                if (t instanceof Transfer.Send) {
                    comm.send(x.address(), x.numel(), type, t.peer(), stream);
                } else {
                    comm.recv(x.address(), x.numel(), type, t.peer(), stream);
                }
            }
        }
    }

    /**
     * Waits until the stream has run every transfer, asking NCCL for asynchronous errors meanwhile
     * (a peer that failed shows only there): spins briefly, as transfers are often short, then parks.
     */
    private void await() {
        long start = System.nanoTime();
        long limit = timeout.toNanos();
        while (!stream.isDone()) {
            comm.checkAsyncError();
            long waited = System.nanoTime() - start;
            if (waited > limit) {
                throw new CommunicationException("rank " + rank() + ": the NCCL transfers were not done after "
                        + timeout.toMillis() + " ms (a peer that never posted its half?)");
            }
            if (waited < TimeUnit.MICROSECONDS.toNanos(50)) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(20));
            }
        }
    }

    /** NCCL cannot go on after a failure: abort, so that the kernels stop and peers' waits can end. */
    private void abortQuietly(CommunicationException failure) {
        try {
            comm.abort();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private static void closeAll(List<List<Tensor>> messages) {
        for (List<Tensor> m : messages) {
            for (Tensor t : m) {
                t.close();
            }
        }
    }

    @Override
    public String toString() {
        return "NcclCommunicator(rank " + rank() + " of " + size() + ", " + specs + ")";
    }
}
