package io.infra4j.deepep;

/**
 * How E experts are spread over W ranks: evenly and in order, rank r holding experts
 * {@code [r * E/W, (r + 1) * E/W)}, as DeepEP places them.
 *
 * @param numExperts E, at least 1
 * @param worldSize  W, at least 1, dividing E
 */
public record ExpertPlacement(int numExperts, int worldSize) {

    public ExpertPlacement {
        if (numExperts < 1) {
            throw new IllegalArgumentException("numExperts: expected at least 1, got " + numExperts);
        }
        if (worldSize < 1) {
            throw new IllegalArgumentException("worldSize: expected at least 1, got " + worldSize);
        }
        if (numExperts % worldSize != 0) {
            throw new IllegalArgumentException("worldSize " + worldSize + " does not divide numExperts " + numExperts
                    + ": every rank must hold the same number of experts");
        }
    }

    /** E / W. */
    public int expertsPerRank() {
        return numExperts / worldSize;
    }

    /** The rank holding {@code expert}. */
    public int rankOf(long expert) {
        checkExpert(expert);
        return (int) (expert / expertsPerRank());
    }

    /** {@code expert}'s index among its rank's experts. */
    public int localIndex(long expert) {
        checkExpert(expert);
        return (int) (expert % expertsPerRank());
    }

    /** The global id of local expert {@code local} of {@code rank}. */
    public int globalId(int rank, int local) {
        if (rank < 0 || rank >= worldSize || local < 0 || local >= expertsPerRank()) {
            throw new IllegalArgumentException("no local expert " + local + " on rank " + rank + " of " + this);
        }
        return rank * expertsPerRank() + local;
    }

    private void checkExpert(long expert) {
        if (expert < 0 || expert >= numExperts) {
            throw new IllegalArgumentException("expert id " + expert + " outside [0, " + numExperts + ")");
        }
    }
}
