package io.infra4j.deepep;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The CPU reference of DeepEP's dispatch and combine over W ranks held in one process, the oracle of
 * the GPU kernels' tests. Rows are moved as they are (any payload: BF16 values widened to float, or
 * FP8 values with their scales); sums are in float, in a fixed order.
 *
 * <p>Normal mode: each token goes once to every rank holding one of its experts; a rank receives the
 * tokens of source rank 0 in token order, then of rank 1, and so on; combine adds each token's rows
 * back from every rank that received it. Low-latency mode: each (token, slot) pair goes to its
 * expert's rows of {@code [E_local, W * maxTokens, width]}; combine sums them weighted by the slot's
 * weight.
 */
public final class EpReference {

    private EpReference() {}

    /** What one rank received in normal mode, and where each row came from (the combine handle). */
    public record Received(int rank, int width, int topK, float[] rows, long[] localExpertIds, float[] weights, int[] sourceRank,
            int[] sourceToken, int[] rankBegin, int[] tokensPerLocalExpert) {

        /** Rows received. */
        public int numRows() {
            return sourceRank.length;
        }
    }

    /** Normal-mode dispatch over all ranks. */
    public record Dispatch(ExpertPlacement placement, int width, int[] numTokens, List<DispatchLayout> layouts,
            List<Received> received) {}

    /**
     * Normal-mode dispatch. {@code ranks.get(s)} is rank s's input; every rank has the same width and K.
     *
     * @param expertAlignment each local expert's count is rounded up to a multiple of this (1: exact),
     *                        as the grouped GEMM's contiguous layout wants
     */
    public static Dispatch dispatch(List<RankTokens> ranks, ExpertPlacement placement, int expertAlignment) {
        int w = checkRanks(ranks, placement);
        if (expertAlignment < 1) {
            throw new IllegalArgumentException("expertAlignment: expected at least 1, got " + expertAlignment);
        }
        int width = ranks.get(0).width();
        int k = ranks.get(0).routing().topK();
        int local = placement.expertsPerRank();
        List<DispatchLayout> layouts = new ArrayList<>();
        for (RankTokens r : ranks) {
            layouts.add(DispatchLayout.of(r.routing(), placement));
        }
        List<Received> received = new ArrayList<>();
        for (int dst = 0; dst < w; dst++) {
            int n = 0;
            for (DispatchLayout l : layouts) {
                n += l.tokensPerRank()[dst];
            }
            float[] rows = new float[n * width];
            long[] ids = new long[n * k];
            float[] weights = new float[n * k];
            int[] srcRank = new int[n];
            int[] srcToken = new int[n];
            int[] begin = new int[w + 1];
            int[] perExpert = new int[local];
            int row = 0;
            for (int src = 0; src < w; src++) {
                begin[src] = row;
                RankTokens in = ranks.get(src);
                Routing routing = in.routing();
                for (int t = 0; t < in.numTokens(); t++) {
                    if (!layouts.get(src).isTokenInRank(t, dst)) {
                        continue;
                    }
                    System.arraycopy(in.rows(), t * width, rows, row * width, width);
                    for (int j = 0; j < k; j++) {
                        long e = routing.expert(t, j);
                        boolean mine = e >= 0 && placement.rankOf(e) == dst;
                        ids[row * k + j] = mine ? placement.localIndex(e) : -1;
                        weights[row * k + j] = mine ? routing.weight(t, j) : 0f;
                    }
                    srcRank[row] = src;
                    srcToken[row] = t;
                    row++;
                }
                for (int e = 0; e < local; e++) {
                    perExpert[e] += layouts.get(src).tokensPerExpert()[placement.globalId(dst, e)];
                }
            }
            begin[w] = row;
            for (int e = 0; e < local; e++) {
                perExpert[e] = (perExpert[e] + expertAlignment - 1) / expertAlignment * expertAlignment;
            }
            received.add(new Received(dst, width, k, rows, ids, weights, srcRank, srcToken, begin, perExpert));
        }
        int[] numTokens = ranks.stream().mapToInt(RankTokens::numTokens).toArray();
        return new Dispatch(placement, width, numTokens, List.copyOf(layouts), List.copyOf(received));
    }

    /**
     * Normal-mode combine: {@code expertOutputs.get(r)} holds one row per row rank r received; returns,
     * for each source rank, {@code [T, width]} where each token's row is the sum, over the ranks that
     * received it in rank order, of what they return for it (no weights, as DeepEP's combine).
     */
    public static List<float[]> combine(Dispatch dispatch, List<float[]> expertOutputs) {
        int w = dispatch.placement().worldSize();
        int width = dispatch.width();
        if (expertOutputs.size() != w) {
            throw new IllegalArgumentException("expertOutputs: expected one per rank (" + w + "), got " + expertOutputs.size());
        }
        List<float[]> out = new ArrayList<>();
        for (int s = 0; s < w; s++) {
            out.add(new float[dispatch.numTokens()[s] * width]);
        }
        for (int r = 0; r < w; r++) {
            Received got = dispatch.received().get(r);
            float[] y = expertOutputs.get(r);
            if (y.length != got.numRows() * width) {
                throw new IllegalArgumentException("expertOutputs[" + r + "]: expected " + got.numRows() * width + " values ("
                        + got.numRows() + " rows of " + width + "), got " + y.length);
            }
            for (int row = 0; row < got.numRows(); row++) {
                float[] dst = out.get(got.sourceRank()[row]);
                int base = got.sourceToken()[row] * width;
                for (int c = 0; c < width; c++) {
                    dst[base + c] += y[row * width + c];
                }
            }
        }
        return out;
    }

    /**
     * What one rank received in low-latency mode: {@code rows} is {@code [E_local, W * maxTokens,
     * width]}; local expert e's first {@code count[e]} rows are valid, source rank s's tokens being rows
     * {@code [rangeBegin[e * W + s], + rangeCount[e * W + s])} in token order; {@code sourceToken} gives
     * each valid row's token index on its source rank. Rows past the count hold {@code fill}.
     */
    public record LowLatencyReceived(int rank, int width, int maxTokens, float[] rows, int[] count, int[] sourceToken,
            int[] rangeBegin, int[] rangeCount) {

        /** Row {@code i} of local expert {@code e}, as a copy. */
        public float[] row(int e, int i) {
            int slots = sourceToken.length / count.length;
            return Arrays.copyOfRange(rows, (e * slots + i) * width, (e * slots + i + 1) * width);
        }
    }

    /** Low-latency dispatch over all ranks. */
    public record LowLatencyDispatch(ExpertPlacement placement, int width, int maxTokens, List<Routing> routings,
            List<LowLatencyReceived> received) {}

    /**
     * Low-latency dispatch: every (token, slot) pair with an expert goes to that expert's rows on its
     * rank. Each rank sends at most {@code maxTokens} tokens.
     */
    public static LowLatencyDispatch lowLatencyDispatch(List<RankTokens> ranks, ExpertPlacement placement, int maxTokens, float fill) {
        int w = checkRanks(ranks, placement);
        for (int s = 0; s < w; s++) {
            if (ranks.get(s).numTokens() > maxTokens) {
                throw new IllegalArgumentException("rank " + s + " sends " + ranks.get(s).numTokens() + " tokens, more than maxTokens "
                        + maxTokens);
            }
        }
        int width = ranks.get(0).width();
        int local = placement.expertsPerRank();
        int slots = w * maxTokens;
        List<LowLatencyReceived> received = new ArrayList<>();
        for (int dst = 0; dst < w; dst++) {
            float[] rows = new float[local * slots * width];
            Arrays.fill(rows, fill);
            int[] count = new int[local];
            int[] srcToken = new int[local * slots];
            Arrays.fill(srcToken, -1);
            int[] begin = new int[local * w];
            int[] rangeCount = new int[local * w];
            for (int e = 0; e < local; e++) {
                long expert = placement.globalId(dst, e);
                for (int src = 0; src < w; src++) {
                    begin[e * w + src] = count[e];
                    RankTokens in = ranks.get(src);
                    for (int t = 0; t < in.numTokens(); t++) {
                        for (int j = 0; j < in.routing().topK(); j++) {
                            if (in.routing().expert(t, j) != expert) {
                                continue;
                            }
                            int row = count[e]++;
                            System.arraycopy(in.rows(), t * width, rows, (e * slots + row) * width, width);
                            srcToken[e * slots + row] = t;
                        }
                    }
                    rangeCount[e * w + src] = count[e] - begin[e * w + src];
                }
            }
            received.add(new LowLatencyReceived(dst, width, maxTokens, rows, count, srcToken, begin, rangeCount));
        }
        List<Routing> routings = ranks.stream().map(RankTokens::routing).toList();
        return new LowLatencyDispatch(placement, width, maxTokens, routings, List.copyOf(received));
    }

    /**
     * Low-latency combine: {@code expertOutputs.get(r)} is rank r's {@code [E_local, W * maxTokens,
     * width]} result (rows where dispatch put tokens); returns for each source rank {@code [T, width]}
     * with each token's row the sum, over its slots in order, of weight times its expert's row (slots
     * of -1 skipped).
     */
    public static List<float[]> lowLatencyCombine(LowLatencyDispatch dispatch, List<float[]> expertOutputs) {
        ExpertPlacement p = dispatch.placement();
        int w = p.worldSize();
        int width = dispatch.width();
        int slots = w * dispatch.maxTokens();
        if (expertOutputs.size() != w) {
            throw new IllegalArgumentException("expertOutputs: expected one per rank (" + w + "), got " + expertOutputs.size());
        }
        for (int r = 0; r < w; r++) {
            long expected = (long) p.expertsPerRank() * slots * width;
            if (expertOutputs.get(r).length != expected) {
                throw new IllegalArgumentException("expertOutputs[" + r + "]: expected " + expected + " values ([" + p.expertsPerRank()
                        + ", " + slots + ", " + width + "]), got " + expertOutputs.get(r).length);
            }
        }
        List<float[]> out = new ArrayList<>();
        for (int s = 0; s < w; s++) {
            Routing routing = dispatch.routings().get(s);
            float[] o = new float[routing.numTokens() * width];
            for (int t = 0; t < routing.numTokens(); t++) {
                for (int j = 0; j < routing.topK(); j++) {
                    long e = routing.expert(t, j);
                    if (e < 0) {
                        continue;
                    }
                    int r = p.rankOf(e);
                    int le = p.localIndex(e);
                    int row = rowOf(dispatch.received().get(r), le, s, t, occurrence(routing, t, j), w);
                    float wt = routing.weight(t, j);
                    float[] y = expertOutputs.get(r);
                    int base = (le * slots + row) * width;
                    for (int c = 0; c < width; c++) {
                        o[t * width + c] += wt * y[base + c];
                    }
                }
            }
            out.add(o);
        }
        return out;
    }

    // Which of token t's slots routed to the same expert slot j is (0 for the first).
    private static int occurrence(Routing routing, int t, int j) {
        int n = 0;
        for (int i = 0; i < j; i++) {
            if (routing.expert(t, i) == routing.expert(t, j)) {
                n++;
            }
        }
        return n;
    }

    // The row of local expert le holding the nth copy of source rank s's token t.
    private static int rowOf(LowLatencyReceived got, int le, int s, int t, int nth, int w) {
        int slots = got.sourceToken().length / got.count().length;
        int begin = got.rangeBegin()[le * w + s];
        for (int i = begin; i < begin + got.rangeCount()[le * w + s]; i++) {
            if (got.sourceToken()[le * slots + i] == t && nth-- == 0) {
                return i;
            }
        }
        throw new IllegalStateException("token " + t + " of rank " + s + " was not dispatched to local expert " + le);
    }

    private static int checkRanks(List<RankTokens> ranks, ExpertPlacement placement) {
        int w = placement.worldSize();
        if (ranks.size() != w) {
            throw new IllegalArgumentException("ranks: expected one input per rank (" + w + "), got " + ranks.size());
        }
        int width = ranks.get(0).width();
        int k = ranks.get(0).routing().topK();
        for (int s = 0; s < w; s++) {
            RankTokens r = ranks.get(s);
            if (r.width() != width || r.routing().topK() != k) {
                throw new IllegalArgumentException("rank " + s + ": width " + r.width() + " and topK " + r.routing().topK()
                        + " differ from rank 0's (" + width + ", " + k + ")");
            }
            r.routing().check(placement);
        }
        return w;
    }
}
