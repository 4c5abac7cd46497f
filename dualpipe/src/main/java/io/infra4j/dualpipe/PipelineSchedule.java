package io.infra4j.dualpipe;

import java.util.ArrayList;
import java.util.List;

/**
 * Every rank's ops of one step together with the pipeline's shape, which says where each chunk's
 * data comes from: what the checks and the timelines need besides the op lists.
 */
public record PipelineSchedule(Kind kind, int numRanks, int numChunks, Mode mode, List<List<Op>> ranks) {
    /** The pipeline shapes. */
    public enum Kind {
        DUALPIPE("DualPipe"),
        DUALPIPE_V("DualPipeV"),
        /** The classic one-forward-one-backward schedule over numRanks stages, for comparison. */
        ONE_F_ONE_B("1F1B"),
        /** Zero-bubble ZB-H1 (1F1B's memory, backwards split and weight work moved into the drain), for comparison. */
        ZB1P("ZB1P");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    public PipelineSchedule {
        ranks = List.copyOf(ranks.stream().map(List::copyOf).toList());
        if (ranks.size() != numRanks) {
            throw new IllegalArgumentException(numRanks + " ranks but " + ranks.size() + " op lists");
        }
    }

    /** DualPipe or DualPipeV as upstream runs them. */
    public static PipelineSchedule of(Variant variant, int numRanks, int numChunks, Mode mode) {
        return new PipelineSchedule(variant == Variant.DUALPIPE ? Kind.DUALPIPE : Kind.DUALPIPE_V, numRanks, numChunks, mode,
                DualPipeSchedule.generateAll(variant, numRanks, numChunks, mode));
    }

    /**
     * 1F1B over {@code stages} ranks and {@code chunks} micro-batches (compute ops only, full
     * backwards; inference: forwards only): rank r runs min(stages - r - 1, chunks) forwards, then
     * alternates one forward and one backward, then drains its backwards.
     */
    public static PipelineSchedule oneFOneB(int stages, int chunks, Mode mode) {
        if (stages < 1 || chunks < 1) {
            throw new IllegalArgumentException("1F1B needs stages >= 1 and chunks >= 1, got " + stages + ", " + chunks);
        }
        List<List<Op>> ranks = new ArrayList<>();
        for (int r = 0; r < stages; r++) {
            List<Op> ops = new ArrayList<>();
            if (!mode.training()) {
                for (int c = 0; c < chunks; c++) {
                    ops.add(new Op.Forward(0, c));
                }
            } else {
                int warmup = Math.min(stages - r - 1, chunks);
                int f = 0;
                int b = 0;
                for (; f < warmup; f++) {
                    ops.add(new Op.Forward(0, f));
                }
                while (f < chunks) {
                    ops.add(new Op.Forward(0, f++));
                    ops.add(new Op.Backward(0, b++, false));
                }
                while (b < chunks) {
                    ops.add(new Op.Backward(0, b++, false));
                }
            }
            ranks.add(ops);
        }
        return new PipelineSchedule(Kind.ONE_F_ONE_B, stages, chunks, mode, ranks);
    }

    /**
     * ZB-H1 over {@code stages} ranks: 1F1B's order with every backward split (zero bubble), and
     * rank r holding up to r weight steps back, which it runs in the drain, one after each
     * backward, where it would otherwise wait (Qi et al., "Zero Bubble Pipeline Parallelism", 2023).
     * Its bubble is (stages - 1)(F + B - 2W), the formula DualPipe's table quotes.
     */
    public static PipelineSchedule zb1p(int stages, int chunks) {
        PipelineSchedule base = oneFOneB(stages, chunks, Mode.TRAIN_PLAIN);
        List<List<Op>> ranks = new ArrayList<>();
        for (int r = 0; r < stages; r++) {
            int keep = r; // later ranks wait longest in the drain, so they hold back the most weight steps
            List<Op> ops = new ArrayList<>();
            java.util.ArrayDeque<Op.Weight> pending = new java.util.ArrayDeque<>();
            boolean draining = false;
            int forwardsLeft = chunks;
            for (Op op : base.ranks().get(r)) {
                if (op instanceof Op.Forward) {
                    forwardsLeft--;
                    ops.add(op);
                } else {
                    Op.Backward b = (Op.Backward) op;
                    ops.add(new Op.Backward(b.d(), b.c(), true));
                    pending.addLast(new Op.Weight(b.d(), b.c()));
                    draining = forwardsLeft == 0;
                    // In the steady phase hold `keep` weight steps back; in the drain run one after each backward.
                    if (!draining) {
                        while (pending.size() > keep) {
                            ops.add(pending.removeFirst());
                        }
                    } else {
                        ops.add(pending.removeFirst());
                    }
                }
            }
            ops.addAll(pending);
            ranks.add(ops);
        }
        return new PipelineSchedule(Kind.ZB1P, stages, chunks, Mode.TRAIN_PLAIN, ranks);
    }

    /**
     * The rank that computes the forward of (d, c) just before this rank in the pipeline, or -1
     * where the data enters here. DualPipeV turns on its last rank: module 1's input there is
     * module 0's output on the same rank.
     */
    public int forwardSource(int rank, int d) {
        return switch (kind) {
            case DUALPIPE -> d == 0 ? rank - 1 : (rank + 1 < numRanks ? rank + 1 : -1);
            case DUALPIPE_V -> d == 0 ? rank - 1 : (rank == numRanks - 1 ? rank : rank + 1);
            case ONE_F_ONE_B, ZB1P -> rank - 1;
        };
    }

    /** The direction / module of the forward that feeds (d, c) on {@code rank} (differs only at DualPipeV's turn). */
    public int forwardSourceDirection(int rank, int d) {
        return kind == Kind.DUALPIPE_V && d == 1 && rank == numRanks - 1 ? 0 : d;
    }

    /** The rank whose backward of (d, c) sends the output gradient here, or -1 where the loss is. */
    public int backwardSource(int rank, int d) {
        return switch (kind) {
            case DUALPIPE -> d == 0 ? (rank + 1 < numRanks ? rank + 1 : -1) : rank - 1;
            case DUALPIPE_V -> d == 0 ? (rank == numRanks - 1 ? rank : rank + 1) : rank - 1;
            case ONE_F_ONE_B, ZB1P -> rank + 1 < numRanks ? rank + 1 : -1;
        };
    }

    /** The direction / module of that backward (differs only at DualPipeV's turn). */
    public int backwardSourceDirection(int rank, int d) {
        return kind == Kind.DUALPIPE_V && d == 0 && rank == numRanks - 1 ? 1 : d;
    }

    /** Micro-batches per direction (DualPipe: half the chunks each way). */
    public int chunksPerDirection() {
        return kind == Kind.DUALPIPE ? numChunks / 2 : numChunks;
    }

    /** Directions / modules: 2, or 1 for 1F1B. */
    public int directions() {
        return kind == Kind.ONE_F_ONE_B || kind == Kind.ZB1P ? 1 : 2;
    }
}
