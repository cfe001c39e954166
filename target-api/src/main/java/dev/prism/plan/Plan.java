package dev.prism.plan;

import dev.prism.target.Reason;
import dev.prism.target.Verdict;
import java.util.List;
import java.util.Locale;

/**
 * The planner's answer for one program: per target, the verdict, the reasons, the estimated cost
 * of a run and the code size, cheapest first ({@link Planner}).
 *
 * @param program      the program's name
 * @param section      its ELF section ("" for other inputs)
 * @param instructions its instruction slots (the entry's and its tail-call siblings')
 * @param rejected     the verifier's diagnostic when it refused the program (then {@code rows}
 *                     all say so), else null
 * @param profile      how the executed-instruction counts were obtained
 * @param calibration  the calibration file used, or "uncalibrated"
 * @param rows         one per target, sorted by estimated cost (refused last)
 */
public record Plan(String program, String section, int instructions, String rejected, String profile, String calibration,
                   List<Row> rows) {
    /** How many reasons a row shows in text before counting the rest. */
    public static final int SHOWN_REASONS = 3;

    public Plan {
        rows = List.copyOf(rows);
    }

    /**
     * One target's answer.
     *
     * @param target       the target id
     * @param available    whether it runs on this host
     * @param availability the reason it does or does not
     * @param verdict      whether it can take the program, and why not
     * @param estimatedNs  the estimated ns per run, NaN when refused
     * @param codeBytes    the size of what compile produced, -1 when refused or unknown
     * @param codeKind     what those bytes are ("machine code", "bytecode", "P4 source", ...)
     * @param model        "calibrated" or "uncalibrated": where the cost model came from
     */
    public record Row(String target, boolean available, String availability, Verdict verdict, double estimatedNs,
                      long codeBytes, String codeKind, String model) {
        public boolean ok() {
            return verdict.ok();
        }
    }

    /** {@return 0 when a target other than the interpreter can take the program, else 1} */
    public int exitCode() {
        return rows.stream().anyMatch(r -> r.ok() && !r.target().equals("interpreter")) ? 0 : 1;
    }

    /** {@return the table for people: a line per target, its first reasons under it} */
    public String toText() {
        StringBuilder b = new StringBuilder();
        b.append("plan for ").append(program).append(section.isEmpty() ? "" : " (section " + section + ")").append(", ")
                .append(instructions).append(" instructions\n");
        b.append("costs: ").append(calibration).append("; executed instructions: ").append(profile).append('\n');
        if (rejected != null) {
            b.append("rejected by the verifier: ").append(rejected).append('\n');
        }
        int w = Math.max(6, rows.stream().mapToInt(r -> r.target().length()).max().orElse(6));
        b.append(String.format(Locale.ROOT, "%-" + w + "s  %-8s  %12s  %-22s  %s%n", "target", "verdict", "est. ns/run",
                "code", "host"));
        for (Row r : rows) {
            String code = r.codeBytes() < 0 ? "-" : r.codeBytes() + " B " + r.codeKind();
            b.append(String.format(Locale.ROOT, "%-" + w + "s  %-8s  %12s  %-22s  %s%n", r.target(),
                    r.ok() ? "ok" : "refused", Double.isNaN(r.estimatedNs()) ? "-" : formatNs(r.estimatedNs())
                            + (r.model().equals("calibrated") ? "" : "*"),
                    code, r.available() ? "runs here" : "not here: " + r.availability()));
            List<Reason> reasons = r.verdict().reasons();
            for (int i = 0; i < Math.min(SHOWN_REASONS, reasons.size()); i++) {
                b.append("    ").append(reasons.get(i)).append('\n');
                if (!reasons.get(i).toolMessage().isEmpty()) {
                    b.append("      the target's tooling says: ").append(reasons.get(i).toolMessage().strip().replace("\n", "\n      "))
                            .append('\n');
                }
            }
            if (reasons.size() > SHOWN_REASONS) {
                b.append("    (and ").append(reasons.size() - SHOWN_REASONS).append(" more)\n");
            }
        }
        if (rows.stream().anyMatch(r -> !r.model().equals("calibrated") && !Double.isNaN(r.estimatedNs()))) {
            b.append("* uncalibrated estimate (prism bench --calibrate measures this host)\n");
        }
        return b.toString();
    }

    static String formatNs(double ns) {
        return ns >= 100 ? String.format(Locale.ROOT, "%.0f", ns) : String.format(Locale.ROOT, "%.1f", ns);
    }

    /** {@return the plan as one JSON document} */
    public String toJson() {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"program\": ").append(Json.quote(program)).append(",\n");
        b.append("  \"section\": ").append(Json.quote(section)).append(",\n");
        b.append("  \"instructions\": ").append(instructions).append(",\n");
        b.append("  \"rejected\": ").append(rejected == null ? "null" : Json.quote(rejected)).append(",\n");
        b.append("  \"profile\": ").append(Json.quote(profile)).append(",\n");
        b.append("  \"calibration\": ").append(Json.quote(calibration)).append(",\n");
        b.append("  \"exit\": ").append(exitCode()).append(",\n");
        b.append("  \"targets\": [");
        String sep = "\n";
        for (Row r : rows) {
            b.append(sep).append("    {\"target\": ").append(Json.quote(r.target()))
                    .append(", \"available\": ").append(r.available())
                    .append(", \"availability\": ").append(Json.quote(r.availability()))
                    .append(", \"ok\": ").append(r.ok())
                    .append(", \"estimated_ns\": ").append(Json.number(r.estimatedNs()))
                    .append(", \"model\": ").append(Json.quote(r.model()))
                    .append(", \"code_bytes\": ").append(r.codeBytes() < 0 ? "null" : Long.toString(r.codeBytes()))
                    .append(", \"code_kind\": ").append(Json.quote(r.codeKind()))
                    .append(", \"reasons\": [");
            String rsep = "";
            for (Reason reason : r.verdict().reasons()) {
                b.append(rsep).append("\n      {\"pc\": ").append(reason.pc())
                        .append(", \"rule\": ").append(Json.quote(reason.rule()))
                        .append(", \"sentence\": ").append(Json.quote(reason.sentence()))
                        .append(", \"line\": ").append(reason.line() == null ? "null" : Json.quote(reason.where()))
                        .append(", \"liftable\": ").append(reason.liftable())
                        .append(", \"tool_message\": ").append(Json.quote(reason.toolMessage())).append('}');
                rsep = ",";
            }
            b.append(r.verdict().reasons().isEmpty() ? "]}" : "\n    ]}");
            sep = ",\n";
        }
        return b.append("\n  ]\n}\n").toString();
    }
}
