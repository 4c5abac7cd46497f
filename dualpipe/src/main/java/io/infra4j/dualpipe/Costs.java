package io.infra4j.dualpipe;

/**
 * Execution times of one chunk's work, as DualPipe's paper names them: {@code f} a forward,
 * {@code b} a full backward (input and weight gradients), {@code w} the weight-gradient part alone,
 * {@code fb} a forward and a backward overlapped ("F&amp;B"). A zero-bubble backward costs
 * {@code b - w}, and its deferred W costs {@code w}. Any unit; the defaults are relative.
 */
public record Costs(double f, double b, double w, double fb) {
    public Costs {
        if (!(f > 0) || !(b > 0) || !(w >= 0) || !(fb > 0) || !(w < b)) {
            throw new IllegalArgumentException("costs need f > 0, b > 0, 0 <= w < b, fb > 0; got f=" + f + ", b=" + b
                    + ", w=" + w + ", fb=" + fb);
        }
    }

    /** Relative costs of a typical transformer chunk: B = 2F, W = F, and overlap hiding a sixth of F + B. */
    public static Costs typical() {
        return new Costs(1, 2, 1, 2.5);
    }

    /** The cost of one op (0 for communication posts and commits). */
    public double of(Op op) {
        return switch (op) {
            case Op.Forward x -> f;
            case Op.Backward x -> x.zeroBubble() ? b - w : b;
            case Op.ForwardBackward x -> fb;
            case Op.Weight x -> w;
            default -> 0;
        };
    }
}
