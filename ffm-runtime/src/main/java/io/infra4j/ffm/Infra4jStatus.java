package io.infra4j.ffm;

/** Names and meanings of infra4j's own negative status codes ({@code INFRA4J_ERROR_*} in types.h). */
final class Infra4jStatus {
    private Infra4jStatus() {}

    static String name(int status) {
        return switch (status) {
            case -1 -> "INFRA4J_ERROR_INVALID_ARGUMENT";
            case -2 -> "INFRA4J_ERROR_UNSUPPORTED_DTYPE";
            case -3 -> "INFRA4J_ERROR_SHAPE_MISMATCH";
            default -> "INFRA4J_ERROR_" + (-(long) status); // long: -Integer.MIN_VALUE overflows an int
        };
    }

    static String message(int status) {
        return switch (status) {
            case -1 -> "the native side refused an argument (a null pointer, a bad layout or element size)";
            case -2 -> "the native side does not handle this dtype";
            case -3 -> "the two layouts have different shapes";
            default -> "unknown infra4j status";
        };
    }
}
