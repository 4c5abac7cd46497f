package io.infra4j.dualpipe;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.SVGHints;

/**
 * Timelines drawn as SVG, stacked top to bottom on one time scale, so that a schedule that takes
 * longer is drawn longer: a row per rank, a block per compute op coloured by kind (F, B, zero-bubble
 * B, W, FB) and by direction or module (blue d=0, orange d=1), labelled with its chunk where it is
 * wide enough, and idle time left blank within the rank's lane. Each timeline has a title with its
 * makespan and largest bubble, and a time axis; a legend closes the picture. Every block is a
 * {@code <rect id="block-T-R-I">} (timeline T, rank R, I-th block) inside a group whose
 * {@code <title>} names the op and its times, which browsers show on hover.
 *
 * <p>Rendering needs no display: unless the JVM was told otherwise, this class turns on
 * {@code java.awt.headless} before any AWT class initialises.
 */
public final class TimelineSvg {
    static {
        // Must run before AWT's first use (this initialiser runs before any method of this class).
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private static final int LEFT = 64;
    private static final int PLOT = 1000;
    private static final int RIGHT = 96;
    private static final int WIDTH = LEFT + PLOT + RIGHT;
    private static final int TOP = 12;
    private static final int TITLE = 44;
    private static final int ROW = 20;
    private static final int ROW_GAP = 4;
    private static final int AXIS = 40;
    private static final int PANEL_GAP = 16;
    private static final int LEGEND = 86;

    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    private static final Font TEXT_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
    private static final Color INK = new Color(0x22, 0x22, 0x22);
    private static final Color GREY = new Color(0x88, 0x88, 0x88);
    private static final Color LANE = new Color(0xC8, 0xC8, 0xC8);

    /** The op kinds that take time, each with one colour per direction. */
    private enum Kind {
        F("F", "forward", 0xBBD7F0, 0xF9D3A9),
        B("B", "backward", 0x1F5FA8, 0xB5500E),
        BZ("B", "backward for inputs (zero bubble: W later)", 0x5B9BD5, 0xEC8A3A),
        W("W", "weight gradients deferred from a B", 0x8FA3B8, 0xB8A290);

        final String symbol;
        final String meaning;
        final Color[] colour;

        Kind(String symbol, String meaning, int d0, int d1) {
            this.symbol = symbol;
            this.meaning = meaning;
            this.colour = new Color[] {new Color(d0), new Color(d1)};
        }

        Color colour(int d) {
            return colour[d & 1];
        }
    }

    private TimelineSvg() {}

    /** Writes the SVG to {@code out} (parent folders are made); returns {@code out}. */
    public static Path write(Path out, List<Timeline> timelines) {
        String svg = svg(timelines); // draw before touching the file: a bad argument leaves nothing behind
        try {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(out, svg, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write timeline " + out + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** The SVG document: an XML declaration and the {@code <svg>} element. */
    public static String svg(List<Timeline> timelines) {
        if (timelines == null || timelines.isEmpty()) {
            throw new IllegalArgumentException("no timelines to draw");
        }
        double longest = 0;
        int height = TOP + LEGEND;
        for (int t = 0; t < timelines.size(); t++) {
            Timeline tl = timelines.get(t);
            if (tl == null) {
                throw new IllegalArgumentException("timelines[" + t + "] is null");
            }
            longest = Math.max(longest, tl.makespan());
            height += panelHeight(tl);
        }
        double scale = PLOT / Math.max(longest, Double.MIN_NORMAL);

        SVGGraphics2D g = new SVGGraphics2D(WIDTH, height);
        g.setColor(Color.WHITE);
        g.fill(new Rectangle2D.Double(0, 0, WIDTH, height));
        int y = TOP;
        for (int t = 0; t < timelines.size(); t++) {
            panel(g, t, timelines.get(t), y, scale);
            y += panelHeight(timelines.get(t));
        }
        legend(g, y);
        // No DOCTYPE (SVGUtils would add one): its DTD link makes XML parsers go online to read the file.
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + g.getSVGElement() + "\n";
    }

    private static int panelHeight(Timeline tl) {
        return TITLE + tl.schedule().numRanks() * (ROW + ROW_GAP) + AXIS + PANEL_GAP;
    }

    private static void panel(SVGGraphics2D g, int t, Timeline tl, int y0, double scale) {
        g.setRenderingHint(SVGHints.KEY_BEGIN_GROUP, "timeline-" + t);
        text(g, title(tl.schedule()), LEFT, y0 + 16, TITLE_FONT, INK);
        text(g, summary(tl), LEFT, y0 + 34, TEXT_FONT, INK);
        int ranks = tl.schedule().numRanks();
        for (int r = 0; r < ranks; r++) {
            int rowY = y0 + TITLE + r * (ROW + ROW_GAP);
            String name = "rank " + r;
            text(g, name, LEFT - 8 - width(g, name, TEXT_FONT), rowY + ROW - 6, TEXT_FONT, INK);
            // The lane spans the makespan: whatever of it no block covers is this rank's bubble.
            g.setColor(LANE);
            g.setStroke(new BasicStroke(0.8f));
            g.draw(new Rectangle2D.Double(LEFT, rowY, tl.makespan() * scale, ROW));
            List<Timeline.Block> blocks = tl.blocks().get(r);
            for (int i = 0; i < blocks.size(); i++) {
                block(g, "block-" + t + "-" + r + "-" + i, blocks.get(i), LEFT, rowY, scale);
            }
            text(g, "idle " + number(tl.bubble(r)), LEFT + tl.makespan() * scale + 8, rowY + ROW - 6, TEXT_FONT, GREY);
        }
        axis(g, y0 + TITLE + ranks * (ROW + ROW_GAP) + 2, tl.makespan(), scale);
        g.setRenderingHint(SVGHints.KEY_END_GROUP, "timeline-" + t);
    }

    /** "DualPipeV: 2 ranks holding 4 stages, 8 micro-batches, train_plain"; "1F1B: 4 stages, 8 micro-batches, training". */
    static String title(PipelineSchedule s) {
        String shape = switch (s.kind()) {
            case DUALPIPE -> s.numRanks() + " ranks, " + s.numChunks() + " micro-batches ("
                    + s.chunksPerDirection() + " each way)";
            case DUALPIPE_V -> s.numRanks() + (s.numRanks() == 1 ? " rank" : " ranks") + " holding " + 2 * s.numRanks()
                    + " stages, " + s.numChunks() + " micro-batches";
            case ONE_F_ONE_B, ZB1P -> s.numRanks() + (s.numRanks() == 1 ? " stage, " : " stages, ") + s.numChunks()
                    + " micro-batches";
        };
        // The comparison schedules have no overlap to speak of: only training or not matters to them.
        String mode = switch (s.kind()) {
            case DUALPIPE, DUALPIPE_V -> s.mode().upstreamName();
            case ONE_F_ONE_B, ZB1P -> s.mode().training() ? "training" : "inference";
        };
        return s.kind().label() + ": " + shape + ", " + mode;
    }

    /** "makespan 34, max bubble 6 (rank 0); costs F 1, B 2, W 1, F&B 2.5". */
    static String summary(Timeline tl) {
        int worst = 0;
        for (int r = 1; r < tl.schedule().numRanks(); r++) {
            if (tl.bubble(r) > tl.bubble(worst)) {
                worst = r;
            }
        }
        Costs k = tl.costs();
        return "makespan " + number(tl.makespan()) + ", max bubble " + number(tl.maxBubble()) + " (rank " + worst
                + "); costs F " + number(k.f()) + ", B " + number(k.b()) + ", W " + number(k.w()) + ", F&B " + number(k.fb());
    }

    private static void block(SVGGraphics2D g, String id, Timeline.Block b, double x0, double y, double scale) {
        double x = x0 + b.start() * scale;
        double w = (b.end() - b.start()) * scale;
        // A hairline of white between neighbours, where the block is wide enough to spare it.
        double inset = w > 3 ? 0.5 : 0;
        Rectangle2D box = new Rectangle2D.Double(x + inset, y, w - 2 * inset, ROW);
        g.setRenderingHint(SVGHints.KEY_BEGIN_GROUP, "op-" + id.substring("block-".length()));
        g.setRenderingHint(SVGHints.KEY_ELEMENT_TITLE, describe(b.op()) + " from " + number(b.start()) + " to "
                + number(b.end()));
        String label;
        Color labelBackground;
        g.setRenderingHint(SVGHints.KEY_ELEMENT_ID, id);
        switch (b.op()) {
            case Op.ForwardBackward fb -> {
                // Top half the forward, bottom half the backward, each in its own direction's colour.
                g.setColor(Kind.F.colour(fb.d0()));
                g.fill(box);
                g.setColor(Kind.B.colour(fb.d1()));
                g.fill(new Rectangle2D.Double(box.getX(), y + ROW / 2.0, box.getWidth(), ROW / 2.0));
                label = fb.c0() + "|" + fb.c1();
                labelBackground = Kind.F.colour(fb.d0());
            }
            default -> {
                Kind kind = kind(b.op());
                g.setColor(kind.colour(direction(b.op())));
                g.fill(box);
                label = Integer.toString(chunk(b.op()));
                labelBackground = kind.colour(direction(b.op()));
            }
        }
        int labelWidth = width(g, label, LABEL_FONT);
        if (labelWidth + 4 <= box.getWidth()) {
            // An FB label sits in the forward's (top) half, the others in the middle.
            double baseline = b.op() instanceof Op.ForwardBackward ? y + ROW / 2.0 - 1.5 : y + ROW / 2.0 + 3.5;
            text(g, label, box.getCenterX() - labelWidth / 2.0, baseline, LABEL_FONT, readableOn(labelBackground));
        }
        g.setRenderingHint(SVGHints.KEY_END_GROUP, "op");
    }

    private static Kind kind(Op op) {
        return switch (op) {
            case Op.Forward x -> Kind.F;
            case Op.Backward x -> x.zeroBubble() ? Kind.BZ : Kind.B;
            case Op.Weight x -> Kind.W;
            default -> throw new IllegalArgumentException("not a single compute op: " + op);
        };
    }

    private static int direction(Op op) {
        return switch (op) {
            case Op.Forward x -> x.d();
            case Op.Backward x -> x.d();
            case Op.Weight x -> x.d();
            default -> 0;
        };
    }

    private static int chunk(Op op) {
        return switch (op) {
            case Op.Forward x -> x.c();
            case Op.Backward x -> x.c();
            case Op.Weight x -> x.c();
            default -> -1;
        };
    }

    /** The tooltip's words for an op: "forward of chunk 3, d=0". */
    private static String describe(Op op) {
        return switch (op) {
            case Op.ForwardBackward x -> "forward of chunk " + x.c0() + " (d=" + x.d0() + ") overlapped with the backward of chunk "
                    + x.c1() + " (d=" + x.d1() + ")";
            default -> kind(op).meaning + " of chunk " + chunk(op) + ", d=" + direction(op);
        };
    }

    /** Ticks at a round step (1, 2 or 5 times a power of ten), about ten of them over the longest makespan. */
    private static void axis(SVGGraphics2D g, double y, double makespan, double scale) {
        double end = PLOT / scale;
        double step = niceStep(end / 10);
        g.setColor(GREY);
        g.setStroke(new BasicStroke(1f));
        g.draw(new Line2D.Double(LEFT, y, LEFT + PLOT, y));
        for (int i = 0; i * step <= end * (1 + 1e-9); i++) {
            double x = LEFT + i * step * scale;
            g.setColor(GREY);
            g.draw(new Line2D.Double(x, y, x, y + 4));
            String label = number(i * step);
            text(g, label, x - width(g, label, LABEL_FONT) / 2.0, y + 15, LABEL_FONT, GREY);
        }
        g.setColor(INK);
        double m = LEFT + makespan * scale;
        g.draw(new Line2D.Double(m, y - 2, m, y + 6)); // where this timeline ends
        text(g, "time (cost units)", LEFT, y + 30, LABEL_FONT, GREY);
    }

    static double niceStep(double raw) {
        if (!(raw > 0)) {
            return 1;
        }
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 5}) {
            if (m * magnitude >= raw) {
                return m * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static void legend(SVGGraphics2D g, int y0) {
        g.setRenderingHint(SVGHints.KEY_BEGIN_GROUP, "legend");
        int sw = 22;
        int x = LEFT;
        for (int d = 0; d < 2; d++) {
            int y = y0 + d * 22;
            text(g, "d=" + d, x - 8 - width(g, "d=" + d, TEXT_FONT), y + 12, TEXT_FONT, INK);
            int cx = x;
            for (Kind k : Kind.values()) {
                g.setColor(k.colour(d));
                g.fill(new Rectangle2D.Double(cx, y, sw, 16));
                String words = k == Kind.BZ ? "B for inputs (W later)" : k.symbol + " " + (k == Kind.W ? "weight gradients" : k.meaning);
                text(g, words, cx + sw + 6, y + 12, TEXT_FONT, INK);
                cx += sw + 6 + width(g, words, TEXT_FONT) + 20;
            }
            if (d == 0) {
                // FB: the forward of one direction over the backward of the other, as in the rows above.
                g.setColor(Kind.F.colour(0));
                g.fill(new Rectangle2D.Double(cx, y, sw, 8));
                g.setColor(Kind.B.colour(1));
                g.fill(new Rectangle2D.Double(cx, y + 8, sw, 8));
                text(g, "FB forward (top) and backward (bottom) overlapped", cx + sw + 6, y + 12, TEXT_FONT, INK);
            } else {
                g.setColor(LANE);
                g.setStroke(new BasicStroke(0.8f));
                g.draw(new Rectangle2D.Double(cx, y, sw, 16));
                text(g, "blank: idle (bubble)", cx + sw + 6, y + 12, TEXT_FONT, INK);
            }
        }
        text(g, "d: direction (DualPipe), module (DualPipeV); 1F1B and ZB1P have d=0 only. Labels: chunk (FB: forward|backward)."
                + " Communication is taken as free.", x, y0 + 62, LABEL_FONT, GREY);
        g.setRenderingHint(SVGHints.KEY_END_GROUP, "legend");
    }

    private static void text(SVGGraphics2D g, String s, double x, double y, Font font, Color colour) {
        g.setFont(font);
        g.setColor(colour);
        g.drawString(s, (float) x, (float) y);
    }

    private static int width(SVGGraphics2D g, String s, Font font) {
        return g.getFontMetrics(font).stringWidth(s);
    }

    /** Black on light fills, white on dark ones. */
    private static Color readableOn(Color fill) {
        double luminance = 0.299 * fill.getRed() + 0.587 * fill.getGreen() + 0.114 * fill.getBlue();
        return luminance > 140 ? INK : Color.WHITE;
    }

    /** 3 decimals at most, trailing zeros dropped: 34, 2.5, 0.333. */
    static String number(double v) {
        return BigDecimal.valueOf(v).setScale(3, RoundingMode.HALF_EVEN).stripTrailingZeros().toPlainString();
    }
}
