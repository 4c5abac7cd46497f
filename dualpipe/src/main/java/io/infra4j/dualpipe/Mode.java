package io.infra4j.dualpipe;

import java.util.Locale;

/** What a step does. The two training modes have the same op lists; they differ in whether F and B overlap. */
public enum Mode {
    /** Training, with an overlapped forward-and-backward hook for FB pairs. */
    TRAIN_OVERLAPPED,
    /** Training; an FB pair runs its forward, then its backward. */
    TRAIN_PLAIN,
    /** Forward only: no B, W, RB, SB; an FB pair is just its forward. */
    INFER;

    public boolean training() {
        return this != INFER;
    }

    /** The golden traces' spelling: train_overlapped, train_plain, infer. */
    public String upstreamName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Mode parse(String name) {
        for (Mode m : values()) {
            if (m.upstreamName().equalsIgnoreCase(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + name + "': train_overlapped, train_plain or infer");
    }
}
