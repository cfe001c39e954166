package dev.prism.cli;

import dev.prism.perf.BenchOptions;
import dev.prism.perf.Calibrator;
import dev.prism.plan.Calibration;
import dev.prism.plan.CostModel;
import dev.prism.perf.BenchResult;
import dev.prism.perf.BenchRunner;
import dev.prism.perf.NativeBaseline;
import dev.prism.perf.Packet;
import dev.prism.perf.Workload;
import dev.prism.perf.report.Charts;
import dev.prism.perf.report.HtmlReport;
import dev.prism.perf.report.JsonReport;
import dev.prism.perf.report.MarkdownReport;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code prism bench}: XDP programs side by side on several targets (perf-lab's comparison runner). */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time XDP programs on several targets in one run and compare them: per program, packet and "
                + "target the time per run, the floor-corrected time, and the ratio against the baseline "
                + "(linux); per target the geometric mean of those ratios; per program the compile time.",
                "",
                "What the numbers mean:",
                "  ns/run     the median of the measured batches, in thread CPU time (--clock wall: the wall clock; the "
                        + "other clock is in the next column); each batch is one call of the target's "
                        + "own timer (linux: BPF_PROG_TEST_RUN with a large repeat timed around the system call, less "
                        + "the fixed cost of a call measured with repeat 1; the others: a loop of runs on one prepared "
                        + "input). 'spread' is half the interquartile range of the batches as a percentage of the median. "
                        + "For linux the report also gives thread CPU time and the kernel's own duration (whole ns).",
                "  rounds     each target is loaded, warmed up and calibrated on its own; then the measured rounds "
                        + "interleave the targets: a round is one batch of every program and packet of every target, "
                        + "the targets' order rotated from round to round, so that every target is measured in the "
                        + "same windows of time and a machine whose speed drifts moves them all alike.",
                "  native     not a BPF target: the program's C (X.c beside X.o, or in its parent directory) built by "
                        + "clang -O2 for this host with maps as C tables, called in-process; what it cannot run (tail "
                        + "calls, ring buffers, perf events, redirect maps, map-in-map) says 'not supported'.",
                "  conditions the report records the CPU governor, the measuring thread's CPU affinity (--pin), "
                        + "kernel.bpf_stats_enabled and the load average before and after.",
                "  floor      the same measurement of 'r0 = XDP_PASS; exit' on the same target and packet: what the "
                        + "harness costs on its own.",
                "  corrected  max(ns/run - floor, 1 ns): the program's own work, comparable across targets whose "
                        + "harnesses differ by orders of magnitude. 'at floor' marks a program within 1 ns of its "
                        + "floor, whose ratio is noise.",
                "  vs linux   corrected / linux's corrected on the same program and packet; below 1 is faster. "
                        + "The JSON's pairedRatio is the median over the rounds of the same ratio within one round "
                        + "(each batch less its own target's floor batch of that round).",
                "  geomean    per target and packet, the geometric mean of the ratios over the programs both ran.",
                "  compile    Prism targets: the verifier on every program, the target's compile of each proof "
                        + "and the entry's load (maps, executable memory), median of --compile-repeat on a JVM warmed until those times are steady; "
                        + "linux: the BPF_PROG_LOAD system calls alone (the kernel's verifier and JIT), log level 0.",
                "",
                "Packets are Ethernet + IPv4 + UDP frames with valid checksums, padded to each --packet-size, so that "
                        + "the example parsers take their main path. A program's maps start empty and keep what "
                        + "runs write; prog_array initializers (tail calls) are filled as libbpf does.",
                "A target that cannot run here (linux without root) or lacks a feature a program needs is reported "
                        + "in its cells ('unavailable: ...', 'not supported: ...') and the run goes on.",
                ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:the report was written (unavailable targets and unsupported programs included)",
                "1:the report was written, but a program failed on a target (a trap, a kernel refusal)",
                "2:bad input: options, files, programs"})
final class BenchCommand implements Callable<Integer> {
    static final String DEFAULT_TARGETS = "x86-64,linux,interpreter";

    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Parameters(paramLabel = "FILE", arity = "0..*",
            description = {"XDP programs: ELF objects (clang -target bpf), assembler text (*.s, *.asm, with --type xdp) "
                    + "or raw instructions (*.bin, with --type xdp).",
                    "An object with several programs is benchmarked from its entry: the only program in a section "
                            + "named just 'xdp' (its other programs are tail-call targets); --section picks another."})
    List<String> files = new ArrayList<>();

    @Option(names = {"-t", "--targets", "--target"}, paramLabel = "LIST", defaultValue = DEFAULT_TARGETS,
            description = "Comma-separated target ids, in report order, or 'all' (default: ${DEFAULT-VALUE}; "
                    + "'prism targets' lists them); 'native' adds the clang -O2 baseline of the programs' C.")
    String targets;

    @Option(names = "--packet-size", paramLabel = "BYTES", split = ",",
            description = "Frame sizes in bytes, " + Packet.MIN_SIZE + " to " + Packet.MAX_SIZE
                    + " (default: 64,1500; none when only --packet-file is given).")
    List<Integer> packetSizes;

    @Option(names = "--packet-file", paramLabel = "F",
            description = "Also run on the raw Ethernet frame in file F. Repeatable.")
    List<Path> packetFiles = new ArrayList<>();

    @Option(names = "--report", paramLabel = "FORMAT", defaultValue = "md", converter = FormatConverter.class,
            description = "md (Markdown tables), json (one document) or html (one self-contained page with a bar "
                    + "chart per program) (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write the report to FILE instead of stdout.")
    Path out;

    @Option(names = "--repeat", paramLabel = "N",
            description = "Runs per batch (default: calibrated per program, packet and target so that a batch "
                    + "lasts about --batch-ms).")
    Integer repeat;

    @Option(names = "--batch-ms", paramLabel = "MS", defaultValue = "" + BenchOptions.DEFAULT_BATCH_MILLIS,
            description = "The length calibration aims a batch at, in milliseconds (default: ${DEFAULT-VALUE}).")
    int batchMillis;

    @Option(names = "--batches", paramLabel = "K", defaultValue = "" + BenchOptions.DEFAULT_BATCHES,
            description = "Measured batches per program, packet and target, in rounds that interleave the targets "
                    + "(one batch of each per round); the report gives their median (default: ${DEFAULT-VALUE}).")
    int batches;

    @Option(names = "--warmup", paramLabel = "MS", defaultValue = "" + BenchOptions.DEFAULT_WARMUP_MILLIS,
            description = "Per target, run every program and packet in turn, unreported, for at least MS "
                    + "milliseconds before calibrating and measuring (default: ${DEFAULT-VALUE}).")
    int warmupMillis;

    @Option(names = "--compile-repeat", paramLabel = "N", defaultValue = "" + BenchOptions.DEFAULT_COMPILE_REPEAT,
            description = "Timed compilations (linux: loads) per program and target, after as many unreported "
                    + "(default: ${DEFAULT-VALUE}).")
    int compileRepeat;

    @Option(names = "--baseline", paramLabel = "T",
            description = "The target the ratios divide by (default: " + BenchOptions.DEFAULT_BASELINE
                    + " when it is among the targets).")
    String baseline;

    @Option(names = "--chart", paramLabel = "FORMAT", defaultValue = "svg", converter = ChartConverter.class,
            description = "HTML reports: charts as svg or png (default: ${DEFAULT-VALUE}).")
    Charts.Format chart;

    @Option(names = "--section", paramLabel = "S",
            description = "ELF objects: the program to benchmark, by section or function name, in every FILE.")
    String section;

    @Option(names = "--type", paramLabel = "TYPE", converter = ProgramFile.TypeConverter.class,
            description = "Program type of assembler text and raw instructions; bench runs xdp programs (default: xdp).")
    ProgramType type;

    @Option(names = "--calibrate", description = "Instead of benchmarking FILEs, measure each target's cost model on this "
            + "host (the fixed cost of a run, of each instruction class and of common helpers) and write the calibration "
            + "file 'prism plan' reads (--calibration).")
    boolean calibrate;

    @Option(names = "--calibration", paramLabel = "F",
            description = "With --calibrate: where to write (default: $PRISM_CALIBRATION, else ~/.cache/prism/calibration.json).")
    Path calibrationFile;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1",
            description = "Run the program N inputs at a time through Executable.run(List) (one call per N runs; "
                    + "ns/run is per input) (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--pin", paramLabel = "CPU",
            description = "Measure with the measuring thread pinned to CPU (sched_setaffinity); linux test runs then run "
                    + "there too. The report says whether the thread was pinned either way.")
    Integer pin;

    @Option(names = "--clock", paramLabel = "CLOCK", defaultValue = "cpu",
            description = "The clock of times, floors and ratios: cpu (the measuring thread's CPU time: leaves out the "
                    + "time the thread waited for a CPU on a busy machine, as the kernel's own test-run timer does) or "
                    + "wall (System.nanoTime). Both are measured and reported (default: ${DEFAULT-VALUE}).")
    String clock;

    /** Report formats. */
    enum Format { MD, JSON, HTML }

    @Override
    public Integer call() {
        if (batch < 1) {
            throw CliException.usage("--batch must be at least 1, not " + batch);
        }
        if (calibrate) {
            return calibrate();
        }
        if (files.isEmpty()) {
            throw CliException.usage("Missing required parameter: 'FILE' (or --calibrate)");
        }
        BenchOptions options = options();
        List<Target> chosen = targets();
        if (baseline != null && chosen.stream().noneMatch(t -> t.id().equals(baseline))) {
            throw CliException.usage("--baseline " + baseline + " is not among the targets ("
                    + String.join(", ", chosen.stream().map(Target::id).toList()) + ")");
        }
        List<Packet> packets = packets();
        List<Workload> workloads = workloads();

        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        BenchResult result;
        ProgressBar[] bar = {null};
        boolean showBar = ProgressBar.wanted();
        try {
            BenchRunner runner = new BenchRunner(options).batch(batch).clock(switch (clock.toLowerCase(Locale.ROOT)) {
                case "cpu" -> BenchRunner.Clock.CPU;
                case "wall" -> BenchRunner.Clock.WALL;
                default -> throw CliException.usage("--clock takes cpu or wall, not " + clock);
            });
            if (pin != null) {
                if (pin < 0) {
                    throw CliException.usage("--pin takes a CPU number, not " + pin);
                }
                runner.pin(pin);
            }
            result = runner.run(workloads, chosen, packets, (done, total, label) -> {
                if (showBar) {
                    if (bar[0] == null) {
                        bar[0] = new ProgressBar(stderr, total, "steps");
                    }
                    bar[0].update(done, label);
                }
            });
        } finally {
            if (bar[0] != null) {
                bar[0].close();
            }
        }
        String text = switch (format) {
            case MD -> MarkdownReport.render(result);
            case JSON -> JsonReport.render(result);
            case HTML -> HtmlReport.render(result, chart);
        };
        boolean failed = result.programs().stream().flatMap(p -> p.runs().stream())
                .anyMatch(r -> r.measurement().status() == BenchResult.Status.FAILED);
        if (out != null) {
            Io.write(out, text.getBytes(StandardCharsets.UTF_8));
            stdout.println("report written to " + out + (failed ? " (a program failed on a target)" : ""));
        } else {
            stdout.print(text);
        }
        stdout.flush();
        return failed ? Main.EXIT_FAILED : Main.EXIT_OK;
    }

    /** Measures the cost models and writes the calibration file. */
    private int calibrate() {
        if (!files.isEmpty()) {
            throw CliException.usage("--calibrate takes no FILE");
        }
        List<Target> chosen = targets.equals(DEFAULT_TARGETS) ? Targets.all() : TargetLookup.list(targets);
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        ProgressBar[] bar = {null};
        boolean showBar = ProgressBar.wanted();
        Calibration c;
        Calibrator calibrator = new Calibrator(Math.max(50, warmupMillis / 10), Math.max(5, batchMillis / 5));
        try {
            c = calibrator.run(chosen, (done, total, label) -> {
                if (showBar) {
                    if (bar[0] == null) {
                        bar[0] = new ProgressBar(stderr, total, "probes");
                    }
                    bar[0].update(done, label);
                }
            });
        } finally {
            if (bar[0] != null) {
                bar[0].close();
            }
        }
        Path file = calibrationFile != null ? calibrationFile : Calibration.defaultPath();
        try {
            c = c.write(file);
        } catch (java.io.IOException e) {
            throw new CliException("cannot write " + file + ": " + e.getMessage(), Main.EXIT_FAILED, e);
        }
        stdout.println("calibration written to " + file + " (" + String.join(", ", c.models().keySet()) + ")");
        for (CostModel m : c.models().values()) {
            stdout.printf(Locale.ROOT, "  %-12s per run %.1f ns; %s; helpers: %s%n", m.target(), m.perRunNs(),
                    String.join(", ", m.classNs().entrySet().stream().map(e -> String.format(Locale.ROOT, "%s %.2f",
                            e.getKey().id(), e.getValue())).toList()),
                    String.join(", ", m.helperNs().entrySet().stream().map(e -> String.format(Locale.ROOT, "%s %.1f",
                            e.getKey(), e.getValue())).toList()));
        }
        String busy = Calibrator.busyWarning();
        if (busy != null) {
            stdout.println("  " + busy);
        }
        for (String u : calibrator.unmeasured()) {
            stdout.println("  not measured (built-in default kept): " + u);
        }
        stdout.flush();
        return Main.EXIT_OK;
    }

    private BenchOptions options() {
        if (repeat != null && (repeat < 1 || repeat > BenchOptions.MAX_REPEAT)) {
            throw CliException.usage("--repeat must be 1.." + BenchOptions.MAX_REPEAT + ", not " + repeat);
        }
        if (batches < 1) {
            throw CliException.usage("--batches must be at least 1, not " + batches);
        }
        if (warmupMillis < 0) {
            throw CliException.usage("--warmup must be at least 0 ms, not " + warmupMillis);
        }
        if (batchMillis < 1) {
            throw CliException.usage("--batch-ms must be at least 1, not " + batchMillis);
        }
        if (compileRepeat < 1) {
            throw CliException.usage("--compile-repeat must be at least 1, not " + compileRepeat);
        }
        return BenchOptions.defaults()
                .withRepeat(repeat == null ? 0 : repeat)
                .withBatches(batches)
                .withWarmupMillis(warmupMillis)
                .withBatchMillis(batchMillis)
                .withCompileRepeat(compileRepeat)
                .withBaseline(baseline == null ? BenchOptions.DEFAULT_BASELINE : baseline);
    }

    /** {@return the named targets; the default list drops any not built into this prism} */
    private List<Target> targets() {
        if (targets.equals(DEFAULT_TARGETS)) {
            Set<String> known = new HashSet<>(Targets.all().stream().map(Target::id).toList());
            String present = String.join(",", List.of(DEFAULT_TARGETS.split(",")).stream().filter(known::contains).toList());
            return TargetLookup.list(present);
        }
        List<String> ids = List.of(targets.split(",")).stream().map(String::strip).toList();
        if (!ids.contains(NativeBaseline.ID)) {
            return TargetLookup.list(targets);
        }
        // the native baseline is perf-lab's, not a registered target: only bench knows it
        List<Target> out = new ArrayList<>();
        for (String id : ids) {
            if (id.equals(NativeBaseline.ID)) {
                if (out.stream().noneMatch(t -> t instanceof NativeBaseline)) {
                    out.add(new NativeBaseline());
                }
            } else if (!id.isEmpty()) {
                for (Target t : TargetLookup.list(id)) {
                    if (!out.contains(t)) {
                        out.add(t);
                    }
                }
            }
        }
        return out;
    }

    private List<Packet> packets() {
        List<Integer> sizes = packetSizes != null ? packetSizes : packetFiles.isEmpty() ? List.of(64, 1500) : List.of();
        List<Packet> out = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        for (int size : sizes) {
            if (size < Packet.MIN_SIZE || size > Packet.MAX_SIZE) {
                throw CliException.usage("--packet-size " + size + " is outside " + Packet.MIN_SIZE + ".." + Packet.MAX_SIZE
                        + " (Ethernet + IPv4 + UDP headers at least; at most what BPF_PROG_TEST_RUN takes for XDP)");
            }
            if (seen.add(size)) {
                out.add(Packet.udp(size));
            }
        }
        for (Path f : packetFiles) {
            byte[] frame = Io.read(f.toString(), main.stdin());
            try {
                out.add(Packet.of(String.valueOf(f.getFileName()), frame));
            } catch (IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
        }
        if (out.isEmpty()) {
            throw CliException.usage("no packet: give --packet-size or --packet-file");
        }
        return out;
    }

    private List<Workload> workloads() {
        List<Workload> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String file : files) {
            ProgramFile pf = new ProgramFile();
            pf.file = file;
            pf.section = section;
            pf.type = type;
            if (pf.type == null && !file.equals("-") && !isElf(file)) {
                pf.type = ProgramType.XDP;
            }
            ProgramFile.Listed listed = pf.list(main.stdin());
            String name = names.contains(pf.name()) ? file : pf.name();
            Workload w;
            if (listed.object() == null) {
                w = new Workload(name, listed.programs(), List.of());
            } else if (section != null) {
                w = Workload.of(name, listed.object(), listed.programs().getFirst());
            } else {
                try {
                    w = Workload.of(name, listed.object());
                } catch (IllegalArgumentException e) {
                    throw CliException.usage(e.getMessage());
                }
            }
            if (listed.object() != null && !file.equals("-")) {
                w = w.withCSource(NativeBaseline.sourceOf(Path.of(file)).orElse(null));
            }
            Program entry = w.entry();
            if (entry.type() != ProgramType.XDP) {
                String why = file + ": " + entry.name() + " is a " + entry.type().id() + " program; bench runs xdp programs on packets";
                if (files.size() == 1) {
                    throw CliException.usage(why);
                }
                // one of several (examples/build/*.o holds tc_rewrite.o): said, and left out
                spec.commandLine().getErr().println("prism: skipped " + why);
                continue;
            }
            names.add(name);
            out.add(w);
        }
        if (out.isEmpty()) {
            throw CliException.usage("no xdp program among " + String.join(", ", files));
        }
        return out;
    }

    /** An ELF object cannot take --type; everything else defaults to xdp here, not raw. */
    private boolean isElf(String file) {
        return ProgramFile.isElf(Io.read(file, main.stdin()));
    }

    static final class FormatConverter implements ITypeConverter<Format> {
        @Override
        public Format convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "md", "markdown" -> Format.MD;
                case "json" -> Format.JSON;
                case "html" -> Format.HTML;
                default -> throw new TypeConversionException("unknown report format '" + value + "' (known: md, json, html)");
            };
        }
    }

    static final class ChartConverter implements ITypeConverter<Charts.Format> {
        @Override
        public Charts.Format convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "svg" -> Charts.Format.SVG;
                case "png" -> Charts.Format.PNG;
                default -> throw new TypeConversionException("unknown chart format '" + value + "' (known: svg, png)");
            };
        }
    }
}
