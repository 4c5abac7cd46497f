package io.infra4j.deepep.launch;

import java.util.Map;

/**
 * Where this process stands in a multi-process job, from the variables torchrun (and most launchers)
 * set: {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR}, {@code MASTER_PORT}.
 *
 * @param rank       this process's rank in {@code [0, worldSize)}
 * @param worldSize  the number of processes, at least 1
 * @param localRank  this process's rank on its node (its GPU), at least 0
 * @param masterAddr where rank 0 listens for the {@link Rendezvous}
 * @param masterPort its TCP port, in {@code [1, 65535]}
 */
public record RankEnvironment(int rank, int worldSize, int localRank, String masterAddr, int masterPort) {

    /** The port torchrun uses when none is given. */
    public static final int DEFAULT_PORT = 29500;

    public RankEnvironment {
        if (worldSize < 1) {
            throw new IllegalArgumentException("WORLD_SIZE: expected at least 1, got " + worldSize);
        }
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("RANK: expected a rank in [0, " + worldSize + "), got " + rank);
        }
        if (localRank < 0) {
            throw new IllegalArgumentException("LOCAL_RANK: expected at least 0, got " + localRank);
        }
        if (masterAddr == null || masterAddr.isBlank()) {
            throw new IllegalArgumentException("MASTER_ADDR: expected a host name or address, got none");
        }
        if (masterPort < 1 || masterPort > 65535) {
            throw new IllegalArgumentException("MASTER_PORT: expected a port in [1, 65535], got " + masterPort);
        }
    }

    /** A world of one (no launcher): rank 0 of 1 on this host. */
    public static RankEnvironment single() {
        return new RankEnvironment(0, 1, 0, "127.0.0.1", DEFAULT_PORT);
    }

    /** This process's environment ({@link #from(Map)} of {@link System#getenv()}). */
    public static RankEnvironment fromEnvironment() {
        return from(System.getenv());
    }

    /**
     * The environment these variables describe. Without {@code RANK} and {@code WORLD_SIZE} it is a
     * world of one; with one of them but not the other, or a value that is not a number, it is an
     * IllegalArgumentException naming the variable. {@code LOCAL_RANK} defaults to {@code RANK},
     * {@code MASTER_ADDR} to 127.0.0.1 and {@code MASTER_PORT} to 29500.
     */
    public static RankEnvironment from(Map<String, String> env) {
        String rank = env.get("RANK");
        String world = env.get("WORLD_SIZE");
        if (rank == null && world == null) {
            return single();
        }
        if (rank == null || world == null) {
            throw new IllegalArgumentException((rank == null ? "RANK" : "WORLD_SIZE") + " is not set but "
                    + (rank == null ? "WORLD_SIZE" : "RANK") + " is: a launcher sets both");
        }
        int r = integer(env, "RANK", null);
        return new RankEnvironment(r, integer(env, "WORLD_SIZE", null), integer(env, "LOCAL_RANK", r),
                env.getOrDefault("MASTER_ADDR", "127.0.0.1"), integer(env, "MASTER_PORT", DEFAULT_PORT));
    }

    private static int integer(Map<String, String> env, String name, Integer fallback) {
        String v = env.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": expected an integer, got '" + v + "'");
        }
    }
}
