package io.infra4j.smallpond.arrow;

/** One column of a batch: its name, Arrow type, and whether it may hold nulls. */
public record ArrowField(String name, ArrowType type, boolean nullable) {
    public ArrowField {
        if (name == null) {
            throw new IllegalArgumentException("field: expected a name, got null");
        }
        if (type == null) {
            throw new IllegalArgumentException("field '" + name + "': expected a type, got null");
        }
    }

    /** A nullable field. */
    public static ArrowField of(String name, ArrowType type) {
        return new ArrowField(name, type, true);
    }
}
