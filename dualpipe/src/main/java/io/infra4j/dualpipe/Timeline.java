package io.infra4j.dualpipe;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * When each compute op of a schedule runs, given per-op {@link Costs}: each rank runs its ops in
 * order, and an op starts once its rank is free and its inputs exist (the forward of the same
 * chunk on the rank before it, the backward on the rank after it). Communication is taken as
 * free, so what remains idle is the schedule's own bubble, the figure DualPipe's paper tabulates.
 */
public final class Timeline {
    /** One op's time on one rank. */
    public record Block(Op op, double start, double end) {}

    private final PipelineSchedule schedule;
    private final Costs costs;
    private final List<List<Block>> blocks;
    private final double makespan;

    private Timeline(PipelineSchedule schedule, Costs costs, List<List<Block>> blocks, double makespan) {
        this.schedule = schedule;
        this.costs = costs;
        this.blocks = blocks;
        this.makespan = makespan;
    }

    /** The cost of one op of a schedule: the {@code index}-th op of rank {@code rank}'s list. */
    @FunctionalInterface
    public interface OpCosts {
        double of(int rank, int index, Op op);
    }

    public static Timeline simulate(PipelineSchedule schedule, Costs costs) {
        return simulate(schedule, costs, (rank, index, op) -> costs.of(op));
    }

    /**
     * The schedule replayed with a cost for every op (measured durations, say), under the same rules;
     * {@code nominal} is what {@link #costs()} reports, and decides which ops compute (those it costs
     * above 0).
     */
    public static Timeline simulate(PipelineSchedule schedule, Costs nominal, OpCosts perOp) {
        int n = schedule.numRanks();
        Map<Long, Double> forwardDone = new HashMap<>();
        Map<Long, Double> backwardDone = new HashMap<>();
        int[] next = new int[n];
        double[] free = new double[n];
        List<List<Block>> blocks = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            blocks.add(new ArrayList<>());
        }
        boolean progress = true;
        int remaining = schedule.ranks().stream().mapToInt(List::size).sum();
        while (remaining > 0) {
            if (!progress) {
                throw new IllegalStateException("the schedule waits on itself: no rank can run its next op");
            }
            progress = false;
            for (int r = 0; r < n; r++) {
                List<Op> ops = schedule.ranks().get(r);
                while (next[r] < ops.size()) {
                    Op op = ops.get(next[r]);
                    Double ready = readyTime(schedule, r, op, forwardDone, backwardDone);
                    if (ready == null) {
                        break; // an input is not computed yet: let the other ranks run
                    }
                    if (nominal.of(op) > 0) { // a compute op; posts and commits take no time
                        double start = Math.max(free[r], ready);
                        free[r] = start + perOp.of(r, next[r], op);
                        blocks.get(r).add(new Block(op, start, free[r]));
                        record(r, op, free[r], forwardDone, backwardDone);
                    }
                    next[r]++;
                    remaining--;
                    progress = true;
                }
            }
        }
        double makespan = 0;
        for (double f : free) {
            makespan = Math.max(makespan, f);
        }
        List<List<Block>> frozen = blocks.stream().map(List::copyOf).toList();
        return new Timeline(schedule, nominal, frozen, makespan);
    }

    private static long key(int rank, int d, int c) {
        return ((long) rank << 40) | ((long) d << 32) | (c & 0xFFFFFFFFL);
    }

    /** When the op's inputs exist, or null when one does not yet. Communication ops are always ready. */
    private static Double readyTime(PipelineSchedule s, int r, Op op, Map<Long, Double> fwd, Map<Long, Double> bwd) {
        return switch (op) {
            case Op.Forward f -> forwardReady(s, r, f.d(), f.c(), fwd);
            case Op.Backward b -> backwardReady(s, r, b.d(), b.c(), fwd, bwd);
            case Op.ForwardBackward fb -> {
                Double a = forwardReady(s, r, fb.d0(), fb.c0(), fwd);
                Double b = backwardReady(s, r, fb.d1(), fb.c1(), fwd, bwd);
                yield a == null || b == null ? null : Math.max(a, b);
            }
            default -> 0.0;
        };
    }

    private static Double forwardReady(PipelineSchedule s, int r, int d, int c, Map<Long, Double> fwd) {
        int src = s.forwardSource(r, d);
        return src < 0 ? Double.valueOf(0) : fwd.get(key(src, s.forwardSourceDirection(r, d), c));
    }

    private static Double backwardReady(PipelineSchedule s, int r, int d, int c, Map<Long, Double> fwd, Map<Long, Double> bwd) {
        Double own = fwd.get(key(r, d, c));
        if (own == null) {
            return null;
        }
        int src = s.backwardSource(r, d);
        if (src < 0) {
            return own;
        }
        Double grad = bwd.get(key(src, s.backwardSourceDirection(r, d), c));
        return grad == null ? null : Math.max(own, grad);
    }

    private static void record(int r, Op op, double end, Map<Long, Double> fwd, Map<Long, Double> bwd) {
        switch (op) {
            case Op.Forward f -> fwd.put(key(r, f.d(), f.c()), end);
            case Op.Backward b -> bwd.put(key(r, b.d(), b.c()), end);
            case Op.ForwardBackward fb -> {
                fwd.put(key(r, fb.d0(), fb.c0()), end);
                bwd.put(key(r, fb.d1(), fb.c1()), end);
            }
            default -> { }
        }
    }

    public PipelineSchedule schedule() {
        return schedule;
    }

    public Costs costs() {
        return costs;
    }

    /** Each rank's compute blocks in time order. */
    public List<List<Block>> blocks() {
        return blocks;
    }

    /** From 0 to the end of the last op on any rank. */
    public double makespan() {
        return makespan;
    }

    /** Time the rank computes. */
    public double busy(int rank) {
        return blocks.get(rank).stream().mapToDouble(b -> b.end() - b.start()).sum();
    }

    /** Time the rank is idle within the makespan. */
    public double bubble(int rank) {
        return makespan - busy(rank);
    }

    /** The largest bubble of any rank. */
    public double maxBubble() {
        double max = 0;
        for (int r = 0; r < blocks.size(); r++) {
            max = Math.max(max, bubble(r));
        }
        return max;
    }
}
