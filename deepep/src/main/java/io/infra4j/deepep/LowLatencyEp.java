package io.infra4j.deepep;

import io.infra4j.deepep.internal.EpKernels;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
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
 */
public final class LowLatencyEp {

    private LowLatencyEp() {}

    /**
     * What one rank received: {@code x} BF16 {@code [L, W * maxTokens, hidden]} (rows past an expert's
     * count are not written), {@code count} I32 {@code [L]} (pairs routed to each local expert: the valid
     * rows, when at most {@code W * maxTokens}), {@code srcIdx} I32 {@code [L, W * maxTokens]} (each valid
     * row's token on its source rank) and {@code range} I64 {@code [L, W]} ({@code (begin << 32) | count}
     * of each source rank's block). All on the device.
     */
    public record Received(Tensor x, Tensor count, Tensor srcIdx, Tensor range) {}

    /** A low-latency dispatch's buffers on every rank, and what its combine needs. */
    public static final class Dispatched implements AutoCloseable {
        private final ExpertPlacement placement;
        private final Device device;
        private final CudaStream stream;
        private final int hidden;
        private final int maxTokens;
        private final List<IntranodeEp.RankInput> inputs;
        private final List<Received> received;
        private final List<Tensor> scratch; // per source rank: slot_pos [T, k], expert_begin [E], bad_ids [1]
        private boolean closed;

        private Dispatched(ExpertPlacement placement, Device device, CudaStream stream, int hidden, int maxTokens,
                List<IntranodeEp.RankInput> inputs, List<Received> received, List<Tensor> scratch) {
            this.placement = placement;
            this.device = device;
            this.stream = stream;
            this.hidden = hidden;
            this.maxTokens = maxTokens;
            this.inputs = inputs;
            this.received = received;
            this.scratch = scratch;
        }

        public List<Received> received() {
            return received;
        }

        /**
         * Synchronises the stream and throws IllegalArgumentException if a rank routed to an expert id
         * outside {@code [-1, E)} or more pairs to one expert than its {@code W * maxTokens} rows hold
         * (those pairs were skipped). Not for a step captured in a CUDA graph.
         */
        public Dispatched verify(CudaStream stream) {
            for (int s = 0; s < placement.worldSize(); s++) {
                int bad = EpTensors.toInts(scratch.get(3 * s + 2), stream)[0];
                if (bad != 0) {
                    throw new IllegalArgumentException("ranks[" + s + "].topkIdx: " + bad + " slots skipped (expert ids outside [-1, "
                            + placement.numExperts() + "), or more pairs for one expert than its " + placement.worldSize() * maxTokens
                            + " rows)");
                }
            }
            return this;
        }

        /**
         * Each rank's expert outputs, BF16 {@code [L, W * maxTokens, hidden]} in the rows dispatch filled,
         * back to the tokens' ranks: per source rank BF16 {@code [T, hidden]}, each token the sum over its
         * slots of weight times its expert's row. New tensors the caller closes. Runs on the dispatch's stream.
         */
        public List<Tensor> combine(List<Tensor> expertOutputs, CudaStream stream) {
            if (closed) {
                throw new IllegalStateException("combine: this dispatch is closed");
            }
            int w = placement.worldSize();
            long[] ptrs = EpTensors.expertOutputs(expertOutputs, w, device, this.stream, stream,
                    r -> new long[] {placement.expertsPerRank(), (long) w * maxTokens, hidden});
            EpKernels.require();
            Cuda.useDevice(device.index());
            return EpTensors.perSource(w, device, stream, s -> inputs.get(s).numTokens(), hidden, (o, s) -> {
                IntranodeEp.RankInput in = inputs.get(s);
                EpKernels.lowLatencyCombine(ptrs, hidden, in.topkIdx().address(), in.topkWeights().address(), in.numTokens(),
                        (int) in.topkIdx().size(1), placement.numExperts(), w, maxTokens, scratch.get(3 * s).address(),
                        scratch.get(3 * s + 1).address(), o.address(), stream);
            });
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            for (Received r : received) {
                EpTensors.closeAll(r.x(), r.count(), r.srcIdx(), r.range());
            }
            scratch.forEach(Tensor::close);
        }
    }

    /**
     * Low-latency dispatch of every rank's BF16 tokens (at most {@code maxTokens} each) on {@code stream},
     * without synchronising it. The inputs' routing must stay as it is until the combine has run.
     */
    public static Dispatched dispatch(List<IntranodeEp.RankInput> ranks, ExpertPlacement placement, int maxTokens, CudaStream stream) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens: expected at least 1, got " + maxTokens);
        }
        IntranodeEp.Inputs in = IntranodeEp.check(ranks, placement, stream);
        if (in.dtype() != DType.BF16) {
            throw new IllegalArgumentException("ranks[0].x: low-latency dispatch takes BF16 rows, got " + in.dtype());
        }
        int w = placement.worldSize();
        for (int s = 0; s < w; s++) {
            if (in.numTokens()[s] > maxTokens) {
                throw new IllegalArgumentException("ranks[" + s + "].x: " + in.numTokens()[s] + " tokens, more than maxTokens " + maxTokens);
            }
        }
        if ((long) w * maxTokens > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("maxTokens: " + maxTokens + " rows per rank and expert are too many");
        }
        EpKernels.require();
        Device device = in.device();
        int hidden = in.hidden();
        int local = placement.expertsPerRank();
        int rows = w * maxTokens;
        List<Received> received = new ArrayList<>();
        List<Tensor> scratch = new ArrayList<>();
        List<Tensor> owned = new ArrayList<>(); // everything made here, closed if a step fails
        Cuda.useDevice(device.index());
        try {
            for (int r = 0; r < w; r++) {
                Tensor x = keep(owned, Tensor.empty(DType.BF16, device, stream, local, rows, hidden));
                Tensor count = keep(owned, Tensor.empty(DType.I32, device, stream, local));
                TensorOps.fill(count, 0, stream); // the reservations start from zero
                Tensor src = keep(owned, Tensor.empty(DType.I32, device, stream, local, rows));
                Tensor range = keep(owned, Tensor.empty(DType.I64, device, stream, local, w));
                received.add(new Received(x, count, src, range));
            }
            EpKernels.LowLatencyPeers peers = peers(received);
            for (int s = 0; s < w; s++) {
                IntranodeEp.RankInput rank = ranks.get(s);
                int t = in.numTokens()[s];
                Tensor pos = keep(owned, Tensor.empty(DType.I32, device, stream, Math.max(1, (long) t * in.topK())));
                Tensor begin = keep(owned, Tensor.empty(DType.I32, device, stream, placement.numExperts()));
                Tensor bad = keep(owned, Tensor.empty(DType.I32, device, stream, 1));
                scratch.add(pos);
                scratch.add(begin);
                scratch.add(bad);
                EpKernels.lowLatencyDispatch(rank.x().address(), hidden * 2, rank.topkIdx().address(), t, in.topK(), placement.numExperts(),
                        w, s, maxTokens, pos.address(), begin.address(), bad.address(), peers, stream);
            }
            return new Dispatched(placement, device, stream, hidden, maxTokens, List.copyOf(ranks), List.copyOf(received), List.copyOf(scratch));
        } catch (RuntimeException e) {
            owned.forEach(Tensor::close);
            throw e;
        }
    }

    private static Tensor keep(List<Tensor> owned, Tensor t) {
        owned.add(t);
        return t;
    }

    private static EpKernels.LowLatencyPeers peers(List<Received> received) {
        int w = received.size();
        long[] x = new long[w], count = new long[w], src = new long[w], range = new long[w];
        for (int r = 0; r < w; r++) {
            x[r] = received.get(r).x().address();
            count[r] = received.get(r).count().address();
            src[r] = received.get(r).srcIdx().address();
            range[r] = received.get(r).range().address();
        }
        return new EpKernels.LowLatencyPeers(x, count, src, range);
    }
}
