package dev.prism.conformance;

import dev.prism.error.PrismException;
import dev.prism.error.TargetException;
import dev.prism.isa.Insn;
import dev.prism.isa.Opcodes;
import dev.prism.program.Program;
import dev.prism.target.Availability;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs conformance cases on targets and judges each outcome against the case's expectation.
 *
 * <p>Rules, in order: an unavailable target skips with its reason; a case whose input does not
 * decode is judged on Prism's shared decoder (and never handed to an external oracle such as
 * the kernel); an instruction outside the target's capabilities skips with the reason; then the
 * program is compiled, loaded and run. A refusal at load time (a verifier saying no) satisfies a
 * case that expects an error, since the program would have trapped; a refusal of a program
 * expected to produce a result is a failure. Failures listed in the known-differences file are
 * reported as skipped with the listed reason.
 */
public final class ConformanceRunner {
    /** Targets whose input comes from outside Prism and that must only see decodable programs. */
    private static final Set<String> EXTERNAL_ORACLES = Set.of("linux");

    private final KnownDifferences known;
    private final Map<String, Availability> availability = new HashMap<>();
    private final List<KnownDifferences.Entry> stale = new ArrayList<>();

    public ConformanceRunner(KnownDifferences known) {
        this.known = known;
    }

    /** {@return the results of every case on every target, in case order} */
    public List<CaseResult> run(List<ConformanceCase> cases, List<Target> targets, Consumer<CaseResult> progress) {
        List<CaseResult> out = new ArrayList<>();
        for (ConformanceCase c : cases) {
            for (Target t : targets) {
                CaseResult r = runOne(c, t);
                out.add(r);
                progress.accept(r);
            }
        }
        return out;
    }

    /** {@return known-difference entries that matched a passing case in the runs so far} */
    public List<KnownDifferences.Entry> staleEntries() {
        return List.copyOf(stale);
    }

    /** {@return one case judged on one target} */
    public CaseResult runOne(ConformanceCase c, Target target) {
        CaseResult raw = judge(c, target);
        Optional<KnownDifferences.Entry> entry = known.find(target.id(), c.id());
        if (entry.isPresent()) {
            if (raw.status() == Status.FAIL || raw.status() == Status.ERROR) {
                return new CaseResult(c, raw.target(), raw.group(), Status.SKIP, raw.expected(), raw.actual(),
                        "known difference: " + entry.get().reason() + " [" + raw.message() + "]");
            }
            if (raw.status() == Status.PASS && !stale.contains(entry.get())) {
                stale.add(entry.get());
            }
        }
        return raw;
    }

    private CaseResult judge(ConformanceCase c, Target target) {
        String group = Selection.groupOf(c);
        String expected = c.expected().toString();
        Availability a = availability.computeIfAbsent(target.id(), id -> target.availability());
        if (!a.available()) {
            return new CaseResult(c, target.id(), group, Status.SKIP, expected, "", "unavailable: " + a.reason());
        }
        Program program;
        try {
            program = c.program();
        } catch (PrismException e) {
            if (EXTERNAL_ORACLES.contains(target.id())) {
                return new CaseResult(c, target.id(), group, Status.SKIP, expected, "",
                        "input does not decode; external oracles are only given decodable programs");
            }
            return judgeError(c, target, group, expected, e.getMessage(), "rejected by the decoder");
        }
        for (Insn insn : program.slots()) {
            if (insn != null) {
                String why = target.capabilities().whyNot(Opcodes.of(insn));
                if (why != null) {
                    return new CaseResult(c, target.id(), group, Status.SKIP, expected, "", "not supported: " + why);
                }
            }
        }
        Executable exe;
        try {
            exe = target.compile(program).load();
        } catch (TargetException e) {
            return refused(c, target, group, expected, e);
        } catch (RuntimeException e) {
            return new CaseResult(c, target.id(), group, Status.ERROR, expected, "", e.toString());
        }
        try (exe) {
            RunResult r = exe.run(RunInput.ofMem(c.mem()));
            String actual = String.format("0x%x", r.r0());
            return switch (c.expected()) {
                case ConformanceCase.Expected.Result want when want.r0() == r.r0() ->
                        new CaseResult(c, target.id(), group, Status.PASS, expected, actual, "");
                case ConformanceCase.Expected.Result want ->
                        new CaseResult(c, target.id(), group, Status.FAIL, expected, actual, "r0 is " + actual + ", expected " + expected);
                case ConformanceCase.Expected.Error want ->
                        new CaseResult(c, target.id(), group, Status.FAIL, expected, actual, "returned " + actual + " instead of failing");
            };
        } catch (TargetException e) {
            // Targets that load lazily (the kernel loads per run) refuse here.
            return refused(c, target, group, expected, e);
        } catch (PrismException e) {
            return judgeError(c, target, group, expected, e.getMessage(), "failed at run time");
        } catch (RuntimeException e) {
            return new CaseResult(c, target.id(), group, Status.ERROR, expected, "", e.toString());
        }
    }

    private static CaseResult refused(ConformanceCase c, Target target, String group, String expected, TargetException e) {
        if (c.expected() instanceof ConformanceCase.Expected.Error) {
            return new CaseResult(c, target.id(), group, Status.PASS, expected, "rejected at load",
                    "the target refused the program, as it should refuse one that traps: " + firstLine(e.getMessage()));
        }
        return new CaseResult(c, target.id(), group, Status.FAIL, expected, "rejected at load", e.getMessage());
    }

    private static CaseResult judgeError(ConformanceCase c, Target target, String group, String expected, String message, String how) {
        if (c.expected() instanceof ConformanceCase.Expected.Error want && message.contains(want.substring())) {
            return new CaseResult(c, target.id(), group, Status.PASS, expected, message, "");
        }
        return new CaseResult(c, target.id(), group, Status.FAIL, expected, message, how + ": " + message);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
