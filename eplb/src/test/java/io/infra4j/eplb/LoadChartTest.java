package io.infra4j.eplb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

class LoadChartTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @TempDir
    Path dir;

    @Test
    void svgIsXmlWithTheTitleAndFigures() throws Exception {
        Path svg = LoadChart.write(LoadStatsTest.readme(), dir.resolve("load.svg"));
        String text = Files.readString(svg, StandardCharsets.UTF_8);
        assertTrue(text.contains("<svg"), text);
        assertTrue(text.contains("Load per GPU, before and after EPLB"), "title");
        assertTrue(text.contains("GPU 2.116 -&gt; 1.225") || text.contains("GPU 2.116 -> 1.225"), "imbalance figures");
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", doc.getDocumentElement().getNodeName());
        assertEquals(LoadChart.width(8), Double.parseDouble(doc.getDocumentElement().getAttribute("width")));
    }

    @Test
    void pngStartsWithItsMagic() throws Exception {
        Path png = LoadChart.write(LoadStatsTest.readme(), dir.resolve("sub/dir/load.PNG"));
        byte[] bytes = Files.readAllBytes(png);
        assertTrue(bytes.length > 1000, "a real image");
        assertArrayEquals(PNG_MAGIC, Arrays.copyOf(bytes, 8));
    }

    @Test
    void manyGpusMakeAWideChart() throws Exception {
        // DeepSeek-V3's deployment shape: 256 experts, 288 replicas on 144 GPUs in 18 nodes.
        Random random = new Random(1);
        float[][] w = new float[3][256];
        for (float[] row : w) {
            for (int e = 0; e < row.length; e++) {
                row[e] = (float) Math.exp(random.nextGaussian()) * 100;
            }
        }
        LoadReport r = LoadStats.of(w, Eplb.rebalance(w, 288, 8, 18, 144), 18, 144);
        assertTrue(LoadChart.width(144) >= 144 * 20, "two bars per GPU need room");
        Path svg = LoadChart.write(r, dir.resolve("wide.svg"));
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile());
        assertEquals(LoadChart.width(144), Double.parseDouble(doc.getDocumentElement().getAttribute("width")));
    }

    @Test
    void otherExtensionsAreRefusedBeforeAnyWork() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoadChart.write(LoadStatsTest.readme(), dir.resolve("load.jpg")));
        assertTrue(e.getMessage().contains("expected a name ending in .svg or .png"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("load.jpg")));
        assertEquals(LoadChart.Format.SVG, LoadChart.Format.of(Path.of("x.SVG")));
    }

    @Test
    void rendersWithoutADisplay() {
        LoadChart.chart(LoadStatsTest.readme()); // loads the class: headless is set by now, unless told otherwise
        assertTrue(java.awt.GraphicsEnvironment.isHeadless());
    }
}
