package io.infra4j.smallpond;

import static io.infra4j.bindings.duckdb.DuckDbLib.C_POINTER;

import io.infra4j.bindings.duckdb.DuckDbLib;
import io.infra4j.ffm.ResourceTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A DuckDB database through DuckDB's C API ({@code duckdb_open_ext}), in memory or in a file, with its
 * configuration (threads, memory limit, temporary directory, any other DuckDB setting). Connections come
 * from {@link #connect()}; closing the database closes its native handle (connections first).
 */
public final class DuckDb implements AutoCloseable {
    public static final String RESOURCE_KIND = "duckdb-database";

    /** DuckDB settings by name ({@code threads}, {@code memory_limit}, {@code temp_directory}, ...). */
    public record Config(Map<String, String> settings) {
        public Config {
            settings = Map.copyOf(settings);
        }

        public static Config defaults() {
            return new Config(Map.of());
        }

        public Config with(String name, String value) {
            if (name == null || name.isBlank() || value == null) {
                throw new IllegalArgumentException("setting: expected a name and a value, got " + name + " = " + value);
            }
            Map<String, String> m = new LinkedHashMap<>(settings);
            m.put(name, value);
            return new Config(m);
        }

        public Config threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads: expected at least 1, got " + threads);
            }
            return with("threads", Integer.toString(threads));
        }

        /** As DuckDB reads it: {@code 4GB}, {@code 512MB}. */
        public Config memoryLimit(String limit) {
            return with("memory_limit", limit);
        }

        public Config tempDirectory(Path dir) {
            return with("temp_directory", dir.toAbsolutePath().toString());
        }
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment handle; // duckdb_database*
    private final String where;
    private final long trackerId;
    private volatile boolean closed;

    private DuckDb(MemorySegment handle, String where) {
        this.handle = handle;
        this.where = where;
        this.trackerId = ResourceTracker.register(RESOURCE_KIND, "DuckDB " + where, 0);
    }

    /** DuckDB's version, as its library reports it ({@code v2.0.0}). */
    public static String version() {
        DuckDbLibrary.load();
        return DuckDbLib.duckdb_library_version().reinterpret(64).getString(0);
    }

    /** A database in memory. */
    public static DuckDb inMemory(Config config) {
        return open(null, config);
    }

    /** The database in {@code file} (created when absent), or in memory for null. */
    public static DuckDb open(Path file, Config config) {
        if (config == null) {
            throw new IllegalArgumentException("config: expected a Config (Config.defaults()), got null");
        }
        DuckDbLibrary.load();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cfg = a.allocate(C_POINTER);
            if (DuckDbLib.duckdb_create_config(cfg) != DuckDbLib.DuckDBSuccess()) {
                throw new DuckDbException("duckdb_create_config failed");
            }
            MemorySegment config0 = cfg.get(C_POINTER, 0);
            try {
                for (Map.Entry<String, String> e : config.settings().entrySet()) {
                    if (DuckDbLib.duckdb_set_config(config0, a.allocateFrom(e.getKey()), a.allocateFrom(e.getValue())) != DuckDbLib.DuckDBSuccess()) {
                        throw new DuckDbException("DuckDB setting " + e.getKey() + " = '" + e.getValue() + "' was refused (unknown name or bad value)");
                    }
                }
                MemorySegment db = Arena.ofAuto().allocate(C_POINTER);
                MemorySegment error = a.allocate(C_POINTER);
                String path = file == null ? ":memory:" : file.toAbsolutePath().toString();
                int state = DuckDbLib.duckdb_open_ext(a.allocateFrom(path), db, config0, error);
                if (state != DuckDbLib.DuckDBSuccess()) {
                    MemorySegment msg = error.get(C_POINTER, 0);
                    String text = msg.equals(MemorySegment.NULL) ? "unknown error" : msg.reinterpret(Long.MAX_VALUE).getString(0);
                    if (!msg.equals(MemorySegment.NULL)) {
                        DuckDbLib.duckdb_free(msg);
                    }
                    throw new DuckDbException("DuckDB could not open " + path + ": " + text);
                }
                DuckDb d = new DuckDb(db, path);
                return d;
            } finally {
                DuckDbLib.duckdb_destroy_config(cfg);
            }
        }
    }

    /** A new connection: each runs its queries one after another; use one per thread. */
    public DuckConnection connect() {
        checkOpen();
        MemorySegment conn = arena.allocate(C_POINTER);
        if (DuckDbLib.duckdb_connect(handle.get(C_POINTER, 0), conn) != DuckDbLib.DuckDBSuccess()) {
            throw new DuckDbException("DuckDB could not connect to " + where);
        }
        return new DuckConnection(this, conn);
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this DuckDB database (" + where + ") is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        DuckDbLib.duckdb_close(handle);
        ResourceTracker.release(trackerId);
        arena.close();
    }

    @Override
    public String toString() {
        return "DuckDb(" + where + (closed ? ", closed" : "") + ")";
    }
}
