package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code infra4j eplb} on upstream's README example, in both modes, and every way to call it wrong. */
class EplbCommandTest {
    static final String README_WEIGHT =
            "[[90,132,40,61,104,165,39,4,73,56,183,86],[20,107,104,64,19,197,187,157,172,86,16,27]]";
    static final String README_PHY2LOG =
            "[[5,6,5,7,8,4,3,4,10,9,10,2,0,1,11,1],[7,10,6,8,6,11,8,9,2,4,5,1,5,0,3,1]]";
    static final String[] README_ARGS = {"--replicas", "16", "--groups", "4", "--nodes", "2", "--gpus", "8"};
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path readmeJson() throws IOException {
        return Files.writeString(dir.resolve("weights.json"), "{\"weight\": " + README_WEIGHT + "}");
    }

    private Path readmeCsv() throws IOException {
        return Files.writeString(dir.resolve("weights.csv"), """
                # README example of deepseek-ai/EPLB
                90,132,40,61,104,165,39,4,73,56,183,86
                20,107,104,64,19,197,187,157,172,86,16,27
                """);
    }

    private static Cli eplb(Path input, String... more) {
        List<String> args = new ArrayList<>(List.of("eplb", "--input", input.toString()));
        args.addAll(List.of(README_ARGS));
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }

    @Test
    void readmeExampleAsText() throws IOException {
        Cli r = eplb(readmeJson());
        assertEquals(0, r.code(), r::toString);
        assertEquals("", r.err(), r::toString);
        assertTrue(r.out().contains("2 layers x 12 experts"), r::toString);
        assertTrue(r.out().contains("policy        hierarchical"), r::toString);
        assertTrue(r.out().contains("16 on 8 GPUs (2 per GPU), 2 nodes of 4 GPUs"), r::toString);
        assertTrue(r.out().contains("max replicas  2"), r::toString);
        // Hand-computed in LoadStatsTest: GPU (239/129.125 + 344/144.5)/2 before, (156/129.125 + 179.5/144.5)/2 after.
        assertTrue(r.out().contains("GPU    2.116   1.225"), r::toString);
        assertTrue(r.out().contains("node   1.131   1.126"), r::toString);
        assertFalse(r.out().contains("phy2log"), "phy2log only with -v");
    }

    @Test
    void verboseShowsEachLayerAndPhy2log() throws IOException {
        Cli r = eplb(readmeJson(), "-v");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("imbalance per layer"), r::toString);
        assertTrue(r.out().contains("layer 0:  5  6 |  5  7 |  8  4 |  3  4 | 10  9 | 10  2 |  0  1 | 11  1"), r::toString);
        assertTrue(r.out().contains("layer 1:  7 10 |  6  8 |  6 11 |  8  9 |  2  4 |  5  1 |  5  0 |  3  1"), r::toString);
    }

    @Test
    void readmeExampleAsJsonFromJsonAndCsv() throws IOException {
        for (Path input : List.of(readmeJson(), readmeCsv())) {
            Cli r = eplb(input, "--json");
            assertEquals(0, r.code(), r::toString);
            JsonNode j = r.json();
            assertEquals(List.of("policy", "phy2log", "log2phy", "logcnt", "stats"), fieldNames(j), input::toString);
            assertEquals("hierarchical", j.get("policy").asText());
            assertEquals(JSON.readTree(README_PHY2LOG), j.get("phy2log"), input::toString);
            assertEquals(JSON.readTree("[[1,2,1,1,2,2,1,1,1,1,2,1],[1,2,1,1,1,2,2,1,2,1,1,1]]"), j.get("logcnt"));
            assertEquals(JSON.readTree("[12,-1]"), j.at("/log2phy/0/0"));
            assertEquals(JSON.readTree("[15,13]"), j.at("/log2phy/0/1"));

            JsonNode stats = j.get("stats");
            assertEquals(2189.0, stats.get("total_load").asDouble());
            assertEquals(8, stats.get("gpus").asInt());
            double before = stats.at("/before/mean_gpu_imbalance").asDouble();
            double after = stats.at("/after/mean_gpu_imbalance").asDouble();
            assertEquals((239 / 129.125 + 344 / 144.5) / 2, before, 1e-12);
            assertEquals((156 / 129.125 + 179.5 / 144.5) / 2, after, 1e-12);
            assertEquals(JSON.readTree("[294.5,266.0,245.5,285.0,270.5,283.5,274.5,269.5]"),
                    stats.at("/after/gpu_load_totals"));
        }
    }

    @Test
    void chartIsWrittenAndNamed() throws IOException {
        Path svg = dir.resolve("charts/load.svg");
        Cli r = eplb(readmeJson(), "--chart", svg.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("chart         written to " + svg), r::toString);
        assertTrue(Files.readString(svg).contains("<svg"));

        Path png = dir.resolve("load.png");
        Cli j = eplb(readmeJson(), "--chart", png.toString(), "--json");
        assertEquals(0, j.code(), j::toString);
        assertEquals(png.toString(), j.json().get("chart").asText());
        assertTrue(Files.size(png) > 1000);
    }

    @Test
    void badPlanArgumentsFailWithThePlannersMessage() throws IOException {
        Cli r = Cli.run("eplb", "--input", readmeJson().toString(), "--replicas", "10", "--groups", "4", "--nodes", "2",
                "--gpus", "4");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().startsWith("infra4j: error: numReplicas (10) must be a multiple of numGpus (4)"), r::toString);
        assertEquals("", r.out());

        Cli few = Cli.run("eplb", "--input", readmeJson().toString(), "--replicas", "8", "--groups", "4", "--nodes", "2",
                "--gpus", "8");
        assertEquals(1, few.code(), few::toString);
        assertTrue(few.err().contains("numReplicas (8) must be at least the number of experts (12)"), few::toString);
    }

    @Test
    void missingOrBadFilesFailInOneLine() throws IOException {
        Cli none = eplb(dir.resolve("nosuch.json"));
        assertEquals(1, none.code(), none::toString);
        assertTrue(none.err().contains("--input " + dir.resolve("nosuch.json") + ": no such file"), none::toString);
        assertEquals(1, none.err().lines().count(), none::toString);

        Path ragged = Files.writeString(dir.resolve("ragged.csv"), "1,2,3\n4,5\n");
        Cli r = eplb(ragged);
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("weight[1] has 2 experts, weight[0] has 3"), r::toString);

        Cli cases = Cli.run("eplb", "--cases", dir.resolve("nosuch.jsonl").toString(), "--out", dir.resolve("o").toString());
        assertEquals(1, cases.code(), cases::toString);
        assertTrue(cases.err().contains("no such file"), cases::toString);
    }

    // --- batch mode

    private static final String CASES = String.join("\n",
            "{\"type\":\"meta\",\"upstream\":\"deepseek-ai/EPLB\"}",
            "{\"type\":\"case\",\"id\":0,\"weight\":" + README_WEIGHT
                    + ",\"num_replicas\":16,\"num_groups\":4,\"num_nodes\":2,\"num_gpus\":8}",
            "{\"type\":\"case\",\"id\":1,\"weight\":[[3,1,4,1,5,9,2,6]],\"num_replicas\":10,\"num_groups\":2,"
                    + "\"num_nodes\":1,\"num_gpus\":4}",
            "");

    private void assertAnswers(Path out) throws IOException {
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertEquals(2, lines.size(), lines::toString);
        JsonNode planned = JSON.readTree(lines.get(0));
        assertEquals(0, planned.get("id").asInt());
        assertEquals(JSON.readTree(README_PHY2LOG), planned.get("phy2log"));
        JsonNode rejected = JSON.readTree(lines.get(1));
        assertEquals(1, rejected.get("id").asInt());
        assertTrue(rejected.get("error").asText().contains("numReplicas (10) must be a multiple of numGpus (4)"),
                rejected::toString);
    }

    @Test
    void batchOfCases() throws IOException {
        Path in = Files.writeString(dir.resolve("cases.jsonl"), CASES);
        Path out = dir.resolve("answers/out.jsonl");
        Cli r = Cli.run("eplb", "--cases", in.toString(), "--out", out.toString(), "--no-progress");
        assertEquals(0, r.code(), r::toString);
        assertEquals("", r.err(), "--no-progress: nothing on stderr");
        assertTrue(r.out().startsWith("eplb: 2 cases: 1 planned, 1 rejected, 1 other record(s) skipped -> " + out + " in "),
                r::toString);
        assertEquals(1, r.out().lines().count(), r::toString);
        assertAnswers(out);
    }

    @Test
    void batchOfGzippedCasesAsJsonWithProgress() throws IOException {
        Path in = dir.resolve("cases.jsonl.gz");
        try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(in))) {
            gz.write(CASES.getBytes(StandardCharsets.UTF_8));
        }
        Path out = dir.resolve("out.jsonl");
        Cli r = Cli.run("eplb", "--cases", in.toString(), "--out", out.toString(), "--json");
        assertEquals(0, r.code(), r::toString);
        JsonNode j = r.json();
        assertEquals(2, j.get("cases").asInt());
        assertEquals(1, j.get("planned").asInt());
        assertEquals(1, j.get("rejected").asInt());
        assertEquals(1, j.get("skipped").asInt());
        assertEquals(out.toString(), j.get("output").asText());
        assertTrue(j.get("duration_ms").asDouble() > 0);
        assertTrue(r.err().contains("eplb cases"), "the progress bar, on stderr: " + r);
        assertAnswers(out);
    }

    // --- the command line

    @Test
    void helpShowsOptionsAndExamples() {
        Cli r = Cli.run("help", "eplb");
        assertEquals(0, r.code(), r::toString);
        for (String s : new String[] {"--input <FILE>", "--replicas <R>", "--groups <G>", "--nodes <N>", "--gpus <P>",
                "--chart <FILE>", "--cases <FILE>", "--out <FILE>", "Examples:", "infra4j eplb --cases"}) {
            assertTrue(r.out().contains(s), () -> s + " missing from\n" + r);
        }
        assertTrue(Cli.run("help").out().contains("eplb "), "listed among the commands");
    }

    /** Every bad command line: exit 2, a message naming the problem, a pointer to help, nothing on stdout. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "eplb                                                     | eplb needs --input FILE",
            "eplb --input w.json                                      | missing --replicas, --groups, --nodes, --gpus",
            "eplb --input w.json --replicas 16 --groups 4 --nodes 2   | missing --gpus",
            "eplb --input w.json --cases c.jsonl                      | --input and --cases are two modes",
            "eplb --cases c.jsonl                                     | --cases needs --out FILE",
            "eplb --cases c.jsonl --out o.jsonl --replicas 4          | --replicas goes with --input",
            "eplb --cases c.jsonl --out o.jsonl --gpus 4 --chart x.svg | --gpus, --chart go with --input",
            "eplb --input w.json --out o.jsonl                        | --out goes with --cases",
            "eplb --input w.json --replicas x --groups 4 --nodes 2 --gpus 8   | --replicas: expected an integer, got 'x'",
            "eplb --input w.json --replicas 16 --groups 4 --nodes 2 --gpus 8.0 | --gpus: expected an integer, got '8.0'",
            "eplb --input w.json --replicas 16 --groups 4 --nodes 2 --gpus 8 --chart x.jpg | --chart: expected a file name ending in .svg or .png",
            "eplb --input                                             | option --input needs a value",
            "eplb --size 5                                            | option --size is not an option of 'eplb'",
            "demo --replicas 5                                        | option --replicas is not an option of 'demo'",
    })
    void badCommandLinesExitWithTwo(String line, String message) {
        Cli r = Cli.run(line.trim().split("\\s+"));
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains(message), () -> "expected '" + message + "' in\n" + r);
        assertTrue(r.err().contains("infra4j help"), r::toString);
        assertEquals("", r.out(), r::toString);
    }

    private static List<String> fieldNames(JsonNode j) {
        List<String> names = new ArrayList<>();
        j.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
