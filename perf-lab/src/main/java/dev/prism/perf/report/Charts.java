package dev.prism.perf.report;

import dev.prism.perf.BenchResult;
import dev.prism.perf.BenchResult.PacketInfo;
import dev.prism.perf.BenchResult.ProgramResult;
import dev.prism.perf.BenchResult.Run;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;

/**
 * Bar charts of a comparison (XChart), as SVG (VectorGraphics2D) or PNG. Runs headless: the
 * charts are drawn into an off-screen Graphics2D, never a window.
 */
public final class Charts {
    /** Image formats a chart can be written in. */
    public enum Format { SVG, PNG }

    static {
        // First (static initializers run in order), before AWT reads it: no display is needed,
        // or wanted, to draw a chart.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    static final int WIDTH = 720;
    static final int HEIGHT = 340;
    /** One colour per target, in report order; repeats after the last. */
    private static final Color[] PALETTE = {
        new Color(0x4C72B0), new Color(0xDD8452), new Color(0x55A868), new Color(0xC44E52),
        new Color(0x8172B3), new Color(0x937860)};

    private Charts() {
    }

    /**
     * {@return a bar chart of {@code program}: per packet, each target's floor-corrected time
     * (log scale, so a kernel JIT and an interpreter fit on one axis)}, or empty when no target
     * has a corrected time
     */
    public static Optional<CategoryChart> program(BenchResult r, ProgramResult program) {
        List<String> packets = r.packets().stream().map(PacketInfo::label).toList();
        CategoryChart chart = base(program.name() + ": floor-corrected time per run", "packet", "ns per run (log scale)");
        boolean any = false;
        for (String target : Tables.measuredTargets(r)) {
            List<Double> values = new ArrayList<>();
            for (String packet : packets) {
                values.add(program.run(target, packet).map(Run::correctedNs).orElse(null));
            }
            if (values.stream().anyMatch(v -> v != null)) {
                chart.addSeries(target, packets, values).setFillColor(colour(r, target));
                any = true;
            }
        }
        logScale(chart);
        return any ? Optional.of(chart) : Optional.empty();
    }

    /** {@return a bar chart of the geometric means of the ratios, or empty without a baseline} */
    public static Optional<CategoryChart> geomeans(BenchResult r) {
        if (!r.hasBaseline()) {
            return Optional.empty();
        }
        List<String> packets = r.packets().stream().map(PacketInfo::label).toList();
        CategoryChart chart = base("geometric mean of floor-corrected ratios vs " + r.settings().baseline(), "packet",
                "× " + r.settings().baseline() + " (log scale)");
        for (String target : Tables.measuredTargets(r)) {
            List<Double> values = new ArrayList<>();
            for (String packet : packets) {
                values.add(r.geomean(target, packet).map(BenchResult.Geomean::ratio).orElse(null));
            }
            if (values.stream().anyMatch(v -> v != null)) {
                chart.addSeries(target, packets, values).setFillColor(colour(r, target));
            }
        }
        logScale(chart);
        return chart.getSeriesMap().isEmpty() ? Optional.empty() : Optional.of(chart);
    }

    /**
     * Makes the y axis logarithmic from the decade below the least value to the decade above
     * the greatest. XChart anchors bar charts at 0, which a log axis cannot show, unless the
     * range is set explicitly.
     */
    private static void logScale(CategoryChart chart) {
        double min = Double.MAX_VALUE;
        double max = 0;
        for (var series : chart.getSeriesMap().values()) {
            for (Number n : series.getYData()) {
                if (n != null && n.doubleValue() > 0) {
                    min = Math.min(min, n.doubleValue());
                    max = Math.max(max, n.doubleValue());
                }
            }
        }
        if (max == 0) {
            return;
        }
        CategoryStyler s = chart.getStyler();
        s.setYAxisLogarithmic(true);
        s.setYAxisLogarithmicDecadeOnly(true);
        // half the least value, so that its bar stays visible above the axis
        s.setYAxisMin(Math.pow(10, Math.floor(Math.log10(min / 2))));
        s.setYAxisMax(Math.pow(10, Math.ceil(Math.log10(max * 1.0001))));
    }

    private static CategoryChart base(String title, String x, String y) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y).build();
        CategoryStyler s = chart.getStyler();
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotGridLinesVisible(true);
        // Solid grid lines: VectorGraphics2D writes every dash of a dashed one as its own shape.
        s.setPlotGridLinesStroke(new BasicStroke(0.5f));
        s.setPlotGridLinesColor(new Color(0xDDDDDD));
        s.setYAxisDecimalPattern("#,##0.##");
        s.setChartTitleBoxVisible(false);
        s.setAvailableSpaceFill(0.8);
        return chart;
    }

    private static Color colour(BenchResult r, String target) {
        int i = r.targets().stream().map(BenchResult.TargetInfo::id).toList().indexOf(target);
        return PALETTE[Math.max(i, 0) % PALETTE.length];
    }

    /** {@return the chart as a standalone SVG document or PNG bytes} */
    public static byte[] encode(CategoryChart chart, Format format) {
        try {
            return switch (format) {
                case SVG -> {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    VectorGraphicsEncoder.saveVectorGraphic(chart, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
                    yield out.toByteArray();
                }
                case PNG -> BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            };
        } catch (IOException e) {
            // both write to memory
            throw new UncheckedIOException("cannot draw chart " + chart.getTitle(), e);
        }
    }

    /** {@return the SVG document as text} */
    public static String svg(CategoryChart chart) {
        return new String(encode(chart, Format.SVG), StandardCharsets.UTF_8);
    }
}
