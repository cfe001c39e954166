package dev.prism.cli;

import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Artifact;
import dev.prism.target.Target;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code prism compile}: verify a program, then compile it for one target. */
@Command(name = "compile", mixinStandardHelpOptions = true,
        description = {"Verify a program, then compile the verified program for a target.",
                "Without -o or --listing, prints a summary: code size, and the time verification and compilation took.",
                "Exit 0: compiled. Exit 1: the verifier or the target refused the program ('pc: reason'). Exit 2: bad input."})
final class CompileCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Mixin
    ProgramFile input;

    @Option(names = {"-t", "--target"}, required = true, paramLabel = "T",
            description = "The target to compile for, e.g. x86-64 or arm64 (see 'prism targets').")
    String targetId;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT",
            description = "Write the artifact's bytes (for x86-64 and arm64: the machine code, entry at offset 0; "
                    + "for nfp: an ELF object with BTF-defined maps, for 'ip -force link set dev X xdpoffload obj OUT sec S', "
                    + "S being xdp, classifier or the program's own section) to OUT.")
    Path output;

    @Option(names = "--listing", description = "Print each BPF instruction followed by what it became "
            + "(x86-64: the native instructions, disassembled by objdump; arm64: disassembled by llvm-mc-19).")
    boolean listing;

    @Option(names = "--profile", paramLabel = "P", defaultValue = "rfc9669",
            description = "The verifier's profile: rfc9669 (default) or linux.")
    String profile;

    @Option(names = "--mem-size", paramLabel = "N", defaultValue = "-1",
            description = "Raw programs: the size in bytes of the memory r1 points to. The verifier proves "
                    + "accesses against it and the code may only be run on memory of that size; without it, "
                    + "r1 and r2 are unknown numbers and the program cannot touch its input.")
    int memSize;

    @Option(names = "--nfp-profile", paramLabel = "F",
            description = "nfp: the firmware's limits as a JSON file (stack, instructions, inline MTU, maps, helpers), "
                    + "instead of the Agilio CX default; the same as -Dprism.nfp.profile=F or PRISM_NFP_PROFILE=F.")
    Path nfpProfile;

    @Override
    public Integer call() throws IOException {
        if (nfpProfile == null) {
            return compile();
        }
        try {
            dev.prism.nfp.NfpProfile.load(nfpProfile);
        } catch (dev.prism.error.TargetException e) {
            throw CliException.usage(e.getMessage());
        }
        // the nfp target reads its profile from the property when it checks; restored after
        String before = System.setProperty(dev.prism.nfp.NfpProfile.PROPERTY, nfpProfile.toString());
        try {
            return compile();
        } finally {
            if (before == null) {
                System.clearProperty(dev.prism.nfp.NfpProfile.PROPERTY);
            } else {
                System.setProperty(dev.prism.nfp.NfpProfile.PROPERTY, before);
            }
        }
    }

    private int compile() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Profile p;
        try {
            p = Profile.of(profile);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        Target target = TargetLookup.byId(targetId);
        Program program = input.load(main.stdin()).program();
        if (memSize >= 0 && program.type() != ProgramType.RAW) {
            throw CliException.usage("--mem-size is for raw programs; " + program.name() + " is " + program.type().id());
        }
        VerifiedProgram verified;
        try {
            verified = Verifier.verify(program, p, memSize, null);
        } catch (VerificationException e) {
            for (String d : e.diagnostics()) {
                err.println("prism: rejected: " + d);
            }
            err.flush();
            return Main.EXIT_FAILED;
        }
        long t0 = System.nanoTime();
        Artifact artifact;
        try {
            artifact = target.compile(verified);
        } catch (dev.prism.error.TargetException e) {
            if (e.verdict() == null) {
                throw e;
            }
            // every reason of the target's check, not only the first
            for (dev.prism.target.Reason r : e.verdict().reasons()) {
                err.println("prism: refused by " + target.id() + ": " + r);
            }
            err.flush();
            return Main.EXIT_FAILED;
        }
        long compileNanos = System.nanoTime() - t0;
        byte[] bytes = artifact.bytes();
        if (output != null) {
            Files.write(output, bytes);
        }
        if (listing) {
            out.print(artifact.listing());
        }
        if (output == null && !listing) {
            out.printf("compiled: %s for %s, %d BPF instructions -> %d bytes; verify %.2f ms, compile %.2f ms%n",
                    program.name(), target.id(), program.length(), bytes.length, verified.stats().nanos() / 1e6, compileNanos / 1e6);
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
