package io.infra4j.cli;

import io.infra4j.dualpipe.Costs;
import io.infra4j.dualpipe.Op;
import io.infra4j.dualpipe.PipelineSchedule;
import io.infra4j.dualpipe.ScheduleChecks;
import io.infra4j.dualpipe.Timeline;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * One schedule as text: its shape, its checks, the ops per rank, the bubble beside 1F1B's and
 * ZB1P's with the formulas of DualPipe's table; with --verbose, every rank's ops.
 */
final class DualPipeText {
    private static final int OPS_WIDTH = 96;

    private DualPipeText() {}

    static void print(DualPipeOptions o, PipelineSchedule s, ScheduleChecks.Report checks, BubbleComparison bubbles,
            boolean verbose, PrintStream out) {
        out.println("dualpipe: " + o.variant() + ", " + o.ranks() + " ranks x " + o.chunks() + " chunks, "
                + o.mode().upstreamName());
        fact("pipeline", pipeline(s, bubbles.stages()), out);
        fact("costs", costs(o.costs()) + (o.costsGiven() ? "" : " (typical; --costs F,B,W,FB to change)"), out);
        if (o.timeline() != null) {
            fact("timeline", "written to " + o.timeline() + " (" + o.variant() + " above, 1F1B over the same "
                    + bubbles.stages() + " stages below)", out);
        }
        out.println();
        checks(s, checks, out);
        out.println();
        perRank(s, bubbles.dualPipe(), out);
        out.println();
        bubbles(o, bubbles, out);
        if (verbose) {
            out.println();
            ops(s, out);
        }
    }

    private static String pipeline(PipelineSchedule s, int stages) {
        int n = s.numRanks();
        String last = Integer.toString(n - 1);
        return switch (s.kind()) {
            case DUALPIPE -> "PP = " + stages + " stages: direction 0 runs ranks 0->" + last + ", direction 1 ranks " + last
                    + "->0, " + s.chunksPerDirection() + " chunks each";
            case DUALPIPE_V -> "PP = " + stages + " stages on " + n + (n == 1 ? " rank" : " ranks") + ": module 0 runs ranks 0->"
                    + last + ", module 1 ranks " + last + "->0; rank r holds stages r and " + (stages - 1) + "-r";
            case ONE_F_ONE_B, ZB1P -> "PP = " + stages + " stages";
        };
    }

    static String costs(Costs k) {
        return "F " + time(k.f()) + ", B " + time(k.b()) + ", W " + time(k.w())
                + ", F&B " + time(k.fb());
    }

    private static void checks(PipelineSchedule s, ScheduleChecks.Report r, PrintStream out) {
        out.println("checks: " + (r.ok() ? "passed" : "FAILED"));
        fact("counts", okay(r.countsOk()) + ": every chunk forwarded once per rank"
                + (s.mode().training() ? ", backwarded once, its deferred W run once" : ""), out);
        fact("FIFO", okay(r.fifoOk()) + ": on every link the k-th send is the k-th receive", out);
        fact("deadlock-free", r.deadlockFree() ? "yes: " + r.rounds() + " rounds, each commit waiting for its whole batch"
                : "NO: some batch never completes", out);
        if (r.mirrorOk() != null) {
            fact("mirror", okay(r.mirrorOk()) + ": rank " + (s.numRanks() - 1) + "-r runs rank r's ops, directions swapped", out);
        }
        r.problems().forEach(p -> out.println("  problem: " + p));
    }

    private static String okay(boolean ok) {
        return ok ? "ok" : "FAILED";
    }

    private static void perRank(PipelineSchedule s, Timeline t, PrintStream out) {
        out.println("ops per rank (busy and idle: simulated time in one step):");
        List<List<String>> rows = new ArrayList<>();
        for (int r = 0; r < s.numRanks(); r++) {
            int[] n = new int[Column.values().length];
            for (Op op : s.ranks().get(r)) {
                n[Column.of(op).ordinal()]++;
            }
            List<String> row = new ArrayList<>();
            row.add(Integer.toString(r));
            row.add(Integer.toString(s.ranks().get(r).size()));
            for (int c : n) {
                row.add(Integer.toString(c));
            }
            row.add(time(t.busy(r)));
            row.add(time(t.bubble(r)));
            rows.add(row);
        }
        List<String> header = new ArrayList<>(List.of("rank", "ops"));
        for (Column c : Column.values()) {
            header.add(c.header);
        }
        header.addAll(List.of("busy", "idle"));
        TextFormat.table(header, rows).forEach(line -> out.println("  " + line));
    }

    /** The columns of the ops table, one per kind of op. */
    private enum Column {
        F("F"), B("B"), BZ("Bz"), W("W"), FB("FB"), SEND("sends"), RECV("recvs"), COMMIT("commits");

        final String header;

        Column(String header) {
            this.header = header;
        }

        static Column of(Op op) {
            return switch (op) {
                case Op.Forward x -> F;
                case Op.Backward x -> x.zeroBubble() ? BZ : B;
                case Op.Weight x -> W;
                case Op.ForwardBackward x -> FB;
                case Op.SendForward x -> SEND;
                case Op.SendBackward x -> SEND;
                case Op.RecvForward x -> RECV;
                case Op.RecvBackward x -> RECV;
                case Op.Commit x -> COMMIT;
            };
        }
    }

    private static void bubbles(DualPipeOptions o, BubbleComparison b, PrintStream out) {
        out.println("bubble, the most idle time of a rank in one step (PP = " + b.stages() + " stages, " + o.chunks()
                + " micro-batches; simulated, communication free):");
        boolean formulas = b.formulasApply();
        List<List<String>> rows = new ArrayList<>();
        rows.add(row(o.variant().toString(), b.dualPipe(), formulas ? "(PP/2-1)(F&B+B-3W) = "
                + time(b.dualPipeFormula()) : "-"));
        if (b.zb1p() != null) {
            rows.add(row("ZB1P", b.zb1p(), "(PP-1)(F+B-2W) = " + time(b.zb1pFormula())));
        }
        rows.add(row("1F1B", b.oneFOneB(), formulas ? "(PP-1)(F+B) = " + time(b.oneFOneBFormula()) : "-"));
        TextFormat.table(List.of("schedule", "max bubble", "formula", "makespan"), rows).forEach(line -> out.println("  " + line));
        if (!formulas) {
            out.println("  (the formulas are for training steps; inference has forwards only)");
        } else if (!b.dualPipeFormulaAssumptionHolds()) {
            Costs k = b.costs();
            out.println("  (" + o.variant() + "'s formula takes a backward for inputs, B - W, as long as a forward;"
                    + " here B - W = " + time(k.b() - k.w()) + " and F = " + time(k.f()) + ")");
        }
        if (b.dualPipe().schedule().kind() == PipelineSchedule.Kind.DUALPIPE_V) {
            out.println("  (each DualPipeV rank runs 2 stages, a 1F1B or ZB1P rank 1: compare bubbles, not makespans)");
        }
    }

    private static List<String> row(String name, Timeline t, String formula) {
        return List.of(name, time(t.maxBubble()), formula, time(t.makespan()));
    }

    private static void ops(PipelineSchedule s, PrintStream out) {
        out.println("ops of each rank ('infra4j help dualpipe' explains the notation):");
        String pad = " ".repeat(("  rank " + (s.numRanks() - 1) + ": ").length());
        for (int r = 0; r < s.numRanks(); r++) {
            String head = String.format("  rank %" + Integer.toString(s.numRanks() - 1).length() + "d: ", r);
            List<String> lines = OpNotation.lines(s.ranks().get(r), OPS_WIDTH);
            for (int i = 0; i < lines.size(); i++) {
                out.println((i == 0 ? head : pad) + lines.get(i));
            }
        }
    }

    /** A simulated time or cost: up to 3 decimals, trailing zeros dropped (10320, 2.5, 0.333), never in e-notation. */
    static String time(double v) {
        return BigDecimal.valueOf(v).setScale(3, RoundingMode.HALF_EVEN).stripTrailingZeros().toPlainString();
    }

    private static void fact(String name, String value, PrintStream out) {
        out.printf("  %-14s %s%n", name, value);
    }
}
