package dev.prism.target;

import dev.prism.program.Program;

/**
 * A place a BPF program can run (DESIGN.md, "Target SPI"). Targets are found with
 * {@link java.util.ServiceLoader}; nothing in target-api names a concrete one except the
 * reference interpreter.
 *
 * <p>Until the verifier exists (issue "The verifier"), {@link #compile} takes a decoded
 * {@link Program}; it will take the verifier's {@code VerifiedProgram} once that is built, and
 * backends that need proven facts will only be reachable through it.
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
     * Prepares a program to run.
     *
     * @throws dev.prism.error.TargetException when the target refuses the program or is unavailable
     */
    Artifact compile(Program program);

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
            return compile(programs.get(0)).load();
        }
        throw dev.prism.error.TargetException.unsupported(id() + " loads one program at a time");
    }
}
