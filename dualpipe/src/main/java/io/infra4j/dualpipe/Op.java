package io.infra4j.dualpipe;

import java.util.List;

/**
 * One primitive operation of a rank's schedule, in the golden traces' format. {@code d} is the
 * direction (DualPipe) or module index (DualPipeV), 0 or 1; {@code c} the micro-batch index within
 * that direction, from 0; {@code peer} a rank.
 */
public sealed interface Op {
    /** The op as the golden traces write it, e.g. {@code ["F",0,3]} or {@code ["X",2]}. */
    List<Object> toList();

    /** Forward of chunk c in direction d. */
    record Forward(int d, int c) implements Op {
        public List<Object> toList() {
            return List.of("F", d, c);
        }
    }

    /** Backward of chunk c; {@code zeroBubble}: its weight gradients are deferred to a later {@link Weight}. */
    record Backward(int d, int c, boolean zeroBubble) implements Op {
        public List<Object> toList() {
            return List.of("B", d, c, zeroBubble ? 1 : 0);
        }
    }

    /** Forward of (d0, c0) overlapped with the backward of (d1, c1). */
    record ForwardBackward(int d0, int c0, int d1, int c1) implements Op {
        public List<Object> toList() {
            return List.of("FB", d0, c0, d1, c1);
        }
    }

    /** The deferred weight-gradient work of the zero-bubble backward of (d, c); these run first in, first out. */
    record Weight(int d, int c) implements Op {
        public List<Object> toList() {
            return List.of("W", d, c);
        }
    }

    /** Post a receive of chunk c's forward activations (direction d) from {@code peer}. */
    record RecvForward(int d, int c, int peer) implements Op {
        public List<Object> toList() {
            return List.of("RF", d, c, peer);
        }
    }

    /** Post a send of chunk c's forward activations (direction d) to {@code peer}. */
    record SendForward(int d, int c, int peer) implements Op {
        public List<Object> toList() {
            return List.of("SF", d, c, peer);
        }
    }

    /** Post a receive of chunk c's output gradients (direction d) from {@code peer}. */
    record RecvBackward(int d, int c, int peer) implements Op {
        public List<Object> toList() {
            return List.of("RB", d, c, peer);
        }
    }

    /** Post a send of chunk c's input gradients (direction d) to {@code peer}. */
    record SendBackward(int d, int c, int peer) implements Op {
        public List<Object> toList() {
            return List.of("SB", d, c, peer);
        }
    }

    /** Start the {@code count} sends/receives posted since the last commit as one batch, then wait for all. */
    record Commit(int count) implements Op {
        public List<Object> toList() {
            return List.of("X", count);
        }
    }

    /** True for the four communication posts (RF, SF, RB, SB). */
    default boolean isComm() {
        return this instanceof RecvForward || this instanceof SendForward || this instanceof RecvBackward
                || this instanceof SendBackward;
    }

    /** Parses the golden format, e.g. {@code ["SB", 1, 0, 2]}. */
    static Op parse(List<?> op) {
        if (op.isEmpty() || !(op.get(0) instanceof String kind)) {
            throw new IllegalArgumentException("an op is [kind, ints...], got " + op);
        }
        int[] a = new int[op.size() - 1];
        for (int i = 0; i < a.length; i++) {
            if (!(op.get(i + 1) instanceof Number n)) {
                throw new IllegalArgumentException("op " + op + ": argument " + (i + 1) + " is not a number");
            }
            a[i] = n.intValue();
        }
        int want = switch (kind) {
            case "F", "W" -> 2;
            case "B", "RF", "SF", "RB", "SB" -> 3;
            case "FB" -> 4;
            case "X" -> 1;
            default -> throw new IllegalArgumentException("unknown op kind '" + kind + "' in " + op);
        };
        if (a.length != want) {
            throw new IllegalArgumentException("op " + op + ": " + kind + " takes " + want + " numbers");
        }
        return switch (kind) {
            case "F" -> new Forward(a[0], a[1]);
            case "W" -> new Weight(a[0], a[1]);
            case "B" -> new Backward(a[0], a[1], a[2] != 0);
            case "RF" -> new RecvForward(a[0], a[1], a[2]);
            case "SF" -> new SendForward(a[0], a[1], a[2]);
            case "RB" -> new RecvBackward(a[0], a[1], a[2]);
            case "SB" -> new SendBackward(a[0], a[1], a[2]);
            case "FB" -> new ForwardBackward(a[0], a[1], a[2], a[3]);
            default -> new Commit(a[0]);
        };
    }
}
