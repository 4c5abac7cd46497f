package io.infra4j.deepep;

import io.infra4j.deepep.internal.EpKernels;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.nccl.NcclComm;
import io.infra4j.ffm.nccl.NcclDataType;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * DeepEP's normal mode between ranks that share only an NCCL communicator: one process (or thread) per
 * GPU, on one node or several, the portable path. Every rank calls {@link #dispatch} with its own tokens
 * and then {@link Dispatched#combine} with its experts' outputs; the results equal
 * {@link EpReference}'s exactly, and {@link IntranodeEp}'s.
 *
 * <p>The same kernels as {@link IntranodeEp} run on each rank, with the per-destination blocks of the
 * rank's own send buffer as their "peers"; grouped {@code ncclSend}/{@code ncclRecv} then move each
 * block to its rank. An all-gather of the ranks' counts comes first, read on the host once (as DeepEP's
 * normal mode synchronises once): every rank then knows every block's size, and every rank sees the
 * same bad expert ids, so all ranks throw the same IllegalArgumentException instead of one waiting for
 * another. Combine is the way back: each block returns to its source and the combine kernel sums a
 * token's rows in rank order.
 *
 * <p>NCCL calls wait for their peers without a limit; dispatch waits for the counts at most a timeout
 * and then aborts the communicator with an {@link EpTimeoutException}. After combine, wait with
 * {@link #await} rather than {@code stream.synchronize()} for the same guarantee.
 */
public final class NcclEp {

    /** How long a rank waits for the others' counts before it gives up: see {@link #dispatch(NcclComm, IntranodeEp.RankInput, ExpertPlacement, int, CudaStream, Duration)}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    private NcclEp() {}

    /** {@link #dispatch(NcclComm, IntranodeEp.RankInput, ExpertPlacement, int, CudaStream, Duration)} with {@link #DEFAULT_TIMEOUT}. */
    public static Dispatched dispatch(NcclComm comm, IntranodeEp.RankInput input, ExpertPlacement placement, int expertAlignment,
            CudaStream stream) {
        return dispatch(comm, input, placement, expertAlignment, stream, DEFAULT_TIMEOUT);
    }

    /**
     * Waits until {@code stream} has run everything queued on it, at most {@code timeout}: where NCCL
     * calls wait for ranks that never come, {@code stream.synchronize()} would wait for ever. On timeout
     * (or an NCCL error) the communicator is aborted, so that no call of this rank waits on it any more,
     * and an {@link EpTimeoutException} says what this rank waited for.
     */
    public static void await(NcclComm comm, CudaStream stream, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long sleepMicros = 20;
        while (!stream.isDone()) {
            try {
                comm.checkAsyncError();
            } catch (RuntimeException e) {
                comm.abort();
                throw e;
            }
            if (System.nanoTime() > deadline) {
                comm.abort();
                throw new EpTimeoutException("rank " + comm.rank() + " of " + comm.size() + " waited " + timeout.toMillis() + " ms for "
                        + what + " and gave up (a rank did not make the same call, or failed before it); the communicator is aborted");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(sleepMicros * 1000);
            sleepMicros = Math.min(sleepMicros * 2, 10_000);
        }
    }

    /**
     * Dispatches this rank's tokens ({@code input}, on the communicator's GPU) over {@code placement}'s
     * {@code comm.size()} ranks, on {@code stream}. Collective: every rank of {@code comm} must call it.
     * It waits at most {@code timeout} for the other ranks' counts (then {@link EpTimeoutException}).
     *
     * @param expertAlignment each local expert's count is rounded up to a multiple of this (1: exact)
     */
    public static Dispatched dispatch(NcclComm comm, IntranodeEp.RankInput input, ExpertPlacement placement, int expertAlignment,
            CudaStream stream, Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: expected a positive duration, got " + timeout);
        }
        if (comm == null || comm.isClosed()) {
            throw new IllegalArgumentException("comm: expected an open NCCL communicator, got " + (comm == null ? "null" : "a closed one"));
        }
        if (placement == null) {
            throw new IllegalArgumentException("placement: expected an ExpertPlacement, got null");
        }
        if (comm.size() != placement.worldSize()) {
            throw new IllegalArgumentException("placement: " + placement.worldSize() + " ranks, the communicator has " + comm.size());
        }
        if (expertAlignment < 1) {
            throw new IllegalArgumentException("expertAlignment: expected at least 1, got " + expertAlignment);
        }
        if (stream == null || stream.isLegacyDefault()) {
            throw new IllegalArgumentException("stream: expected a stream made by CudaStream.create, got "
                    + (stream == null ? "null" : "the legacy default stream"));
        }
        if (stream.device() != comm.device().ordinal()) {
            throw new IllegalArgumentException("stream: a stream of cuda:" + stream.device() + ", the communicator's rank runs on cuda:"
                    + comm.device().ordinal());
        }
        Device device = Device.cuda(stream.device());
        IntranodeEp.Inputs in = IntranodeEp.checkInputs(Arrays.asList(input), comm.size(), s -> device, s -> "input");
        EpKernels.require();
        Cuda.useDevice(device.index());
        return new Plan(comm, input, placement, expertAlignment, stream, in, timeout).run();
    }

    /** One rank's dispatch: what it received, and what its combine needs. */
    public static final class Dispatched implements AutoCloseable {
        private final NcclComm comm;
        private final ExpertPlacement placement;
        private final CudaStream stream;
        private final Device device;
        private final int hidden;
        private final int numTokens;
        private final IntranodeEp.Received received;
        private final int[][] tokensPerRank; // [source][destination], every rank's
        private final int[] tokensPerExpert; // this rank's, over all E experts
        private final int[] sendBegin; // this rank's blocks in its send (and combine's return) buffer, per destination
        private final Tensor inRank;
        private final Tensor sendOffset;
        private final Tensor zeros; // rank_begin of the kernels: every block starts at its own pointer
        private boolean closed;

        private Dispatched(NcclComm comm, ExpertPlacement placement, CudaStream stream, Device device, int hidden, int numTokens,
                IntranodeEp.Received received, int[][] tokensPerRank, int[] tokensPerExpert, int[] sendBegin, Tensor inRank,
                Tensor sendOffset, Tensor zeros) {
            this.comm = comm;
            this.placement = placement;
            this.stream = stream;
            this.device = device;
            this.hidden = hidden;
            this.numTokens = numTokens;
            this.received = received;
            this.tokensPerRank = tokensPerRank;
            this.tokensPerExpert = tokensPerExpert;
            this.sendBegin = sendBegin;
            this.inRank = inRank;
            this.sendOffset = sendOffset;
            this.zeros = zeros;
        }

        /** The rows this rank received, in source-rank order (as {@link IntranodeEp.Received}). */
        public IntranodeEp.Received received() {
            return received;
        }

        /** This rank's tokens per destination rank and per expert (DeepEP's get_dispatch_layout counts). */
        public int[] tokensPerRank() {
            return tokensPerRank[comm.rank()].clone();
        }

        public int[] tokensPerExpert() {
            return tokensPerExpert.clone();
        }

        /**
         * Returns this rank's expert outputs (BF16 {@code [rows received, hidden]}, contiguous) to the
         * tokens' ranks and gives back this rank's tokens, each the sum in rank order of the rows its
         * ranks returned: BF16 {@code [T, hidden]}, a new tensor the caller closes. Collective; runs on
         * the dispatch's stream.
         */
        public Tensor combine(Tensor expertOutput, CudaStream stream) {
            if (closed) {
                throw new IllegalStateException("combine: this dispatch is closed");
            }
            long[] ptr = EpTensors.expertOutputs(Arrays.asList(expertOutput), 1, RankStreams.shared(1, this.stream), this.stream, stream,
                    r -> new long[] {received.numRows(), hidden});
            int w = placement.worldSize();
            int me = comm.rank();
            int rowsBack = sendBegin[w];
            int rowBytes = hidden * 2;
            Cuda.useDevice(device.index());
            Tensor back = Tensor.empty(DType.BF16, device, stream, Math.max(1, rowsBack), hidden);
            Tensor out = null;
            try {
                int[] recvBegin = received.rankBegin();
                NcclComm.group(() -> {
                    for (int p = 0; p < w; p++) {
                        int toP = tokensPerRank[p][me]; // rows rank p sent here go back to p
                        if (toP > 0) {
                            comm.send(ptr[0] + (long) recvBegin[p] * rowBytes, (long) toP * rowBytes, NcclDataType.UINT8, p, stream);
                        }
                        int fromP = tokensPerRank[me][p];
                        if (fromP > 0) {
                            comm.recv(back.address() + (long) sendBegin[p] * rowBytes, (long) fromP * rowBytes, NcclDataType.UINT8, p, stream);
                        }
                    }
                });
                long[] blocks = new long[w];
                for (int d = 0; d < w; d++) {
                    blocks[d] = back.address() + (long) sendBegin[d] * rowBytes;
                }
                out = Tensor.empty(DType.BF16, device, stream, numTokens, hidden);
                EpKernels.combine(blocks, hidden, numTokens, w, inRank.address(), sendOffset.address(), zeros.address(), out.address(),
                        stream);
                return out;
            } catch (RuntimeException e) {
                if (out != null) {
                    out.close();
                }
                throw e;
            } finally {
                back.close(); // freed in stream order, after the combine has read it
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            EpTensors.closeAll(received.x(), received.scales(), received.topkIdx(), received.topkWeights(), received.srcIdx(), inRank,
                    sendOffset, zeros);
        }
    }

    /** The steps of one rank's dispatch, and what they own until it returns. */
    private static final class Plan {
        private final NcclComm comm;
        private final IntranodeEp.RankInput input;
        private final ExpertPlacement p;
        private final int alignment;
        private final CudaStream stream;
        private final Device device;
        private final DType dtype;
        private final int hidden;
        private final int topK;
        private final int t;
        private final Duration timeout;
        private final List<Tensor> owned = new ArrayList<>();

        Plan(NcclComm comm, IntranodeEp.RankInput input, ExpertPlacement p, int alignment, CudaStream stream, IntranodeEp.Inputs in,
                Duration timeout) {
            this.timeout = timeout;
            this.comm = comm;
            this.input = input;
            this.p = p;
            this.alignment = alignment;
            this.stream = stream;
            this.device = Device.cuda(stream.device());
            this.dtype = in.dtype();
            this.hidden = in.hidden();
            this.topK = in.topK();
            this.t = in.numTokens()[0];
        }

        private Tensor keep(Tensor tensor) {
            owned.add(tensor);
            return tensor;
        }

        Dispatched run() {
            int w = p.worldSize();
            int e = p.numExperts();
            int me = comm.rank();
            boolean fp8 = dtype == DType.F8_E4M3;
            try {
                // 1. This rank's layout into one row [bad ids, tokens per rank [W], tokens per expert [E]]; every
                //    rank's rows by one all-gather, read on the host once.
                int row = 1 + w + e;
                Tensor mine = keep(Tensor.empty(DType.I32, device, stream, row));
                Tensor inRank = keep(Tensor.empty(DType.U8, device, stream, Math.max(1, (long) t * w)));
                Tensor sendOffset = keep(Tensor.empty(DType.I32, device, stream, Math.max(1, (long) t * w)));
                long base = mine.address();
                EpKernels.layout(input.topkIdx().address(), t, topK, e, w, base + 4, base + 4L * (1 + w), inRank.address(),
                        sendOffset.address(), base, stream);
                Tensor all = keep(Tensor.empty(DType.I32, device, stream, w, row));
                comm.allGather(mine.address(), all.address(), row, NcclDataType.INT32, stream);
                await(comm, stream, timeout, "every rank's dispatch counts (the all-gather)");
                int[] table = EpTensors.toInts(all, stream);
                int[][] tpr = new int[w][];
                for (int s = 0; s < w; s++) {
                    if (table[s * row] != 0) {
                        throw new IllegalArgumentException((s == me ? "input" : "rank " + s + "'s input") + ".topkIdx: " + table[s * row]
                                + " expert ids outside [-1, " + e + ")" + (s == me ? "" : " (every rank refuses this dispatch)"));
                    }
                    tpr[s] = Arrays.copyOfRange(table, s * row + 1, s * row + 1 + w);
                }
                int[] tpe = Arrays.copyOfRange(table, me * row + 1 + w, (me + 1) * row);
                // 2. Blocks: what this rank sends, per destination; what it receives, per source (rank order).
                int[] sendBegin = prefix(w, d -> tpr[me][d]);
                int[] recvBegin = prefix(w, s -> tpr[s][me]);
                int[] local = new int[p.expertsPerRank()];
                for (int le = 0; le < local.length; le++) {
                    int n = 0;
                    for (int s = 0; s < w; s++) {
                        n += table[s * row + 1 + w + p.globalId(me, le)];
                    }
                    local[le] = (n + alignment - 1) / alignment * alignment;
                }
                int rowsOut = sendBegin[w];
                int rowsIn = recvBegin[w];
                int rowBytes = hidden * dtype.byteSize();
                int scaleBytes = hidden / 128 * 4;
                Tensor sx = keep(Tensor.empty(dtype, device, stream, Math.max(1, rowsOut), hidden));
                Tensor ssc = fp8 ? keep(Tensor.empty(DType.F32, device, stream, Math.max(1, rowsOut), hidden / 128)) : null;
                Tensor sidx = keep(Tensor.empty(DType.I64, device, stream, Math.max(1, rowsOut), topK));
                Tensor swt = keep(Tensor.empty(DType.F32, device, stream, Math.max(1, rowsOut), topK));
                Tensor ssrc = keep(Tensor.empty(DType.I32, device, stream, Math.max(1, rowsOut)));
                Tensor x = keep(Tensor.empty(dtype, device, stream, rowsIn, hidden));
                Tensor sc = fp8 ? keep(Tensor.empty(DType.F32, device, stream, rowsIn, hidden / 128)) : null;
                Tensor idx = keep(Tensor.empty(DType.I64, device, stream, rowsIn, topK));
                Tensor wt = keep(Tensor.empty(DType.F32, device, stream, rowsIn, topK));
                Tensor src = keep(Tensor.empty(DType.I32, device, stream, rowsIn));
                Tensor zeros = keep(Tensor.empty(DType.I32, device, stream, w));
                TensorOps.fill(zeros, 0, stream);
                // 3. Pack: the dispatch kernel writes each destination's rows into its block of the send buffers.
                EpKernels.dispatch(input.x().address(), rowBytes, input.topkIdx().address(), input.topkWeights().address(), t, topK, e, w,
                        me, inRank.address(), sendOffset.address(), zeros.address(),
                        new EpKernels.Peers(blocks(sx, sendBegin, rowBytes), blocks(sidx, sendBegin, 8L * topK),
                                blocks(swt, sendBegin, 4L * topK), blocks(ssrc, sendBegin, 4)),
                        stream);
                if (fp8) {
                    EpKernels.dispatch(input.scales().address(), scaleBytes, input.topkIdx().address(), input.topkWeights().address(), t, topK,
                            e, w, me, inRank.address(), sendOffset.address(), zeros.address(),
                            new EpKernels.Peers(blocks(ssc, sendBegin, scaleBytes), new long[w], new long[w], new long[w]), stream);
                }
                // 4. Exchange the blocks: to each rank what it gets from here, from each rank what it sent here.
                NcclComm.group(() -> {
                    for (int q = 0; q < w; q++) {
                        exchange(sx, x, rowBytes, sendBegin, recvBegin, tpr, q);
                        if (fp8) {
                            exchange(ssc, sc, scaleBytes, sendBegin, recvBegin, tpr, q);
                        }
                        exchange(sidx, idx, 8L * topK, sendBegin, recvBegin, tpr, q);
                        exchange(swt, wt, 4L * topK, sendBegin, recvBegin, tpr, q);
                        exchange(ssrc, src, 4, sendBegin, recvBegin, tpr, q);
                    }
                });
                // The send buffers and the counts are freed in stream order, after the sends.
                EpTensors.closeAll(sx, ssc, sidx, swt, ssrc, mine, all);
                IntranodeEp.Received received = new IntranodeEp.Received(x, sc, idx, wt, src, recvBegin, local);
                return new Dispatched(comm, p, stream, device, hidden, t, received, tpr, tpe, sendBegin, inRank, sendOffset, zeros);
            } catch (RuntimeException ex) {
                owned.forEach(Tensor::close);
                throw ex;
            }
        }

        // Sends this rank's block for q and receives q's block for this rank, as bytes (NCCL moves them as they are).
        private void exchange(Tensor send, Tensor recv, long rowBytes, int[] sendBegin, int[] recvBegin, int[][] tpr, int q) {
            int me = comm.rank();
            if (tpr[me][q] > 0) {
                comm.send(send.address() + sendBegin[q] * rowBytes, tpr[me][q] * rowBytes, NcclDataType.UINT8, q, stream);
            }
            if (tpr[q][me] > 0) {
                comm.recv(recv.address() + recvBegin[q] * rowBytes, tpr[q][me] * rowBytes, NcclDataType.UINT8, q, stream);
            }
        }

        private static long[] blocks(Tensor buffer, int[] begin, long rowBytes) {
            long[] out = new long[begin.length - 1];
            for (int d = 0; d < out.length; d++) {
                out[d] = buffer.address() + begin[d] * rowBytes;
            }
            return out;
        }

        private static int[] prefix(int w, java.util.function.IntUnaryOperator count) {
            int[] begin = new int[w + 1];
            for (int i = 0; i < w; i++) {
                begin[i + 1] = Math.addExact(begin[i], count.applyAsInt(i));
            }
            return begin;
        }
    }
}
