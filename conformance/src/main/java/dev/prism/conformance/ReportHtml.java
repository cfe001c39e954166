package dev.prism.conformance;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The HTML rendering of a {@link Report}: one self-contained page (no scripts, no external
 * files) with the matrix of conformance groups by targets as a chart, an inline SVG written
 * here (conformance depends on nothing that draws charts, and perf-lab, which does, depends on
 * conformance), then the same numbers as a table, the failures case by case, the skips by
 * reason and the files that were not read.
 *
 * <p>Each cell of the chart is a bar split into passed (green), failed (red) and skipped
 * (grey) in proportion to its cases, labelled passed/failed/skipped.
 */
final class ReportHtml {
    private static final int LABEL_W = 110;
    private static final int CELL_W = 150;
    private static final int CELL_H = 26;
    private static final int HEAD_H = 46;
    private static final int GAP = 6;
    private static final String PASS = "#2e9a4a";
    private static final String FAIL = "#d0342c";
    private static final String SKIP = "#b4b8bd";

    private ReportHtml() {
    }

    static String render(Report report, List<String> targets, List<KnownDifferences.Entry> stale) {
        Map<String, Map<String, Report.Tally>> m = report.byTargetAndGroup();
        Map<String, Report.Tally> totals = report.byTarget();
        List<String> groups = report.groups();
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Prism conformance</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}")
                .append("td.l,th.l{text-align:left}.fail{color:").append(FAIL).append("}code{font-size:90%}</style>\n</head>\n<body>\n")
                .append("<h1>Prism conformance</h1>\n<p>Cases per conformance group and target: passed / failed / skipped. ")
                .append("Failed counts errors too.</p>\n");
        sb.append(chart(targets, groups, m, totals));
        sb.append("<h2>Matrix</h2>\n<table>\n<tr><th class=\"l\">group</th>");
        targets.forEach(t -> sb.append("<th>").append(Report.xml(t)).append("</th>"));
        sb.append("</tr>\n");
        for (String g : groups) {
            sb.append("<tr><td class=\"l\">").append(Report.xml(g)).append("</td>");
            targets.forEach(t -> sb.append("<td>").append(m.get(t).get(g).cell()).append("</td>"));
            sb.append("</tr>\n");
        }
        sb.append("<tr><th class=\"l\">total</th>");
        targets.forEach(t -> sb.append("<th>").append(totals.get(t).cell()).append("</th>"));
        sb.append("</tr>\n</table>\n");

        List<CaseResult> failures = report.results().stream()
                .filter(r -> r.status() == Status.FAIL || r.status() == Status.ERROR).toList();
        if (!failures.isEmpty()) {
            sb.append("<h2 class=\"fail\">Failures (").append(failures.size()).append(")</h2>\n<table>\n")
                    .append("<tr><th class=\"l\">case</th><th class=\"l\">target</th><th class=\"l\">expected</th>")
                    .append("<th class=\"l\">actual</th><th class=\"l\">message</th></tr>\n");
            for (CaseResult r : failures) {
                sb.append("<tr><td class=\"l\"><code>").append(Report.xml(r.testCase().name())).append("</code></td><td class=\"l\">")
                        .append(Report.xml(r.target())).append("</td><td class=\"l\">").append(Report.xml(r.expected()))
                        .append("</td><td class=\"l\">").append(Report.xml(Report.oneLine(r.actual())))
                        .append("</td><td class=\"l\">").append(Report.xml(Report.oneLine(r.message()))).append("</td></tr>\n");
            }
            sb.append("</table>\n");
        }
        Map<String, List<String>> skips = new LinkedHashMap<>();
        for (CaseResult r : report.results()) {
            if (r.status() == Status.SKIP) {
                String reason = r.message().startsWith("known difference: ")
                        ? r.message().replaceFirst("(?s) \\[.*$", "") : Report.oneLine(r.message());
                skips.computeIfAbsent("[" + r.target() + "] " + reason, k -> new ArrayList<>()).add(r.testCase().name());
            }
        }
        if (!skips.isEmpty()) {
            sb.append("<h2>Skipped</h2>\n<ul>\n");
            skips.forEach((reason, cases) -> sb.append("<li>").append(Report.xml(reason)).append(" (").append(cases.size())
                    .append("): <code>").append(Report.xml(String.join(" ", cases))).append("</code></li>\n"));
            sb.append("</ul>\n");
        }
        if (!report.unread().isEmpty()) {
            sb.append("<h2>Files not read</h2>\n<ul>\n");
            report.unread().forEach(u -> sb.append("<li>").append(u.skipped() ? "skipped: " : "<span class=\"fail\">error</span>: ")
                    .append(Report.xml(u.message())).append("</li>\n"));
            sb.append("</ul>\n");
        }
        if (!stale.isEmpty()) {
            sb.append("<h2>Stale known differences</h2>\n<ul>\n");
            stale.forEach(e -> sb.append("<li>known-differences line ").append(e.line()).append(": ")
                    .append(Report.xml(e.target() + " " + e.glob())).append("</li>\n"));
            sb.append("</ul>\n");
        }
        return sb.append("</body>\n</html>\n").toString();
    }

    /** The matrix chart: a row per group (and the total), a column per target. */
    private static String chart(List<String> targets, List<String> groups, Map<String, Map<String, Report.Tally>> m,
                                Map<String, Report.Tally> totals) {
        int rows = groups.size() + 1;
        int width = LABEL_W + targets.size() * (CELL_W + GAP) + GAP;
        int height = HEAD_H + rows * (CELL_H + GAP) + 30;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"conformance matrix\">%n", width, height, width, height));
        for (int c = 0; c < targets.size(); c++) {
            int x = LABEL_W + c * (CELL_W + GAP) + CELL_W / 2;
            sb.append(String.format("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>%n",
                    x, HEAD_H - 12, Report.xml(shorten(targets.get(c)))));
        }
        for (int r = 0; r < rows; r++) {
            boolean total = r == groups.size();
            String g = total ? "total" : groups.get(r);
            int y = HEAD_H + r * (CELL_H + GAP);
            sb.append(String.format("<text x=\"%d\" y=\"%d\" text-anchor=\"end\"%s>%s</text>%n", LABEL_W - 8, y + CELL_H / 2 + 4,
                    total ? " font-weight=\"bold\"" : "", Report.xml(g)));
            for (int c = 0; c < targets.size(); c++) {
                Report.Tally t = total ? totals.get(targets.get(c)) : m.get(targets.get(c)).get(g);
                sb.append(cell(LABEL_W + c * (CELL_W + GAP), y, t));
            }
        }
        int ly = HEAD_H + rows * (CELL_H + GAP) + 12;
        int lx = LABEL_W;
        for (String[] key : new String[][] {{PASS, "passed"}, {FAIL, "failed"}, {SKIP, "skipped"}}) {
            sb.append(String.format("<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>%n",
                    lx, ly - 10, key[0], lx + 16, ly, key[1]));
            lx += 90;
        }
        return sb.append("</svg>\n").toString();
    }

    private static String cell(int x, int y, Report.Tally t) {
        int pass = t.get(Status.PASS);
        int fail = t.get(Status.FAIL) + t.get(Status.ERROR);
        int skip = t.get(Status.SKIP);
        int all = pass + fail + skip;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("<g><title>%d passed, %d failed, %d skipped</title>%n", pass, fail, skip));
        sb.append(String.format("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f4f4f4\" stroke=\"#ddd\"/>%n", x, y, CELL_W, CELL_H));
        if (all > 0) {
            double at = x;
            for (Object[] part : new Object[][] {{pass, PASS}, {fail, FAIL}, {skip, SKIP}}) {
                int n = (Integer) part[0];
                if (n > 0) {
                    double w = (double) CELL_W * n / all;
                    sb.append(String.format(java.util.Locale.ROOT, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"/>%n",
                            at, y, w, CELL_H, part[1]));
                    at += w;
                }
            }
        }
        // dark text with a white halo reads on every segment colour
        sb.append(String.format("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"3\" "
                + "paint-order=\"stroke\">%s</text>%n</g>%n", x + CELL_W / 2, y + CELL_H / 2 + 4, all == 0 ? "#888" : "#111",
                all == 0 ? "-" : t.cell()));
        return sb.toString();
    }

    /** Long target names (plugin commands) are cut to fit a column; the table has them whole. */
    private static String shorten(String target) {
        return target.length() <= 22 ? target : target.substring(0, 10) + "\u2026" + target.substring(target.length() - 10);
    }
}
