package dev.prism.cli;

import dev.prism.asm.Assembler;
import dev.prism.error.PrismException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.TypeConversionException;

/**
 * FILE as every command that takes a program reads it (DESIGN.md, "Command line"), used as a
 * picocli mixin so the forms and options are the same everywhere:
 * <ul>
 *   <li>{@code --hex}: instruction bytes written as hex text;</li>
 *   <li>{@code .s} / {@code .asm}: assembler text (conformance/SYNTAX.md);</li>
 *   <li>{@code .bin}: raw bytes, 8-byte little-endian instructions;</li>
 *   <li>anything else, and {@code -} (stdin), by content: text is assembler, the rest raw bytes.</li>
 * </ul>
 * An ELF object is recognised by its magic whatever the name, and refused until the ELF loader
 * exists.
 */
final class ProgramFile {
    static final String ELF_NOT_SUPPORTED = "not supported: ELF objects (the ELF loader is issue 2)";

    /** How the bytes of FILE spell a program. */
    enum Form { ASSEMBLER, RAW, HEX }

    @Parameters(index = "0", paramLabel = "FILE",
            description = {"The program: assembler text (named *.s or *.asm), raw 8-byte instructions "
                    + "(named *.bin) or hex text (with --hex); '-' reads standard input.",
                    "Other names are judged by their content."})
    String file;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "raw", converter = TypeConverter.class,
            description = "Program type: raw, xdp or tc (default: raw).")
    ProgramType type;

    @Option(names = "--hex", description = "FILE holds the instruction bytes as hex text (whitespace allowed).")
    boolean hex;

    /** {@return the program in FILE} @throws CliException naming FILE when it is not a program */
    Program load(InputStream stdin) {
        byte[] content = Io.read(file, stdin);
        Form form = formOf(file, content, hex);
        try {
            Program program = switch (form) {
                case ASSEMBLER -> Assembler.assemble(name(), type, new String(content, StandardCharsets.UTF_8));
                case RAW -> Program.decode(name(), type, content);
                case HEX -> Program.decode(name(), type, hexBytes(content));
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

    /** {@return how {@code content}, read from {@code file}, spells a program} @throws CliException for ELF */
    static Form formOf(String file, byte[] content, boolean hex) {
        if (isElf(content)) {
            throw CliException.usage(ELF_NOT_SUPPORTED);
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
