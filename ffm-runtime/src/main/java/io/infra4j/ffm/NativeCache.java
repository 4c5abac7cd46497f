package io.infra4j.ffm;

import io.infra4j.natives.BundledNatives;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Properties;

/**
 * Extracts the libraries carried inside the infra4j jar to a cache folder, once per content: the
 * folder is named by the library's SHA-256, so a new build gets a new folder and an existing one is
 * reused (after checking its hash). Concurrent processes each write a temporary file and move it
 * into place atomically.
 *
 * <p>The cache is {@code $INFRA4J_CACHE_DIR}, else {@code $XDG_CACHE_HOME/infra4j}, else
 * {@code ~/.cache/infra4j}; when none is writable, the system temporary folder.
 */
public final class NativeCache {
    private NativeCache() {}

    /** The root of the cache. */
    public static Path root() {
        String explicit = System.getenv("INFRA4J_CACHE_DIR");
        if (explicit != null && !explicit.isBlank()) {
            return Paths.get(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Paths.get(xdg, "infra4j");
        }
        return Paths.get(System.getProperty("user.home", "."), ".cache", "infra4j");
    }

    static Path extract(String fileName, Properties manifest) {
        String sha = manifest.getProperty("sha256");
        if (sha == null || sha.length() < 16) {
            throw new IllegalStateException("bundled native manifest has no sha256: " + manifest);
        }
        try {
            return extractTo(root(), fileName, sha);
        } catch (IOException e) {
            Path fallback = Paths.get(System.getProperty("java.io.tmpdir"),
                    "infra4j-" + System.getProperty("user.name", "user"));
            try {
                return extractTo(fallback, fileName, sha);
            } catch (IOException e2) {
                e2.addSuppressed(e);
                throw new UncheckedIOException("cannot extract the bundled " + fileName + " to " + root()
                        + " nor to " + fallback, e2);
            }
        }
    }

    private static Path extractTo(Path root, String fileName, String sha) throws IOException {
        Path dir = root.resolve("native").resolve(sha.substring(0, 16));
        Path target = dir.resolve(fileName);
        if (Files.isRegularFile(target) && sha.equals(sha256(target))) {
            return target;
        }
        try (InputStream in = BundledNatives.open(fileName)
                .orElseThrow(() -> new IOException("the jar has no " + BundledNatives.resourcePath(fileName)))) {
            return install(in, target, tmp -> {
                if (!sha.equals(sha256(tmp))) {
                    throw new IOException("the bundled " + fileName + " does not match its manifest's sha256");
                }
            });
        }
    }

    /** A check of a fully written temporary file before it is moved into place. */
    @FunctionalInterface
    public interface Check {
        void accept(Path written) throws IOException;
    }

    /**
     * Writes {@code in} to {@code target} so that no reader ever sees a partial file: into a temporary file
     * beside it, checked by {@code check}, then moved into place (atomically where the file system allows),
     * so concurrent processes extracting the same library each finish with a whole one.
     */
    public static Path install(InputStream in, Path target, Check check) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
        try {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            check.accept(tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }

    static String sha256(Path file) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = in.read(buf)) > 0) {
                    md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
