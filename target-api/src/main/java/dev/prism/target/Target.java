package dev.prism.target;

import dev.prism.program.Program;
import dev.prism.verifier.VerifiedProgram;

/**
 * A place a BPF program can run (DESIGN.md, "Target SPI"). Targets are found with
 * {@link java.util.ServiceLoader}; nothing in target-api names a concrete one except the
 * reference interpreter.
 *
 * <p>{@link #compile} takes the verifier's IR ({@link VerifiedProgram}): a backend that emits
 * no runtime checks is only reachable with a proof. {@link #load} takes decoded programs, for
 * runners that hand every target the same input: targets that check everything themselves (the
 * interpreter, the kernel) run them as they are; the others verify them first, and a program
 * the verifier refuses is refused at load with its diagnostic.
 */
public interface Target {
    /** {@return the id used on the command line, e.g. "interpreter", "linux", "x86-64"} */
    String id();

    /** {@return a one-line description} */
    String description();

    /** {@return whether this host can run the target, with the reason} */
    Availability availability();

    /** {@return what the target supports, as data (package docs: "Capabilities")} */
    Capabilities capabilities();

    /**
     * {@return whether the target can take {@code program}, and every reason it cannot}: the one
     * source of truth for refusals. {@link #compile} refuses exactly what this reports, with the
     * same words ({@link #requireSupported}). Cheap: it does not compile, and needs no device,
     * so it answers for an unavailable target too. The default matches {@link #capabilities()}
     * against the program ({@link CapabilityChecker}); a backend with refusals of its own
     * overrides it and extends the checker ({@link CapabilityChecker#with}).
     */
    default Verdict check(VerifiedProgram program) {
        return CapabilityChecker.of(capabilities()).check(program);
    }

    /**
     * Throws {@link dev.prism.error.TargetException#refused} when {@link #check} does not pass:
     * what {@link #compile} (and {@link #load} after verifying) calls first.
     */
    default void requireSupported(VerifiedProgram program) {
        check(program).orThrow();
    }

    /**
     * Prepares a verified program to run. Refuses, before anything else, exactly what
     * {@link #check} reports ({@link #requireSupported}).
     *
     * @throws dev.prism.error.TargetException when the target refuses the program (carrying the
     *                                         {@link Verdict}) or is unavailable
     */
    Artifact compile(VerifiedProgram program);

    /**
     * Loads several programs of one object that share its maps (Program.maps() are the same
     * list for all of them); the first is the entry that {@link Executable#run} runs, the others
     * are reachable through tail calls once placed in a PROG_ARRAY with
     * {@link MapAccess#setProgram}.
     *
     * @throws dev.prism.error.TargetException when the target cannot
     */
    default Executable load(java.util.List<Program> programs) {
        if (programs.size() == 1) {
            return compile(dev.prism.verifier.Verifier.verify(programs.get(0), dev.prism.verifier.Profile.RFC9669)).load();
        }
        throw dev.prism.error.TargetException.unsupported(id() + " loads one program at a time");
    }
}
