package dev.prism.cli;

import dev.prism.elf.ElfObject;
import dev.prism.perf.Packet;
import dev.prism.perf.Workload;
import dev.prism.perf.report.PlanReport;
import dev.prism.plan.Calibration;
import dev.prism.plan.Plan;
import dev.prism.plan.Planner;
import dev.prism.program.ProgramType;
import dev.prism.target.RunInput;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code prism plan}: per target, whether it can take a program, why not, and at what estimated cost. */
@Command(name = "plan", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"For each program and every target: the verdict (ok, or the reasons as 'pc: rule: sentence at "
                + "file.c:line', the first three shown), the estimated ns per run and the code size, cheapest first.",
                "Estimates multiply the target's cost per instruction class and per helper by the instructions one run "
                        + "executes, counted on the reference interpreter over a UDP frame of --packet-size bytes (XDP "
                        + "programs; others: a static count). The costs come from the calibration file that "
                        + "'prism bench --calibrate' writes; without one, rough built-in numbers ('uncalibrated')."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:every program can go to at least one target other than the interpreter",
                "1:some program can go to none",
                "2:bad input: options, files, programs"})
final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Parameters(paramLabel = "FILE", arity = "1..*",
            description = {"Programs: ELF objects, assembler text (*.s, *.asm), raw instructions (*.bin).",
                    "An object with several programs is planned from its entry (the only program in a section named "
                            + "just by its type; its other programs are tail-call targets); --section picks another."})
    List<String> files = new ArrayList<>();

    @Option(names = "--section", paramLabel = "S", description = "ELF objects: the program to plan, by section or function name.")
    String section;

    @Option(names = "--type", paramLabel = "TYPE", converter = ProgramFile.TypeConverter.class,
            description = "Program type of assembler text and raw instructions (default: raw).")
    ProgramType type;

    @Option(names = {"-t", "--targets"}, paramLabel = "LIST", defaultValue = "all",
            description = "Comma-separated target ids, or 'all' (default).")
    String targets;

    @Option(names = "--json", description = "One JSON document: the plan, or {\"plans\": [...]} for several files.")
    boolean json;

    @Option(names = "--html", description = "One HTML page with a bar chart of the estimated cost per target.")
    boolean html;

    @Option(names = {"-o", "--out"}, paramLabel = "F", description = "Write to F instead of stdout.")
    Path out;

    @Option(names = "--calibration", paramLabel = "F",
            description = "The calibration file (default: $PRISM_CALIBRATION, else ~/.cache/prism/calibration.json, "
                    + "when it exists).")
    Path calibrationFile;

    @Option(names = "--packet-size", paramLabel = "BYTES", defaultValue = "64",
            description = "XDP programs: the size of the UDP frame the instructions are counted on, as 'prism bench' "
                    + "builds it (default: ${DEFAULT-VALUE}).")
    int packetSize;

    @Override
    public Integer call() {
        if (json && html) {
            throw CliException.usage("--json and --html: choose one");
        }
        if (packetSize < Packet.MIN_SIZE || packetSize > Packet.MAX_SIZE) {
            throw CliException.usage("--packet-size " + packetSize + " is outside " + Packet.MIN_SIZE + ".." + Packet.MAX_SIZE);
        }
        List<Target> chosen = targets.strip().equals("all") ? Targets.all() : TargetLookup.list(targets);
        Calibration calibration = calibration();
        List<Plan> plans = new ArrayList<>();
        for (String file : files) {
            Workload w = workload(file);
            Planner.Builder b = Planner.builder().targets(chosen).calibration(calibration);
            if (w.entry().type() == ProgramType.XDP) {
                b.sample(RunInput.ofPacket(Packet.udp(packetSize).bytes()));
            }
            plans.add(b.build().plan(w.name(), w.programs(), w.slots()));
        }
        String text;
        if (json) {
            text = plans.size() == 1 ? plans.getFirst().toJson()
                    : "{\"plans\": [\n" + String.join(",\n", plans.stream().map(Plan::toJson).map(String::strip).toList()) + "\n]}\n";
        } else if (html) {
            text = PlanReport.render(plans);
        } else {
            text = String.join("\n", plans.stream().map(Plan::toText).toList());
        }
        PrintWriter stdout = spec.commandLine().getOut();
        if (out != null) {
            Io.write(out, text.getBytes(StandardCharsets.UTF_8));
            stdout.println("plan written to " + out);
        } else {
            stdout.print(text);
        }
        stdout.flush();
        return plans.stream().allMatch(p -> p.exitCode() == 0) ? Main.EXIT_OK : Main.EXIT_FAILED;
    }

    private Calibration calibration() {
        Path file = calibrationFile != null ? calibrationFile : Calibration.defaultPath();
        try {
            if (calibrationFile != null) {
                return Calibration.read(file);
            }
            return Calibration.readIfPresent(file).orElse(null);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    private Workload workload(String file) {
        ProgramFile pf = new ProgramFile();
        pf.file = file;
        pf.section = section;
        pf.type = type;
        ProgramFile.Listed listed = pf.list(main.stdin());
        ElfObject object = listed.object();
        if (object == null) {
            return new Workload(pf.name(), listed.programs(), List.of());
        }
        if (section != null) {
            return Workload.of(pf.name(), object, listed.programs().getFirst());
        }
        try {
            return Workload.of(pf.name(), object);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
    }
}
