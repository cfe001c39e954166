package dev.prism.cli;

import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code prism verify}: prove a program safe, or say where and why not. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Verify a program: every access in bounds, every register initialized, every loop bounded, "
                + "every helper call matching its prototype.",
                "Exit 0: accepted, with a summary (instructions, states, time). Exit 1: rejected, with "
                        + "'pc: reason (detail)' and the source line when the object has BTF line info. Exit 2: bad input."})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Mixin
    ProgramFile input;

    @Option(names = "--profile", paramLabel = "P", defaultValue = "rfc9669",
            description = "rfc9669 (default): the standard's rules; linux: also refuse what Linux 6.x refuses "
                    + "(shift immediates outside 0..width-1, callx, legacy packet loads in xdp), to predict the kernel's verdict.")
    String profile;

    @Option(names = "--log", description = "Print the abstract state on arrival at each instruction processed "
            + "('pc: instruction ; registers, packet ranges'), up to the rejection when there is one.")
    boolean log;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Profile p;
        try {
            p = Profile.of(profile);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        Program program = input.load(main.stdin()).program();
        List<String> lines = new ArrayList<>();
        try {
            VerifiedProgram v = Verifier.verify(program, p, log ? lines::add : null);
            lines.forEach(out::println);
            VerifiedProgram.Stats st = v.stats();
            out.printf("accepted: %s (%s), %d instructions, %d processed, %d states stored, %d loops, stack %d bytes, %.1f ms%n",
                    program.name(), p.id(), program.length(), st.processed(), st.statesStored(), v.requires().loops(),
                    v.requires().stackDepth(), st.nanos() / 1e6);
            out.flush();
            return Main.EXIT_OK;
        } catch (VerificationException e) {
            lines.forEach(out::println);
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            for (String d : e.diagnostics()) {
                err.println("prism: rejected: " + d);
            }
            err.flush();
            return Main.EXIT_FAILED;
        }
    }
}
