package dev.prism.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads the bpf_conformance {@code .data} format (see conformance/README.md):
 * <pre>
 *   # comment
 *   -- asm            assembler text        (or -- raw: instruction bytes in hex)
 *   -- mem            optional input memory in hex
 *   -- result         expected r0, hex (0x...) or decimal, 64-bit
 *   -- error          or: a substring of the expected error message
 * </pre>
 * Unknown directives and malformed sections are reported as {@link SuiteFormatException}s
 * naming file and line, never skipped silently.
 */
public final class DataFileReader {
    private static final List<String> DIRECTIVES = List.of("asm", "raw", "mem", "result", "error");

    private DataFileReader() {
    }

    /** {@return every case under {@code root} (recursively, sorted by path)} */
    public static List<ConformanceCase> readSuite(Path root) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("suite directory " + root + " does not exist");
        }
        try (Stream<Path> files = Files.walk(root)) {
            List<ConformanceCase> cases = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".data")).sorted().toList()) {
                cases.add(read(root, f));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@return the case in one file} */
    public static ConformanceCase read(Path root, Path file) {
        try {
            return parse(file, root.relativize(file).toString().replace('\\', '/'),
                    Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** {@return the case in {@code text}} @param id the name the case is reported under */
    public static ConformanceCase parse(Path file, String id, String text) {
        String[] lines = text.split("\\R", -1);
        String section = null;
        int sectionLine = 0;
        StringBuilder body = new StringBuilder();
        ConformanceCase.Source source = null;
        int programLine = 0;
        byte[] mem = new byte[0];
        ConformanceCase.Expected expected = null;
        boolean seenMem = false;
        for (int i = 0; i <= lines.length; i++) {
            boolean end = i == lines.length;
            String raw = end ? "" : lines[i];
            String line = raw.strip();
            if (!end && !line.startsWith("--")) {
                if (section == null) {
                    if (!line.isEmpty() && !line.startsWith("#")) {
                        throw new SuiteFormatException(file, i + 1, "text before the first section: '" + line + "'");
                    }
                } else {
                    body.append(raw).append('\n');
                }
                continue;
            }
            // a section ends: interpret what it held
            if (section != null) {
                String content = body.toString();
                switch (section) {
                    case "asm" -> {
                        source = new ConformanceCase.Source.Asm(content, sectionLine + 1);
                        programLine = sectionLine;
                    }
                    case "raw" -> {
                        source = new ConformanceCase.Source.Raw(hex(file, sectionLine, content));
                        programLine = sectionLine;
                    }
                    case "mem" -> {
                        mem = hex(file, sectionLine, content);
                        seenMem = true;
                    }
                    case "result" -> expected = new ConformanceCase.Expected.Result(number(file, sectionLine, content));
                    case "error" -> {
                        String s = withoutComments(content).strip();
                        if (s.isEmpty()) {
                            throw new SuiteFormatException(file, sectionLine, "-- error needs the expected message text");
                        }
                        expected = new ConformanceCase.Expected.Error(s);
                    }
                    default -> throw new IllegalStateException(section);
                }
            }
            if (end) {
                break;
            }
            String name = line.substring(2).strip();
            if (!DIRECTIVES.contains(name)) {
                throw new SuiteFormatException(file, i + 1, "unknown directive '-- " + name + "' (known: -- "
                        + String.join(", -- ", DIRECTIVES) + ")");
            }
            boolean program = name.equals("asm") || name.equals("raw");
            boolean outcome = name.equals("result") || name.equals("error");
            if ((program && source != null) || (outcome && expected != null) || (name.equals("mem") && seenMem)) {
                throw new SuiteFormatException(file, i + 1, "second '-- " + name + "' section"
                        + (program ? " (one program per file: -- asm or -- raw)" : outcome ? " (one of -- result or -- error)" : ""));
            }
            section = name;
            sectionLine = i + 1;
            body.setLength(0);
        }
        if (source == null) {
            throw new SuiteFormatException(file, 1, "no program: a case needs '-- asm' or '-- raw'");
        }
        if (expected == null) {
            throw new SuiteFormatException(file, lines.length, "no expectation: a case needs '-- result' or '-- error'");
        }
        return new ConformanceCase(file, id, programLine, source, mem, expected);
    }

    private static String withoutComments(String content) {
        StringBuilder sb = new StringBuilder();
        for (String l : content.split("\\R")) {
            int hash = l.indexOf('#');
            sb.append(hash < 0 ? l : l.substring(0, hash)).append('\n');
        }
        return sb.toString();
    }

    private static byte[] hex(java.nio.file.Path file, int line, String content) {
        String digits = withoutComments(content).replaceAll("\\s+", "");
        if (digits.length() % 2 != 0 || !digits.matches("[0-9a-fA-F]*")) {
            throw new SuiteFormatException(file, line, "expected hex bytes (pairs of 0-9a-f), found '" + content.strip() + "'");
        }
        return HexFormat.of().parseHex(digits);
    }

    private static long number(java.nio.file.Path file, int line, String content) {
        String s = withoutComments(content).strip();
        try {
            if (s.startsWith("0x") || s.startsWith("0X")) {
                return Long.parseUnsignedLong(s.substring(2), 16);
            }
            if (s.startsWith("-")) {
                return Long.parseLong(s);
            }
            return Long.parseUnsignedLong(s);
        } catch (NumberFormatException e) {
            throw new SuiteFormatException(file, line, "expected a 64-bit result (hex 0x... or decimal), found '" + s + "'");
        }
    }
}
