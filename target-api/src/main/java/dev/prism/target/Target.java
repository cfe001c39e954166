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

    /** {@return what the target supports} */
    Capabilities capabilities();

    /**
     * Prepares a verified program to run.
     *
     * @throws dev.prism.error.TargetException when the target refuses the program or is unavailable
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
