package io.infra4j.eplb;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.svg.SVGGraphics2D;

/**
 * A bar chart of each GPU's load summed over layers, before and after a plan, with the mean as a
 * line (the same for both: a plan only moves load). Written as SVG (JFreeSVG) or PNG, told by the
 * file's extension. Rendering needs no display: unless the JVM was told otherwise, this class turns
 * on {@code java.awt.headless} before any AWT class initialises.
 */
public final class LoadChart {
    static {
        // Must run before AWT's first use (this initialiser runs before any method of this class).
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    public static final int HEIGHT = 560;
    private static final Color BEFORE = new Color(0xE0, 0x8A, 0x3C);
    private static final Color AFTER = new Color(0x2F, 0x6E, 0xBA);

    private LoadChart() {}

    /** File formats, by extension. */
    public enum Format {
        SVG, PNG;

        /** The format of {@code file}'s extension; anything but .svg and .png is refused. */
        public static Format of(Path file) {
            String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".svg")) {
                return SVG;
            }
            if (name.endsWith(".png")) {
                return PNG;
            }
            throw new IllegalArgumentException("chart file " + file + ": expected a name ending in .svg or .png");
        }
    }

    /** Wide enough that each GPU's two bars stay readable: 144 GPUs get about 3000 pixels. */
    public static int width(int gpus) {
        return Math.max(900, 160 + 20 * gpus);
    }

    /** Writes the chart to {@code file} (parent folders are made); returns the file. */
    public static Path write(LoadReport report, Path file) {
        Format format = Format.of(file); // refuse a bad name before any work
        JFreeChart chart = chart(report);
        int w = width(report.gpus());
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            switch (format) {
                case SVG -> {
                    SVGGraphics2D g2 = new SVGGraphics2D(w, HEIGHT);
                    chart.draw(g2, new Rectangle(w, HEIGHT));
                    // No DOCTYPE (SVGUtils would add one): its DTD link makes XML parsers go online to read the file.
                    Files.writeString(file, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + g2.getSVGElement() + "\n",
                            StandardCharsets.UTF_8);
                }
                case PNG -> ChartUtils.saveChartAsPNG(file.toFile(), chart, w, HEIGHT);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write chart " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /** The chart itself, for callers that render it elsewhere. */
    public static JFreeChart chart(LoadReport report) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        double[] before = report.before().gpuTotals();
        double[] after = report.after().gpuTotals();
        for (int g = 0; g < report.gpus(); g++) {
            String gpu = Integer.toString(g);
            data.addValue(before[g], "before", gpu);
            data.addValue(after[g], "after", gpu);
        }
        JFreeChart chart = ChartFactory.createBarChart("Load per GPU, before and after EPLB",
                "GPU (" + report.nodes() + (report.nodes() == 1 ? " node)" : " nodes)"),
                "load, summed over " + report.layers() + (report.layers() == 1 ? " layer" : " layers"), data);
        chart.setBackgroundPaint(Color.WHITE);
        Font small = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
        chart.addSubtitle(new TextTitle(String.format(Locale.ROOT, "%d layers, %d experts, %d replicas on %d GPUs in %d nodes",
                report.layers(), report.experts(), report.replicas(), report.gpus(), report.nodes()), small));
        chart.addSubtitle(new TextTitle(imbalance(report), small));

        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
        BarRenderer bars = (BarRenderer) plot.getRenderer();
        bars.setBarPainter(new StandardBarPainter()); // flat bars: gradients only blur small differences
        bars.setShadowVisible(false);
        bars.setItemMargin(0.02);
        bars.setSeriesPaint(0, BEFORE);
        bars.setSeriesPaint(1, AFTER);

        CategoryAxis axis = plot.getDomainAxis();
        axis.setCategoryMargin(0.15);
        axis.setLowerMargin(0.005);
        axis.setUpperMargin(0.005);
        if (report.gpus() > 32) {
            axis.setCategoryLabelPositions(CategoryLabelPositions.UP_90);
            axis.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 9));
        }

        double mean = report.totalLoad() / report.gpus();
        ValueMarker line = new ValueMarker(mean, Color.DARK_GRAY, new BasicStroke(1.5f, BasicStroke.CAP_BUTT,
                BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        line.setLabel("mean " + format(mean));
        line.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        line.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        line.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
        plot.addRangeMarker(line);
        return chart;
    }

    private static String imbalance(LoadReport r) {
        return String.format(Locale.ROOT, "imbalance (max/mean, mean over layers): GPU %.3f -> %.3f, node %.3f -> %.3f",
                r.before().meanGpuImbalance(), r.after().meanGpuImbalance(),
                r.before().meanNodeImbalance(), r.after().meanNodeImbalance());
    }

    private static String format(double v) {
        return Math.abs(v) >= 1e6 || (v != 0 && Math.abs(v) < 1e-2) ? String.format(Locale.ROOT, "%.3g", v)
                : String.format(Locale.ROOT, "%,.1f", v);
    }
}
