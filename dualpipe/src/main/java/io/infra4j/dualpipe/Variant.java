package io.infra4j.dualpipe;


/** The two schedules of deepseek-ai/DualPipe. */
public enum Variant {
    /** Bidirectional: micro-batches enter at both ends; an even number of ranks, each holding two stages. */
    DUALPIPE("DualPipe"),
    /** The V shape: DualPipe folded in half, so N ranks run 2N stages and micro-batches enter at rank 0 only. */
    DUALPIPE_V("DualPipeV");

    private final String upstreamName;

    Variant(String upstreamName) {
        this.upstreamName = upstreamName;
    }

    /** The name upstream and the golden traces use ("DualPipe", "DualPipeV"). */
    public String upstreamName() {
        return upstreamName;
    }

    /** Parses upstream's name, case-insensitively. */
    public static Variant parse(String name) {
        for (Variant v : values()) {
            if (v.upstreamName.equalsIgnoreCase(name) || v.name().equalsIgnoreCase(name)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown variant '" + name + "': DualPipe or DualPipeV");
    }

    @Override
    public String toString() {
        return upstreamName;
    }

}
