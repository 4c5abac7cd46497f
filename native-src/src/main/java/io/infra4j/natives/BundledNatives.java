package io.infra4j.natives;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.Properties;

/**
 * Where the libraries that this jar carries are, and what they are. The build packs each library
 * under {@code native/<platform>/} with {@code infra4j-native.properties} (name, SHA-256, compiler)
 * beside it; a jar built without nvcc carries none, and says so here.
 */
public final class BundledNatives {
    /** The one platform the native build targets. */
    public static final String PLATFORM = "linux-x86_64";

    private static final String FOLDER = "/native/" + PLATFORM + "/";

    private BundledNatives() {}

    /** Whether this platform is the one the bundled libraries were built for. */
    public static boolean platformMatches() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        return os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    /** The manifest of the bundled CUDA kernels, empty when the jar was built without nvcc. */
    public static Optional<Properties> manifest() {
        return manifest("libinfra4j_cuda.so");
    }

    /**
     * The manifest of one bundled library (its SHA-256), empty when the jar was built without it: the CUDA
     * kernels' is {@code infra4j-native.properties}, the others' {@code <file>.properties}.
     */
    public static Optional<Properties> manifest(String fileName) {
        String name = fileName.equals("libinfra4j_cuda.so") ? "infra4j-native.properties" : fileName + ".properties";
        try (InputStream in = BundledNatives.class.getResourceAsStream(FOLDER + name)) {
            if (in == null) {
                return Optional.empty();
            }
            Properties p = new Properties();
            p.load(in);
            return Optional.of(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled native manifest", e);
        }
    }

    /** Opens the bundled library file {@code fileName} (e.g. {@code libinfra4j_cuda.so}), if this jar carries it. */
    public static Optional<InputStream> open(String fileName) {
        return Optional.ofNullable(BundledNatives.class.getResourceAsStream(FOLDER + fileName));
    }

    /** The resource path a bundled file has inside the jar, for messages. */
    public static String resourcePath(String fileName) {
        return FOLDER.substring(1) + fileName;
    }
}
