package dev.prism.conformance;

import dev.prism.asm.Assembler;
import dev.prism.isa.Insn;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One conformance case: a program (assembler text or raw bytes), optional input memory, and
 * what must happen: a 64-bit result in r0, or an error whose message contains a substring.
 *
 * @param file     the {@code .data} file
 * @param id       the file's path relative to its suite root, e.g. "4.1-arithmetic/add.data"
 * @param line     the 1-based line of the program section, used in test names {@code id:line}
 * @param source   the program as written
 * @param mem      input memory (empty when none)
 * @param expected the expected outcome
 */
public record ConformanceCase(Path file, String id, int line, Source source, byte[] mem, Expected expected) {

    public ConformanceCase {
        Objects.requireNonNull(file);
        mem = mem.clone();
    }

    @Override
    public byte[] mem() {
        return mem.clone();
    }

    /** {@return "id:line", the name that points at the exact line to open} */
    public String name() {
        return id + ":" + line;
    }

    /** The program as the file gives it. */
    public sealed interface Source {
        /** {@code -- asm}: assembler text; {@code firstLine} is the line of its first instruction. */
        record Asm(String text, int firstLine) implements Source {
        }

        /** {@code -- raw}: instruction bytes as they lie in memory. */
        record Raw(byte[] bytes) implements Source {
            public Raw {
                bytes = bytes.clone();
            }
        }
    }

    /** What the case expects. */
    public sealed interface Expected {
        /** r0 at exit. */
        record Result(long r0) implements Expected {
            @Override
            public String toString() {
                return String.format("0x%x", r0);
            }
        }

        /** An error (malformed program, assembler error, trap) whose message contains {@code substring}. */
        record Error(String substring) implements Expected {
            @Override
            public String toString() {
                return "error containing \"" + substring + "\"";
            }
        }
    }

    /**
     * {@return the program} @throws dev.prism.error.AssemblerException or
     * {@link dev.prism.error.MalformedProgramException} when the source is invalid (some cases
     * expect exactly that)
     */
    public Program program() {
        return switch (source) {
            case Source.Asm a -> Assembler.assemble(id, ProgramType.RAW, a.text());
            case Source.Raw r -> Program.decode(id, ProgramType.RAW, r.bytes());
        };
    }

    /** {@return the program's slots, or null when it does not assemble or decode} */
    public Insn[] slotsOrNull() {
        try {
            return program().slots();
        } catch (RuntimeException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return name() + " " + expected + (mem.length > 0 ? " mem=" + HexFormat.of().formatHex(mem) : "");
    }
}
