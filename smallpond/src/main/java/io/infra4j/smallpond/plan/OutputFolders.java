package io.infra4j.smallpond.plan;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The folder a DataFrame is written to: {@code part-0000k.parquet} files, each put in place by a rename once
 * complete, and {@code _SUCCESS} once all are. A reader that trusts only folders with {@code _SUCCESS} never
 * sees a partial result; a rerun after a crash replaces what the crashed run left.
 */
public final class OutputFolders {
    static final String SUCCESS = "_SUCCESS";
    private static final Pattern PART = Pattern.compile("part-(\\d+)\\.parquet");
    private static final Pattern OURS = Pattern.compile("part-\\d+\\.parquet|_SUCCESS|\\..*\\.tmp-.*|\\.part-\\d+\\.parquet\\.pending");

    private OutputFolders() {}

    /** Creates {@code dir}, or checks that it holds only what an earlier write left; removes its {@code _SUCCESS}. */
    public static void prepare(Path dir) {
        try {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new IllegalArgumentException("output: " + dir + " is a file, expected a folder");
            }
            Files.createDirectories(dir);
            try (Stream<Path> s = Files.list(dir)) {
                List<String> foreign = s.map(p -> p.getFileName().toString()).filter(n -> !OURS.matcher(n).matches()).sorted().toList();
                if (!foreign.isEmpty()) {
                    throw new IllegalArgumentException("output: " + dir + " holds files a DataFrame did not write (" + String.join(", ",
                            foreign.subList(0, Math.min(5, foreign.size()))) + "): choose an empty or new folder");
                }
            }
            Files.deleteIfExists(dir.resolve(SUCCESS));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("could not prepare the output folder " + dir, e);
        }
    }

    /** Partition {@code p}'s final name. */
    static Path part(Path dir, int p) {
        return dir.resolve(String.format("part-%05d.parquet", p));
    }

    /** Where partition {@code p} is written before the rename: hidden, and never mistaken for a result. */
    static Path pending(Path dir, int p) {
        return dir.resolve(String.format(".part-%05d.parquet.pending", p));
    }

    /** Puts {@code source} at {@code target} by a rename (by a copy to a hidden name then a rename across file systems). */
    static void moveInto(Path source, Path target) throws IOException {
        if (!Files.exists(source) && Files.exists(target)) {
            return; // moved by an earlier run whose committed task this run reuses
        }
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Path hidden = target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
            Files.copy(source, hidden, StandardCopyOption.REPLACE_EXISTING);
            Files.move(hidden, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Files.delete(source);
        }
    }

    /** Removes parts an earlier, wider write left beyond {@code parts}, and any hidden leftovers; then writes {@code _SUCCESS}. */
    static void finish(Path dir, int parts) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                Matcher m = PART.matcher(name);
                if (m.matches() && Integer.parseInt(m.group(1)) >= parts || name.startsWith(".") && (name.contains(".tmp-") || name.endsWith(".pending"))) {
                    Files.deleteIfExists(p);
                }
            }
        }
        Path hidden = dir.resolve("." + SUCCESS + ".tmp-" + UUID.randomUUID());
        Files.writeString(hidden, parts + " part(s)\n");
        Files.move(hidden, dir.resolve(SUCCESS), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
