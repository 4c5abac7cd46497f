package io.infra4j.deepep;

import java.util.Objects;

/**
 * One rank's input to dispatch: T rows of {@code width} values (a token's hidden vector, or for FP8
 * its e4m3 values and scales side by side) and the routing of those T tokens.
 */
public record RankTokens(float[] rows, int width, Routing routing) {

    public RankTokens {
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(routing, "routing");
        if (width < 1) {
            throw new IllegalArgumentException("width: expected at least 1, got " + width);
        }
        if (rows.length != (long) routing.numTokens() * width) {
            throw new IllegalArgumentException("rows: expected " + (long) routing.numTokens() * width + " values ([" + routing.numTokens()
                    + ", " + width + "]), got " + rows.length);
        }
    }

    public int numTokens() {
        return routing.numTokens();
    }
}
