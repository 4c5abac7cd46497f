package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MainTest {
    @Test
    void helpListsCommandsAndOptions() {
        for (String[] args : new String[][] {{"help"}, {"--help"}, {"-h"}}) {
            Cli r = Cli.run(args);
            assertEquals(0, r.code(), r::toString);
            assertTrue(r.out().contains("Commands:"), r::toString);
            for (String s : new String[] {"info", "demo", "eplb", "dualpipe", "bench", "--json", "--no-progress", "--verbose", "--version"}) {
                assertTrue(r.out().contains(s), () -> s + " missing from\n" + r);
            }
        }
    }

    @Test
    void helpOfDemoListsItsOptionsAndStages() {
        for (String[] args : new String[][] {{"help", "demo"}, {"demo", "--help"}}) {
            Cli r = Cli.run(args);
            assertEquals(0, r.code(), r::toString);
            assertTrue(r.out().contains("--size"), r::toString);
            assertTrue(r.out().contains("--stage"), r::toString);
            assertTrue(r.out().contains("memory"), r::toString);
            assertTrue(r.out().contains("eplb"), r::toString);
            assertTrue(r.out().contains("dualpipe"), r::toString);
            assertTrue(r.out().contains("mla"), r::toString);
        }
    }

    @Test
    void versionPrintsOneLine() {
        Cli r = Cli.run("--version");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().startsWith("infra4j "), r::toString);
        assertEquals(1, r.out().lines().count(), r::toString);
    }

    /** Every bad command line: exit 2, a message naming the problem, a pointer to help, no stack trace. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''                        | no command given",
            "frobnicate                | unknown command 'frobnicate'",
            "info --bogus              | unknown option '--bogus'",
            "--verb info               | unknown option '--verb'",
            "info --size 5             | option --size is not an option of 'info'",
            "info extra                | unexpected argument 'extra'",
            "demo --size               | option --size needs a value",
            "demo --size abc           | --size: expected a number of elements",
            "demo --size 0             | --size: expected 1 to",
            "demo --device tpu         | --device: expected auto, cpu, cuda or cuda:N",
            "demo --seed x             | --seed: expected an integer",
            "help nosuch               | unknown command 'nosuch'",
    })
    void badCommandLinesExitWithTwo(String line, String message) {
        String[] args = line.isBlank() ? new String[0] : line.trim().split("\\s+");
        Cli r = Cli.run(args);
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains(message), () -> "expected '" + message + "' in\n" + r);
        assertTrue(r.err().contains("infra4j help"), r::toString);
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r::toString);
        assertEquals("", r.out(), r::toString);
    }

    @Test
    void unknownStageListsTheStages() {
        Cli r = Cli.run("demo", "--stage", "nosuch", "--no-progress");
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("no stage named 'nosuch'"), r::toString);
        assertTrue(r.err().contains("stages: " + DemoStages.names()), r::toString);
        assertTrue(r.err().contains("memory"), r::toString);
    }

    @Test
    void sizesTakeBinarySuffixes() throws UsageException {
        assertEquals(16L << 20, DemoOptions.parseSize("16M"));
        assertEquals(64L << 10, DemoOptions.parseSize("64k"));
        assertEquals(1L << 30, DemoOptions.parseSize("1G"));
        assertEquals(100_000, DemoOptions.parseSize("100_000"));
    }
}
