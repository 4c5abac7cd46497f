package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code infra4j pond} and {@code infra4j sort}: the command lines, their JSON, their refusals. */
class PondCommandTest {
    @TempDir
    Path dir;

    @Test
    void pondHashPartitionsRunsTheSqlAndWritesParquet() throws Exception {
        Files.writeString(dir.resolve("a.csv"), "host,bytes\nx,1\ny,2\nx,3\n");
        Files.writeString(dir.resolve("b.csv"), "host,bytes\nz,4\nx,5\n");
        Cli r = Cli.run("pond", "--input", dir + "/*.csv", "--format", "csv", "--partitions", "3", "--hash-by", "host",
                "--sql", "select host, count(*) as hits, sum(bytes) as bytes from {0} group by host", "--output", dir.resolve("out").toString(),
                "--json", "--no-progress");
        assertEquals(0, r.code(), r::toString);
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals(3, doc.get("rows").asLong());
        assertEquals(3, doc.get("files").size());
        assertTrue(Files.exists(dir.resolve("out/_SUCCESS")));
        Cli check = Cli.run("sql", "SELECT host, hits, bytes::BIGINT AS bytes FROM read_parquet('" + dir + "/out/*.parquet') ORDER BY host");
        assertEquals("host\thits\tbytes\nx\t3\t9\ny\t1\t2\nz\t1\t4\n", check.out(), check::toString);

        assertEquals(2, Cli.run("pond", "--input", dir + "/*.csv", "--output", dir.resolve("o2").toString(), "--format", "xml").code());
        assertEquals(2, Cli.run("pond", "--input", dir + "/*.csv", "--output", dir.resolve("o2").toString(), "--sql", "select 1").code());
        Cli bad = Cli.run("pond", "--input", dir + "/*.csv", "--format", "csv", "--output", dir.resolve("o3").toString(), "--sql", "select nope from {0}",
                "--no-progress");
        assertEquals(1, bad.code(), bad::toString);
        assertTrue(bad.err().contains("nope") && bad.err().contains("task"), bad::toString);
    }

    @Test
    void sortGeneratesSortsAndValidates() throws Exception {
        Cli r = Cli.run("sort", "--size", "2MB", "--partitions", "4", "--work", dir.toString(), "--validate", "--compare", "--json", "--no-progress");
        assertEquals(0, r.code(), r::toString);
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals(20_000, doc.get("records").asLong());
        assertEquals(2_000_000, doc.get("bytes").asLong());
        assertTrue(doc.get("sorted").asBoolean());
        assertEquals(doc.get("input_checksum").asText(), doc.get("checksum").asText());
        assertTrue(doc.get("seconds").asDouble() > 0);
        assertTrue(doc.get("one_query_sorted").asBoolean());
        assertEquals(2, Cli.run("sort", "--size", "lots", "--work", dir.toString()).code());
        assertEquals(2, Cli.run("sort", "--size", "1GB").code());
    }

    /**
     * A real crash: {@code infra4j pond} in a child JVM is killed (SIGKILL) once its first stage committed and
     * while its second runs. Nothing in the output folder looks finished; a rerun with --resume reuses the
     * committed stage and completes with the right rows.
     */
    @Test
    void aKilledRunLeavesNothingFinishedAndItsRerunCompletes() throws Exception {
        Cli.run("sql", "COPY (SELECT 'host-' || (i % 50) AS host, i AS bytes FROM range(1000000) t(i)) TO '" + dir.resolve("log.csv") + "' (HEADER)");
        Path work = dir.resolve("work");
        Path out = dir.resolve("out");
        String sql = "select host, count(*) as hits from {0}, range(300) group by host";
        String[] args = {"pond", "--input", dir + "/log.csv", "--format", "csv", "--partitions", "4", "--parallelism", "2", "--hash-by", "host",
                "--sql", sql, "--output", out.toString(), "--work", work.toString(), "--resume", "--no-progress"};
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--module-path", System.getProperty("jdk.module.path"), "--add-modules", "ALL-MODULE-PATH",
                "--enable-native-access=io.infra4j.bindings,io.infra4j.ffm,io.infra4j.memory,io.infra4j.threefs,io.infra4j.smallpond",
                "-m", "io.infra4j.cli/io.infra4j.cli.Main"));
        command.addAll(java.util.List.of(args));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        boolean firstStageCommitted = false;
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!firstStageCommitted && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            firstStageCommitted = Files.exists(work.resolve("stages")) && committed(work.resolve("stages"), "-hash-");
        }
        assertTrue(firstStageCommitted && child.isAlive(), "the child finished or failed before it could be killed: " + Files.readString(dir.resolve("child.log")));
        child.destroyForcibly().waitFor();

        assertTrue(!Files.exists(out.resolve("_SUCCESS")), "no _SUCCESS after a crash");
        try (var files = Files.list(out)) {
            assertEquals(java.util.List.of(), files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("part-")).toList());
        } catch (java.nio.file.NoSuchFileException e) {
            // the crash came before the output folder was made: nothing there at all
        }
        Cli rerun = Cli.run(args);
        assertEquals(0, rerun.code(), rerun::toString);
        assertTrue(rerun.out().contains("reused"), "the rerun reuses the committed stage: " + rerun.out());
        Cli check = Cli.run("sql", "SELECT count(*), sum(hits) FROM read_parquet('" + out + "/part-*.parquet')");
        assertEquals("count_star()\tsum(hits)\n50\t300000000\n", check.out(), check::toString);
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
    }

    // Whether a stage folder whose name holds {@code kind} has a committed task (a task-* folder, not *.tmp-*).
    private static boolean committed(Path stages, String kind) throws java.io.IOException {
        if (!Files.isDirectory(stages)) {
            return false;
        }
        try (var s = Files.list(stages)) {
            for (Path stage : s.filter(p -> p.getFileName().toString().contains(kind)).toList()) {
                try (var t = Files.list(stage)) {
                    if (t.anyMatch(p -> p.getFileName().toString().matches("task-\\d+"))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
