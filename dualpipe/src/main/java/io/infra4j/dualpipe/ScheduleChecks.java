package io.infra4j.dualpipe;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The invariants every DualPipe/DualPipeV schedule keeps (those the golden README lists): each chunk
 * forwarded once (and backwarded once, its deferred weight work run once, in training) on every
 * rank; on every link the k-th send is the k-th receive; no deadlock when each commit posts its
 * batch whole and a transfer completes once both sides have posted it; DualPipe's rank N-1-r the
 * mirror of rank r; DualPipeV(N, C) DualPipe(2N, 2C) cut in half.
 */
public final class ScheduleChecks {
    /**
     * What the checks found. {@code rounds}: how many rounds the batched run took, a round letting
     * every rank run to its next commit and then completing every batch whose partners have all
     * posted. {@code mirrorOk} is null where it does not apply (DualPipeV).
     */
    public record Report(boolean countsOk, boolean fifoOk, boolean deadlockFree, int rounds, Boolean mirrorOk,
                         List<String> problems) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    private ScheduleChecks() {}

    public static Report check(PipelineSchedule s) {
        List<String> problems = new ArrayList<>();
        boolean counts = counts(s, problems);
        boolean fifo = fifo(s, problems);
        int rounds = rounds(s);
        if (rounds < 0) {
            problems.add("deadlock: with each commit posting its batch whole, some batch never completes");
        }
        Boolean mirror = null;
        if (s.kind() == PipelineSchedule.Kind.DUALPIPE) {
            mirror = mirror(s, problems);
        }
        return new Report(counts, fifo, rounds >= 0, rounds, mirror, List.copyOf(problems));
    }

    /** Each rank forwards every (d, c) once; in training it backwards each once and runs each deferred W once, after its B. */
    static boolean counts(PipelineSchedule s, List<String> problems) {
        int before = problems.size();
        int chunks = s.chunksPerDirection();
        for (int r = 0; r < s.numRanks(); r++) {
            int[][] f = new int[2][chunks];
            int[][] b = new int[2][chunks];
            int[][] deferred = new int[2][chunks];
            int[][] w = new int[2][chunks];
            for (Op op : s.ranks().get(r)) {
                switch (op) {
                    case Op.Forward x -> f[x.d()][x.c()]++;
                    case Op.Backward x -> {
                        b[x.d()][x.c()]++;
                        if (x.zeroBubble()) {
                            deferred[x.d()][x.c()]++;
                        }
                    }
                    case Op.ForwardBackward x -> {
                        f[x.d0()][x.c0()]++;
                        b[x.d1()][x.c1()]++;
                    }
                    case Op.Weight x -> {
                        if (deferred[x.d()][x.c()] == 0) {
                            problems.add("rank " + r + ": W(" + x.d() + "," + x.c() + ") before its zero-bubble B");
                        }
                        w[x.d()][x.c()]++;
                    }
                    default -> { }
                }
            }
            for (int d = 0; d < s.directions(); d++) {
                for (int c = 0; c < chunks; c++) {
                    if (f[d][c] != 1) {
                        problems.add("rank " + r + ": chunk (" + d + "," + c + ") forwarded " + f[d][c] + " times");
                    }
                    int wantB = s.mode().training() ? 1 : 0;
                    if (b[d][c] != wantB) {
                        problems.add("rank " + r + ": chunk (" + d + "," + c + ") backwarded " + b[d][c] + " times");
                    }
                    if (w[d][c] != deferred[d][c]) {
                        problems.add("rank " + r + ": chunk (" + d + "," + c + ") deferred " + deferred[d][c]
                                + " weight steps, ran " + w[d][c]);
                    }
                }
            }
        }
        return problems.size() == before;
    }

    /** Link key: sender, receiver, and whether activations (F) or gradients (B). */
    private record Link(int from, int to, boolean gradient) {}

    /** Per link, the k-th send and the k-th receive name the same (d, c). */
    static boolean fifo(PipelineSchedule s, List<String> problems) {
        int before = problems.size();
        Map<Link, List<List<Integer>>> sent = new HashMap<>();
        Map<Link, List<List<Integer>>> received = new HashMap<>();
        for (int r = 0; r < s.numRanks(); r++) {
            for (Op op : s.ranks().get(r)) {
                switch (op) {
                    case Op.SendForward x -> sent.computeIfAbsent(new Link(r, x.peer(), false), k -> new ArrayList<>()).add(List.of(x.d(), x.c()));
                    case Op.SendBackward x -> sent.computeIfAbsent(new Link(r, x.peer(), true), k -> new ArrayList<>()).add(List.of(x.d(), x.c()));
                    case Op.RecvForward x -> received.computeIfAbsent(new Link(x.peer(), r, false), k -> new ArrayList<>()).add(List.of(x.d(), x.c()));
                    case Op.RecvBackward x -> received.computeIfAbsent(new Link(x.peer(), r, true), k -> new ArrayList<>()).add(List.of(x.d(), x.c()));
                    default -> { }
                }
            }
        }
        for (Link link : union(sent, received)) {
            List<List<Integer>> a = sent.getOrDefault(link, List.of());
            List<List<Integer>> b = received.getOrDefault(link, List.of());
            if (!a.equals(b)) {
                problems.add("link " + link.from() + "->" + link.to() + (link.gradient() ? " (gradients)" : " (activations)")
                        + ": sends " + a + " but receives " + b);
            }
        }
        return problems.size() == before;
    }

    private static List<Link> union(Map<Link, ?> a, Map<Link, ?> b) {
        List<Link> all = new ArrayList<>(a.keySet());
        for (Link l : b.keySet()) {
            if (!a.containsKey(l)) {
                all.add(l);
            }
        }
        return all;
    }

    /**
     * Runs the schedule in rounds with rendezvous transfers; returns the number of rounds, or -1 on
     * a deadlock. A commit posts its whole batch, and the batch completes once every transfer in it
     * has been posted by the other side too.
     */
    static int rounds(PipelineSchedule s) {
        int n = s.numRanks();
        Map<Link, Integer> sendsPosted = new HashMap<>();
        Map<Link, Integer> recvsPosted = new HashMap<>();
        int[] pc = new int[n];
        // The batch a rank waits on: per transfer, its link, its index on that link, and whether it is a send.
        List<List<Object[]>> waiting = new ArrayList<>();
        List<List<Object[]>> pending = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            waiting.add(null);
            pending.add(new ArrayList<>());
        }
        int rounds = 0;
        while (true) {
            boolean allDone = true;
            for (int r = 0; r < n; r++) {
                allDone &= pc[r] >= s.ranks().get(r).size() && waiting.get(r) == null;
            }
            if (allDone) {
                return rounds;
            }
            rounds++;
            boolean progress = false;
            for (int r = 0; r < n; r++) {
                if (waiting.get(r) != null) {
                    continue;
                }
                List<Op> ops = s.ranks().get(r);
                while (pc[r] < ops.size()) {
                    Op op = ops.get(pc[r]++);
                    progress = true;
                    if (op.isComm()) {
                        pending.get(r).add(post(r, op, sendsPosted, recvsPosted));
                    } else if (op instanceof Op.Commit) {
                        waiting.set(r, pending.get(r));
                        pending.set(r, new ArrayList<>());
                        break;
                    }
                }
            }
            for (int r = 0; r < n; r++) {
                List<Object[]> batch = waiting.get(r);
                if (batch != null && complete(batch, sendsPosted, recvsPosted)) {
                    waiting.set(r, null);
                    progress = true;
                }
            }
            if (!progress) {
                return -1;
            }
        }
    }

    private static Object[] post(int r, Op op, Map<Link, Integer> sends, Map<Link, Integer> recvs) {
        Link link;
        boolean send;
        switch (op) {
            case Op.SendForward x -> { link = new Link(r, x.peer(), false); send = true; }
            case Op.SendBackward x -> { link = new Link(r, x.peer(), true); send = true; }
            case Op.RecvForward x -> { link = new Link(x.peer(), r, false); send = false; }
            case Op.RecvBackward x -> { link = new Link(x.peer(), r, true); send = false; }
            default -> throw new IllegalArgumentException("not a transfer: " + op);
        }
        Map<Link, Integer> counts = send ? sends : recvs;
        int index = counts.getOrDefault(link, 0);
        counts.put(link, index + 1);
        return new Object[] {link, index, send};
    }

    private static boolean complete(List<Object[]> batch, Map<Link, Integer> sends, Map<Link, Integer> recvs) {
        for (Object[] t : batch) {
            Link link = (Link) t[0];
            int index = (Integer) t[1];
            Map<Link, Integer> other = (Boolean) t[2] ? recvs : sends;
            if (other.getOrDefault(link, 0) <= index) {
                return false;
            }
        }
        return true;
    }

    /** DualPipe: rank N-1-r does what rank r does with directions swapped and peers mirrored. */
    static boolean mirror(PipelineSchedule s, List<String> problems) {
        int n = s.numRanks();
        for (int r = 0; r < n; r++) {
            List<Op> mirrored = s.ranks().get(r).stream().map(op -> mirrorOf(op, n)).toList();
            if (!mirrored.equals(s.ranks().get(n - 1 - r))) {
                problems.add("rank " + (n - 1 - r) + " is not the mirror of rank " + r);
                return false;
            }
        }
        return true;
    }

    static Op mirrorOf(Op op, int n) {
        return switch (op) {
            case Op.Forward x -> new Op.Forward(1 - x.d(), x.c());
            case Op.Backward x -> new Op.Backward(1 - x.d(), x.c(), x.zeroBubble());
            case Op.ForwardBackward x -> new Op.ForwardBackward(1 - x.d0(), x.c0(), 1 - x.d1(), x.c1());
            case Op.Weight x -> new Op.Weight(1 - x.d(), x.c());
            case Op.RecvForward x -> new Op.RecvForward(1 - x.d(), x.c(), n - 1 - x.peer());
            case Op.SendForward x -> new Op.SendForward(1 - x.d(), x.c(), n - 1 - x.peer());
            case Op.RecvBackward x -> new Op.RecvBackward(1 - x.d(), x.c(), n - 1 - x.peer());
            case Op.SendBackward x -> new Op.SendBackward(1 - x.d(), x.c(), n - 1 - x.peer());
            case Op.Commit x -> x;
        };
    }

    /**
     * DualPipe(2N, 2C)'s first N ranks with the transfers between rank N-1 and rank N removed (in
     * DualPipeV that hand-off stays on one rank) and commit counts recounted: DualPipeV(N, C).
     */
    public static List<List<Op>> cutInHalf(List<List<Op>> dualPipe) {
        int half = dualPipe.size() / 2;
        List<List<Op>> out = new ArrayList<>();
        for (int r = 0; r < half; r++) {
            List<Op> ops = new ArrayList<>();
            int posted = 0;
            for (Op op : dualPipe.get(r)) {
                if (op.isComm() && peer(op) >= half) {
                    continue;
                }
                if (op instanceof Op.Commit) {
                    if (posted > 0) {
                        ops.add(new Op.Commit(posted));
                    }
                    posted = 0;
                    continue;
                }
                if (op.isComm()) {
                    posted++;
                }
                ops.add(op);
            }
            out.add(ops);
        }
        return out;
    }

    private static int peer(Op op) {
        return switch (op) {
            case Op.RecvForward x -> x.peer();
            case Op.SendForward x -> x.peer();
            case Op.RecvBackward x -> x.peer();
            case Op.SendBackward x -> x.peer();
            default -> -1;
        };
    }
}
