package dev.prism.cli;

import dev.prism.asm.Disassembler;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code prism disasm}: instruction bytes to canonical assembler text. */
@Command(name = "disasm", mixinStandardHelpOptions = true,
        description = {"Print a program as a listing in canonical assembler syntax: 'pc: instruction', "
                + "with the absolute target of each jump as a comment.",
                "FILE may be raw bytes (.bin), hex text (--hex) or assembler text (assembled first)."})
final class DisasmCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Mixin
    ProgramFile input;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.print(Disassembler.listing(input.load(main.stdin())));
        out.flush();
        return Main.EXIT_OK;
    }
}
