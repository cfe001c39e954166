package dev.prism.cli;

import dev.prism.asm.Assembler;
import dev.prism.elf.ElfObject;
import dev.prism.error.PrismException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.TypeConversionException;

/**
 * FILE as every command that takes a program reads it (DESIGN.md, "Command line"), used as a
 * picocli mixin so the forms and options are the same everywhere:
 * <ul>
 *   <li>an ELF object (recognised by its magic, whatever the name): {@code --section} picks a
 *       program by section or function name, optional when the object holds one;</li>
 *   <li>{@code --hex}: instruction bytes written as hex text;</li>
 *   <li>{@code .s} / {@code .asm}: assembler text (conformance/SYNTAX.md);</li>
 *   <li>{@code .bin}: raw bytes, 8-byte little-endian instructions;</li>
 *   <li>anything else, and {@code -} (stdin), by content: text is assembler, the rest raw bytes.</li>
 * </ul>
 * {@code --type} names the program type of the last three; an ELF object's sections name theirs.
 */
final class ProgramFile {
    /** How the bytes of FILE spell a program. */
    enum Form { ELF, ASSEMBLER, RAW, HEX }

    @Parameters(index = "0", paramLabel = "FILE",
            description = {"The program: an ELF object (clang -target bpf), assembler text (named *.s or *.asm), "
                    + "raw 8-byte instructions (named *.bin) or hex text (with --hex); '-' reads standard input.",
                    "Other names are judged by their content."})
    String file;

    @Option(names = "--section", paramLabel = "S",
            description = "ELF objects: the program, by section (xdp, xdp/tcp) or function name; "
                    + "needed when the object holds several.")
    String section;

    @Option(names = "--type", paramLabel = "TYPE", converter = TypeConverter.class,
            description = "Program type of assembler text, raw instructions and hex: raw, xdp, tc or socket "
                    + "(default: raw). An ELF object's sections name their types.")
    ProgramType type;

    @Option(names = "--hex", description = "FILE holds the instruction bytes as hex text (whitespace allowed).")
    boolean hex;

    /**
     * FILE loaded, with one program chosen.
     *
     * @param object  the ELF object, null when FILE is not one
     * @param program the chosen program: --section's, the object's only one, or FILE's program
     */
    record Loaded(ElfObject object, Program program) {
        /**
         * {@return what a target loads: the chosen program first (the entry), then the object's
         * other programs of its type, which it may reach through tail calls}; a PROG_ARRAY can
         * only hold programs of its owner's type, so the others could never run
         */
        List<Program> programs() {
            if (object == null) {
                return List.of(program);
            }
            List<Program> out = new ArrayList<>();
            out.add(program);
            for (Program p : object.programs()) {
                if (p != program && p.type() == program.type()) {
                    out.add(p);
                }
            }
            return out;
        }
    }

    /**
     * FILE loaded without choosing: every program of an ELF object when no --section names one,
     * else the one program.
     *
     * @param object   the ELF object, null when FILE is not one
     * @param programs the programs, in the object's order
     */
    record Listed(ElfObject object, List<Program> programs) {
    }

    /** {@return FILE's program} @throws CliException naming FILE when it is not a program */
    Program program(InputStream stdin) {
        return load(stdin).program();
    }

    /**
     * {@return FILE with one program chosen}
     *
     * @throws CliException naming FILE when it is not a program, or, for an object with several
     *                      programs and no --section, listing them
     */
    Loaded load(InputStream stdin) {
        Object read = read(stdin);
        if (read instanceof ElfObject object) {
            return new Loaded(object, choose(object));
        }
        return new Loaded(null, (Program) read);
    }

    /** {@return FILE's programs: all of an object's when no --section is given, else the one} */
    Listed list(InputStream stdin) {
        Object read = read(stdin);
        if (read instanceof ElfObject object) {
            return new Listed(object, section == null ? object.programs() : List.of(choose(object)));
        }
        return new Listed(null, List.of((Program) read));
    }

    private Program choose(ElfObject object) {
        try {
            if (section != null) {
                return object.program(section);
            }
            List<ElfObject.Entry> entries = object.entries();
            if (entries.size() > 1) {
                throw CliException.usage(file + ": holds " + entries.size() + " programs, pick one with --section: "
                        + entries.stream().map(ElfObject.Entry::toString).collect(Collectors.joining(", ")));
            }
            return object.program();
        } catch (PrismException e) {
            throw new CliException(e.getMessage(), Main.EXIT_USAGE, e);
        }
    }

    /** {@return the ElfObject or the Program in FILE} */
    private Object read(InputStream stdin) {
        byte[] content = Io.read(file, stdin);
        Form form = formOf(file, content, hex);
        if (form == Form.ELF) {
            if (type != null) {
                throw CliException.usage("--type applies to assembler text and raw instructions; "
                        + "the sections of an ELF object name their program types");
            }
            try {
                return ElfObject.parse(file, content);
            } catch (PrismException e) {
                throw new CliException(e.getMessage(), Main.EXIT_USAGE, e);
            }
        }
        if (section != null) {
            throw CliException.usage("--section applies to ELF objects; " + file + " is "
                    + (form == Form.ASSEMBLER ? "assembler text" : form == Form.HEX ? "hex text" : "raw instructions"));
        }
        ProgramType t = type == null ? ProgramType.RAW : type;
        try {
            Program program = switch (form) {
                case ASSEMBLER -> Assembler.assemble(name(), t, new String(content, StandardCharsets.UTF_8));
                case RAW -> Program.decode(name(), t, content);
                case HEX -> Program.decode(name(), t, hexBytes(content));
                case ELF -> throw new IllegalStateException("unreachable");
            };
            if (program.length() == 0) {
                throw CliException.usage(file + ": no instructions");
            }
            return program;
        } catch (PrismException e) {
            throw new CliException(file + ": " + e.getMessage(), Main.EXIT_USAGE, e);
        }
    }

    private byte[] hexBytes(byte[] content) {
        try {
            return Hex.parse(new String(content, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw CliException.usage(file + ": " + e.getMessage());
        }
    }

    /** {@return the program's name: the file name without its extension, "stdin" for '-'} */
    String name() {
        if (file.equals("-")) {
            return "stdin";
        }
        String base = java.nio.file.Path.of(file).getFileName().toString();
        int dot = base.lastIndexOf('.');
        return dot > 0 ? base.substring(0, dot) : base;
    }

    /** {@return how {@code content}, read from {@code file}, spells a program} */
    static Form formOf(String file, byte[] content, boolean hex) {
        if (isElf(content)) {
            return Form.ELF;
        }
        if (hex) {
            return Form.HEX;
        }
        String lower = file.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".s") || lower.endsWith(".asm")) {
            return Form.ASSEMBLER;
        }
        if (lower.endsWith(".bin")) {
            return Form.RAW;
        }
        return isText(content) ? Form.ASSEMBLER : Form.RAW;
    }

    static boolean isElf(byte[] content) {
        return content.length >= 4 && content[0] == 0x7f && content[1] == 'E' && content[2] == 'L' && content[3] == 'F';
    }

    /**
     * {@return whether the bytes are UTF-8 text without control characters other than white
     * space} Raw instructions almost always contain a zero byte (an unused register field, a
     * zero offset), so they fail this test.
     */
    static boolean isText(byte[] content) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(content)).toString();
        } catch (CharacterCodingException e) {
            return false;
        }
        return text.chars().allMatch(c -> c >= 0x20 && c != 0x7f || c == '\n' || c == '\r' || c == '\t' || c == '\f');
    }

    /** Reads {@code --type}. */
    static final class TypeConverter implements ITypeConverter<ProgramType> {
        @Override
        public ProgramType convert(String value) {
            try {
                return ProgramType.of(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
