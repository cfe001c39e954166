package dev.prism.plan;

import dev.prism.elf.ElfObject;
import dev.prism.error.PrismException;
import dev.prism.error.TargetException;
import dev.prism.error.VerificationException;
import dev.prism.isa.Insn;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.HelperTable;
import dev.prism.runtime.Interpreter;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Reason;
import dev.prism.target.Rule;
import dev.prism.target.RunInput;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.target.Verdict;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The offload planner (DESIGN.md, "The planner"): for one program and every target, whether it
 * can take it ({@link Target#check}), why not, the estimated ns per run from the target's
 * {@link CostModel} and the code size. Usable without the CLI:
 * <pre>{@code
 * Planner planner = Planner.builder()
 *         .calibration(Calibration.readIfPresent(Calibration.defaultPath()).orElse(null))
 *         .sample(RunInput.ofPacket(frame))
 *         .build();
 * Plan plan = planner.plan(object.programs().getFirst());
 * System.out.print(plan.toText());
 * }</pre>
 *
 * <p>The executed-instruction counts the costs multiply come from running the program on the
 * reference interpreter over the sample inputs (each input {@value #RUNS} times on the same
 * buffer, counting the last {@value #COUNTED}, so that maps and the packet reach the steady state
 * a benchmark measures: {@code BPF_PROG_TEST_RUN} with a repeat, and Prism's own timer, run the
 * program again and again on one packet that keeps what the runs wrote (a router decrementing the
 * TTL takes its expired-TTL path after 64 runs)), or, when
 * there are no samples or the interpreter cannot run it, from a static estimate
 * ({@link ExecutionProfile#estimate}).
 */
public final class Planner {
    /** Runs of each sample input. */
    public static final int RUNS = 256;
    /** Of which the last this many are counted. */
    public static final int COUNTED = 8;
    /** A target's check or compile failed in a way that is a defect of the target. */
    public static final String CHECK_FAILED = Rule.define("check-failed",
            "the target's check or compile failed unexpectedly (a defect of the target)");
    /** The verifier refused the program: no target may take it. */
    public static final String VERIFIER = Rule.define("verifier", "the verifier refused the program");
    /** compile refused what check passed: a disagreement the SPI forbids. */
    public static final String COMPILE_REFUSED = Rule.define("compile-refused",
            "compile refused a program check passed (a defect of the target's check)");

    private final List<Target> targets;
    private final Calibration calibration;
    private final List<RunInput> samples;
    private final Profile profile;

    private Planner(Builder b) {
        this.targets = List.copyOf(b.targets == null ? Targets.all() : b.targets);
        this.calibration = b.calibration;
        this.samples = List.copyOf(b.samples);
        this.profile = b.profile;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@return the plan for one program without siblings} */
    public Plan plan(Program program) {
        return plan(List.of(program), List.of());
    }

    /**
     * {@return the plan for an entry program ({@code programs.get(0)}) and the siblings its tail
     * calls may reach, with the prog_array slots its object fills}
     */
    public Plan plan(List<Program> programs, List<ElfObject.ProgramSlot> slots) {
        return plan(programs.isEmpty() ? "" : programs.getFirst().name(), programs, slots);
    }

    /** {@return {@link #plan(List, List)}, the plan naming the program {@code name} (e.g. its file)} */
    public Plan plan(String name, List<Program> programs, List<ElfObject.ProgramSlot> slots) {
        if (programs.isEmpty()) {
            throw new IllegalArgumentException("nothing to plan");
        }
        Program entry = programs.getFirst();
        int instructions = programs.stream().mapToInt(Program::length).sum();
        String calibrationName = calibration == null ? "uncalibrated"
                : "calibrated (" + (calibration.source() == null ? "in memory" : calibration.source()) + ", " + calibration.host()
                + ", " + calibration.created() + ")";
        List<VerifiedProgram> verified = new ArrayList<>();
        for (Program p : programs) {
            try {
                verified.add(Verifier.verify(p, profile));
            } catch (VerificationException e) {
                String why = (p == entry ? "" : "in " + p.name() + ": ") + e.getMessage();
                List<Plan.Row> rows = new ArrayList<>();
                for (Target t : targets) {
                    Availability a = availability(t);
                    rows.add(new Plan.Row(t.id(), a.available(), a.reason(),
                            Verdict.of(List.of(Reason.of(-1, VERIFIER, why, false))), Double.NaN, -1, "", "-"));
                }
                return new Plan(name, entry.section(), instructions, why, "-", calibrationName, rows);
            }
        }
        ExecutionProfile executed = profile(programs, slots, verified);
        List<Plan.Row> rows = new ArrayList<>();
        for (Target t : targets) {
            rows.add(row(t, programs, verified, executed));
        }
        rows.sort(Comparator.comparing((Plan.Row r) -> !r.ok()).thenComparingDouble(r -> Double.isNaN(r.estimatedNs())
                ? Double.MAX_VALUE : r.estimatedNs()).thenComparing(Plan.Row::target));
        return new Plan(name, entry.section(), instructions, null, executed.source(), calibrationName, rows);
    }

    private static Availability availability(Target t) {
        try {
            return t.availability();
        } catch (RuntimeException e) {
            return Availability.no(e.toString());
        }
    }

    private Plan.Row row(Target t, List<Program> programs, List<VerifiedProgram> verified, ExecutionProfile executed) {
        Availability a = availability(t);
        List<Reason> reasons = new ArrayList<>();
        for (int i = 0; i < verified.size(); i++) {
            String prefix = i == 0 ? "" : "in " + programs.get(i).name() + ": ";
            Verdict v;
            try {
                v = t.check(verified.get(i));
            } catch (RuntimeException e) {
                v = Verdict.of(List.of(Reason.of(-1, CHECK_FAILED, "check threw " + e, false)));
            }
            for (Reason r : v.reasons()) {
                reasons.add(prefix.isEmpty() ? r : new Reason(r.pc(), r.line(), r.rule(), prefix + r.sentence(), r.liftable(),
                        r.toolMessage()));
            }
        }
        Verdict verdict = Verdict.of(reasons);
        long bytes = -1;
        String kind = "";
        if (verdict.ok()) {
            bytes = 0;
            for (int i = 0; i < verified.size(); i++) {
                try {
                    Artifact art = t.compile(verified.get(i));
                    byte[] code = art.bytes();
                    if (code.length == 0) {
                        bytes += programs.get(i).length() * 8L;
                        kind = "bytecode";
                    } else {
                        bytes += code.length;
                        kind = "machine code";
                    }
                } catch (TargetException e) {
                    reasons.add(Reason.of(-1, e.isUnsupported() ? COMPILE_REFUSED : CHECK_FAILED, e.getMessage(), false));
                } catch (RuntimeException e) {
                    reasons.add(Reason.of(-1, CHECK_FAILED, "compile threw " + e, false));
                }
            }
            verdict = Verdict.of(reasons);
            if (!verdict.ok()) {
                bytes = -1;
                kind = "";
            }
        }
        CostModel model = calibration == null ? null : calibration.models().get(t.id());
        String modelName = model == null ? "uncalibrated" : "calibrated";
        if (model == null) {
            model = CostModel.uncalibrated(t.id());
        }
        double ns = verdict.ok() ? model.estimate(executed) : Double.NaN;
        return new Plan.Row(t.id(), a.available(), a.reason(), verdict, ns, bytes, kind, modelName);
    }

    /** {@return the counts per run: the interpreter on the samples, else the static estimate} */
    private ExecutionProfile profile(List<Program> programs, List<ElfObject.ProgramSlot> slots, List<VerifiedProgram> verified) {
        if (samples.isEmpty()) {
            return ExecutionProfile.estimate(verified.getFirst());
        }
        EnumMap<CostClass, Double> counts = new EnumMap<>(CostClass.class);
        Map<String, Double> helpers = new TreeMap<>();
        boolean[] counting = {false};
        Interpreter interpreter = new Interpreter(HelperTable.standard(), Interpreter.DEFAULT_BUDGET, Environment.host())
                .observe((int program, int pc, Insn insn) -> {
                    if (counting[0]) {
                        ExecutionProfile.add(verified.get(program), pc, insn, 1, counts, helpers);
                    }
                });
        try (Interpreter.Instance instance = interpreter.instantiate(programs)) {
            for (ElfObject.ProgramSlot s : slots) {
                instance.setProgram(s.map(), s.index(), s.program());
            }
            Program entry = programs.getFirst();
            for (RunInput in : samples) {
                // one buffer for all runs, each starting from what the one before left in it
                byte[] packet = in.packet() == null ? in.mem() : in.packet();
                byte[] mem = in.mem();
                for (int run = 0; run < RUNS; run++) {
                    counting[0] = run >= RUNS - COUNTED;
                    if (entry.type() == ProgramType.XDP) {
                        Interpreter.Result r = instance.run(null, packet);
                        // bytes rewritten carry over; a run that moved the packet's ends (adjust_head,
                        // _tail, _meta) leaves the next its original frame, as the timers' re-armed
                        // context does
                        if (r.packetAfter() != null && r.packetAfter().length == packet.length) {
                            packet = r.packetAfter();
                        }
                    } else {
                        mem = instance.run(mem, null).memAfter();
                    }
                }
            }
        } catch (PrismException | IllegalArgumentException e) {
            ExecutionProfile p = ExecutionProfile.estimate(verified.getFirst());
            return new ExecutionProfile(p.counts(), p.helpers(), p.source() + "; the interpreter could not run the samples: "
                    + e.getMessage());
        }
        double runs = (double) samples.size() * COUNTED;
        counts.replaceAll((k, v) -> v / runs);
        helpers.replaceAll((k, v) -> v / runs);
        return new ExecutionProfile(counts, helpers, "the interpreter on " + samples.size() + " input"
                + (samples.size() == 1 ? "" : "s") + " (" + COUNTED + " of " + RUNS + " runs each counted)");
    }

    /** Chooses targets, calibration, sample inputs and the verifier profile; every method returns this builder. */
    public static final class Builder {
        private List<Target> targets;
        private Calibration calibration;
        private final List<RunInput> samples = new ArrayList<>();
        private Profile profile = Profile.RFC9669;

        private Builder() {
        }

        /** The targets to plan for; default: every target on the class path ({@link Targets#all()}). */
        public Builder targets(List<Target> ts) {
            this.targets = List.copyOf(ts);
            return this;
        }

        /** The measured cost models; null (the default) for the uncalibrated ones. */
        public Builder calibration(Calibration c) {
            this.calibration = c;
            return this;
        }

        /** Adds an input to profile the program on (for XDP, a packet). */
        public Builder sample(RunInput in) {
            samples.add(Objects.requireNonNull(in));
            return this;
        }

        /** The verifier profile the program is verified under; default rfc9669. */
        public Builder profile(Profile p) {
            this.profile = Objects.requireNonNull(p);
            return this;
        }

        public Planner build() {
            return new Planner(this);
        }
    }
}
