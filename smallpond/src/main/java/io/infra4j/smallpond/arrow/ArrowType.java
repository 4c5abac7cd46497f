package io.infra4j.smallpond.arrow;

import java.util.Locale;

/**
 * The Arrow types smallpond reads and writes, with their format strings of the Arrow C Data Interface
 * ({@code "l"} for int64, {@code "w:10"} for 10-byte fixed-size binary, {@code "tsu:UTC"} for microsecond
 * timestamps in UTC, {@code "d:18,3"} for decimal128). Nested types (lists, structs, maps), dictionaries,
 * intervals and the rest are not supported: {@link #parse} refuses them, naming the format and the column.
 */
public sealed interface ArrowType permits ArrowType.Primitive, ArrowType.FixedSizeBinary, ArrowType.Timestamp, ArrowType.Time,
        ArrowType.Decimal128 {
    /** The types without parameters. */
    enum Primitive implements ArrowType {
        BOOL("b", 0), INT8("c", 1), INT16("s", 2), INT32("i", 4), INT64("l", 8), UINT8("C", 1), UINT16("S", 2), UINT32("I", 4),
        UINT64("L", 8), FLOAT32("f", 4), FLOAT64("g", 8), UTF8("u", 0), LARGE_UTF8("U", 0), BINARY("z", 0), LARGE_BINARY("Z", 0),
        DATE32("tdD", 4);

        private final String format;
        private final int byteWidth;

        Primitive(String format, int byteWidth) {
            this.format = format;
            this.byteWidth = byteWidth;
        }

        @Override
        public String format() {
            return format;
        }

        @Override
        public int byteWidth() {
            return byteWidth;
        }
    }

    /** Units of timestamps and times: the letter the format strings use for each. */
    enum TimeUnit {
        SECOND('s'), MILLI('m'), MICRO('u'), NANO('n');

        final char letter;

        TimeUnit(char letter) {
            this.letter = letter;
        }

        /** How many of this unit make a second. */
        public long perSecond() {
            return switch (this) {
                case SECOND -> 1;
                case MILLI -> 1_000;
                case MICRO -> 1_000_000;
                case NANO -> 1_000_000_000;
            };
        }
    }

    /** Fixed-size binary: {@code width} bytes a value ({@code "w:width"}). */
    record FixedSizeBinary(int width) implements ArrowType {
        public FixedSizeBinary {
            if (width < 1) {
                throw new IllegalArgumentException("fixed-size binary: expected a width of at least 1 byte, got " + width);
            }
        }

        @Override
        public String format() {
            return "w:" + width;
        }

        @Override
        public int byteWidth() {
            return width;
        }
    }

    /** 64-bit timestamps since the epoch in {@code unit}; {@code timezone} null for none (a local date-time). */
    record Timestamp(TimeUnit unit, String timezone) implements ArrowType {
        public Timestamp {
            if (unit == null) {
                throw new IllegalArgumentException("timestamp: expected a unit, got null");
            }
            if (timezone != null && timezone.isEmpty()) {
                timezone = null;
            }
        }

        @Override
        public String format() {
            return "ts" + unit.letter + ":" + (timezone == null ? "" : timezone);
        }

        @Override
        public int byteWidth() {
            return 8;
        }
    }

    /** The time of day in {@code unit}: 32 bits for seconds and milliseconds, 64 for micro- and nanoseconds. */
    record Time(TimeUnit unit) implements ArrowType {
        public Time {
            if (unit == null) {
                throw new IllegalArgumentException("time: expected a unit, got null");
            }
        }

        @Override
        public String format() {
            return "tt" + unit.letter;
        }

        @Override
        public int byteWidth() {
            return unit == TimeUnit.SECOND || unit == TimeUnit.MILLI ? 4 : 8;
        }
    }

    /** 128-bit decimals: {@code precision} digits (1 to 38), {@code scale} of them after the point. */
    record Decimal128(int precision, int scale) implements ArrowType {
        public Decimal128 {
            if (precision < 1 || precision > 38 || scale < 0 || scale > precision) {
                throw new IllegalArgumentException("decimal128: expected 1 <= precision <= 38 and 0 <= scale <= precision, got ("
                        + precision + ", " + scale + ")");
            }
        }

        @Override
        public String format() {
            return "d:" + precision + "," + scale;
        }

        @Override
        public int byteWidth() {
            return 16;
        }
    }

    ArrowType BOOL = Primitive.BOOL;
    ArrowType INT8 = Primitive.INT8;
    ArrowType INT16 = Primitive.INT16;
    ArrowType INT32 = Primitive.INT32;
    ArrowType INT64 = Primitive.INT64;
    ArrowType UINT8 = Primitive.UINT8;
    ArrowType UINT16 = Primitive.UINT16;
    ArrowType UINT32 = Primitive.UINT32;
    ArrowType UINT64 = Primitive.UINT64;
    ArrowType FLOAT32 = Primitive.FLOAT32;
    ArrowType FLOAT64 = Primitive.FLOAT64;
    ArrowType UTF8 = Primitive.UTF8;
    ArrowType LARGE_UTF8 = Primitive.LARGE_UTF8;
    ArrowType BINARY = Primitive.BINARY;
    ArrowType LARGE_BINARY = Primitive.LARGE_BINARY;
    ArrowType DATE32 = Primitive.DATE32;

    static ArrowType fixedSizeBinary(int width) {
        return new FixedSizeBinary(width);
    }

    static ArrowType timestamp(TimeUnit unit, String timezone) {
        return new Timestamp(unit, timezone);
    }

    static ArrowType time(TimeUnit unit) {
        return new Time(unit);
    }

    static ArrowType decimal128(int precision, int scale) {
        return new Decimal128(precision, scale);
    }

    /** The format string of the Arrow C Data Interface. */
    String format();

    /** Bytes a value takes in the values buffer; 0 for booleans (bits) and variable-size types. */
    int byteWidth();

    // No default methods here: an interface with default methods is initialised with the first class that
    // implements it, so initialising Primitive first would read Primitive's constants into the aliases above
    // while they are still null (ArrowType.INT64 == null for the rest of the run).

    /** Strings and binaries whose values live in a data buffer, addressed through an offsets buffer. */
    static boolean isVariableSize(ArrowType t) {
        return t == Primitive.UTF8 || t == Primitive.LARGE_UTF8 || t == Primitive.BINARY || t == Primitive.LARGE_BINARY;
    }

    /** Variable-size types with 64-bit offsets. */
    static boolean isLarge(ArrowType t) {
        return t == Primitive.LARGE_UTF8 || t == Primitive.LARGE_BINARY;
    }

    /** The type a format string names; {@code column} only names the column in the exception for an unsupported one. */
    static ArrowType parse(String format, String column) {
        if (format == null) {
            throw new IllegalArgumentException("column '" + column + "': no Arrow format string (null)");
        }
        for (Primitive p : Primitive.values()) {
            if (p.format.equals(format)) {
                return p;
            }
        }
        try {
            if (format.startsWith("w:")) {
                return new FixedSizeBinary(Integer.parseInt(format.substring(2)));
            }
            if (format.startsWith("d:")) {
                String[] parts = format.substring(2).split(",");
                if ((parts.length == 2 || parts.length == 3 && parts[2].equals("128"))) {
                    return new Decimal128(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
                }
            }
            if (format.length() >= 4 && format.startsWith("ts") && format.charAt(3) == ':') {
                return new Timestamp(unit(format.charAt(2), format, column), format.substring(4));
            }
            if (format.length() == 3 && format.startsWith("tt")) {
                return new Time(unit(format.charAt(2), format, column));
            }
        } catch (IllegalArgumentException e) {
            throw new UnsupportedArrowTypeException("column '" + column + "': Arrow format '" + format + "' is malformed or not supported: "
                    + e.getMessage());
        }
        throw new UnsupportedArrowTypeException("column '" + column + "': Arrow format '" + format + "' (" + describe(format)
                + ") is not supported; supported: b c s i l C S I L f g u U z Z w:N tdD ts?:TZ tt? d:P,S");
    }

    private static TimeUnit unit(char c, String format, String column) {
        for (TimeUnit u : TimeUnit.values()) {
            if (u.letter == c) {
                return u;
            }
        }
        throw new IllegalArgumentException("unknown time unit '" + c + "'");
    }

    private static String describe(String format) {
        String f = format.toLowerCase(Locale.ROOT);
        if (f.startsWith("+")) {
            return "a nested type";
        } else if (f.startsWith("ti")) {
            return "an interval";
        } else if (f.equals("n")) {
            return "the null type";
        } else if (f.startsWith("v")) {
            return "a view type";
        } else if (f.equals("e")) {
            return "float16";
        } else if (f.equals("tdm")) {
            return "date64";
        }
        return "unknown";
    }
}
