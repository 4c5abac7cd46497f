package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infra4j.dualpipe.DualPipeSchedule;
import io.infra4j.dualpipe.Mode;
import io.infra4j.dualpipe.Op;
import io.infra4j.dualpipe.Variant;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code infra4j dualpipe}: the ops as JSON (the dualpipe module's own tests hold the schedules to
 * the golden traces; here they must come out unchanged), the text summary, the timeline, and every
 * way to call it wrong.
 */
class DualPipeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static Cli dualpipe(String... more) {
        List<String> args = new ArrayList<>(List.of("dualpipe"));
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }

    /** The schedule in the golden traces' form: [[op, ...] per rank]. */
    private static JsonNode golden(Variant variant, int ranks, int chunks, Mode mode) {
        List<List<List<Object>>> ranksOps = DualPipeSchedule.generateAll(variant, ranks, chunks, mode).stream()
                .map(ops -> ops.stream().map(Op::toList).toList()).toList();
        return JSON.valueToTree(ranksOps);
    }

    @Test
    void jsonIsTheScheduleOfDualPipe4x8TrainPlain() {
        Cli r = dualpipe("--variant", "DualPipe", "--ranks", "4", "--chunks", "8", "--mode", "train_plain", "--json");
        assertEquals(0, r.code(), r::toString);
        assertEquals("", r.err(), r::toString);
        JsonNode j = r.json();
        assertEquals(List.of("ranks"), iterable(j.fieldNames()), r::toString);
        assertEquals(golden(Variant.DUALPIPE, 4, 8, Mode.TRAIN_PLAIN), j.get("ranks"));
        assertEquals(List.of("F", 0, 0), JSON.convertValue(j.at("/ranks/0/0"), List.class), "rank 0 starts with F(0, 0)");
    }

    @ParameterizedTest(name = "{0} {1}x{2} {3}")
    @CsvSource({"DualPipe, 2, 4, train_overlapped", "DualPipe, 6, 20, infer", "DualPipeV, 1, 2, train_plain",
            "DualPipeV, 3, 7, train_overlapped", "dualpipev, 4, 16, infer"})
    void jsonIsTheScheduleOfAnyConfiguration(String variant, int ranks, int chunks, String mode) {
        Cli r = dualpipe("--variant", variant, "--ranks", Integer.toString(ranks), "--chunks", Integer.toString(chunks),
                "--mode", mode, "--json");
        assertEquals(0, r.code(), r::toString);
        assertEquals(golden(Variant.parse(variant), ranks, chunks, Mode.parse(mode)), r.json().get("ranks"));
    }

    @Test
    void theDefaultModeIsTrainOverlapped() {
        Cli r = dualpipe("--variant", "DualPipeV", "--ranks", "2", "--chunks", "4", "--json");
        assertEquals(golden(Variant.DUALPIPE_V, 2, 4, Mode.TRAIN_OVERLAPPED), r.json().get("ranks"));
        assertTrue(dualpipe("--variant", "DualPipeV", "--ranks", "2", "--chunks", "4").out()
                .startsWith("dualpipe: DualPipeV, 2 ranks x 4 chunks, train_overlapped"));
    }

    @ParameterizedTest(name = "{0} {1}x{2}")
    @CsvSource(delimiter = '|', value = {
            "DualPipe  | 3 | 6  | DualPipe needs an even number of ranks, got 3 (DualPipeV takes any number)",
            "DualPipe  | 4 | 6  | DualPipe needs an even number of chunks >= 2 x ranks (8), got numChunks=6, numRanks=4",
            "DualPipe  | 4 | 9  | DualPipe needs an even number of chunks >= 2 x ranks (8), got numChunks=9, numRanks=4",
            "DualPipeV | 4 | 7  | DualPipeV needs numChunks >= 2 x ranks (8), got numChunks=7, numRanks=4",
            "DualPipeV | 2 | 0  | DualPipeV needs numChunks >= 2 x ranks (4), got numChunks=0, numRanks=2",
            "DualPipe  | 4 | -8 | DualPipe needs an even number of chunks >= 2 x ranks (8), got numChunks=-8, numRanks=4",
            "DualPipe  | 0 | 8  | numRanks must be at least 1, got 0",
    })
    void refusedConfigurationsSayUpstreamsConstraint(String variant, String ranks, String chunks, String message) {
        Cli json = dualpipe("--variant", variant, "--ranks", ranks, "--chunks", chunks, "--json");
        assertEquals(1, json.code(), json::toString);
        assertEquals(List.of("error"), iterable(json.json().fieldNames()), json::toString);
        assertEquals(message, json.json().get("error").asText());

        Cli text = dualpipe("--variant", variant, "--ranks", ranks, "--chunks", chunks);
        assertEquals(1, text.code(), text::toString);
        assertEquals("", text.out(), text::toString);
        assertEquals("infra4j: error: " + message, text.err().strip(), text::toString);
    }

    @Test
    void refusedConfigurationWritesNoTimeline() {
        Path svg = dir.resolve("t.svg");
        Cli r = dualpipe("--variant", "DualPipe", "--ranks", "3", "--chunks", "6", "--timeline", svg.toString());
        assertEquals(1, r.code(), r::toString);
        assertFalse(Files.exists(svg));
    }

    @Test
    void textSummaryHasTheChecksAndTheBubbleFormulas() {
        Cli r = dualpipe("--variant", "DualPipe", "--ranks", "4", "--chunks", "8");
        assertEquals(0, r.code(), r::toString);
        assertEquals("", r.err(), r::toString);
        String out = r.out();
        assertTrue(out.startsWith("dualpipe: DualPipe, 4 ranks x 8 chunks, train_overlapped\n"), r::toString);
        assertTrue(out.contains("PP = 4 stages: direction 0 runs ranks 0->3, direction 1 ranks 3->0, 4 chunks each"), r::toString);
        assertTrue(out.contains("costs          F 1, B 2, W 1, F&B 2.5 (typical"), r::toString);
        assertTrue(out.contains("checks: passed"), r::toString);
        assertTrue(out.contains("deadlock-free  yes: 14 rounds"), r::toString);
        assertTrue(out.contains("mirror         ok"), r::toString);
        // Typical costs: (4/2-1)(2.5+2-3) = 1.5, (4-1)(1+2-2) = 3, (4-1)(1+2) = 9; the simulation agrees.
        assertTrue(out.contains("DualPipe  1.5         (PP/2-1)(F&B+B-3W) = 1.5"), r::toString);
        assertTrue(out.contains("ZB1P      3           (PP-1)(F+B-2W) = 3"), r::toString);
        assertTrue(out.contains("1F1B      9           (PP-1)(F+B) = 9"), r::toString);
        assertTrue(out.contains("rank  ops  F  B  Bz  W  FB  sends  recvs  commits  busy  idle"), r::toString);
        assertFalse(out.contains("ops of each rank"), "the ops only with -v");
    }

    @Test
    void dualPipeVCountsTwoStagesPerRank() {
        Cli r = dualpipe("--variant", "DualPipeV", "--ranks", "4", "--chunks", "16");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("PP = 8 stages on 4 ranks"), r::toString);
        assertTrue(r.out().contains("DualPipeV  4.5         (PP/2-1)(F&B+B-3W) = 4.5"), r::toString); // (8/2-1)(2.5+2-3)
        assertTrue(r.out().contains("1F1B       21          (PP-1)(F+B) = 21"), r::toString);
        assertTrue(r.out().contains("compare bubbles, not makespans"), r::toString);
        assertFalse(r.out().contains("mirror"), "DualPipeV has no mirror check");
    }

    @Test
    void givenCostsChangeTheBubbles() {
        Cli r = dualpipe("--variant", "DualPipe", "--ranks", "4", "--chunks", "8", "--costs", "1, 2, 1, 3");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("costs          F 1, B 2, W 1, F&B 3\n"), r::toString);
        assertTrue(r.out().contains("(PP/2-1)(F&B+B-3W) = 2"), r::toString);
        Cli off = dualpipe("--variant", "DualPipe", "--ranks", "4", "--chunks", "8", "--costs", "1,2,0.5,2.5");
        assertTrue(off.out().contains("formula takes a backward for inputs, B - W, as long as a forward"), off::toString);
    }

    @Test
    void inferenceHasNoFormulas() {
        Cli r = dualpipe("--variant", "DualPipe", "--ranks", "2", "--chunks", "4", "--mode", "infer");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("the formulas are for training steps"), r::toString);
        assertFalse(r.out().contains("ZB1P"), r::toString);
    }

    @Test
    void verboseListsEveryRanksOps() {
        Cli r = dualpipe("--variant", "DualPipe", "--ranks", "2", "--chunks", "4", "-v");
        assertEquals(0, r.code(), r::toString);
        // Upstream's rank 0 of DualPipe(2, 4): see the JSON test's golden form.
        assertTrue(r.out().contains("  rank 0: F0.0 SF0.0>1 RF1.0<1 X2 F1.0 F0.1 B1.0 SF0.1>1 SB1.0>1 RF1.1<1 RB0.0<1 X4 "
                + "FB(1.1|0.0) B1.1\n          SB1.1>1 RB0.1<1 X2 B0.1z W0.1\n"), r::toString);
        assertTrue(r.out().contains("  rank 1: F1.0 SF1.0>0"), r::toString);
    }

    @Test
    void timelineIsAnSvgOfBothSchedules() throws Exception {
        Path svg = dir.resolve("sub/timeline.svg");
        Cli r = dualpipe("--variant", "DualPipe", "--ranks", "4", "--chunks", "8", "--timeline", svg.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("timeline       written to " + svg), r::toString);
        // TimelineSvgTest parses it as XML; here: the two schedules, as this command set them up.
        String text = Files.readString(svg, StandardCharsets.UTF_8);
        assertTrue(text.startsWith("<?xml") && text.contains("<svg"), text);
        assertTrue(text.contains(">DualPipe: 4 ranks, 8 micro-batches (4 each way), train_overlapped</text>"), text);
        assertTrue(text.contains(">1F1B: 4 stages, 8 micro-batches, training</text>"), text);
        assertTrue(text.contains("id='block-1-3-15'") && !text.contains("id='block-1-3-16'"), "1F1B's last rank: 8 F and 8 B");
    }

    @Test
    void timelineWithJsonKeepsStdoutPure() {
        Path svg = dir.resolve("t.svg");
        Cli r = dualpipe("--variant", "DualPipeV", "--ranks", "2", "--chunks", "4", "--timeline", svg.toString(), "--json");
        assertEquals(0, r.code(), r::toString);
        assertEquals(golden(Variant.DUALPIPE_V, 2, 4, Mode.TRAIN_OVERLAPPED), r.json().get("ranks"));
        assertTrue(r.err().contains("timeline written to " + svg), r::toString);
        assertTrue(Files.isRegularFile(svg));
    }

    @Test
    void opNotation() {
        assertEquals("F0.3", OpNotation.of(new Op.Forward(0, 3)));
        assertEquals("B1.2", OpNotation.of(new Op.Backward(1, 2, false)));
        assertEquals("B1.2z", OpNotation.of(new Op.Backward(1, 2, true)));
        assertEquals("W0.2", OpNotation.of(new Op.Weight(0, 2)));
        assertEquals("FB(0.3|1.1)", OpNotation.of(new Op.ForwardBackward(0, 3, 1, 1)));
        assertEquals("SF0.2>1", OpNotation.of(new Op.SendForward(0, 2, 1)));
        assertEquals("SB0.2>1", OpNotation.of(new Op.SendBackward(0, 2, 1)));
        assertEquals("RF1.0<2", OpNotation.of(new Op.RecvForward(1, 0, 2)));
        assertEquals("RB1.0<2", OpNotation.of(new Op.RecvBackward(1, 0, 2)));
        assertEquals("X3", OpNotation.of(new Op.Commit(3)));
        assertEquals(List.of("F0.0 F0.1", "F0.2"),
                OpNotation.lines(List.of(new Op.Forward(0, 0), new Op.Forward(0, 1), new Op.Forward(0, 2)), 9));
    }

    @Test
    void helpExplainsTheNotationAndGivesExamples() {
        Cli r = Cli.run("help", "dualpipe");
        assertEquals(0, r.code(), r::toString);
        for (String s : new String[] {"--variant", "--ranks", "--chunks", "--mode", "--timeline", "--costs",
                "FB(0.3|1.1)", "B1.2z", "X3", "{\"ranks\": [[op, ...], ...]}", "{\"error\": \"...\"}",
                "infra4j dualpipe --variant DualPipe --ranks 4 --chunks 8", "chunks >= 2 x ranks"}) {
            assertTrue(r.out().contains(s), () -> s + " missing from\n" + r);
        }
        assertTrue(Cli.run("help").out().contains("dualpipe"), "listed among the commands");
    }

    /** Every bad command line: exit 2, a message naming the problem, nothing on stdout. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--ranks 4 --chunks 8                                     | missing --variant",
            "--variant DualPipe                                       | missing --ranks, --chunks",
            "--variant DualPipe --ranks four --chunks 8               | --ranks: expected an integer, got 'four'",
            "--variant DualPipe --ranks 4 --chunks 8.5                | --chunks: expected an integer, got '8.5'",
            "--variant TriPipe --ranks 4 --chunks 8                   | --variant: expected DualPipe or DualPipeV, got 'TriPipe'",
            "--variant DualPipe --ranks 4 --chunks 8 --mode fast      | --mode: expected train_overlapped, train_plain or infer",
            "--variant DualPipe --ranks 4 --chunks 8 --costs 1,2,1    | --costs: expected four numbers F,B,W,FB",
            "--variant DualPipe --ranks 4 --chunks 8 --costs 1,x,1,2  | --costs: 'x' is not a number",
            "--variant DualPipe --ranks 4 --chunks 8 --costs 1,2,2,3  | --costs: costs need f > 0, b > 0, 0 <= w < b, fb > 0",
            "--variant DualPipe --ranks 4 --chunks 8 --costs 0,2,1,3  | --costs: costs need",
            "--variant DualPipe --ranks 4 --chunks 8 --costs 1,2,1,NaN | --costs: expected finite numbers",
            "--variant DualPipe --ranks 4 --chunks 8 --timeline t.png | --timeline: expected a file name ending in .svg",
            "--variant DualPipe --ranks 1024 --chunks 2048            | --ranks x --chunks: at most",
            "--variant DualPipe --ranks 4 --chunks 8 --gpus 8         | option --gpus is not an option of 'dualpipe'",
            "--variant DualPipe --ranks 4 --chunks 8 --json --costs   | option --costs needs a value",
    })
    void badCommandLinesExitWithTwo(String line, String message) {
        Cli r = dualpipe(line.trim().split("\\s+"));
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains(message), () -> "expected '" + message + "' in\n" + r);
        assertTrue(r.err().contains("infra4j help"), r::toString);
        assertEquals("", r.out(), r::toString);
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
