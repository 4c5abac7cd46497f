package io.infra4j.smallpond;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Finds and loads DuckDB's native library once: {@code INFRA4J_DUCKDB_PATH} (a system {@code libduckdb.so}),
 * else the library the {@code org.duckdb:duckdb_jdbc} jar carries ({@code libduckdb_java.so}, which exports
 * the whole C API), extracted once to infra4j's cache. The generated bindings then find its symbols through
 * the class loader's lookup.
 */
final class DuckDbLibrary {
    static final String ENV = "INFRA4J_DUCKDB_PATH";
    private static final String RESOURCE = "libduckdb_java.so_linux_amd64";
    private static volatile String loaded;

    private DuckDbLibrary() {}

    /** Where the loaded library came from; loads it on the first call. */
    static synchronized String load() {
        if (loaded != null) {
            return loaded;
        }
        String env = System.getenv(ENV);
        Path path;
        if (env != null && !env.isBlank()) {
            path = Paths.get(env);
            if (!Files.isRegularFile(path)) {
                throw new DuckDbException(ENV + "=" + env + " is not a file");
            }
        } else {
            path = extract();
        }
        try {
            System.load(path.toAbsolutePath().toString());
        } catch (UnsatisfiedLinkError e) {
            throw new DuckDbException("DuckDB's library at " + path + " could not be loaded: " + e.getMessage());
        }
        loaded = path.toString();
        return loaded;
    }

    private static Path extract() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new DuckDbException("the bundled DuckDB library is for linux/x86-64, this is " + os + "/" + arch + "; set " + ENV);
        }
        ClassLoader cl = DuckDbLibrary.class.getClassLoader();
        java.net.URL url = cl.getResource(RESOURCE);
        if (url == null) {
            throw new DuckDbException("no " + RESOURCE + " on the class or module path: the org.duckdb:duckdb_jdbc jar is missing; "
                    + "add it, or set " + ENV + " to a libduckdb.so");
        }
        try {
            long size = url.openConnection().getContentLengthLong();
            Path dir = io.infra4j.ffm.NativeCache.root().resolve("duckdb").resolve(Long.toHexString(size) + "-" + Integer.toHexString(url.toString().hashCode()));
            Path target = dir.resolve("libduckdb_java.so");
            if (Files.isRegularFile(target) && Files.size(target) == size) {
                return target;
            }
            try (InputStream in = url.openStream()) {
                return io.infra4j.ffm.NativeCache.install(in, target, written -> {
                    if (Files.size(written) != size) {
                        throw new IOException("extracted " + Files.size(written) + " bytes of DuckDB's library, expected " + size);
                    }
                });
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract DuckDB's library to " + io.infra4j.ffm.NativeCache.root(), e);
        }
    }
}
