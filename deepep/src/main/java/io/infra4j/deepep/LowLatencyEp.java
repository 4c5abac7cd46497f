package io.infra4j.deepep;

import io.infra4j.deepep.internal.EpKernels;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import java.util.ArrayList;
import java.util.List;

/**
 * DeepEP's low-latency mode for W ranks one process addresses (as {@link IntranodeEp}): every (token,
 * slot) pair goes straight to its expert's rows of {@code [E_local, W * maxTokens, hidden]} on the
 * expert's rank, the grouped GEMM's masked layout, with per-expert counts on the device and no host
 * synchronisation; the combine sums each token's expert rows weighted by its slots. Each source rank's
 * tokens take one block of an expert's rows, in token order; blocks of different sources land in
 * arrival order ({@code range} says where). Matches {@link EpReference#lowLatencyDispatch} and
 * {@link EpReference#lowLatencyCombine}.
 *
 * <p>With {@link Format#FP8} each BF16 row is quantised once on its sender, as DeepGEMM's per-token
 * quantisation does it ({@code Fp8Quant.perToken}: 1 x 128 groups, FP32 scales), and arrives as e4m3
 * values and scales: {@code new Fp8Tensor(x, scales)} with {@code count} as masked M is the operand of
 * the masked grouped FP8 GEMM ({@code Fp8Gemm.mGroupedMasked}).
 *
 * <p>{@link #dispatch} allocates the receive buffers for one step; an {@link EpBuffer} allocates them
 * once and every step reuses them, allocating nothing, so that a step can be captured in a CUDA graph.
 */
public final class LowLatencyEp {

    private LowLatencyEp() {}

    /** What the rows travel as. */
    public enum Format {
        /** The BF16 rows as they are. */
        BF16,
        /** e4m3 values with one FP32 scale per 1 x 128 group, quantised on the sender. */
        FP8
    }

    /**
     * What one rank received: {@code x} BF16 or e4m3 {@code [L, W * maxTokens, hidden]} (rows past an
     * expert's count are not written), {@code scales} F32 {@code [L, W * maxTokens, hidden / 128]} for
     * FP8 (null for BF16), {@code count} I32 {@code [L]} (pairs routed to each local expert: the valid
     * rows, when at most {@code W * maxTokens}), {@code srcIdx} I32 {@code [L, W * maxTokens]} (each valid
     * row's token on its source rank) and {@code range} I64 {@code [L, W]} ({@code (begin << 32) | count}
     * of each source rank's block). All on the rank's GPU.
     */
    public record Received(Tensor x, Tensor scales, Tensor count, Tensor srcIdx, Tensor range) {}

    /**
     * Every rank's receive buffers and scratch for steps of at most {@code maxTokens} tokens per rank of
     * {@code hidden} values and at most {@code maxTopK} slots, reused by each step into them.
     */
    static final class Buffers implements AutoCloseable {
        final ExpertPlacement placement;
        final RankStreams ranks;
        final int maxTokens;
        final int hidden;
        final int maxTopK;
        final Format format;
        final List<Received> received;
        final List<Tensor> slotPos; // per rank [maxTokens * maxTopK]: each slot's place among the rank's slots of its expert
        final List<Tensor> expertBegin; // per rank [E]: where the rank's block of each expert starts
        final List<Tensor> badIds; // per rank [1]
        long generation; // steps dispatched into these buffers
        boolean closed;

        private Buffers(ExpertPlacement placement, RankStreams ranks, int maxTokens, int hidden, int maxTopK, Format format,
                List<Received> received, List<Tensor> slotPos, List<Tensor> expertBegin, List<Tensor> badIds) {
            this.placement = placement;
            this.ranks = ranks;
            this.maxTokens = maxTokens;
            this.hidden = hidden;
            this.maxTopK = maxTopK;
            this.format = format;
            this.received = received;
            this.slotPos = slotPos;
            this.expertBegin = expertBegin;
            this.badIds = badIds;
        }

        static Buffers allocate(ExpertPlacement p, RankStreams ranks, int maxTokens, int hidden, int maxTopK, Format format) {
            if (maxTokens < 1) {
                throw new IllegalArgumentException("maxTokens: expected at least 1, got " + maxTokens);
            }
            if (maxTopK < 1) {
                throw new IllegalArgumentException("topK: expected at least 1, got " + maxTopK);
            }
            if (format == null) {
                throw new IllegalArgumentException("format: expected BF16 or FP8, got null");
            }
            if (hidden < 2 || hidden % 2 != 0) {
                throw new IllegalArgumentException("hidden: expected an even number of values, got " + hidden);
            }
            if (format == Format.FP8 && (hidden % 128 != 0 || hidden > EpKernels.LL_FP8_MAX_HIDDEN)) {
                throw new IllegalArgumentException("hidden: FP8 rows need a hidden size that is a multiple of 128 and at most "
                        + EpKernels.LL_FP8_MAX_HIDDEN + ", got " + hidden);
            }
            int w = p.worldSize();
            if (w != ranks.size()) {
                throw new IllegalArgumentException("placement: " + w + " ranks, the buffer has " + ranks.size());
            }
            if ((long) w * maxTokens > Integer.MAX_VALUE / 2 || (long) maxTokens * maxTopK > Integer.MAX_VALUE / 2) {
                throw new IllegalArgumentException("maxTokens: " + maxTokens + " tokens per rank are too many");
            }
            boolean fp8 = format == Format.FP8;
            int local = p.expertsPerRank();
            int rows = w * maxTokens;
            List<Tensor> owned = new ArrayList<>();
            List<Received> received = new ArrayList<>();
            List<Tensor> pos = new ArrayList<>(), begin = new ArrayList<>(), bad = new ArrayList<>();
            try {
                for (int r = 0; r < w; r++) {
                    ranks.use(r);
                    var dev = ranks.device(r);
                    CudaStream st = ranks.stream(r);
                    Tensor x = keep(owned, Tensor.empty(fp8 ? DType.F8_E4M3 : DType.BF16, dev, st, local, rows, hidden));
                    Tensor scales = fp8 ? keep(owned, Tensor.empty(DType.F32, dev, st, local, rows, hidden / 128)) : null;
                    Tensor count = keep(owned, Tensor.empty(DType.I32, dev, st, local));
                    Tensor src = keep(owned, Tensor.empty(DType.I32, dev, st, local, rows));
                    Tensor range = keep(owned, Tensor.empty(DType.I64, dev, st, local, w));
                    received.add(new Received(x, scales, count, src, range));
                    pos.add(keep(owned, Tensor.empty(DType.I32, dev, st, (long) maxTokens * maxTopK)));
                    begin.add(keep(owned, Tensor.empty(DType.I32, dev, st, p.numExperts())));
                    bad.add(keep(owned, Tensor.empty(DType.I32, dev, st, 1)));
                }
            } catch (RuntimeException e) {
                ranks.barrier();
                owned.forEach(Tensor::close);
                throw e;
            }
            return new Buffers(p, ranks, maxTokens, hidden, maxTopK, format, List.copyOf(received), List.copyOf(pos), List.copyOf(begin),
                    List.copyOf(bad));
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            ranks.barrier(); // no rank still reads or writes what is freed next
            for (int r = 0; r < received.size(); r++) {
                ranks.use(r);
                Received got = received.get(r);
                EpTensors.closeAll(got.x(), got.scales(), got.count(), got.srcIdx(), got.range(), slotPos.get(r), expertBegin.get(r),
                        badIds.get(r));
            }
        }
    }

    /** A low-latency step's received rows on every rank, and what its combine needs. */
    public static final class Dispatched implements AutoCloseable {
        private final Buffers buffers;
        private final boolean ownsBuffers;
        private final long generation;
        private final List<IntranodeEp.RankInput> inputs;
        private boolean closed;

        private Dispatched(Buffers buffers, boolean ownsBuffers, long generation, List<IntranodeEp.RankInput> inputs) {
            this.buffers = buffers;
            this.ownsBuffers = ownsBuffers;
            this.generation = generation;
            this.inputs = inputs;
        }

        /** Each rank's receive buffers (an {@link EpBuffer}'s own: the next step overwrites them). */
        public List<Received> received() {
            checkCurrent("received");
            return buffers.received;
        }

        /**
         * Synchronises every rank's stream and throws IllegalArgumentException if a rank routed to an
         * expert id outside {@code [-1, E)} or more pairs to one expert than its {@code W * maxTokens} rows
         * hold (those pairs were skipped). Not for a step captured in a CUDA graph.
         */
        public Dispatched verify() {
            checkCurrent("verify");
            for (int s = 0; s < buffers.placement.worldSize(); s++) {
                buffers.ranks.use(s);
                int bad = EpTensors.toInts(buffers.badIds.get(s), buffers.ranks.stream(s))[0];
                if (bad != 0) {
                    throw new IllegalArgumentException("ranks[" + s + "].topkIdx: " + bad + " slots skipped (expert ids outside [-1, "
                            + buffers.placement.numExperts() + "), or more pairs for one expert than its "
                            + buffers.placement.worldSize() * buffers.maxTokens + " rows)");
                }
            }
            return this;
        }

        /** {@link #verify()}; {@code stream} must be the dispatch's (simulated ranks). */
        public Dispatched verify(CudaStream stream) {
            if (stream != buffers.ranks.stream(0)) {
                throw new IllegalArgumentException("stream: expected the dispatch's stream " + buffers.ranks.stream(0) + ", got " + stream);
            }
            return verify();
        }

        /**
         * Each rank's expert outputs, BF16 {@code [L, W * maxTokens, hidden]} in the rows dispatch filled,
         * back to the tokens' ranks: per source rank BF16 {@code [T, hidden]}, each token the sum over its
         * slots of weight times its expert's row. New tensors the caller closes. Simulated ranks: on the
         * dispatch's stream.
         */
        public List<Tensor> combine(List<Tensor> expertOutputs, CudaStream stream) {
            if (!buffers.ranks.isShared()) {
                throw new IllegalArgumentException("stream: these ranks run on their own streams: call combine(expertOutputs)");
            }
            return combine(expertOutputs, stream, buffers.ranks.stream(0));
        }

        /** {@link #combine(List, CudaStream)} with each rank on its own stream, after every rank's work queued so far. */
        public List<Tensor> combine(List<Tensor> expertOutputs) {
            return combine(expertOutputs, buffers.ranks.stream(0), buffers.ranks.stream(0));
        }

        private List<Tensor> combine(List<Tensor> expertOutputs, CudaStream given, CudaStream expected) {
            checkCurrent("combine");
            ExpertPlacement p = buffers.placement;
            int w = p.worldSize();
            int maxTokens = buffers.maxTokens;
            int hidden = buffers.hidden;
            RankStreams ranks = buffers.ranks;
            long[] ptrs = EpTensors.expertOutputs(expertOutputs, w, ranks, expected, given,
                    r -> new long[] {p.expertsPerRank(), (long) w * maxTokens, hidden});
            EpKernels.require();
            ranks.barrier(); // every rank's expert outputs are ready
            return EpTensors.perSource(ranks, s -> inputs.get(s).numTokens(), hidden, (o, s) -> {
                IntranodeEp.RankInput in = inputs.get(s);
                EpKernels.lowLatencyCombine(ptrs, hidden, in.topkIdx().address(), in.topkWeights().address(), in.numTokens(),
                        (int) in.topkIdx().size(1), p.numExperts(), w, maxTokens, buffers.slotPos.get(s).address(),
                        buffers.expertBegin.get(s).address(), o.address(), ranks.stream(s));
            });
        }

        private void checkCurrent(String what) {
            if (closed || buffers.closed) {
                throw new IllegalStateException(what + ": this dispatch (or its buffer) is closed");
            }
            if (buffers.generation != generation) {
                throw new IllegalStateException(what + ": a later low-latency dispatch has reused this one's buffers");
            }
        }

        /** Frees the buffers when this dispatch made them; an {@link EpBuffer}'s stay for the next step. */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (ownsBuffers) {
                buffers.close();
            }
        }
    }

    /**
     * Low-latency dispatch of every rank's BF16 tokens (at most {@code maxTokens} each) on {@code stream},
     * without synchronising it. The inputs' routing must stay as it is until the combine has run.
     */
    public static Dispatched dispatch(List<IntranodeEp.RankInput> ranks, ExpertPlacement placement, int maxTokens, CudaStream stream) {
        return dispatch(ranks, placement, maxTokens, Format.BF16, stream);
    }

    /**
     * As {@link #dispatch(List, ExpertPlacement, int, CudaStream)}, the rows travelling as {@code format}.
     * FP8 needs a hidden size that is a multiple of 128 (at most 32768) and 16-byte aligned rows. The
     * receive buffers are made for this step and freed when the result is closed.
     */
    public static Dispatched dispatch(List<IntranodeEp.RankInput> ranks, ExpertPlacement placement, int maxTokens, Format format,
            CudaStream stream) {
        if (placement == null) {
            throw new IllegalArgumentException("placement: expected an ExpertPlacement, got null");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens: expected at least 1, got " + maxTokens);
        }
        IntranodeEp.refuseHostTensors(ranks);
        RankStreams rs = RankStreams.shared(placement.worldSize(), stream);
        IntranodeEp.Inputs in = checkStep(ranks, placement, rs, maxTokens, format);
        EpKernels.require();
        Buffers b = Buffers.allocate(placement, rs, maxTokens, in.hidden(), in.topK(), format);
        try {
            return into(b, true, ranks, in);
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    /** One step into {@code buffers} (an {@link EpBuffer}'s): nothing is allocated. */
    static Dispatched dispatchInto(Buffers buffers, List<IntranodeEp.RankInput> ranks) {
        if (buffers.closed) {
            throw new IllegalStateException("lowLatencyDispatch: the buffer is closed");
        }
        IntranodeEp.Inputs in = checkStep(ranks, buffers.placement, buffers.ranks, buffers.maxTokens, buffers.format);
        if (in.hidden() != buffers.hidden) {
            throw new IllegalArgumentException("ranks[0].x: the buffer holds rows of " + buffers.hidden + " values, got " + in.hidden());
        }
        if (in.topK() > buffers.maxTopK) {
            throw new IllegalArgumentException("ranks[0].topkIdx: the buffer holds at most " + buffers.maxTopK + " slots per token, got "
                    + in.topK());
        }
        EpKernels.require();
        return into(buffers, false, ranks, in);
    }

    private static IntranodeEp.Inputs checkStep(List<IntranodeEp.RankInput> ranks, ExpertPlacement placement, RankStreams rs, int maxTokens,
            Format format) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens: expected at least 1, got " + maxTokens);
        }
        if (format == null) {
            throw new IllegalArgumentException("format: expected BF16 or FP8, got null");
        }
        IntranodeEp.Inputs in = IntranodeEp.check(ranks, placement, rs);
        if (in.dtype() != DType.BF16) {
            throw new IllegalArgumentException("ranks[0].x: low-latency dispatch takes BF16 rows (FP8 is made on the way), got " + in.dtype());
        }
        if (format == Format.FP8) {
            if (in.hidden() % 128 != 0 || in.hidden() > EpKernels.LL_FP8_MAX_HIDDEN) {
                throw new IllegalArgumentException("ranks[0].x: FP8 rows need a hidden size that is a multiple of 128 and at most "
                        + EpKernels.LL_FP8_MAX_HIDDEN + ", got " + in.hidden());
            }
            for (int s = 0; s < ranks.size(); s++) {
                if (ranks.get(s).x().address() % 16 != 0) {
                    throw new IllegalArgumentException("ranks[" + s + "].x: FP8 dispatch reads rows 16 bytes at a time: expected a "
                            + "16-byte aligned start, got address 0x" + Long.toHexString(ranks.get(s).x().address()));
                }
            }
        }
        for (int s = 0; s < ranks.size(); s++) {
            if (in.numTokens()[s] > maxTokens) {
                throw new IllegalArgumentException("ranks[" + s + "].x: " + in.numTokens()[s] + " tokens, more than maxTokens " + maxTokens);
            }
        }
        if ((long) placement.worldSize() * maxTokens > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("maxTokens: " + maxTokens + " rows per rank and expert are too many");
        }
        return in;
    }

    private static Dispatched into(Buffers b, boolean owns, List<IntranodeEp.RankInput> ranks, IntranodeEp.Inputs in) {
        RankStreams rs = b.ranks;
        int w = b.placement.worldSize();
        for (int r = 0; r < w; r++) {
            rs.use(r);
            TensorOps.fill(b.received.get(r).count(), 0, rs.stream(r)); // the reservations start from zero
        }
        rs.barrier(); // every count is zero before any rank reserves
        EpKernels.LowLatencyPeers peers = peers(b.received);
        for (int s = 0; s < w; s++) {
            IntranodeEp.RankInput rank = ranks.get(s);
            rs.use(s);
            EpKernels.lowLatencyDispatch(rank.x().address(), b.hidden, b.format == Format.FP8, rank.topkIdx().address(), in.numTokens()[s],
                    in.topK(), b.placement.numExperts(), w, s, b.maxTokens, b.slotPos.get(s).address(), b.expertBegin.get(s).address(),
                    b.badIds.get(s).address(), peers, rs.stream(s));
        }
        rs.barrier(); // each rank's expert rows are complete on its own stream
        b.generation++;
        return new Dispatched(b, owns, b.generation, List.copyOf(ranks));
    }

    private static EpKernels.LowLatencyPeers peers(List<Received> received) {
        int w = received.size();
        long[] x = new long[w], scales = new long[w], count = new long[w], src = new long[w], range = new long[w];
        boolean fp8 = received.get(0).scales() != null;
        for (int r = 0; r < w; r++) {
            x[r] = received.get(r).x().address();
            scales[r] = fp8 ? received.get(r).scales().address() : 0;
            count[r] = received.get(r).count().address();
            src[r] = received.get(r).srcIdx().address();
            range[r] = received.get(r).range().address();
        }
        return new EpKernels.LowLatencyPeers(x, fp8 ? scales : null, count, src, range);
    }

    private static Tensor keep(List<Tensor> owned, Tensor t) {
        owned.add(t);
        return t;
    }
}
