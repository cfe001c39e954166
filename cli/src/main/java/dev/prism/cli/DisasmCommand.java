package dev.prism.cli;

import dev.prism.asm.Disassembler;
import dev.prism.elf.ElfObject;
import dev.prism.program.Program;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code prism disasm}: instruction bytes to canonical assembler text. */
@Command(name = "disasm", mixinStandardHelpOptions = true,
        description = {"Print a program as a listing in canonical assembler syntax: 'pc: instruction', "
                + "with the absolute target of each jump as a comment.",
                "FILE may be an ELF object, raw bytes (.bin), hex text (--hex) or assembler text (assembled first).",
                "An ELF object's programs (all of them, or the one --section names) are each listed under a line "
                        + "'program NAME (section S, type T, N insns)', N counting 8-byte slots as pcs do; "
                        + "functions are labelled ('parse_ipv4:'), calls name their callee ('<parse_ipv4>') "
                        + "and map references their map ('# map flows', '# map .rodata + 16')."})
final class DisasmCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Mixin
    ProgramFile input;

    @Option(names = {"-S", "--source"},
            description = "Before the first instruction of each source line, print it from BTF line info: "
                    + "'; file.c:42: text' (objects compiled with -g).")
    boolean source;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ProgramFile.Listed listed = input.list(main.stdin());
        if (listed.object() == null) {
            Program program = listed.programs().getFirst();
            if (source && !program.hasLineInfo()) {
                out.println("; no source line info (" + input.file + " is not an ELF object)");
            }
            out.print(Disassembler.listing(program, source));
            out.flush();
            return Main.EXIT_OK;
        }
        ElfObject object = listed.object();
        boolean first = true;
        for (Program program : listed.programs()) {
            if (!first) {
                out.println();
            }
            first = false;
            out.println("program " + program.name() + " (section " + program.section() + ", type " + program.type().id()
                    + ", " + program.length() + " insns)");
            if (source && !program.hasLineInfo()) {
                out.println("; no source line info (compile with -g)");
            }
            out.print(Disassembler.listing(program, source));
        }
        if (input.section == null) {
            // entries of sections Prism cannot load (kprobe/..., tracepoint/...) are named, not listed
            for (ElfObject.Entry e : object.entries()) {
                if (e.type().isEmpty()) {
                    if (!first) {
                        out.println();
                    }
                    first = false;
                    out.println("program " + e.name() + " (section " + e.section() + "): not listed, "
                            + "Prism does not load programs of this section");
                }
            }
            if (first) {
                out.println(object.name() + ": holds no programs");
            }
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
