package io.infra4j.cli;

import io.infra4j.smallpond.DataFrame;
import io.infra4j.smallpond.DuckConnection;
import io.infra4j.smallpond.DuckDb;
import io.infra4j.smallpond.QueryResult;
import io.infra4j.smallpond.WriteSummary;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Data preparation as a training job starts it, through smallpond: a small corpus of documents (CSV files,
 * some documents repeated across files, some too short) is read, short documents are dropped, duplicates are
 * removed by hash-partitioning on the text so that copies meet in one partition, tokens are counted, and the
 * result is written as Parquet partitions. The same preparation as one DuckDB query must give the same rows.
 */
final class PrepStage implements DemoStage {
    @Override
    public String name() {
        return "prep";
    }

    @Override
    public String description() {
        return "data preparation through smallpond: CSV corpus read, filtered, deduplicated by hash partition, written as Parquet";
    }

    @Override
    public StageResult run(DemoContext ctx) {
        Random random = ctx.random();
        List<String> failures = new ArrayList<>();
        Map<String, Object> f = new LinkedHashMap<>();
        int partitions = Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors()));
        Path dir = null;
        try (Progress.Task task = ctx.progress().start("demo " + name(), 3)) {
            dir = Files.createTempDirectory("infra4j-prep-");
            Path corpus = Files.createDirectories(dir.resolve("corpus"));
            int docs = task.step("write the corpus", () -> writeCorpus(corpus, random, 4, 5_000));
            f.put("documents_in", docs);
            String prep = "SELECT text, len(string_split(text, ' ')) AS tokens FROM (SELECT DISTINCT text FROM {0} WHERE length(text) >= 20)";
            Path out = dir.resolve("prepared");
            WriteSummary w;
            try (io.infra4j.smallpond.Session pond = io.infra4j.smallpond.Session.builder().workDir(dir.resolve("work")).parallelism(partitions)
                    .progress(io.infra4j.smallpond.ProgressListener.none()).build()) {
                DataFrame df = pond.readCsv(corpus + "/*.csv").repartitionByHash(partitions, "text").partialSql(prep);
                w = task.step("smallpond: filter, deduplicate, count tokens", () -> df.writeParquet(out));
            }
            f.put("documents_out", w.rows());
            f.put("partitions", w.files().size());
            f.put("seconds", w.seconds());
            task.step("compare with one DuckDB query", () -> {
                try (DuckDb db = DuckDb.inMemory(DuckDb.Config.defaults()); DuckConnection c = db.connect()) {
                    QueryResult expected = c.query("SELECT count(*), sum(tokens) FROM (" + prep.replace("{0}", "read_csv('" + corpus + "/*.csv')") + ")");
                    QueryResult got = c.query("SELECT count(*), sum(tokens) FROM read_parquet('" + out + "/*.parquet')");
                    QueryResult copies = c.query("SELECT count(*) FROM (SELECT text FROM read_parquet('" + out + "/*.parquet') GROUP BY text HAVING count(*) > 1)");
                    f.put("tokens", got.rows().get(0)[1]);
                    if (!java.util.Arrays.equals(expected.rows().get(0), got.rows().get(0))) {
                        failures.add("smallpond gave (documents, tokens) " + java.util.Arrays.toString(got.rows().get(0)) + ", one query "
                                + java.util.Arrays.toString(expected.rows().get(0)));
                    }
                    if (((Number) copies.rows().get(0)[0]).longValue() != 0) {
                        failures.add(copies.rows().get(0)[0] + " documents are still duplicated after deduplication");
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("the prep stage could not use a temporary folder", e);
        } finally {
            delete(dir);
        }
        return StageResult.of(failures, f);
    }

    // Documents of 3 to 40 words from a small vocabulary; every tenth is a copy of an earlier one, in any file.
    private static int writeCorpus(Path dir, Random random, int files, int perFile) {
        String[] words = "the model data token expert layer attention cache page gpu kernel tensor batch stream pipeline rank".split(" ");
        List<String> written = new ArrayList<>();
        for (int file = 0; file < files; file++) {
            try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("part-" + file + ".csv"))) {
                w.write("doc_id,source,text\n");
                for (int i = 0; i < perFile; i++) {
                    String text;
                    if (!written.isEmpty() && i % 10 == 9) {
                        text = written.get(random.nextInt(written.size()));
                    } else {
                        StringBuilder sb = new StringBuilder();
                        int n = 3 + random.nextInt(38);
                        for (int k = 0; k < n; k++) {
                            sb.append(k == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
                        }
                        text = sb.toString();
                        written.add(text);
                    }
                    w.write(file * perFile + i + ",web-" + random.nextInt(5) + ",\"" + text + "\"\n");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files * perFile;
    }

    private static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temporary folder left behind is not worth failing the demo for
        }
    }
}
