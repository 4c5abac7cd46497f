package io.infra4j.cli;

import io.infra4j.dualpipe.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * Ops in the short form of {@code infra4j dualpipe -v}, d.c naming a chunk (d: direction or module,
 * c: chunk within it): F0.3, B1.2 (B1.2z: zero bubble, weights deferred), W1.2, FB(0.3|1.1),
 * SF0.2&gt;1 and SB0.2&gt;1 (post a send to rank 1), RF0.2&lt;1 and RB0.2&lt;1 (post a receive from
 * rank 1), X3 (commit the 3 posted transfers and wait for them).
 */
final class OpNotation {
    /** The legend of {@code infra4j help dualpipe}. */
    static final String LEGEND = """
              F0.3          forward of chunk 3 of d=0
              B1.2, B1.2z   backward of chunk 2 of d=1; z: zero bubble, its weight gradients deferred to a W
              W1.2          the deferred weight-gradient work of chunk 2 of d=1
              FB(0.3|1.1)   forward of 0.3 overlapped with the backward of 1.1
              SF0.2>1       post the send of 0.2's activations to rank 1 (SB: of its input gradients)
              RF0.2<1       post the receive of 0.2's activations from rank 1 (RB: of its output gradients)
              X3            commit: start the 3 transfers posted since the last X as one batch, wait for all
            """;

    private OpNotation() {}

    static String of(Op op) {
        return switch (op) {
            case Op.Forward x -> "F" + x.d() + "." + x.c();
            case Op.Backward x -> "B" + x.d() + "." + x.c() + (x.zeroBubble() ? "z" : "");
            case Op.Weight x -> "W" + x.d() + "." + x.c();
            case Op.ForwardBackward x -> "FB(" + x.d0() + "." + x.c0() + "|" + x.d1() + "." + x.c1() + ")";
            case Op.SendForward x -> "SF" + x.d() + "." + x.c() + ">" + x.peer();
            case Op.SendBackward x -> "SB" + x.d() + "." + x.c() + ">" + x.peer();
            case Op.RecvForward x -> "RF" + x.d() + "." + x.c() + "<" + x.peer();
            case Op.RecvBackward x -> "RB" + x.d() + "." + x.c() + "<" + x.peer();
            case Op.Commit x -> "X" + x.count();
        };
    }

    /** The ops, space-separated, in lines of at most {@code width} characters (an op is never split). */
    static List<String> lines(List<Op> ops, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (Op op : ops) {
            String s = of(op);
            if (!line.isEmpty() && line.length() + 1 + s.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (!line.isEmpty()) {
                line.append(' ');
            }
            line.append(s);
        }
        if (!line.isEmpty()) {
            lines.add(line.toString());
        }
        return lines;
    }
}
