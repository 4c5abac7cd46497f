package io.infra4j.cli;

import io.infra4j.threefs.ParallelFileReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code infra4j read FILE... [--verify]}: reads files through USRBIO (3FS's client on a 3FS mount, the
 * embedded io_uring backend elsewhere), several at once. With {@code --verify} it prints one line per file
 * as {@code sha256sum} does: the SHA-256 and the path.
 */
final class ReadCommand implements Command {
    static final Option VERIFY = Option.builder().longOpt("verify")
            .desc("print each file's SHA-256 and path, as sha256sum does").get();
    static final Option THREADS = Option.builder().longOpt("read-threads").hasArg().argName("N")
            .desc("files read at once, default min(8, cores)").get();

    @Override
    public String name() {
        return "read";
    }

    @Override
    public String summary() {
        return "read files through USRBIO (3FS's client API; io_uring locally): throughput, or --verify for SHA-256 lines";
    }

    @Override
    public String operands() {
        return "FILE...";
    }

    @Override
    public int maxOperands() {
        return Integer.MAX_VALUE;
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(VERIFY);
        o.addOption(THREADS);
        return o;
    }

    @Override
    public String details() {
        return """
                Reads every FILE whole through USRBIO: 3FS's own client library where a file lies on a 3FS mount
                and libhf3fs_api_shared.so is found, the embedded io_uring library (libinfra4j_usrbio.so)
                otherwise; 1 MiB reads, 16 in flight per file, O_DIRECT where the file system allows it.
                It prints the bytes, seconds and MB/s of each file and in all (--json: one object), or with
                --verify only '<sha256>  <path>' per file, as sha256sum prints them. A file that is missing or
                not a readable regular file is named on stderr and the others are still read (exit code 1 then);
                an I/O error while reading stops the command with that error.

                Examples:
                  infra4j read model-00001-of-00002.safetensors model-00002-of-00002.safetensors
                  infra4j read --verify data/*.parquet | sha256sum --check
                """;
    }

    @Override
    public int run(CommandLine line, Session session) throws UsageException {
        List<String> operands = line.getArgList().subList(1, line.getArgList().size());
        if (operands.isEmpty()) {
            throw new UsageException("read needs at least one FILE");
        }
        int threads = Math.min(8, Runtime.getRuntime().availableProcessors());
        if (line.hasOption(THREADS)) {
            try {
                threads = Integer.parseInt(line.getOptionValue(THREADS).trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--read-threads: expected an integer, got '" + line.getOptionValue(THREADS) + "'");
            }
            if (threads < 1) {
                throw new UsageException("--read-threads: expected a positive integer, got " + threads);
            }
        }
        boolean verify = line.hasOption(VERIFY);
        List<Path> files = new ArrayList<>();
        int failed = 0;
        long total = 0;
        for (String name : operands) {
            Path p = Path.of(name);
            if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
                session.err().println("infra4j: read: " + name + ": " + (Files.isDirectory(p) ? "Is a directory"
                        : Files.exists(p) ? "not a readable regular file" : "No such file or directory"));
                failed++;
                continue;
            }
            files.add(p);
            try {
                total += Files.size(p);
            } catch (java.io.IOException e) {
                failed++;
            }
        }
        if (files.isEmpty()) {
            return Main.FAILURE;
        }
        List<ParallelFileReader.Range> ranges = files.stream().map(ParallelFileReader.Range::whole).toList();
        MessageDigest[] digests = new MessageDigest[files.size()];
        for (int i = 0; i < digests.length; i++) {
            digests[i] = sha256();
        }
        long t0 = System.nanoTime();
        long[] bytes;
        ParallelFileReader.Options opts = new ParallelFileReader.Options(Math.min(threads, files.size()), 16, 1 << 20, false);
        try (ParallelFileReader reader = ParallelFileReader.open(files.get(0).toAbsolutePath().getParent(), opts);
                ProgressBar bar = session.progress() ? Progress.bytes("read", total, session.err()) : null) {
            session.debug("read: " + files.size() + " file(s) through " + reader.usrbio());
            bytes = reader.read(ranges, (range, offset, data, worker) -> {
                if (verify) {
                    digests[range].update(data.asByteBuffer());
                }
            }, bar == null ? null : bar::stepBy);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (verify) {
            for (int i = 0; i < files.size(); i++) {
                session.out().println(HexFormat.of().formatHex(digests[i].digest()) + "  " + operandOf(files.get(i), operands));
            }
        } else if (session.json()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            List<Map<String, Object>> each = new ArrayList<>();
            long sum = 0;
            for (int i = 0; i < files.size(); i++) {
                each.add(Map.of("path", files.get(i).toString(), "bytes", bytes[i]));
                sum += bytes[i];
            }
            doc.put("files", each);
            doc.put("bytes", sum);
            doc.put("seconds", seconds);
            doc.put("mb_per_s", sum / seconds / 1e6);
            Json.print(doc, session.out());
        } else {
            long sum = 0;
            for (int i = 0; i < files.size(); i++) {
                session.out().printf(Locale.ROOT, "%14d bytes  %s%n", bytes[i], files.get(i));
                sum += bytes[i];
            }
            session.out().printf(Locale.ROOT, "%14d bytes in %.3f s: %.1f MB/s%n", sum, seconds, sum / seconds / 1e6);
        }
        return failed > 0 ? Main.FAILURE : Main.OK;
    }

    private static String operandOf(Path p, List<String> operands) {
        return p.toString(); // as given: Path.of(name) keeps the operand's spelling
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
