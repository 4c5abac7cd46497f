package io.infra4j.smallpond;

import static io.infra4j.bindings.duckdb.DuckDbLib.C_POINTER;

import io.infra4j.bindings.duckdb.DuckDbLib;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Values of DuckDB vectors as Java objects, by each column's logical type (read once a result): flat types by
 * DuckDB's physical layout, nested ones (LIST, ARRAY, STRUCT, MAP) through their child vectors, recursively.
 */
final class DuckValues {
    private DuckValues() {}

    // DuckDB's type ids (duckdb_type) beyond those the bindings name.
    static final int BOOLEAN = 1, TINYINT = 2, SMALLINT = 3, INTEGER = 4, BIGINT = 5, UTINYINT = 6, USMALLINT = 7, UINTEGER = 8,
            UBIGINT = 9, FLOAT = 10, DOUBLE = 11, TIMESTAMP = 12, DATE = 13, TIME = 14, INTERVAL = 15, HUGEINT = 16, VARCHAR = 17,
            BLOB = 18, DECIMAL = 19, TIMESTAMP_S = 20, TIMESTAMP_MS = 21, TIMESTAMP_NS = 22, ENUM = 23, LIST = 24, STRUCT = 25, MAP = 26,
            UUID_T = 27, UNION = 28, BIT = 29, TIME_TZ = 30, TIMESTAMP_TZ = 31, UHUGEINT = 32, ARRAY = 33, SQLNULL = 36, TIME_NS = 39;

    /** What reading a column of one logical type needs: its id, decimal scale and storage, enum values, children. */
    record DuckType(int id, String name, int scale, int internal, String[] dictionary, List<String> childNames, List<DuckType> children,
            long arraySize) {}

    /** The type of a logical type (which stays the caller's to destroy). */
    static DuckType describe(MemorySegment lt) {
        int id = DuckDbLib.duckdb_get_type_id(lt);
        try (Arena a = Arena.ofConfined()) {
            switch (id) {
                case DECIMAL: {
                    int width = DuckDbLib.duckdb_decimal_width(lt) & 0xFF;
                    int scale = DuckDbLib.duckdb_decimal_scale(lt) & 0xFF;
                    return new DuckType(id, "DECIMAL(" + width + "," + scale + ")", scale, DuckDbLib.duckdb_decimal_internal_type(lt), null,
                            List.of(), List.of(), 0);
                }
                case ENUM: {
                    int n = DuckDbLib.duckdb_enum_dictionary_size(lt);
                    String[] dict = new String[n];
                    for (int i = 0; i < n; i++) {
                        MemorySegment s = DuckDbLib.duckdb_enum_dictionary_value(lt, i);
                        dict[i] = s.reinterpret(Long.MAX_VALUE).getString(0);
                        DuckDbLib.duckdb_free(s);
                    }
                    return new DuckType(id, "ENUM", 0, DuckDbLib.duckdb_enum_internal_type(lt), dict, List.of(), List.of(), 0);
                }
                case LIST, MAP, ARRAY: {
                    MemorySegment cell = a.allocate(C_POINTER);
                    cell.set(C_POINTER, 0, id == ARRAY ? DuckDbLib.duckdb_array_type_child_type(lt) : DuckDbLib.duckdb_list_type_child_type(lt));
                    try {
                        DuckType child = describe(cell.get(C_POINTER, 0));
                        long size = id == ARRAY ? DuckDbLib.duckdb_array_type_array_size(lt) : 0;
                        String name = switch (id) {
                            case LIST -> child.name() + "[]";
                            case ARRAY -> child.name() + "[" + size + "]";
                            default -> "MAP(" + child.children().get(0).name() + ", " + child.children().get(1).name() + ")";
                        };
                        return new DuckType(id, name, 0, 0, null, List.of(), List.of(child), size);
                    } finally {
                        DuckDbLib.duckdb_destroy_logical_type(cell);
                    }
                }
                case STRUCT: {
                    int n = (int) DuckDbLib.duckdb_struct_type_child_count(lt);
                    List<String> names = new ArrayList<>();
                    List<DuckType> children = new ArrayList<>();
                    MemorySegment cell = a.allocate(C_POINTER);
                    for (int i = 0; i < n; i++) {
                        MemorySegment s = DuckDbLib.duckdb_struct_type_child_name(lt, i);
                        names.add(s.reinterpret(Long.MAX_VALUE).getString(0));
                        DuckDbLib.duckdb_free(s);
                        cell.set(C_POINTER, 0, DuckDbLib.duckdb_struct_type_child_type(lt, i));
                        try {
                            children.add(describe(cell.get(C_POINTER, 0)));
                        } finally {
                            DuckDbLib.duckdb_destroy_logical_type(cell);
                        }
                    }
                    StringBuilder name = new StringBuilder("STRUCT(");
                    for (int i = 0; i < n; i++) {
                        name.append(i == 0 ? "" : ", ").append(names.get(i)).append(' ').append(children.get(i).name());
                    }
                    return new DuckType(id, name.append(')').toString(), 0, 0, null, List.copyOf(names), List.copyOf(children), 0);
                }
                default:
                    return new DuckType(id, typeName(id), 0, 0, null, List.of(), List.of(), 0);
            }
        }
    }

    /** A vector of {@code rows} values of one type, with its child vectors: values read by row. */
    static final class VectorView {
        private final DuckType t;
        private final MemorySegment data;
        private final MemorySegment bits; // null: every value valid
        private final VectorView[] children;

        VectorView(DuckType t, MemorySegment vec, long rows) {
            this.t = t;
            MemorySegment d = DuckDbLib.duckdb_vector_get_data(vec);
            this.data = d.equals(MemorySegment.NULL) ? d : d.reinterpret(rows * 16); // no flat type takes more than 16 bytes
            MemorySegment validity = DuckDbLib.duckdb_vector_get_validity(vec);
            this.bits = validity.equals(MemorySegment.NULL) ? null : validity.reinterpret(((rows + 63) / 64) * 8L);
            switch (t.id()) {
                case LIST, MAP -> children = new VectorView[] {
                        new VectorView(t.children().get(0), DuckDbLib.duckdb_list_vector_get_child(vec), DuckDbLib.duckdb_list_vector_get_size(vec))};
                case ARRAY -> children = new VectorView[] {
                        new VectorView(t.children().get(0), DuckDbLib.duckdb_array_vector_get_child(vec), rows * t.arraySize())};
                case STRUCT -> {
                    children = new VectorView[t.children().size()];
                    for (int i = 0; i < children.length; i++) {
                        children[i] = new VectorView(t.children().get(i), DuckDbLib.duckdb_struct_vector_get_child(vec, i), rows);
                    }
                }
                default -> children = null;
            }
        }

        Object get(long r) {
            if (bits != null && ((bits.getAtIndex(ValueLayout.JAVA_LONG, r / 64) >>> (r % 64)) & 1) == 0) {
                return null;
            }
            return switch (t.id()) {
                case LIST, MAP -> {
                    long offset = data.getAtIndex(ValueLayout.JAVA_LONG, 2 * r);
                    long length = data.getAtIndex(ValueLayout.JAVA_LONG, 2 * r + 1);
                    yield t.id() == LIST ? list(children[0], offset, length) : map(children[0], offset, length);
                }
                case ARRAY -> list(children[0], r * t.arraySize(), t.arraySize());
                case STRUCT -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    for (int i = 0; i < children.length; i++) {
                        m.put(t.childNames().get(i), children[i].get(r));
                    }
                    yield m;
                }
                default -> flat(t, data, r);
            };
        }

        private static List<Object> list(VectorView child, long offset, long length) {
            Object[] out = new Object[(int) length];
            for (int i = 0; i < out.length; i++) {
                out[i] = child.get(offset + i);
            }
            return java.util.Collections.unmodifiableList(Arrays.asList(out)); // List.of refuses null elements
        }

        // A MAP is a list of STRUCT(key, value).
        private static Map<Object, Object> map(VectorView entries, long offset, long length) {
            Map<Object, Object> m = new LinkedHashMap<>();
            for (long i = offset; i < offset + length; i++) {
                m.put(entries.children[0].get(i), entries.children[1].get(i));
            }
            return m;
        }
    }

    // One value of a vector's data, by DuckDB's physical layout of the type.
    private static Object flat(DuckType t, MemorySegment data, long r) {
        int type = t.id();
        switch (type) {
            case BOOLEAN: return data.get(ValueLayout.JAVA_BYTE, r) != 0;
            case TINYINT: return data.get(ValueLayout.JAVA_BYTE, r);
            case UTINYINT: return (short) (data.get(ValueLayout.JAVA_BYTE, r) & 0xFF);
            case SMALLINT: return data.getAtIndex(ValueLayout.JAVA_SHORT, r);
            case USMALLINT: return data.getAtIndex(ValueLayout.JAVA_SHORT, r) & 0xFFFF;
            case INTEGER: return data.getAtIndex(ValueLayout.JAVA_INT, r);
            case UINTEGER: return Integer.toUnsignedLong(data.getAtIndex(ValueLayout.JAVA_INT, r));
            case BIGINT: return data.getAtIndex(ValueLayout.JAVA_LONG, r);
            case UBIGINT: return unsigned(data.getAtIndex(ValueLayout.JAVA_LONG, r));
            case FLOAT: return data.getAtIndex(ValueLayout.JAVA_FLOAT, r);
            case DOUBLE: return data.getAtIndex(ValueLayout.JAVA_DOUBLE, r);
            case DATE: return LocalDate.ofEpochDay(data.getAtIndex(ValueLayout.JAVA_INT, r));
            case TIMESTAMP, TIMESTAMP_S, TIMESTAMP_MS, TIMESTAMP_NS: {
                long per = switch (type) {
                    case TIMESTAMP_S -> 1L;
                    case TIMESTAMP_MS -> 1_000L;
                    case TIMESTAMP_NS -> 1_000_000_000L;
                    default -> 1_000_000L;
                };
                long v = data.getAtIndex(ValueLayout.JAVA_LONG, r);
                return LocalDateTime.ofEpochSecond(Math.floorDiv(v, per), (int) (Math.floorMod(v, per) * (1_000_000_000L / per)), ZoneOffset.UTC);
            }
            case TIMESTAMP_TZ: {
                long micros = data.getAtIndex(ValueLayout.JAVA_LONG, r);
                return OffsetDateTime.ofInstant(java.time.Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000),
                        Math.floorMod(micros, 1_000_000) * 1000L), ZoneOffset.UTC);
            }
            case TIME: return LocalTime.ofNanoOfDay(data.getAtIndex(ValueLayout.JAVA_LONG, r) * 1000);
            case TIME_NS: return LocalTime.ofNanoOfDay(data.getAtIndex(ValueLayout.JAVA_LONG, r));
            case TIME_TZ: {
                // 40 bits of microseconds, then 24 bits of offset stored as (16 h - 1 s) - seconds east of UTC
                long bits = data.getAtIndex(ValueLayout.JAVA_LONG, r);
                int offsetSeconds = 16 * 3600 - 1 - (int) (bits & 0xFFFFFF);
                return OffsetTime.of(LocalTime.ofNanoOfDay((bits >>> 24) * 1000), ZoneOffset.ofTotalSeconds(offsetSeconds));
            }
            case INTERVAL: return new DuckInterval(data.get(ValueLayout.JAVA_INT, 16 * r), data.get(ValueLayout.JAVA_INT, 16 * r + 4),
                    data.get(ValueLayout.JAVA_LONG, 16 * r + 8));
            case HUGEINT, UHUGEINT: return hugeint(data, r, type == HUGEINT);
            case UUID_T: {
                // a HUGEINT whose top bit is flipped, so that UUIDs sort as their strings
                long lo = data.getAtIndex(ValueLayout.JAVA_LONG, 2 * r);
                long hi = data.getAtIndex(ValueLayout.JAVA_LONG, 2 * r + 1);
                return new UUID(hi ^ Long.MIN_VALUE, lo);
            }
            case DECIMAL: {
                BigInteger unscaled = switch (t.internal()) {
                    case SMALLINT -> BigInteger.valueOf(data.getAtIndex(ValueLayout.JAVA_SHORT, r));
                    case INTEGER -> BigInteger.valueOf(data.getAtIndex(ValueLayout.JAVA_INT, r));
                    case BIGINT -> BigInteger.valueOf(data.getAtIndex(ValueLayout.JAVA_LONG, r));
                    case HUGEINT -> hugeint(data, r, true);
                    default -> throw new DuckDbException("a DECIMAL stored as DuckDB type " + typeName(t.internal()) + " cannot be read");
                };
                return new BigDecimal(unscaled, t.scale());
            }
            case ENUM: {
                int idx = switch (t.internal()) {
                    case UTINYINT -> data.get(ValueLayout.JAVA_BYTE, r) & 0xFF;
                    case USMALLINT -> data.getAtIndex(ValueLayout.JAVA_SHORT, r) & 0xFFFF;
                    default -> data.getAtIndex(ValueLayout.JAVA_INT, r);
                };
                return t.dictionary()[idx];
            }
            case VARCHAR, BLOB: {
                byte[] b = stringBytes(data.asSlice(16L * r, 16));
                return type == VARCHAR ? new String(b, StandardCharsets.UTF_8) : b;
            }
            default:
                throw new DuckDbException("a column of DuckDB type " + t.name() + " cannot be read yet: cast it in the query (CAST(x AS VARCHAR))");
        }
    }

    // 128 bits: the low 64 (unsigned), then the high 64 (signed for HUGEINT)
    private static BigInteger hugeint(MemorySegment data, long r, boolean signed) {
        long lo = data.getAtIndex(ValueLayout.JAVA_LONG, 2 * r);
        long hi = data.getAtIndex(ValueLayout.JAVA_LONG, 2 * r + 1);
        BigInteger high = signed ? BigInteger.valueOf(hi) : unsigned(hi);
        return high.shiftLeft(64).add(unsigned(lo));
    }

    private static BigInteger unsigned(long v) {
        return v >= 0 ? BigInteger.valueOf(v) : BigInteger.valueOf(v).add(BigInteger.ONE.shiftLeft(64));
    }

    // duckdb_string_t: 4-byte length, then up to 12 bytes inline, or a 4-byte prefix and a pointer.
    private static byte[] stringBytes(MemorySegment s) {
        int len = s.get(ValueLayout.JAVA_INT, 0);
        if (len <= 12) {
            return s.asSlice(4, len).toArray(ValueLayout.JAVA_BYTE);
        }
        MemorySegment ptr = s.get(ValueLayout.ADDRESS_UNALIGNED, 8).reinterpret(len);
        return ptr.toArray(ValueLayout.JAVA_BYTE);
    }

    static String typeName(int t) {
        return switch (t) {
            case BOOLEAN -> "BOOLEAN";
            case TINYINT -> "TINYINT";
            case SMALLINT -> "SMALLINT";
            case INTEGER -> "INTEGER";
            case BIGINT -> "BIGINT";
            case UTINYINT -> "UTINYINT";
            case USMALLINT -> "USMALLINT";
            case UINTEGER -> "UINTEGER";
            case UBIGINT -> "UBIGINT";
            case FLOAT -> "FLOAT";
            case DOUBLE -> "DOUBLE";
            case TIMESTAMP -> "TIMESTAMP";
            case DATE -> "DATE";
            case TIME -> "TIME";
            case INTERVAL -> "INTERVAL";
            case HUGEINT -> "HUGEINT";
            case VARCHAR -> "VARCHAR";
            case BLOB -> "BLOB";
            case DECIMAL -> "DECIMAL";
            case TIMESTAMP_S -> "TIMESTAMP_S";
            case TIMESTAMP_MS -> "TIMESTAMP_MS";
            case TIMESTAMP_NS -> "TIMESTAMP_NS";
            case ENUM -> "ENUM";
            case LIST -> "LIST";
            case STRUCT -> "STRUCT";
            case MAP -> "MAP";
            case UUID_T -> "UUID";
            case UNION -> "UNION";
            case BIT -> "BIT";
            case TIME_TZ -> "TIME WITH TIME ZONE";
            case TIMESTAMP_TZ -> "TIMESTAMP WITH TIME ZONE";
            case UHUGEINT -> "UHUGEINT";
            case ARRAY -> "ARRAY";
            case SQLNULL -> "NULL";
            case TIME_NS -> "TIME_NS";
            default -> "TYPE#" + t;
        };
    }
}
