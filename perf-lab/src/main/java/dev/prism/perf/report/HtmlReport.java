package dev.prism.perf.report;

import dev.prism.perf.BenchResult;
import dev.prism.perf.BenchResult.ProgramResult;
import dev.prism.perf.report.Tables.Table;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.knowm.xchart.CategoryChart;

/**
 * A comparison as one self-contained HTML page: the tables of the Markdown report, a bar chart
 * per program and one of the geometric means. Charts are embedded as data: URIs (SVG by
 * default), so each keeps its own element ids and the page needs no other file.
 */
public final class HtmlReport {
    private static final String STYLE = """
            body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
            table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }
            th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
            th { background: #f3f3f3; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            figure { margin: 0.5em 0 1.5em; }
            p.meta { color: #444; }
            code { background: #f3f3f3; padding: 0 0.2em; }
            """;

    private HtmlReport() {
    }

    /** {@return the page with SVG charts} */
    public static String render(BenchResult r) {
        return render(r, Charts.Format.SVG);
    }

    /** {@return the page, its charts in {@code format}} */
    public static String render(BenchResult r, Charts.Format format) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>prism bench</title>\n<style>\n")
                .append(STYLE).append("</style>\n</head>\n<body>\n<h1>prism bench</h1>\n");
        for (String line : Tables.preamble(r)) {
            sb.append("<p class=\"meta\">").append(inline(line)).append("</p>\n");
        }
        Optional<CategoryChart> summary = Charts.geomeans(r);
        if (summary.isPresent()) {
            table(sb, Tables.geomeans(r));
            figure(sb, summary.get(), format, "geometric means");
        }
        sb.append("<h2>Programs</h2>\n");
        for (ProgramResult p : r.programs()) {
            Optional<CategoryChart> chart = Charts.program(r, p);
            if (chart.isPresent()) {
                figure(sb, chart.get(), format, p.name());
            } else {
                sb.append("<p>").append(escape(p.name())).append(": no floor-corrected time to chart.</p>\n");
            }
        }
        for (Table t : Tables.runs(r)) {
            table(sb, t);
        }
        table(sb, Tables.floors(r));
        Table clocks = Tables.linuxClocks(r);
        if (clocks != null) {
            table(sb, clocks);
        }
        table(sb, Tables.compile(r));
        sb.append("</body>\n</html>\n");
        return sb.toString();
    }

    private static void figure(StringBuilder sb, CategoryChart chart, Charts.Format format, String alt) {
        String mime = format == Charts.Format.SVG ? "image/svg+xml" : "image/png";
        String data = Base64.getEncoder().encodeToString(Charts.encode(chart, format));
        sb.append("<figure><img class=\"chart\" alt=\"").append(escape(alt)).append("\" width=\"").append(Charts.WIDTH)
                .append("\" height=\"").append(Charts.HEIGHT).append("\" src=\"data:").append(mime).append(";base64,")
                .append(data).append("\"></figure>\n");
    }

    private static void table(StringBuilder sb, Table t) {
        sb.append("<h2 id=\"").append(Tables.anchor(t.title())).append("\">").append(inline(t.title())).append("</h2>\n");
        if (!t.intro().isEmpty()) {
            sb.append("<p>").append(inline(t.intro())).append("</p>\n");
        }
        sb.append("<table>\n<thead><tr>");
        for (String h : t.header()) {
            sb.append("<th>").append(escape(h)).append("</th>");
        }
        sb.append("</tr></thead>\n<tbody>\n");
        for (List<String> row : t.rows()) {
            sb.append("<tr>");
            for (int i = 0; i < row.size(); i++) {
                sb.append(t.numeric().get(i) ? "<td class=\"num\">" : "<td>").append(escape(row.get(i))).append("</td>");
            }
            sb.append("</tr>\n");
        }
        sb.append("</tbody>\n</table>\n");
    }

    /** {@return text escaped, with `code` spans as in the Markdown report} */
    private static String inline(String text) {
        String[] parts = text.split("`", -1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            sb.append(i % 2 == 1 && i < parts.length - 1 ? "<code>" + escape(parts[i]) + "</code>" : escape(parts[i]));
        }
        return sb.toString();
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
