package dev.prism.cli;

import dev.prism.program.Program;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code prism asm}: assembler text to instruction bytes. */
@Command(name = "asm", mixinStandardHelpOptions = true,
        description = {"Assemble a program (syntax: conformance/SYNTAX.md) into raw instructions: "
                + "8-byte little-endian slots, as .bin files hold them.",
                "Without -o, print the bytes as hex, one 8-byte slot per line."})
final class AsmCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Mixin
    ProgramFile input;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "Write the raw bytes to OUT (e.g. prog.bin).")
    Path output;

    @Override
    public Integer call() {
        Program program = input.program(main.stdin());
        byte[] code = program.bytes();
        if (output != null) {
            Io.write(output, code);
        } else {
            PrintWriter out = spec.commandLine().getOut();
            out.print(Hex.slots(code));
            out.flush();
        }
        return Main.EXIT_OK;
    }
}
