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
 *
 * <p>With {@link Format#FP8} each BF16 row is quantised once on its sender, as DeepGEMM's per-token
 * quantisation does it ({@code Fp8Quant.perToken}: 1 x 128 groups, FP32 scales), and arrives as e4m3
 * values and scales: {@code new Fp8Tensor(x, scales)} with {@code count} as masked M is the operand of
 * the masked grouped FP8 GEMM ({@code Fp8Gemm.mGroupedMasked}).
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
     * of each source rank's block). All on the device.
     */
    public record Received(Tensor x, Tensor scales, Tensor count, Tensor srcIdx, Tensor range) {}

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
                EpTensors.closeAll(r.x(), r.scales(), r.count(), r.srcIdx(), r.range());
            }
            scratch.forEach(Tensor::close);
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
     * FP8 needs a hidden size that is a multiple of 128 (at most 32768) and 16-byte aligned rows.
     */
    public static Dispatched dispatch(List<IntranodeEp.RankInput> ranks, ExpertPlacement placement, int maxTokens, Format format,
            CudaStream stream) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens: expected at least 1, got " + maxTokens);
        }
        if (format == null) {
            throw new IllegalArgumentException("format: expected BF16 or FP8, got null");
        }
        IntranodeEp.Inputs in = IntranodeEp.check(ranks, placement, stream);
        if (in.dtype() != DType.BF16) {
            throw new IllegalArgumentException("ranks[0].x: low-latency dispatch takes BF16 rows (FP8 is made on the way), got " + in.dtype());
        }
        boolean fp8 = format == Format.FP8;
        if (fp8) {
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
                Tensor x = keep(owned, Tensor.empty(fp8 ? DType.F8_E4M3 : DType.BF16, device, stream, local, rows, hidden));
                Tensor scales = fp8 ? keep(owned, Tensor.empty(DType.F32, device, stream, local, rows, hidden / 128)) : null;
                Tensor count = keep(owned, Tensor.empty(DType.I32, device, stream, local));
                TensorOps.fill(count, 0, stream); // the reservations start from zero
                Tensor src = keep(owned, Tensor.empty(DType.I32, device, stream, local, rows));
                Tensor range = keep(owned, Tensor.empty(DType.I64, device, stream, local, w));
                received.add(new Received(x, scales, count, src, range));
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
                EpKernels.lowLatencyDispatch(rank.x().address(), hidden, fp8, rank.topkIdx().address(), t, in.topK(), placement.numExperts(),
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
}
