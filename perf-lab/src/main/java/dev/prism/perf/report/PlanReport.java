package dev.prism.perf.report;

import dev.prism.plan.Plan;
import dev.prism.target.Reason;
import java.awt.Color;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * {@code prism plan --html}: per program, a bar chart of the estimated ns per run on each
 * target that can take it (log scale), and the table of verdicts, reasons and code sizes.
 */
public final class PlanReport {
    private static final String STYLE = """
            body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
            table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }
            th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
            th { background: #f3f3f3; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            td.refused { color: #a00; }
            p.meta { color: #444; }
            ul { margin: 0; padding-left: 1.2em; }
            """;

    private PlanReport() {
    }

    /** {@return the page for these plans, charts as SVG} */
    public static String render(List<Plan> plans) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>prism plan</title>\n<style>\n")
                .append(STYLE).append("</style>\n</head>\n<body>\n<h1>prism plan</h1>\n");
        for (Plan p : plans) {
            sb.append("<h2>").append(HtmlReport.escape(p.program())).append(p.section().isEmpty() ? ""
                    : " <small>(section " + HtmlReport.escape(p.section()) + ")</small>").append("</h2>\n");
            sb.append("<p class=\"meta\">").append(p.instructions()).append(" instructions; costs: ")
                    .append(HtmlReport.escape(p.calibration())).append("; executed instructions: ")
                    .append(HtmlReport.escape(p.profile())).append("</p>\n");
            if (p.rejected() != null) {
                sb.append("<p>rejected by the verifier: ").append(HtmlReport.escape(p.rejected())).append("</p>\n");
            }
            chart(p).ifPresent(c -> sb.append("<figure><img alt=\"estimated cost of ").append(HtmlReport.escape(p.program()))
                    .append("\" src=\"data:image/svg+xml;base64,")
                    .append(Base64.getEncoder().encodeToString(Charts.encode(c, Charts.Format.SVG))).append("\"></figure>\n"));
            sb.append("<table>\n<tr><th>target</th><th>verdict</th><th>est. ns/run</th><th>code</th><th>host</th>"
                    + "<th>reasons</th></tr>\n");
            for (Plan.Row r : p.rows()) {
                sb.append("<tr><td>").append(HtmlReport.escape(r.target())).append("</td><td")
                        .append(r.ok() ? ">ok" : " class=\"refused\">refused").append("</td><td class=\"num\">")
                        .append(Double.isNaN(r.estimatedNs()) ? "-" : String.format(Locale.ROOT, "%.1f", r.estimatedNs())
                                + (r.model().equals("calibrated") ? "" : " (uncalibrated)"))
                        .append("</td><td class=\"num\">").append(r.codeBytes() < 0 ? "-" : r.codeBytes() + " B "
                                + HtmlReport.escape(r.codeKind()))
                        .append("</td><td>").append(r.available() ? "runs here" : "not here: " + HtmlReport.escape(r.availability()))
                        .append("</td><td>");
                if (!r.verdict().reasons().isEmpty()) {
                    sb.append("<ul>");
                    for (Reason reason : r.verdict().reasons()) {
                        sb.append("<li><code>").append(HtmlReport.escape(reason.toString())).append("</code></li>");
                    }
                    sb.append("</ul>");
                }
                sb.append("</td></tr>\n");
            }
            sb.append("</table>\n");
        }
        return sb.append("</body>\n</html>\n").toString();
    }

    /** {@return the bar chart of estimated ns per run of the targets that take the program, when any does} */
    static java.util.Optional<CategoryChart> chart(Plan p) {
        List<String> names = new ArrayList<>();
        List<Double> ns = new ArrayList<>();
        for (Plan.Row r : p.rows()) {
            if (r.ok() && !Double.isNaN(r.estimatedNs())) {
                names.add(r.target());
                ns.add(Math.max(r.estimatedNs(), 0.01));
            }
        }
        if (names.isEmpty()) {
            return java.util.Optional.empty();
        }
        CategoryChart chart = new CategoryChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT)
                .title(p.program() + ": estimated cost per run").xAxisTitle("target").yAxisTitle("ns per run (log)").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setYAxisDecimalPattern("#,##0.##");
        chart.getStyler().setChartTitleBoxVisible(false);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        double min = ns.stream().mapToDouble(Double::doubleValue).min().orElse(1);
        double max = ns.stream().mapToDouble(Double::doubleValue).max().orElse(1);
        chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(min / 2))));
        chart.getStyler().setYAxisMax(Math.pow(10, Math.ceil(Math.log10(max * 1.0001))));
        chart.addSeries("estimated ns/run", names, ns);
        return java.util.Optional.of(chart);
    }
}
