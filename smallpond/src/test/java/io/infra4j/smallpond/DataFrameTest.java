package io.infra4j.smallpond;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.smallpond.arrow.ArrowField;
import io.infra4j.smallpond.arrow.ArrowType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each DataFrame operation against the same query run in one DuckDB connection over all the data; partitioning
 * rules; empty inputs and partitions; errors naming the task and query; a task failing before its commit.
 */
class DataFrameTest {
    @TempDir
    Path dir;

    private Path data;
    private Session session;
    private DuckDb single;
    private DuckConnection one;

    @BeforeEach
    void writeInputs() throws Exception {
        data = Files.createDirectories(dir.resolve("data"));
        single = DuckDb.inMemory(DuckDb.Config.defaults().threads(2));
        one = single.connect();
        // five files of 2000 rows: an id, a key of 13 values, a name, a price
        for (int f = 0; f < 5; f++) {
            one.query("COPY (SELECT i AS id, i % 13 AS k, 'name-' || i AS name, (hash(i) % 1000) / 10.0 AS price FROM range(" + f * 2000 + ", "
                    + (f + 1) * 2000 + ") t(i)) TO '" + data.resolve("f" + f + ".parquet") + "' (FORMAT parquet)");
        }
        one.query("CREATE VIEW everything AS SELECT * FROM read_parquet('" + data + "/*.parquet')");
        session = Session.builder().workDir(dir.resolve("work")).parallelism(2).memoryPerTask("512MB").build();
    }

    @AfterEach
    void close() {
        session.close();
        one.close();
        single.close();
    }

    private DataFrame all() {
        return session.readParquet(data + "/*.parquet");
    }

    /** The DataFrame's rows and the single query's rows are the same multiset. */
    private void assertSameRows(String singleQuery, DataFrame df) {
        QueryResult expected = one.query(singleQuery);
        QueryResult actual = df.collect();
        assertEquals(expected.columns(), actual.columns());
        assertEquals(sorted(expected), sorted(actual));
    }

    private static List<String> sorted(QueryResult r) {
        return r.rows().stream().map(Arrays::deepToString).sorted().toList();
    }

    @Test
    void mapAndFilterMatchOneQuery() {
        assertSameRows("SELECT id, price * 2 AS twice FROM everything WHERE k = 3", all().repartition(3).filter("k = 3").map("id, price * 2 AS twice"));
        assertEquals(10_000, all().count());
    }

    @Test
    void hashRepartitionedAggregateMatchesOneQuery() {
        assertSameRows("SELECT k, count(*) AS n, sum(id) AS s FROM everything GROUP BY k",
                all().repartitionByHash(4, "k").partialSql("SELECT k, count(*) AS n, sum(id) AS s FROM {0} GROUP BY k"));
    }

    @Test
    void hashPartitionsHoldEqualKeysTogetherAndNoRowTwice() throws Exception {
        WriteSummary w = all().repartitionByHash(5, "k").writeParquet(dir.resolve("out"));
        assertEquals(5, w.files().size());
        assertEquals(10_000, w.rows());
        Map<Long, Integer> partitionOfKey = new HashMap<>();
        Set<Long> ids = new HashSet<>();
        for (int p = 0; p < w.files().size(); p++) {
            for (Object[] row : one.query("SELECT k, id FROM read_parquet('" + w.files().get(p) + "')").rows()) {
                long k = ((Number) row[0]).longValue();
                Integer before = partitionOfKey.putIfAbsent(k, p);
                assertTrue(before == null || before == p, "key " + k + " in partitions " + before + " and " + p);
                assertTrue(ids.add(((Number) row[1]).longValue()), "row " + row[1] + " twice");
            }
        }
        assertEquals(10_000, ids.size());
        assertTrue(Files.exists(dir.resolve("out/_SUCCESS")));
    }

    @Test
    void keyedRepartitionAcrossManyRowGroupsMatchesOneQueryPerPartition() throws Exception {
        // Two files of 120,000 rows: each task's file spans several row groups, most of them holding more than
        // one output partition, so a partition reads whole groups and partial ones.
        Path big = Files.createDirectories(dir.resolve("big"));
        for (int f = 0; f < 2; f++) {
            one.query("COPY (SELECT i AS id, hash(i) % 1000 AS k FROM range(" + f * 120_000 + ", " + (f + 1) * 120_000 + ") t(i)) TO '"
                    + big.resolve("b" + f + ".parquet") + "' (FORMAT parquet)");
        }
        int n = 7;
        WriteSummary w = session.readParquet(big + "/*.parquet").repartition(2).repartitionByValue(n, "k % " + n).writeParquet(dir.resolve("out"));
        assertEquals(240_000, w.rows());
        for (int p = 0; p < n; p++) {
            QueryResult expected = one.query("SELECT id, k FROM read_parquet('" + big + "/*.parquet') WHERE k % " + n + " = " + p + " ORDER BY id");
            QueryResult actual = one.query("SELECT * FROM read_parquet('" + w.files().get(p) + "') ORDER BY id");
            assertEquals(List.of("id", "k"), actual.columns(), "no partition column leaks into the output");
            assertEquals(sorted(expected), sorted(actual), "partition " + p);
        }
    }

    @Test
    void repartitionEvenlyByFilesAndByRows() {
        DataFrame byFiles = all().repartition(3);
        assertEquals(3, byFiles.partitions());
        List<Long> fileCounts = partitionCounts(byFiles.writeParquet(dir.resolve("files")));
        assertEquals(List.of(2000L, 4000L, 4000L), fileCounts);

        List<Long> rowCounts = partitionCounts(all().filter("id % 2 = 0").repartitionByRows(4).writeParquet(dir.resolve("rows")));
        assertEquals(List.of(1250L, 1250L, 1250L, 1250L), rowCounts);
        assertSameRows("SELECT * FROM everything WHERE id % 2 = 0", all().filter("id % 2 = 0").repartitionByRows(3));
    }

    private List<Long> partitionCounts(WriteSummary w) {
        List<Long> counts = new ArrayList<>();
        for (Path f : w.files()) {
            counts.add(((Number) one.query("SELECT count(*) FROM read_parquet('" + f + "')").rows().get(0)[0]).longValue());
        }
        return counts;
    }

    @Test
    void repartitionByValuePutsEachRowAtItsIndex() {
        WriteSummary w = all().repartitionByValue(3, "k % 3").writeParquet(dir.resolve("value"));
        for (int p = 0; p < 3; p++) {
            QueryResult r = one.query("SELECT DISTINCT k % 3 FROM read_parquet('" + w.files().get(p) + "')");
            assertEquals(1, r.rowCount());
            assertEquals((long) p, ((Number) r.rows().get(0)[0]).longValue());
        }
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> all().repartitionByValue(3, "k").count());
        assertTrue(e.getMessage().contains("outside 0..2"), e.getMessage());
    }

    @Test
    void twoInputSqlJoinsPartitionByPartition() {
        DataFrame left = all().repartitionByHash(3, "k");
        DataFrame right = session.fromRows("k BIGINT, label VARCHAR", List.of(List.of(1L, "one"), List.of(2L, "two"), List.of(5L, "five")))
                .repartitionByHash(3, "k");
        assertSameRows("SELECT e.id, r.label FROM everything e JOIN (VALUES (1, 'one'), (2, 'two'), (5, 'five')) r(k, label) ON e.k = r.k",
                left.partialSql("SELECT a.id, b.label FROM {0} a JOIN {1} b ON a.k = b.k", right));
        assertThrows(IllegalArgumentException.class, () -> all().partialSql("SELECT * FROM {0}, {1}", left));
    }

    @Test
    void csvJsonAndRowsSources() {
        one.query("COPY (SELECT * FROM everything WHERE id < 300) TO '" + dir.resolve("a.csv") + "' (HEADER)");
        one.query("COPY (SELECT * FROM everything WHERE id >= 300 AND id < 500) TO '" + dir.resolve("b.csv") + "' (HEADER)");
        one.query("COPY (SELECT * FROM everything WHERE id < 100) TO '" + dir.resolve("c.json") + "' (FORMAT json)");
        assertSameRows("SELECT id, name FROM everything WHERE id < 500", session.readCsv(dir + "/*.csv").repartition(2).map("id, name"));
        assertSameRows("SELECT id, name FROM everything WHERE id < 100", session.readJson(dir + "/c.json").map("id, name"));
        DataFrame rows = session.fromRows("id BIGINT, day DATE, ok BOOLEAN", List.of(List.of(1, "2026-11-30", true), Arrays.asList(2, null, false)));
        List<Map<String, Object>> list = rows.toList();
        assertEquals(2, list.size());
        assertEquals(java.time.LocalDate.of(2026, 11, 30), list.get(0).get("day"));
        assertEquals(null, list.get(1).get("day"));
    }

    @Test
    void limitAndTakeCrossPartitions() {
        assertEquals(7, all().repartition(5).limit(7).count());
        assertEquals(3, all().repartitionByHash(4, "id").take(3).size());
        assertEquals(0, all().limit(0).count());
    }

    @Test
    void mapBatchesAndFlatMapRunJavaOnTheRows() {
        List<ArrowField> schema = List.of(new ArrowField("id", ArrowType.INT64, false), new ArrowField("twice", ArrowType.INT64, false));
        DataFrame doubled = all().repartition(2).map("id").mapBatches("double ids", schema, (in, out) -> {
            var b = io.infra4j.smallpond.arrow.ArrowBatch.builder(schema);
            for (int r = 0; r < in.rowCount(); r++) {
                long id = in.column("id").getLong(r);
                b.addRow(id, id * 2);
            }
            out.accept(b.build());
        });
        assertSameRows("SELECT id, id * 2 AS twice FROM everything", doubled);

        DataFrame copies = all().filter("id < 100").flatMap("copies", List.of(new ArrowField("id", ArrowType.INT64, false)), row -> {
            long id = ((Number) row.get("id")).longValue();
            List<List<Object>> out = new ArrayList<>();
            for (int i = 0; i < id % 3; i++) {
                out.add(List.of(id));
            }
            return out;
        });
        assertSameRows("SELECT id FROM everything, range(3) t(i) WHERE id < 100 AND i < id % 3", copies);
    }

    @Test
    void emptyInputsAndEmptyPartitionsKeepTheirColumns() throws Exception {
        one.query("COPY (SELECT * FROM everything LIMIT 0) TO '" + dir.resolve("empty.parquet") + "' (FORMAT parquet)");
        DataFrame empty = session.readParquet(dir.resolve("empty.parquet").toString());
        assertEquals(0, empty.count());
        assertEquals(0, empty.repartitionByHash(3, "k").partialSql("SELECT k, count(*) FROM {0} GROUP BY k").count());
        WriteSummary w = all().filter("k < 2").repartitionByHash(8, "k").partialSql("SELECT k, count(*) AS n FROM {0} GROUP BY k")
                .writeParquet(dir.resolve("sparse"));
        assertEquals(8, w.files().size());
        assertEquals(2, w.rows());
        for (Path f : w.files()) {
            assertEquals(List.of("k", "n"), one.query("SELECT * FROM read_parquet('" + f + "')").columns());
        }
        assertEquals(0, all().filter("false").repartitionByRows(3).toList().size());
        assertEquals(12, all().repartition(12).partitions());
        assertEquals(0, all().repartition(12).partialSql("SELECT * FROM {0} WHERE id < 0").count());
    }

    @Test
    void badSqlNamesTheTaskAndTheQueryAndIsNotRetried() {
        AtomicInteger retries = new AtomicInteger();
        try (Session s = Session.builder().workDir(dir.resolve("bad")).parallelism(2).progress(new ProgressListener() {
            @Override
            public void taskRetried(String stage, int task, int attempt, Throwable cause) {
                retries.incrementAndGet();
            }
        }).build()) {
            TaskFailedException e = assertThrows(TaskFailedException.class,
                    () -> s.readParquet(data + "/*.parquet").repartition(2).partialSql("SELECT no_such_column FROM {0}").count());
            assertTrue(e.getMessage().contains("no_such_column"), e.getMessage());
            assertTrue(e.getMessage().contains("task " + e.task()) && e.stage().contains("count"), e.getMessage());
            assertTrue(e.query().contains("SELECT no_such_column FROM"), e.query());
            assertTrue(e.getMessage().contains("1 attempt"), e.getMessage());
        }
        assertEquals(0, retries.get());
    }

    @Test
    void bogusArgumentsAreRefusedBeforeAnythingRuns() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> session.readParquet(dir + "/nothing-*.parquet"));
        assertThrows(IllegalArgumentException.class, () -> all().partialSql("SELECT 1"));
        assertThrows(IllegalArgumentException.class, () -> all().partialSql("SELECT * FROM {1}"));
        assertThrows(IllegalArgumentException.class, () -> all().repartition(0));
        assertThrows(IllegalArgumentException.class, () -> all().repartitionByHash(2));
        assertThrows(IllegalArgumentException.class, () -> session.fromRows("a INT", List.of(List.of(1), List.of(1, 2))));
        assertThrows(IllegalArgumentException.class, () -> Session.builder().memoryPerTask("lots"));
        Files.createDirectories(dir.resolve("taken"));
        Files.writeString(dir.resolve("taken/notes.txt"), "mine");
        assertThrows(IllegalArgumentException.class, () -> all().writeParquet(dir.resolve("taken")));
        assertTrue(all().repartitionByHash(2, "k").filter("k > 1").explain().contains("fused"));
    }

    @Test
    void aTaskDyingBeforeItsCommitLeavesNothingFinishedAndARerunCompletes() throws Exception {
        Path work = dir.resolve("resumable");
        Path out = dir.resolve("final");
        TaskHook crashOnce = (stage, task, attempt, output) -> {
            if (stage.contains("write") && task == 1) {
                throw new IllegalStateException("simulated crash of task 1");
            }
        };
        try (Session s = Session.builder().workDir(work).parallelism(2).maxAttempts(1).resume(true).taskHook(crashOnce).build()) {
            assertThrows(TaskFailedException.class, () -> s.readParquet(data + "/*.parquet").repartitionByHash(3, "k").writeParquet(out));
        }
        assertFalse(Files.exists(out.resolve("_SUCCESS")));
        try (Stream<Path> left = Files.list(out)) {
            assertEquals(List.of(), left.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("part-")).toList());
        }
        try (Stream<Path> tmp = Files.walk(work)) {
            assertEquals(List.of(), tmp.filter(p -> p.getFileName().toString().contains(".tmp-")).toList(), "uncommitted output left behind");
        }
        try (Session s = Session.builder().workDir(work).parallelism(2).resume(true).build()) {
            WriteSummary w = s.readParquet(data + "/*.parquet").repartitionByHash(3, "k").writeParquet(out);
            assertEquals(10_000, w.rows());
            assertTrue(w.stages().stream().anyMatch(t -> t.reused() > 0), "the committed tasks of the first run are reused: " + w.stages());
        }
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
        assertEquals(10_000L, ((Number) one.query("SELECT count(*) FROM read_parquet('" + out + "/*.parquet')").rows().get(0)[0]).longValue());
    }

    @Test
    void aFailedAttemptIsRetried() {
        AtomicInteger failures = new AtomicInteger();
        TaskHook flaky = (stage, task, attempt, output) -> {
            if (attempt == 1 && task == 0) {
                failures.incrementAndGet();
                throw new java.io.IOException("simulated I/O failure");
            }
        };
        try (Session s = Session.builder().workDir(dir.resolve("flaky")).parallelism(2).taskHook(flaky).build()) {
            assertEquals(10_000, s.readParquet(data + "/*.parquet").repartitionByHash(2, "k").count());
        }
        assertTrue(failures.get() >= 1);
    }
}
