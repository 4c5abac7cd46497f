package io.infra4j.dualpipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class TimelineSvgTest {
    @TempDir
    Path dir;

    /** DualPipe 4x8 and, below it, 1F1B over the same 4 stages and 8 micro-batches. */
    private static List<Timeline> dualPipeAnd1F1B() {
        Costs k = Costs.typical();
        return List.of(Timeline.simulate(PipelineSchedule.of(Variant.DUALPIPE, 4, 8, Mode.TRAIN_PLAIN), k),
                Timeline.simulate(PipelineSchedule.oneFOneB(4, 8, Mode.TRAIN_PLAIN), k));
    }

    private static Document parse(Path svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true); // offline: no DTD to fetch
        return f.newDocumentBuilder().parse(svg.toFile());
    }

    private static List<String> texts(Document doc) {
        List<String> out = new ArrayList<>();
        NodeList nodes = doc.getElementsByTagName("text");
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add(nodes.item(i).getTextContent());
        }
        return out;
    }

    @Test
    void everyBlockIsARectOfTheParsedSvg() throws Exception {
        List<Timeline> timelines = dualPipeAnd1F1B();
        Path svg = TimelineSvg.write(dir.resolve("sub/timeline.svg"), timelines);
        Document doc = parse(svg);
        assertEquals("svg", doc.getDocumentElement().getNodeName());

        Set<String> ids = new HashSet<>();
        NodeList rects = doc.getElementsByTagName("rect");
        for (int i = 0; i < rects.getLength(); i++) {
            String id = ((Element) rects.item(i)).getAttribute("id");
            if (id.startsWith("block-")) {
                ids.add(id);
            }
        }
        for (int t = 0; t < timelines.size(); t++) {
            List<List<Timeline.Block>> blocks = timelines.get(t).blocks();
            for (int r = 0; r < blocks.size(); r++) {
                for (int i = 0; i < blocks.get(r).size(); i++) {
                    assertTrue(ids.remove("block-" + t + "-" + r + "-" + i), "rect of block " + t + "/" + r + "/" + i);
                }
            }
        }
        assertTrue(ids.isEmpty(), "no rect for a block that does not exist: " + ids);
    }

    @Test
    void titlesNameTheSchedulesWithMakespanAndBubble() throws Exception {
        List<Timeline> timelines = dualPipeAnd1F1B();
        List<String> texts = texts(parse(TimelineSvg.write(dir.resolve("t.svg"), timelines)));
        assertTrue(texts.contains("DualPipe: 4 ranks, 8 micro-batches (4 each way), train_plain"), texts.toString());
        assertTrue(texts.contains("1F1B: 4 stages, 8 micro-batches, training"), texts.toString());
        for (Timeline tl : timelines) {
            String summary = "makespan " + TimelineSvg.number(tl.makespan()) + ", max bubble " + TimelineSvg.number(tl.maxBubble());
            assertTrue(texts.stream().anyMatch(s -> s.startsWith(summary)), summary + " in " + texts);
        }
        // The XML escaping of "F&B" held, or the parse above would have failed; the text reads as written.
        assertTrue(texts.stream().anyMatch(s -> s.endsWith("F&B 2.5")), texts.toString());
        assertTrue(texts.contains("rank 3"));
        assertTrue(texts.contains("time (cost units)"));
    }

    @Test
    void dualPipeVShowsItsStagesAndBothModules() {
        Timeline v = Timeline.simulate(PipelineSchedule.of(Variant.DUALPIPE_V, 2, 8, Mode.TRAIN_OVERLAPPED), Costs.typical());
        String svg = TimelineSvg.svg(List.of(v));
        assertTrue(svg.contains("DualPipeV: 2 ranks holding 4 stages, 8 micro-batches, train_overlapped"), svg);
        assertTrue(svg.contains("overlapped with the backward"), "an FB block's tooltip");
        assertTrue(svg.contains("backward for inputs (zero bubble: W later)"), "a zero-bubble B's tooltip");
    }

    @Test
    void aLongerScheduleIsDrawnLongerOnTheSharedScale() {
        List<Timeline> timelines = dualPipeAnd1F1B();
        assertTrue(timelines.get(1).makespan() > timelines.get(0).makespan(), "1F1B takes longer");
        // Each lane spans its timeline's makespan at the same scale, so their widths keep that ratio.
        String svg = TimelineSvg.svg(timelines);
        double scale = 1000 / timelines.get(1).makespan();
        assertTrue(svg.contains("width='" + timelines.get(0).makespan() * scale + "'"), "DualPipe's lane");
        assertTrue(svg.contains("width='1000.0'"), "1F1B's lane fills the plot");
    }

    @Test
    void badArgumentsAreRefusedBeforeWriting() {
        Path out = dir.resolve("none.svg");
        assertThrows(IllegalArgumentException.class, () -> TimelineSvg.write(out, List.of()));
        List<Timeline> withNull = new ArrayList<>();
        withNull.add(null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TimelineSvg.write(out, withNull));
        assertTrue(e.getMessage().contains("timelines[0] is null"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void rendersWithoutADisplay() throws Exception {
        Path svg = TimelineSvg.write(dir.resolve("h.svg"), dualPipeAnd1F1B());
        assertEquals("true", System.getProperty("java.awt.headless"));
        assertTrue(java.awt.GraphicsEnvironment.isHeadless());
        assertTrue(Files.readString(svg, StandardCharsets.UTF_8).startsWith("<?xml"));
    }

    @Test
    void numbersAndTicksAreRound() {
        assertEquals("34", TimelineSvg.number(34.0));
        assertEquals("2.5", TimelineSvg.number(2.5));
        assertEquals("0.333", TimelineSvg.number(1.0 / 3));
        assertEquals(5, TimelineSvg.niceStep(3.4));
        assertEquals(2, TimelineSvg.niceStep(1.2));
        assertEquals(0.1, TimelineSvg.niceStep(0.1), 1e-12);
        assertEquals(10, TimelineSvg.niceStep(7));
    }
}
