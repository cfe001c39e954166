package dev.prism.conformance;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The results of a conformance run and their renderings: a text matrix of targets x groups,
 * JSON ({@code {"targets": {...}, "cases": [...]}}), JUnit XML and Markdown.
 */
public final class Report {
    private static final List<String> GROUP_ORDER = List.of(
            "base32", "base64", "atomic32", "atomic64", "divmul32", "divmul64", "packet", "callx", "malformed", "elf", "unread");

    /** The group files that could not be read are counted under, on every target. */
    public static final String UNREAD_GROUP = "unread";

    private final List<String> targets;
    private final List<CaseResult> results;
    private final List<KnownDifferences.Entry> stale;
    private final List<DataFileReader.Unread> unread;

    public Report(List<String> targets, List<CaseResult> results, List<KnownDifferences.Entry> stale) {
        this(targets, results, stale, List.of());
    }

    /**
     * @param unread files of the suites that are not cases: each counts once per target in group
     *               {@value #UNREAD_GROUP}, as skipped (an unknown directive, which bpf_conformance
     *               skips too) or failed (any other format error)
     */
    public Report(List<String> targets, List<CaseResult> results, List<KnownDifferences.Entry> stale,
                  List<DataFileReader.Unread> unread) {
        this.targets = List.copyOf(targets);
        this.results = List.copyOf(results);
        this.stale = List.copyOf(stale);
        this.unread = List.copyOf(unread);
    }

    /** {@return the files that were not read as cases} */
    public List<DataFileReader.Unread> unread() {
        return unread;
    }

    private static Status status(DataFileReader.Unread u) {
        return u.skipped() ? Status.SKIP : Status.ERROR;
    }

    public List<CaseResult> results() {
        return results;
    }

    /** {@return whether nothing failed or errored} */
    public boolean ok() {
        return results.stream().noneMatch(r -> r.status() == Status.FAIL || r.status() == Status.ERROR)
                && unread.stream().allMatch(DataFileReader.Unread::skipped);
    }

    /** Counts by status. */
    public static final class Tally {
        private final EnumMap<Status, Integer> counts = new EnumMap<>(Status.class);

        void add(Status s) {
            counts.merge(s, 1, Integer::sum);
        }

        public int get(Status s) {
            return counts.getOrDefault(s, 0);
        }

        /** {@return "p/f/s" with errors counted as failures} */
        public String cell() {
            return get(Status.PASS) + "/" + (get(Status.FAIL) + get(Status.ERROR)) + "/" + get(Status.SKIP);
        }

        Map<String, Integer> json() {
            Map<String, Integer> m = new LinkedHashMap<>();
            m.put("passed", get(Status.PASS));
            m.put("failed", get(Status.FAIL) + get(Status.ERROR));
            m.put("skipped", get(Status.SKIP));
            return m;
        }
    }

    /** {@return tallies per target, and per target and group} */
    public Map<String, Tally> byTarget() {
        Map<String, Tally> m = new LinkedHashMap<>();
        targets.forEach(t -> m.put(t, new Tally()));
        results.forEach(r -> m.get(r.target()).add(r.status()));
        unread.forEach(u -> m.values().forEach(t -> t.add(status(u))));
        return m;
    }

    /** {@return tallies per target and group, groups in registry order} */
    public Map<String, Map<String, Tally>> byTargetAndGroup() {
        Map<String, Map<String, Tally>> m = new LinkedHashMap<>();
        targets.forEach(t -> m.put(t, new LinkedHashMap<>()));
        for (String g : groups()) {
            targets.forEach(t -> m.get(t).put(g, new Tally()));
        }
        results.forEach(r -> m.get(r.target()).get(r.group()).add(r.status()));
        unread.forEach(u -> m.values().forEach(groups -> groups.get(UNREAD_GROUP).add(status(u))));
        return m;
    }

    /** {@return the groups present, in registry order, then others by name} */
    public List<String> groups() {
        TreeSet<String> present = new TreeSet<>();
        results.forEach(r -> present.add(r.group()));
        if (!unread.isEmpty()) {
            present.add(UNREAD_GROUP);
        }
        List<String> out = new ArrayList<>();
        GROUP_ORDER.stream().filter(present::contains).forEach(out::add);
        present.stream().filter(g -> !GROUP_ORDER.contains(g)).forEach(out::add);
        return out;
    }

    /** {@return the text report: the matrix (passed/failed/skipped per cell), then failures and skips} */
    public String text() {
        StringBuilder sb = new StringBuilder();
        Map<String, Map<String, Tally>> m = byTargetAndGroup();
        Map<String, Tally> totals = byTarget();
        List<String> groups = groups();
        int w0 = Math.max(9, groups.stream().mapToInt(String::length).max().orElse(0));
        List<String> labels = columnLabels();
        int w = Math.max(14, labels.stream().mapToInt(String::length).max().orElse(0) + 2);
        sb.append(String.format("%-" + w0 + "s", "group"));
        labels.forEach(t -> sb.append(String.format("%" + w + "s", t)));
        sb.append("      (passed/failed/skipped)\n");
        for (String g : groups) {
            sb.append(String.format("%-" + w0 + "s", g));
            targets.forEach(t -> sb.append(String.format("%" + w + "s", m.get(t).get(g).cell())));
            sb.append('\n');
        }
        sb.append(String.format("%-" + w0 + "s", "total"));
        targets.forEach(t -> sb.append(String.format("%" + w + "s", totals.get(t).cell())));
        sb.append('\n');
        for (int i = 0; i < targets.size(); i++) {
            if (!labels.get(i).equals(targets.get(i))) {
                sb.append(labels.get(i)).append(" = ").append(targets.get(i)).append('\n');
            }
        }
        appendList(sb, "failures", Status.FAIL, Status.ERROR);
        appendSkips(sb);
        if (!unread.isEmpty()) {
            sb.append("\nfiles not read (").append(unread.size()).append("):\n");
            unread.forEach(u -> sb.append("  ").append(u.skipped() ? "skipped: " : "error: ").append(oneLine(u.message())).append('\n'));
        }
        if (!stale.isEmpty()) {
            sb.append("\nstale known differences (the case now passes; remove the entry):\n");
            stale.forEach(e -> sb.append("  known-differences.txt:").append(e.line()).append(' ')
                    .append(e.target()).append(' ').append(e.glob()).append('\n'));
        }
        return sb.toString();
    }

    /** Column heads of the text matrix: a target id longer than {@value #LONG_ID} (a plugin's command) becomes "plugin#N", explained under the matrix. */
    List<String> columnLabels() {
        List<String> out = new ArrayList<>();
        int n = 0;
        for (String t : targets) {
            out.add(t.length() > LONG_ID ? (t.startsWith("plugin:") ? "plugin" : "target") + "#" + (++n) : t);
        }
        return out;
    }

    private static final int LONG_ID = 24;

    /** {@return target id to its column head} */
    private Map<String, String> labels() {
        Map<String, String> m = new LinkedHashMap<>();
        List<String> heads = columnLabels();
        for (int i = 0; i < targets.size(); i++) {
            m.put(targets.get(i), heads.get(i));
        }
        return m;
    }

    private void appendList(StringBuilder sb, String title, Status... statuses) {
        List<CaseResult> list = results.stream().filter(r -> List.of(statuses).contains(r.status())).toList();
        if (list.isEmpty()) {
            return;
        }
        sb.append('\n').append(title).append(" (").append(list.size()).append("):\n");
        Map<String, String> label = labels();
        for (CaseResult r : list) {
            sb.append("  ").append(r.testCase().name()).append(" [").append(label.get(r.target())).append("] ")
                    .append(oneLine(r.message())).append('\n');
        }
    }

    /** Skips are grouped by target and reason: a hundred "unavailable" lines help nobody. */
    private void appendSkips(StringBuilder sb) {
        Map<String, List<String>> byReason = new LinkedHashMap<>();
        Map<String, String> label = labels();
        for (CaseResult r : results) {
            if (r.status() == Status.SKIP) {
                String reason = r.message().startsWith("known difference: ")
                        ? r.message().replaceFirst("(?s) \\[.*$", "") : oneLine(r.message());
                byReason.computeIfAbsent("[" + label.get(r.target()) + "] " + reason, k -> new ArrayList<>()).add(r.testCase().name());
            }
        }
        if (byReason.isEmpty()) {
            return;
        }
        sb.append("\nskipped:\n");
        byReason.forEach((reason, cases) -> {
            sb.append("  ").append(reason).append(" (").append(cases.size()).append(")\n");
            if (cases.size() <= 12) {
                cases.forEach(c -> sb.append("      ").append(c).append('\n'));
            }
        });
    }

    static String oneLine(String s) {
        String t = s.replace('\n', ' ').replaceAll("\\s+", " ").strip();
        return t.length() > 300 ? t.substring(0, 297) + "..." : t;
    }

    /** {@return the JSON document described in the conformance issue} */
    public String json() {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> ts = new LinkedHashMap<>();
        Map<String, Map<String, Tally>> m = byTargetAndGroup();
        byTarget().forEach((t, tally) -> {
            Map<String, Object> o = new LinkedHashMap<>(tally.json());
            Map<String, Object> gs = new LinkedHashMap<>();
            m.get(t).forEach((g, gt) -> gs.put(g, gt.json()));
            o.put("groups", gs);
            ts.put(t, o);
        });
        root.put("targets", ts);
        List<Map<String, Object>> cases = new ArrayList<>();
        for (CaseResult r : results) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("file", r.testCase().id());
            c.put("line", r.testCase().line());
            c.put("target", r.target());
            c.put("group", r.group());
            c.put("status", r.status().id());
            c.put("expected", r.expected());
            c.put("actual", r.actual());
            c.put("message", r.message());
            cases.add(c);
        }
        root.put("cases", cases);
        if (!unread.isEmpty()) {
            List<Map<String, Object>> files = new ArrayList<>();
            for (DataFileReader.Unread u : unread) {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("file", u.id());
                f.put("status", status(u).id());
                f.put("message", u.message());
                files.add(f);
            }
            root.put("unreadFiles", files);
        }
        if (!stale.isEmpty()) {
            root.put("staleKnownDifferences", stale.stream().map(e -> e.target() + " " + e.glob()).toList());
        }
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@return a JUnit XML document: one testsuite per target, one testcase per case} */
    public String junit() {
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"prism-conformance\">\n");
        Map<String, Tally> totals = byTarget();
        for (String t : targets) {
            Tally tally = totals.get(t);
            sb.append(String.format("  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\">%n",
                    xml(t), results.stream().filter(r -> r.target().equals(t)).count() + unread.size(),
                    tally.get(Status.FAIL), tally.get(Status.ERROR), tally.get(Status.SKIP)));
            for (DataFileReader.Unread u : unread) {
                sb.append(String.format("    <testcase classname=\"%s\" name=\"%s\">%n      <%s message=\"%s\"/>%n    </testcase>%n",
                        UNREAD_GROUP, xml(u.id() + " [" + t + "]"), u.skipped() ? "skipped" : "error", xml(oneLine(u.message()))));
            }
            for (CaseResult r : results) {
                if (!r.target().equals(t)) {
                    continue;
                }
                sb.append(String.format("    <testcase classname=\"%s\" name=\"%s\"", xml(r.group()), xml(r.testCase().name() + " [" + t + "]")));
                switch (r.status()) {
                    case PASS -> sb.append("/>\n");
                    case FAIL -> sb.append(">\n      <failure message=\"").append(xml(oneLine(r.message()))).append("\"/>\n    </testcase>\n");
                    case ERROR -> sb.append(">\n      <error message=\"").append(xml(oneLine(r.message()))).append("\"/>\n    </testcase>\n");
                    case SKIP -> sb.append(">\n      <skipped message=\"").append(xml(oneLine(r.message()))).append("\"/>\n    </testcase>\n");
                }
            }
            sb.append("  </testsuite>\n");
        }
        return sb.append("</testsuites>\n").toString();
    }

    static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** {@return a Markdown report: the matrix as a table, then failures} */
    public String markdown() {
        StringBuilder sb = new StringBuilder("# Prism conformance\n\nCells: passed / failed / skipped.\n\n| group |");
        targets.forEach(t -> sb.append(' ').append(t).append(" |"));
        sb.append("\n|---|").append("---|".repeat(targets.size())).append('\n');
        Map<String, Map<String, Tally>> m = byTargetAndGroup();
        for (String g : groups()) {
            sb.append("| ").append(g).append(" |");
            targets.forEach(t -> sb.append(' ').append(m.get(t).get(g).cell()).append(" |"));
            sb.append('\n');
        }
        sb.append("| **total** |");
        byTarget().forEach((t, tally) -> sb.append(" **").append(tally.cell()).append("** |"));
        sb.append('\n');
        List<CaseResult> failures = results.stream().filter(r -> r.status() == Status.FAIL || r.status() == Status.ERROR).toList();
        if (!failures.isEmpty()) {
            sb.append("\n## Failures\n\n");
            failures.forEach(r -> sb.append("- `").append(r.testCase().name()).append("` [").append(r.target()).append("]: ")
                    .append(oneLine(r.message()).replace("|", "\\|")).append('\n'));
        }
        if (!unread.isEmpty()) {
            sb.append("\n## Files not read\n\n");
            unread.forEach(u -> sb.append("- ").append(u.skipped() ? "skipped" : "error").append(": `")
                    .append(oneLine(u.message()).replace("`", "'")).append("`\n"));
        }
        return sb.toString();
    }

    /** {@return a self-contained HTML page: the matrix as a chart (inline SVG) and a table, then failures and skips} */
    public String html() {
        return ReportHtml.render(this, targets, stale);
    }
}
