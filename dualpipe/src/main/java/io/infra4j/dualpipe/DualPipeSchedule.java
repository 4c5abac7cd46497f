package io.infra4j.dualpipe;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The operations one rank performs in one step of DualPipe or DualPipeV, in execution order and
 * identical to what deepseek-ai/DualPipe's {@code step()} does (at 3da1bbe): the same eight phases
 * (nF0, nF0F1, nB1W1F1, nF0B1F1B0, nB1F1B0, nB1B0, nWB0, nW), the same posts of sends and
 * receives, the same commits (a commit with nothing posted is no op), and the same first-in,
 * first-out queue of deferred weight-gradient work.
 *
 * <p>Inside, as upstream, each rank speaks of "phases": for DualPipe's first half of the ranks phase
 * 0 is the forward direction, for the second half it is the reverse one; the ops name the
 * direction. For DualPipeV the phase is the module index (0 on the way out, 1 on the way back).
 */
public final class DualPipeSchedule {
    private DualPipeSchedule() {}

    /** One rank's ops. Refuses, with the reason, what upstream refuses. */
    public static List<Op> generate(Variant variant, int numRanks, int numChunks, int rank, Mode mode) {
        check(variant, numRanks, numChunks);
        if (rank < 0 || rank >= numRanks) {
            throw new IllegalArgumentException("rank " + rank + " out of [0, " + numRanks + ")");
        }
        if (mode == null) {
            throw new IllegalArgumentException("mode is null");
        }
        Rank r = new Rank(variant, numRanks, rank, mode);
        if (variant == Variant.DUALPIPE) {
            r.dualPipe(numChunks);
        } else {
            r.dualPipeV(numChunks);
        }
        return List.copyOf(r.ops);
    }

    /** Every rank's ops, rank by rank. */
    public static List<List<Op>> generateAll(Variant variant, int numRanks, int numChunks, Mode mode) {
        check(variant, numRanks, numChunks);
        List<List<Op>> all = new ArrayList<>();
        for (int rank = 0; rank < numRanks; rank++) {
            all.add(generate(variant, numRanks, numChunks, rank, mode));
        }
        return List.copyOf(all);
    }

    /**
     * Upstream's constraints: DualPipe needs an even number of ranks and an even number of chunks
     * of at least twice the ranks; DualPipeV needs at least twice as many chunks as ranks.
     */
    public static void check(Variant variant, int numRanks, int numChunks) {
        if (variant == null) {
            throw new IllegalArgumentException("variant is null");
        }
        if (numRanks < 1) {
            throw new IllegalArgumentException("numRanks must be at least 1, got " + numRanks);
        }
        if (variant == Variant.DUALPIPE) {
            if (numRanks % 2 != 0) {
                throw new IllegalArgumentException("DualPipe needs an even number of ranks, got " + numRanks
                        + " (DualPipeV takes any number)");
            }
            if (numChunks <= 0 || numChunks % 2 != 0 || numChunks < numRanks * 2) {
                throw new IllegalArgumentException("DualPipe needs an even number of chunks >= 2 x ranks (" + 2 * numRanks
                        + "), got numChunks=" + numChunks + ", numRanks=" + numRanks);
            }
        } else if (numChunks <= 0 || numChunks < numRanks * 2) {
            throw new IllegalArgumentException("DualPipeV needs numChunks >= 2 x ranks (" + 2 * numRanks + "), got numChunks="
                    + numChunks + ", numRanks=" + numRanks);
        }
    }

    /** Upstream's per-rank state, reduced to what decides the ops. */
    private static final class Rank {
        final boolean v;
        final boolean forwardOnly;
        final int rank;
        final int numRanks;
        final boolean first;
        final boolean last;
        final boolean secondHalf; // DualPipe only: phases are flipped on the second half of the ranks
        final int prev;
        final int next;
        final int[] fChunk = new int[2];
        final int[] bChunk = new int[2];
        final int[] sendF = new int[2];
        final int[] sendB = new int[2];
        final int[] recvF = new int[2];
        final int[] recvB = new int[2];
        final Deque<int[]> deferredWeights = new ArrayDeque<>();
        final List<Op> ops = new ArrayList<>();
        int posted;

        Rank(Variant variant, int numRanks, int rank, Mode mode) {
            this.v = variant == Variant.DUALPIPE_V;
            this.forwardOnly = !mode.training();
            this.rank = rank;
            this.numRanks = numRanks;
            this.first = rank == 0;
            this.last = rank == numRanks - 1;
            this.secondHalf = !v && rank >= numRanks / 2;
            this.prev = rank - 1;
            this.next = rank + 1;
        }

        // ---- upstream's step() ----

        void dualPipe(int numChunks) {
            int halfRanks = numRanks / 2;
            int halfRank = Math.min(rank, numRanks - 1 - rank);
            int halfChunks = numChunks / 2;
            boolean middle = rank == halfRanks - 1 || rank == halfRanks;
            steps(halfRanks, halfRank, halfChunks - numRanks + halfRank + 1, middle);
        }

        void dualPipeV(int numChunks) {
            // DualPipe with N ranks per direction, where the turning rank plays the middle rank.
            steps(numRanks, rank, numChunks - numRanks * 2 + rank + 1, last);
        }

        /** The eight phases; n is the number of ranks in one direction, k this rank's place in it. */
        void steps(int n, int k, int mainSteps, boolean turning) {
            // 1. nF0
            for (int i = 0; i < (n - k - 1) * 2; i++) {
                forwardChunk(0, true, true);
            }
            // 2. nF0F1
            int step2 = k + 1;
            recvForward(0);
            for (int i = 0; i < step2; i++) {
                forwardChunk(0, false, turning);
                recvForward(0);
                forwardChunk(1, true, !turning || i < step2 - 1);
                if (!turning) {
                    sendForward(0);
                }
            }
            // 3. nB1W1F1, zero bubble
            for (int i = 0; i < n - k - 1; i++) {
                backwardChunk(1, true, true, true);
                recvForward(1);
                weightChunk();
                forwardChunk(1, false, true);
            }
            // 4. nF0B1F1B0, the main step
            for (int i = 0; i < mainSteps; i++) {
                if (i == 0) {
                    if (turning) {
                        // Upstream does not overlap these two, to shrink the bubble further.
                        forwardChunk(0, false, false);
                        sendForward(1);
                        backwardChunk(1, false, true, false);
                        sendForward(0);
                        sendBackward(1);
                    } else {
                        forwardBackwardChunk(0, 1, false);
                    }
                } else {
                    forwardBackwardChunk(0, 1, true);
                }
                forwardBackwardChunk(1, 0, true);
            }
            // 5. nB1F1B0
            for (int i = 0; i < n - k - 1; i++) {
                backwardChunk(1, false, true, true);
                forwardBackwardChunk(1, 0, true);
            }
            // 6. nB1B0, the second half with zero bubble
            int step6 = k + 1;
            boolean zb = false;
            for (int i = 0; i < step6; i++) {
                if (i == step6 / 2 && k % 2 == 1) {
                    zb = true;
                }
                backwardChunk(1, zb, true, true);
                if (i == step6 / 2 && k % 2 == 0) {
                    zb = true;
                }
                backwardChunk(0, zb, true, true);
            }
            // 7. nWB0, zero bubble
            for (int i = 0; i < n - k - 1; i++) {
                weightChunk();
                backwardChunk(0, true, true, true);
            }
            // 8. nW
            for (int i = 0; i < k + 1; i++) {
                weightChunk();
            }
            if (!deferredWeights.isEmpty()) {
                throw new IllegalStateException("deferred weight work left over: " + deferredWeights.size());
            }
            commit();
        }

        // ---- chunks: comm posts around a commit and a computation ----

        void forwardChunk(int phase, boolean recv, boolean send) {
            if (recv) {
                recvForward(phase);
            }
            commit();
            forwardCompute(phase);
            if (send) {
                sendForward(phase);
            }
        }

        void backwardChunk(int phase, boolean zeroBubble, boolean recv, boolean send) {
            if (recv) {
                recvBackward(phase);
            }
            commit();
            backwardCompute(phase, zeroBubble);
            if (send) {
                sendBackward(phase);
            }
        }

        void forwardBackwardChunk(int phase0, int phase1, boolean recv0) {
            if (recv0) {
                recvForward(phase0);
            }
            recvBackward(phase1);
            commit();
            forwardBackwardCompute(phase0, phase1);
            sendForward(phase0);
            sendBackward(phase1);
        }

        void weightChunk() {
            if (forwardOnly) {
                return;
            }
            commit();
            int[] dc = deferredWeights.removeFirst();
            ops.add(new Op.Weight(dc[0], dc[1]));
        }

        // ---- computations ----

        int actual(int phase) {
            return secondHalf ? phase ^ 1 : phase;
        }

        void forwardCompute(int phase) {
            int p = actual(phase);
            ops.add(new Op.Forward(p, fChunk[p]++));
        }

        void backwardCompute(int phase, boolean zeroBubble) {
            if (forwardOnly) {
                return;
            }
            int p = actual(phase);
            int c = bChunk[p]++;
            ops.add(new Op.Backward(p, c, zeroBubble));
            if (zeroBubble) {
                deferredWeights.addLast(new int[] {p, c});
            }
        }

        void forwardBackwardCompute(int phase0, int phase1) {
            if (forwardOnly) {
                forwardCompute(phase0);
                return;
            }
            int p0 = actual(phase0);
            int p1 = actual(phase1);
            ops.add(new Op.ForwardBackward(p0, fChunk[p0]++, p1, bChunk[p1]++));
        }

        // ---- communication posts ----

        boolean firstStage(int p) {
            return v ? first && p == 0 : (first && p == 0) || (last && p == 1);
        }

        boolean lastStage(int p) {
            return v ? first && p == 1 : (first && p == 1) || (last && p == 0);
        }

        void recvForward(int phase) {
            int p = actual(phase);
            if (firstStage(p) || (v && last && p == 1)) {
                return; // nothing comes in (V: the turn is a local hand-off)
            }
            ops.add(new Op.RecvForward(p, recvF[p]++, p == 0 ? prev : next));
            posted++;
        }

        void sendForward(int phase) {
            int p = actual(phase);
            if (lastStage(p)) {
                return;
            }
            int c = sendF[p]++;
            if (v && last && p == 0) {
                return; // V: handed to this rank's own phase 1
            }
            ops.add(new Op.SendForward(p, c, p == 0 ? next : prev));
            posted++;
        }

        void recvBackward(int phase) {
            if (forwardOnly) {
                return;
            }
            int p = actual(phase);
            if (lastStage(p) || (v && last && p == 0)) {
                return;
            }
            ops.add(new Op.RecvBackward(p, recvB[p]++, p == 0 ? next : prev));
            posted++;
        }

        void sendBackward(int phase) {
            if (forwardOnly) {
                return;
            }
            int p = actual(phase);
            if (firstStage(p)) {
                return;
            }
            int c = sendB[p]++;
            if (v && last && p == 1) {
                return; // V: handed to this rank's own phase 0
            }
            ops.add(new Op.SendBackward(p, c, p == 0 ? prev : next));
            posted++;
        }

        void commit() {
            if (posted == 0) {
                return;
            }
            ops.add(new Op.Commit(posted));
            posted = 0;
        }
    }
}
