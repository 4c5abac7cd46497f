package io.infra4j.benchmarks.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsWriterTest {
    @TempDir
    Path dir;

    private static ResultsWriter run(double ms) {
        return new ResultsWriter("unit", "Unit run")
                .environment("GPU", "none").environment("commit", "abc123")
                .table(new ResultTable("Figures", "op", "ms", "ratio").row("cast", ms, 0.5).row("fill", Double.NaN, 12345678.0))
                .note("a note");
    }

    @Test
    void appendsADatedMarkdownSectionAndTheSameFiguresAsJson() throws Exception {
        Path md = run(1.25).appendTo(dir);
        run(2.5).appendTo(dir);
        String text = Files.readString(md);
        assertTrue(md.getFileName().toString().matches("\\d{4}-\\d{2}-\\d{2}-unit\\.md"), md.toString());
        assertEquals(1, text.split("# Unit run", -1).length - 1, "the title once: " + text);
        assertEquals(2, text.split("## Run of ", -1).length - 1, "two runs appended: " + text);
        assertTrue(text.contains("(commit abc123)"), text);
        assertTrue(text.contains("| cast | 1.250 | 0.500 |"), text);
        assertTrue(text.contains("| fill | n/a | 1.235e+07 |"), text);

        JsonNode json = new ObjectMapper().readTree(dir.resolve(md.getFileName().toString().replace(".md", ".json")).toFile());
        assertEquals(2, json.get("runs").size());
        JsonNode row = json.get("runs").get(1).get("tables").get(0).get("rows").get(0);
        assertEquals(2.5, row.get("ms").asDouble());
        assertEquals("abc123", json.get("runs").get(0).get("environment").get("commit").asText());
    }

    @Test
    void badNamesAndRowsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ResultsWriter("Bad Name", "x"));
        assertThrows(IllegalArgumentException.class, () -> new ResultTable("t", "a", "b").row(1));
    }
}
