package dev.prism.perf.report;

import dev.prism.perf.BenchResult;
import dev.prism.perf.report.Tables.Table;
import java.util.List;

/** A comparison as GitHub-flavoured Markdown: the method, then one table per packet, the summaries. */
public final class MarkdownReport {
    private MarkdownReport() {
    }

    /** {@return the report} */
    public static String render(BenchResult r) {
        StringBuilder sb = new StringBuilder("# prism bench\n\n");
        for (String line : Tables.preamble(r)) {
            sb.append(line).append("\n\n");
        }
        for (Table t : Tables.runs(r)) {
            table(sb, t);
        }
        if (r.hasBaseline()) {
            table(sb, Tables.geomeans(r));
        }
        table(sb, Tables.floors(r));
        Table clocks = Tables.linuxClocks(r);
        if (clocks != null) {
            table(sb, clocks);
        }
        table(sb, Tables.compile(r));
        return sb.toString().stripTrailing() + "\n";
    }

    private static void table(StringBuilder sb, Table t) {
        sb.append("## ").append(t.title()).append("\n\n");
        if (!t.intro().isEmpty()) {
            sb.append(t.intro()).append("\n\n");
        }
        row(sb, t.header());
        sb.append('|');
        for (boolean numeric : t.numeric()) {
            sb.append(numeric ? "---:|" : "---|");
        }
        sb.append('\n');
        t.rows().forEach(row -> row(sb, row));
        sb.append('\n');
    }

    private static void row(StringBuilder sb, List<String> cells) {
        sb.append('|');
        for (String c : cells) {
            sb.append(' ').append(escape(c)).append(" |");
        }
        sb.append('\n');
    }

    /** A cell holds one line; a '|' in a target's message would end it. */
    static String escape(String cell) {
        return cell.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", " ");
    }
}
