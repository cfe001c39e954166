package dev.prism.perf.report;

import dev.prism.perf.BenchResult;
import dev.prism.perf.BenchResult.Compile;
import dev.prism.perf.BenchResult.Measurement;
import dev.prism.perf.BenchResult.PacketInfo;
import dev.prism.perf.BenchResult.ProgramResult;
import dev.prism.perf.BenchResult.Run;
import dev.prism.perf.BenchResult.TargetInfo;
import dev.prism.perf.Stats;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tables of a comparison, as text cells, shared by the Markdown and HTML reports so that
 * both say the same thing.
 */
final class Tables {
    /**
     * @param title   a heading
     * @param intro   a sentence under it, or empty
     * @param header  column names
     * @param numeric per column, whether it holds numbers (right-aligned)
     * @param rows    cells, one list per row, as many as the header
     */
    record Table(String title, String intro, List<String> header, List<Boolean> numeric, List<List<String>> rows) {
    }

    private Tables() {
    }

    /** {@return the lines that describe the host, the targets and the method} */
    static List<String> preamble(BenchResult r) {
        List<String> out = new ArrayList<>();
        BenchResult.Host h = r.host();
        out.add("Host: " + h.cpu() + " (" + h.cpus() + " CPUs), " + h.kernel() + ", " + h.jvm() + "; " + h.date() + ".");
        List<String> targets = new ArrayList<>();
        for (TargetInfo t : r.targets()) {
            targets.add(t.id() + " (" + (t.available() ? "available" + (t.reason().isEmpty() ? "" : ": " + t.reason())
                    : "unavailable: " + t.reason()) + ")");
        }
        out.add("Targets: " + String.join(", ", targets) + ".");
        BenchResult.Settings s = r.settings();
        String repeat = s.repeat() > 0 ? s.repeat() + " runs per batch"
                : "runs per batch calibrated per cell (about " + s.batchMillis() + " ms a batch)";
        out.add("Method: per target, " + s.warmupMillis() + " ms of warm-up over every program and packet in turn, then "
                + repeat + "; then " + s.batches() + " measured rounds that interleave the targets: a round is one batch "
                + "of every program and packet of every target, the targets' order rotated from round to round, so "
                + "that every target is measured in the same windows of time and the ratios compare like with like; "
                + "a time is the median batch mean, its spread half the interquartile range of the batches (the JSON's "
                + "pairedRatio: the median over rounds of each round's corrected batch over the baseline's).");
        BenchResult.Conditions c = r.conditions();
        if (c != null) {
            out.add("Timing: " + String.join("; ", c.timing()) + ".");
            out.add("Conditions: CPU governor " + c.governors() + "; measuring thread "
                    + (c.pinned() ? "pinned to CPU " + c.cpusAllowed() : "not pinned (CPUs " + c.cpusAllowed() + ")")
                    + (c.pinRequested() != null ? " (--pin " + c.pinRequested() + ")" : "")
                    + "; kernel.bpf_stats_enabled " + c.bpfStatsEnabled()
                    + "; load average " + c.loadBefore() + " at the start (runnable/total " + c.runnableAtStart() + "), "
                    + (c.loadAfter() == null ? "unknown" : c.loadAfter()) + " at the end; floors per target below.");
        }
        out.add("Floor: the program `" + s.floorProgram() + "` on the same target and packet, i.e. what the harness "
                + "costs around a program. corrected = max(time − floor, " + Numbers.ns(s.epsilonNs()) + " ns); "
                + "vs " + s.baseline() + " = corrected / " + s.baseline() + "'s corrected (lower is faster); "
                + "'at floor' marks a time within " + Numbers.ns(s.epsilonNs()) + " ns of its floor: its ratio is noise.");
        return out;
    }

    /** {@return the ids of the targets that ran} */
    static List<String> measuredTargets(BenchResult r) {
        return r.targets().stream().filter(TargetInfo::available).map(TargetInfo::id).toList();
    }

    /** {@return one table per packet: every program on every target that ran} */
    static List<Table> runs(BenchResult r) {
        String base = r.settings().baseline();
        String clock = r.settings().clock();
        String other = clock.equals("cpu") ? "wall" : "cpu";
        List<Table> out = new ArrayList<>();
        for (PacketInfo p : r.packets()) {
            List<List<String>> rows = new ArrayList<>();
            for (ProgramResult program : r.programs()) {
                for (String target : measuredTargets(r)) {
                    program.run(target, p.label()).ifPresent(run -> rows.add(runRow(program.name(), run, base, other)));
                }
            }
            List<List<String>> cells = rows;
            List<String> header = List.of("program", "target", "action", "ns/run (" + clock + ")", "spread", other,
                    "floor", "corrected", "vs " + base, "note");
            List<Boolean> numeric = List.of(false, false, false, true, true, true, true, true, true, false);
            if (!r.hasBaseline()) {
                // no baseline measured (linux unavailable, say): no ratio column
                int ratio = header.indexOf("vs " + base);
                header = without(header, ratio);
                numeric = without(numeric, ratio);
                cells = rows.stream().map(row -> without(row, ratio)).toList();
            }
            out.add(new Table("Time per run, " + p.label(), "", header, numeric, cells));
        }
        return out;
    }

    private static <T> List<T> without(List<T> list, int index) {
        List<T> out = new ArrayList<>(list);
        out.remove(index);
        return out;
    }

    private static List<String> runRow(String program, Run run, String baseline, String other) {
        Measurement m = run.measurement();
        if (!m.ok()) {
            return List.of(program, run.target(), "", "", "", "", "", "", "", m.describe());
        }
        Stats ns = m.ns();
        Stats otherNs = other.equals("wall") ? m.wallNs() : m.cpuNs();
        return List.of(program, run.target(), m.action(), Numbers.ns(ns.median()), Numbers.spread(ns.spreadPercent()),
                otherNs == null ? "" : Numbers.ns(otherNs.median()),
                run.floorNs() == null ? "" : Numbers.ns(run.floorNs()),
                run.correctedNs() == null ? "" : Numbers.ns(run.correctedNs()),
                run.ratio() == null ? "" : Numbers.ratio(run.ratio()),
                note(run, baseline));
    }

    private static String note(Run run, String baseline) {
        if (run.atFloor()) {
            return "at floor";
        }
        return run.baselineAtFloor() && !run.target().equals(baseline) ? baseline + " at floor" : "";
    }

    /**
     * {@return the linux target's clocks, a row per program (the floor first) and packet}, or
     * null when linux measured nothing
     */
    static Table linuxClocks(BenchResult r) {
        List<List<String>> rows = new ArrayList<>();
        for (PacketInfo p : r.packets()) {
            r.floor("linux", p.label()).ifPresent(f -> clockRow(rows, "(floor)", p.label(), f.measurement()));
            for (ProgramResult program : r.programs()) {
                program.run("linux", p.label()).ifPresent(run -> clockRow(rows, program.name(), p.label(), run.measurement()));
            }
        }
        if (rows.isEmpty()) {
            return null;
        }
        return new Table("Linux clocks",
                "BPF_PROG_TEST_RUN timed around the system call with a large repeat, less the fixed cost of a call "
                        + "measured with repeat 1: per run on the wall clock and in thread CPU time (the tables above "
                        + "use " + r.settings().clock() + "); the kernel's own duration (whole ns per run) for "
                        + "comparison; the fixed cost of one call on both clocks. Medians of the batches.",
                List.of("program", "packet", "wall ns/run", "cpu ns/run", "kernel duration", "fixed wall/call",
                        "fixed cpu/call"),
                List.of(false, false, true, true, true, true, true), rows);
    }

    private static void clockRow(List<List<String>> rows, String program, String packet, Measurement m) {
        if (!m.ok() || m.linux() == null) {
            return;
        }
        BenchResult.KernelClocks k = m.linux();
        rows.add(List.of(program, packet, median(m.wallNs()), median(m.cpuNs()), median(k.kernelNs()),
                k.fixedWallNs() == null ? "" : Numbers.duration(k.fixedWallNs().median()),
                k.fixedCpuNs() == null ? "" : Numbers.duration(k.fixedCpuNs().median())));
    }

    private static String median(Stats s) {
        return s == null ? "" : Numbers.ns(s.median());
    }

    /** {@return the geometric means of the ratios: a row per target, a column per packet} */
    static Table geomeans(BenchResult r) {
        List<List<String>> rows = new ArrayList<>();
        for (String target : measuredTargets(r)) {
            List<String> row = new ArrayList<>();
            row.add(target);
            for (PacketInfo p : r.packets()) {
                row.add(r.geomean(target, p.label())
                        .filter(g -> g.ratio() != null)
                        .map(g -> Numbers.ratio(g.ratio()) + " (" + g.programs() + ")")
                        .orElse(""));
            }
            rows.add(row);
        }
        return new Table("Geometric mean of floor-corrected ratios vs " + r.settings().baseline(),
                "Over the programs both targets ran (how many in parentheses); below 1× is faster than "
                        + r.settings().baseline() + ".",
                header("target", r), numeric(r), rows);
    }

    /** {@return the floors: a row per target, a column per packet} */
    static Table floors(BenchResult r) {
        List<List<String>> rows = new ArrayList<>();
        for (String target : measuredTargets(r)) {
            List<String> row = new ArrayList<>();
            row.add(target);
            for (PacketInfo p : r.packets()) {
                row.add(r.floor(target, p.label()).map(f -> {
                    Measurement m = f.measurement();
                    return m.ok() ? Numbers.ns(m.ns().median()) + " " + Numbers.spread(m.ns().spreadPercent()) : m.describe();
                }).orElse(""));
            }
            rows.add(row);
        }
        return new Table("Floors (ns/run of `" + r.settings().floorProgram() + "`)", "", header("target", r), numeric(r), rows);
    }

    /** {@return compile times: a row per program, a column per target that ran} */
    static Table compile(BenchResult r) {
        List<String> targets = measuredTargets(r);
        List<String> header = new ArrayList<>(List.of("program", "insns"));
        List<Boolean> numeric = new ArrayList<>(List.of(false, true));
        for (String t : targets) {
            String what = r.programs().stream().flatMap(p -> p.compile(t).stream()).map(Compile::what).findFirst().orElse("");
            header.add(t + (what.isEmpty() ? "" : " (" + what + ")"));
            numeric.add(true);
        }
        List<List<String>> rows = new ArrayList<>();
        for (ProgramResult p : r.programs()) {
            List<String> row = new ArrayList<>();
            row.add(p.name());
            row.add(p.instructions() + (p.programs() > 1 ? " in " + p.programs() + " programs" : ""));
            for (String t : targets) {
                row.add(p.compile(t).map(Tables::compileCell).orElse(""));
            }
            rows.add(row);
        }
        return new Table("Compile time (median of " + r.settings().compileRepeat() + ", warm JVM)",
                "Prism targets: the verifier on every program of the object, the target's compile of each proof "
                        + "(the JIT) and the entry's load (executable memory, maps); the verifier alone in parentheses. "
                        + "linux: the BPF_PROG_LOAD system calls alone (the kernel's verifier and JIT), log level 0, "
                        + "maps created beforehand.",
                header, numeric, rows);
    }

    private static String compileCell(Compile c) {
        if (!c.ok()) {
            return c.describe();
        }
        String total = Numbers.duration(c.totalNs().median());
        return c.verifyNs() == null ? total : total + " (verify " + Numbers.duration(c.verifyNs().median()) + ")";
    }

    private static List<String> header(String first, BenchResult r) {
        List<String> h = new ArrayList<>();
        h.add(first);
        r.packets().forEach(p -> h.add(p.label()));
        return h;
    }

    private static List<Boolean> numeric(BenchResult r) {
        List<Boolean> n = new ArrayList<>();
        n.add(false);
        r.packets().forEach(p -> n.add(true));
        return n;
    }

    /** {@return a string safe as an HTML anchor: "time-per-run-64-b"} */
    static String anchor(String title) {
        return title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
    }
}
