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

    @Option(names = "--linux", description = "Also load the program into the running kernel (root) and print its "
            + "verifier's verdict, processed instructions, states and verification time next to Prism's.")
    boolean linux;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Profile p;
        try {
            p = Profile.of(profile);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        ProgramFile.Loaded loaded = input.load(main.stdin());
        Program program = loaded.program();
        List<String> lines = new ArrayList<>();
        try {
            VerifiedProgram v = Verifier.verify(program, p, log ? lines::add : null);
            lines.forEach(out::println);
            VerifiedProgram.Stats st = v.stats();
            out.printf("accepted: %s (%s), %d instructions, %d processed, %d states stored, %d loops, stack %d bytes, %.1f ms%n",
                    program.name(), p.id(), program.length(), st.processed(), st.statesStored(), v.requires().loops(),
                    v.requires().stackDepth(), st.nanos() / 1e6);
            if (linux) {
                printKernel(out, loaded);
            }
            out.flush();
            return Main.EXIT_OK;
        } catch (VerificationException e) {
            lines.forEach(out::println);
            if (linux) {
                printKernel(out, loaded);
            }
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            for (String d : e.diagnostics()) {
                err.println("prism: rejected: " + d);
            }
            err.flush();
            return Main.EXIT_FAILED;
        }
    }

    /**
     * Prints the kernel's verifier statistics for the program (BPF_LOG_STATS), or why they are
     * unavailable: the numbers Prism's summary line is compared with.
     */
    private static void printKernel(PrintWriter out, ProgramFile.Loaded loaded) {
        try {
            var k = dev.prism.conformance.linux.ProgLoadTimer.stats(loaded.programs()).get(0);
            out.printf("linux:    %s (%s), %d processed, %d states stored (peak %d), %.1f ms verification%n",
                    k.program(), k.accepted() ? "accepted" : "refused", k.processed(), k.totalStates(), k.peakStates(),
                    k.verifyMicros() / 1e3);
        } catch (RuntimeException e) {
            out.println("linux:    not compared: " + e.getMessage());
        }
    }
}
