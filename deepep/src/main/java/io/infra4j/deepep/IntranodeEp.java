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
 * DeepEP's normal-mode dispatch and combine for W ranks whose buffers one process can address: the GPUs
 * of one node with peer access between them (through {@link EpBuffer#onDevices}), or W simulated ranks
 * on one GPU, as the tests and {@code infra4j bench ep} use (each rank its own tensors; the kernels write
 * into and read from the other ranks' tensors by address). Results match {@link EpReference} exactly.
 *
 * <p>Dispatch synchronises the stream once, as DeepEP's normal mode does, to learn how many rows each
 * rank receives and to check the expert ids (an id outside {@code [-1, E)} is an
 * IllegalArgumentException naming the rank, before any row moves).
 */
public final class IntranodeEp {

    private IntranodeEp() {}

    /**
     * One rank's tokens on the GPU: {@code x} {@code [T, hidden]} (BF16, or FP8 e4m3 with {@code scales}
     * F32 {@code [T, hidden / 128]}, else null), {@code topkIdx} I64 {@code [T, k]} (-1: none),
     * {@code topkWeights} F32 {@code [T, k]}; all contiguous, on the stream's device.
     */
    public record RankInput(Tensor x, Tensor scales, Tensor topkIdx, Tensor topkWeights) {
        public static RankInput bf16(Tensor x, Tensor topkIdx, Tensor topkWeights) {
            return new RankInput(x, null, topkIdx, topkWeights);
        }

        int numTokens() {
            return (int) x.size(0);
        }
    }

    /**
     * What one rank received: its rows in source-rank order ({@code x}, and {@code scales} for FP8),
     * local expert ids (-1 for other ranks' experts), weights (0 for those), each row's token index on
     * its source rank, the first row of each source rank's block ({@code rankBegin[W]} = rows), and each
     * local expert's (token, slot) count rounded up to the alignment.
     */
    public record Received(Tensor x, Tensor scales, Tensor topkIdx, Tensor topkWeights, Tensor srcIdx, int[] rankBegin,
            int[] tokensPerLocalExpert) {
        public int numRows() {
            return (int) x.size(0);
        }
    }

    /** A dispatch's received rows on every rank and what combine needs to send results back. */
    public static final class Dispatched implements AutoCloseable {
        private final ExpertPlacement placement;
        private final RankStreams ranks;
        private final int hidden;
        private final int[] numTokens;
        private final List<Received> received;
        private final int[][] tokensPerRank;
        private final int[][] tokensPerExpert;
        private List<DispatchLayout> layouts; // read back on first use: dispatch itself does not need them
        // Per source rank, on its GPU: is_token_in_rank [T, W] U8, send_offset [T, W] I32, rank_begin [W] I32.
        private final List<Tensor> inRank;
        private final List<Tensor> sendOffset;
        private final List<Tensor> rankBegin;
        private final DType dtype;
        private final int topK;
        private boolean closed;

        private Dispatched(ExpertPlacement placement, RankStreams ranks, int hidden, int[] numTokens, List<Received> received,
                int[][] tokensPerRank, int[][] tokensPerExpert, List<Tensor> inRank, List<Tensor> sendOffset, List<Tensor> rankBegin,
                DType dtype, int topK) {
            this.dtype = dtype;
            this.topK = topK;
            this.placement = placement;
            this.ranks = ranks;
            this.hidden = hidden;
            this.numTokens = numTokens;
            this.received = received;
            this.tokensPerRank = tokensPerRank;
            this.tokensPerExpert = tokensPerExpert;
            this.inRank = inRank;
            this.sendOffset = sendOffset;
            this.rankBegin = rankBegin;
        }

        public List<Received> received() {
            return received;
        }

        /** Each source rank's layout (DeepEP's get_dispatch_layout), read back from the GPU on the first call. */
        public List<DispatchLayout> layouts() {
            if (layouts == null) {
                if (closed) {
                    throw new IllegalStateException("layouts: this dispatch is closed");
                }
                List<DispatchLayout> out = new ArrayList<>();
                int w = placement.worldSize();
                for (int s = 0; s < w; s++) {
                    boolean[] flags = new boolean[numTokens[s] * w];
                    if (flags.length > 0) {
                        ranks.use(s);
                        int[] f = EpTensors.toBytes(inRank.get(s), ranks.stream(s), flags.length);
                        for (int i = 0; i < flags.length; i++) {
                            flags[i] = f[i] != 0;
                        }
                    }
                    out.add(new DispatchLayout(placement, numTokens[s], tokensPerRank[s], tokensPerExpert[s], flags));
                }
                layouts = List.copyOf(out);
            }
            return layouts;
        }

        /**
         * DeepEP's cached dispatch: new rows (and scales) of the same tokens with the same routing, pushed into
         * this dispatch's receive buffers (overwritten) without a layout or a host synchronisation. Each
         * input must have this dispatch's shapes and dtype, and {@code topkIdx} the same ids as before (the
         * layout is not recomputed; the received ids and weights are written again from the inputs). Each
         * rank's stream first waits for every rank's queued work (nobody still reads the old rows).
         */
        public Dispatched redispatch(List<RankInput> inputs) {
            if (closed) {
                throw new IllegalStateException("redispatch: this dispatch is closed");
            }
            Inputs in = check(inputs, placement, ranks);
            if (in.dtype() != dtype || in.hidden() != hidden || in.topK() != topK || !java.util.Arrays.equals(in.numTokens(), numTokens)) {
                throw new IllegalArgumentException("inputs: a cached dispatch needs this dispatch's dtype " + dtype + ", hidden " + hidden
                        + ", top-k " + topK + " and tokens " + java.util.Arrays.toString(numTokens) + "; got " + in.dtype() + ", "
                        + in.hidden() + ", " + in.topK() + ", " + java.util.Arrays.toString(in.numTokens()));
            }
            EpKernels.require();
            ranks.barrier();
            push(inputs, placement, ranks, received, dtype, hidden, topK, numTokens, inRank, sendOffset, rankBegin);
            ranks.barrier();
            return this;
        }

        /**
         * Sends each rank's expert outputs (BF16 {@code [rows received, hidden]}, contiguous, on its GPU) back
         * and sums each token's rows in rank order: per source rank BF16 {@code [T, hidden]} on its GPU, new
         * tensors the caller closes. Simulated ranks: runs on the dispatch's stream. Ranks on their own
         * streams: each rank's stream first waits for every rank's work queued so far (the expert
         * outputs), then runs its combine.
         */
        public List<Tensor> combine(List<Tensor> expertOutputs, CudaStream stream) {
            if (ranks.isShared()) {
                return combine(expertOutputs, stream, ranks.stream(0));
            }
            throw new IllegalArgumentException("stream: these ranks run on their own streams: call combine(expertOutputs)");
        }

        /** {@link #combine(List, CudaStream)} on each rank's own stream. */
        public List<Tensor> combine(List<Tensor> expertOutputs) {
            return combine(expertOutputs, ranks.stream(0), ranks.stream(0));
        }

        private List<Tensor> combine(List<Tensor> expertOutputs, CudaStream given, CudaStream expected) {
            if (closed) {
                throw new IllegalStateException("combine: this dispatch is closed");
            }
            int w = placement.worldSize();
            long[] ptrs = EpTensors.expertOutputs(expertOutputs, w, ranks, expected, given,
                    r -> new long[] {received.get(r).numRows(), hidden});
            EpKernels.require();
            ranks.barrier(); // every rank's expert outputs are ready before any rank reads them
            return EpTensors.perSource(ranks, s -> numTokens[s], hidden, (o, s) -> EpKernels.combine(ptrs, hidden,
                    numTokens[s], w, inRank.get(s).address(), sendOffset.get(s).address(), rankBegin.get(s).address(), o.address(),
                    ranks.stream(s)));
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            ranks.barrier(); // no rank still reads or writes what is freed next (each on its own stream)
            for (int r = 0; r < received.size(); r++) {
                ranks.use(r);
                Received got = received.get(r);
                EpTensors.closeAll(got.x(), got.scales(), got.topkIdx(), got.topkWeights(), got.srcIdx());
                inRank.get(r).close();
                sendOffset.get(r).close();
                rankBegin.get(r).close();
            }
        }
    }

    /**
     * Normal-mode dispatch of every rank's tokens ({@code ranks.get(s)} is rank s's, all on {@code stream}'s
     * GPU) over {@code placement}: W simulated ranks on one stream.
     *
     * @param expertAlignment each local expert's count is rounded up to a multiple of this (1: exact)
     */
    public static Dispatched dispatch(List<RankInput> ranks, ExpertPlacement placement, int expertAlignment, CudaStream stream) {
        if (placement == null) {
            throw new IllegalArgumentException("placement: expected an ExpertPlacement, got null");
        }
        refuseHostTensors(ranks);
        if (placement.worldSize() > EpKernels.MAX_RANKS) {
            throw new IllegalArgumentException("worldSize: at most " + EpKernels.MAX_RANKS + " ranks, got " + placement.worldSize());
        }
        return dispatchOn(ranks, placement, expertAlignment, RankStreams.shared(placement.worldSize(), stream));
    }

    /** Host tensors belong to the CPU reference: said before anything else is checked. */
    static void refuseHostTensors(List<RankInput> ranks) {
        for (int s = 0; ranks != null && s < ranks.size(); s++) {
            RankInput in = ranks.get(s);
            if (in != null && in.x() != null && !in.x().isClosed() && in.x().device().isCpu()) {
                throw new IllegalArgumentException("ranks[" + s + "].x: expected a tensor on a GPU, got one on " + in.x().device()
                        + " (EpReference is the CPU path)");
            }
        }
    }

    static Dispatched dispatchOn(List<RankInput> ranks, ExpertPlacement placement, int expertAlignment, RankStreams streams) {
        if (expertAlignment < 1) {
            throw new IllegalArgumentException("expertAlignment: expected at least 1, got " + expertAlignment);
        }
        Inputs in = check(ranks, placement, streams);
        EpKernels.require();
        return run(ranks, placement, expertAlignment, streams, in.dtype(), in.hidden(), in.topK(), in.numTokens());
    }

    /** What every rank's inputs agree on, once checked. */
    record Inputs(DType dtype, int hidden, int topK, int[] numTokens) {}

    /** Checks W ranks' inputs (both modes): IllegalArgumentException naming the first bad argument. */
    static Inputs check(List<RankInput> ranks, ExpertPlacement placement, RankStreams streams) {
        if (placement == null) {
            throw new IllegalArgumentException("placement: expected an ExpertPlacement, got null");
        }
        int w = placement.worldSize();
        if (w > EpKernels.MAX_RANKS) {
            throw new IllegalArgumentException("worldSize: at most " + EpKernels.MAX_RANKS + " ranks, got " + w);
        }
        if (ranks == null || ranks.size() != w) {
            throw new IllegalArgumentException("ranks: expected one input per rank (" + w + "), got "
                    + (ranks == null ? "null" : ranks.size()));
        }
        if (streams.size() != w) {
            throw new IllegalArgumentException("placement: " + w + " ranks, the buffer has " + streams.size());
        }
        return checkInputs(ranks, w, streams::device, s -> "ranks[" + s + "]");
    }

    /**
     * Checks the inputs of {@code ranks.size()} ranks of a world of {@code w}: all of them here, or one
     * rank's over NCCL; input s must be on {@code deviceOf(s)}.
     */
    static Inputs checkInputs(List<RankInput> ranks, int w, java.util.function.IntFunction<Device> deviceOf,
            java.util.function.IntFunction<String> nameOf) {
        if (w > EpKernels.MAX_RANKS) {
            throw new IllegalArgumentException("worldSize: at most " + EpKernels.MAX_RANKS + " ranks, got " + w);
        }
        RankInput first = ranks.get(0);
        if (first == null || first.x() == null) {
            throw new IllegalArgumentException(nameOf.apply(0) + ".x: expected a tensor, got null");
        }
        DType dtype = first.x().dtype();
        boolean fp8 = dtype == DType.F8_E4M3;
        if (dtype != DType.BF16 && !fp8) {
            throw new IllegalArgumentException(nameOf.apply(0) + ".x: expected BF16 or F8_E4M3 rows, got " + dtype);
        }
        if (first.x().rank() != 2) {
            throw new IllegalArgumentException(nameOf.apply(0) + ".x: expected [T, hidden], got shape "
                    + java.util.Arrays.toString(first.x().shape()));
        }
        int hidden = (int) first.x().size(1);
        if (fp8 && hidden % 128 != 0) {
            throw new IllegalArgumentException(nameOf.apply(0) + ".x: FP8 rows need hidden a multiple of 128 (one scale per 128), got "
                    + hidden);
        }
        if ((long) hidden * dtype.byteSize() % 4 != 0) {
            throw new IllegalArgumentException(nameOf.apply(0) + ".x: rows must be a multiple of 4 bytes, got hidden " + hidden + " of "
                    + dtype);
        }
        int topK = first.topkIdx() == null || first.topkIdx().rank() != 2 ? -1 : (int) first.topkIdx().size(1);
        if (topK < 1) {
            throw new IllegalArgumentException(nameOf.apply(0) + ".topkIdx: expected I64 [T, k] with k >= 1");
        }
        int[] numTokens = new int[ranks.size()];
        for (int s = 0; s < ranks.size(); s++) {
            RankInput in = ranks.get(s);
            String name = nameOf.apply(s);
            if (in == null || in.x() == null || in.topkIdx() == null || in.topkWeights() == null) {
                throw new IllegalArgumentException(name + ": expected x, topkIdx and topkWeights, got a null");
            }
            Device device = deviceOf.apply(s);
            if (in.x().isClosed() || in.x().device().isCpu()) {
                throw new IllegalArgumentException(name + ".x: expected an open tensor on a GPU, got "
                        + (in.x().isClosed() ? "a closed one" : "one on " + in.x().device() + " (EpReference is the CPU path)"));
            }
            EpTensors.checkDevice(in.x(), name + ".x", device);
            EpTensors.checkDevice(in.topkIdx(), name + ".topkIdx", device);
            EpTensors.checkDevice(in.topkWeights(), name + ".topkWeights", device);
            long t = in.x().rank() == 2 ? in.x().size(0) : -1;
            EpTensors.checkMatrix(in.x(), name + ".x", dtype, t, hidden);
            if (t > Integer.MAX_VALUE / Math.max(1, w)) {
                throw new IllegalArgumentException(name + ".x: too many tokens (" + t + ")");
            }
            EpTensors.checkMatrix(in.topkIdx(), name + ".topkIdx", DType.I64, t, topK);
            EpTensors.checkMatrix(in.topkWeights(), name + ".topkWeights", DType.F32, t, topK);
            if (fp8) {
                if (in.scales() == null) {
                    throw new IllegalArgumentException(name + ".scales: FP8 rows need their F32 [T, hidden / 128] scales");
                }
                EpTensors.checkDevice(in.scales(), name + ".scales", device);
                EpTensors.checkMatrix(in.scales(), name + ".scales", DType.F32, t, hidden / 128);
            } else if (in.scales() != null) {
                throw new IllegalArgumentException(name + ".scales: BF16 rows have no scales");
            }
            numTokens[s] = (int) t;
        }
        return new Inputs(dtype, hidden, topK, numTokens);
    }

    private static Dispatched run(List<RankInput> ranks, ExpertPlacement p, int alignment, RankStreams rs, DType dtype, int hidden,
            int topK, int[] numTokens) {
        int w = p.worldSize();
        int e = p.numExperts();
        List<Tensor> owned = new ArrayList<>();
        List<Tensor> inRank = new ArrayList<>(), sendOffset = new ArrayList<>(), rankBegin = new ArrayList<>();
        List<Received> received = new ArrayList<>();
        List<Tensor> ownRows = new ArrayList<>(); // counts rows of ranks on other GPUs than rank 0's
        try {
            // 1. Every rank's layout into one table of counts on rank 0's GPU, row s = [bad ids, tokens per rank
            //    [W], tokens per expert [E]]: one copy (one synchronisation) reads them all and the id check.
            //    Ranks on other GPUs count into a row of their own and copy it over (a memset, which the layout
            //    starts with, cannot reach another GPU's memory).
            int row = 1 + w + e;
            rs.use(0);
            Tensor counts = keep(owned, Tensor.empty(DType.I32, rs.device(0), rs.stream(0), w, row));
            rs.fanOut(0); // the table exists before other GPUs copy their rows into it
            for (int s = 0; s < w; s++) {
                int t = numTokens[s];
                rs.use(s);
                Tensor ir = keep(owned, Tensor.empty(DType.U8, rs.device(s), rs.stream(s), Math.max(1, (long) t * w)));
                Tensor so = keep(owned, Tensor.empty(DType.I32, rs.device(s), rs.stream(s), Math.max(1, (long) t * w)));
                boolean local = rs.device(s).equals(rs.device(0));
                Tensor own = local ? null : keep(owned, Tensor.empty(DType.I32, rs.device(s), rs.stream(s), row));
                if (own != null) {
                    ownRows.add(own);
                }
                long base = local ? counts.address() + 4L * s * row : own.address();
                EpKernels.layout(ranks.get(s).topkIdx().address(), t, topK, e, w, base + 4, base + 4L * (1 + w), ir.address(),
                        so.address(), base, rs.stream(s));
                if (!local) {
                    try (Tensor target = counts.select(0, s)) {
                        TensorOps.copy(own, target, rs.stream(s));
                    }
                }
                inRank.add(ir);
                sendOffset.add(so);
            }
            rs.join(0); // rank 0's stream has every row
            rs.use(0);
            int[] table = EpTensors.toInts(counts, rs.stream(0));
            int[][] tpr = new int[w][];
            int[][] tpe = new int[w][];
            for (int s = 0; s < w; s++) {
                int badIds = table[s * row];
                if (badIds != 0) {
                    throw new IllegalArgumentException("ranks[" + s + "].topkIdx: " + badIds + " expert ids outside [-1, " + e + ")");
                }
                tpr[s] = java.util.Arrays.copyOfRange(table, s * row + 1, s * row + 1 + w);
                tpe[s] = java.util.Arrays.copyOfRange(table, s * row + 1 + w, (s + 1) * row);
            }
            // 2. Each destination's buffers, on its GPU: source rank 0's block first, then 1's, ...
            for (int dst = 0; dst < w; dst++) {
                int rows = 0;
                int[] blockBegin = new int[w + 1];
                for (int s = 0; s < w; s++) {
                    blockBegin[s] = rows;
                    rows += tpr[s][dst];
                }
                blockBegin[w] = rows;
                int[] local = new int[p.expertsPerRank()];
                for (int le = 0; le < local.length; le++) {
                    int n = 0;
                    for (int s = 0; s < w; s++) {
                        n += tpe[s][p.globalId(dst, le)];
                    }
                    local[le] = (n + alignment - 1) / alignment * alignment;
                }
                rs.use(dst);
                Device dev = rs.device(dst);
                CudaStream st = rs.stream(dst);
                Tensor x = keep(owned, Tensor.empty(dtype, dev, st, rows, hidden));
                Tensor sc = dtype == DType.F8_E4M3 ? keep(owned, Tensor.empty(DType.F32, dev, st, rows, hidden / 128)) : null;
                Tensor idx = keep(owned, Tensor.empty(DType.I64, dev, st, rows, topK));
                Tensor wt = keep(owned, Tensor.empty(DType.F32, dev, st, rows, topK));
                Tensor src = keep(owned, Tensor.empty(DType.I32, dev, st, rows));
                received.add(new Received(x, sc, idx, wt, src, blockBegin, local));
            }
            // The block starts: a [W, W] table per GPU, whose row s goes to rank s, computed from the counts on
            // rank 0's GPU (no upload, so no second wait) and copied to the other GPUs.
            java.util.Map<Integer, Tensor> tables = new java.util.LinkedHashMap<>();
            for (int s = 0; s < w; s++) {
                int gpu = rs.device(s).index();
                Tensor tableOnGpu = tables.get(gpu);
                rs.use(s);
                if (tableOnGpu == null) {
                    tableOnGpu = keep(owned, Tensor.empty(DType.I32, rs.device(s), rs.stream(s), w, w));
                    tables.put(gpu, tableOnGpu);
                }
                rankBegin.add(keep(owned, tableOnGpu.select(0, s)));
            }
            rs.join(0); // rank 0's stream has seen every receive buffer and table made
            rs.use(0);
            Tensor first = tables.get(rs.device(0).index());
            EpKernels.blockStarts(counts.address(), row, w, first.address(), rs.stream(0));
            for (Tensor other : tables.values()) {
                if (other != first) {
                    TensorOps.copy(first, other, rs.stream(0));
                }
            }
            rs.fanOut(0); // so, after this, every rank has: each buffer exists, each GPU has its table
            // 3. Every rank pushes its rows (and, for FP8, its scales) into the destinations.
            push(ranks, p, rs, received, dtype, hidden, topK, numTokens, inRank, sendOffset, rankBegin);
            rs.barrier(); // each rank's received rows are complete on its own stream
            tables.values().forEach(Tensor::close); // their rows (views) keep the storage for the handle
            counts.close();
            return new Dispatched(p, rs, hidden, numTokens, List.copyOf(received), tpr, tpe, inRank, sendOffset, rankBegin, dtype, topK);
        } catch (RuntimeException ex) {
            rs.barrier();
            owned.forEach(Tensor::close); // every tensor this dispatch made, received buffers included
            throw ex;
        }
    }

    private static void push(List<RankInput> ranks, ExpertPlacement p, RankStreams rs, List<Received> received, DType dtype, int hidden,
            int topK, int[] numTokens, List<Tensor> inRank, List<Tensor> sendOffset, List<Tensor> rankBegin) {
        int w = p.worldSize();
        int e = p.numExperts();
        EpKernels.Peers rows = peers(received, false);
        EpKernels.Peers scaleRows = dtype == DType.F8_E4M3 ? peers(received, true) : null;
        for (int s = 0; s < w; s++) {
            RankInput in = ranks.get(s);
            rs.use(s);
            EpKernels.dispatch(in.x().address(), hidden * dtype.byteSize(), in.topkIdx().address(), in.topkWeights().address(),
                    numTokens[s], topK, e, w, s, inRank.get(s).address(), sendOffset.get(s).address(), rankBegin.get(s).address(), rows,
                    rs.stream(s));
            if (scaleRows != null) {
                EpKernels.dispatch(in.scales().address(), hidden / 128 * 4, in.topkIdx().address(), in.topkWeights().address(),
                        numTokens[s], topK, e, w, s, inRank.get(s).address(), sendOffset.get(s).address(), rankBegin.get(s).address(),
                        scaleRows, rs.stream(s));
            }
        }
    }

    // The receivers' buffers; for the scales pass only the rows (the routing went with the values).
    private static EpKernels.Peers peers(List<Received> received, boolean scales) {
        int w = received.size();
        long[] x = new long[w], idx = new long[w], wt = new long[w], src = new long[w];
        for (int r = 0; r < w; r++) {
            Received got = received.get(r);
            x[r] = scales ? got.scales().address() : got.x().address();
            idx[r] = scales ? 0 : got.topkIdx().address();
            wt[r] = scales ? 0 : got.topkWeights().address();
            src[r] = scales ? 0 : got.srcIdx().address();
        }
        return new EpKernels.Peers(x, idx, wt, src);
    }

    private static Tensor keep(List<Tensor> owned, Tensor t) {
        owned.add(t);
        return t;
    }
}
