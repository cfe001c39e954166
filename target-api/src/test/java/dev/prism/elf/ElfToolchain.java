package dev.prism.elf;

import dev.prism.testing.Host;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * clang-19 and llvm-objdump-19 for the ELF tests: compiles the C sources under
 * {@code src/test/resources/elf/} once per JVM and disassembles objects for cross-checks.
 */
final class ElfToolchain {
    static final String CLANG = "clang-19";
    static final String OBJDUMP = "llvm-objdump-19";
    static final String READELF = "llvm-readelf-19";
    private static final long TIMEOUT_S = 120;

    private static volatile Boolean available;
    private static Path workDir;
    private static final Map<String, Path> OBJECTS = new ConcurrentHashMap<>();

    private ElfToolchain() {
    }

    /** Skips (or, under PRISM_REQUIRE, fails) the calling test when clang-19 is missing. */
    static void require() {
        Host.require("clang", available(), CLANG + ", " + OBJDUMP + " and " + READELF
                + " are needed to build and cross-check BPF test objects");
    }

    static boolean available() {
        if (available == null) {
            boolean ok;
            try {
                run(List.of(CLANG, "--version"));
                run(List.of(OBJDUMP, "--version"));
                run(List.of(READELF, "--version"));
                ok = true;
            } catch (RuntimeException e) {
                ok = false;
            }
            available = ok;
        }
        return available;
    }

    /** {@return the object built from {@code elf/<name>.c} with {@code -mcpu=<cpu>}, built once} */
    static Path object(String name, String cpu) {
        return OBJECTS.computeIfAbsent(name + "-" + cpu, k -> {
            try {
                Path dir = dir();
                Path src = dir.resolve(name + ".c");
                if (!Files.exists(src)) {
                    try (InputStream in = ElfToolchain.class.getResourceAsStream("/elf/" + name + ".c")) {
                        if (in == null) {
                            throw new IllegalStateException("no test resource elf/" + name + ".c");
                        }
                        Files.write(src, in.readAllBytes());
                    }
                }
                Path out = dir.resolve(k + ".o");
                // the prefix map keeps the temporary directory's name out of the debug info, so
                // the objects, and the fuzz runs over them, are the same from run to run; clang
                // reads the BTF line text back through the mapped name, so it runs in the directory
                run(dir, List.of(CLANG, "-O2", "-g", "-target", "bpf", "-mcpu=" + cpu,
                        "-fdebug-prefix-map=" + dir + "=.", "-c", src.toString(), "-o", out.toString()));
                return out;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static byte[] bytes(String name, String cpu) {
        try {
            return Files.readAllBytes(object(name, cpu));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static synchronized Path dir() throws IOException {
        if (workDir == null) {
            workDir = Files.createTempDirectory("prism-elf-test");
            workDir.toFile().deleteOnExit();
        }
        return workDir;
    }

    /** {@return the stdout of {@code command}} @throws IllegalStateException when it fails or times out */
    static String run(List<String> command) {
        return run(null, command);
    }

    private static String run(Path directory, List<String> command) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            if (directory != null) {
                pb.directory(directory.toFile());
            }
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command + " timed out");
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(command + " exited " + p.exitValue() + ": " + text);
            }
            return text;
        } catch (IOException e) {
            throw new IllegalStateException(command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(command + " interrupted", e);
        }
    }

    /**
     * One instruction as llvm-objdump prints it: its slot in the section, its raw bytes and the
     * symbol of the relocation printed under it (null when none).
     */
    record Line(int slot, byte[] raw, String[] reloc) {
        int opcode() {
            return raw[0] & 0xff;
        }

        int imm() {
            return (raw[4] & 0xff) | (raw[5] & 0xff) << 8 | (raw[6] & 0xff) << 16 | raw[7] << 24;
        }
    }

    /** One function of llvm-objdump -dr output, starting at byte {@code address} of its section. */
    record Func(String section, String name, long address, List<Line> lines) {
        int slots() {
            return lines.isEmpty() ? 0 : lines.getLast().slot() + lines.getLast().raw().length / 8 - lines.getFirst().slot();
        }
    }

    /** {@return the function named {@code name} in llvm-objdump's output} */
    static Func func(List<Func> funcs, String name) {
        return funcs.stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("llvm-objdump shows no function " + name));
    }

    /** A symbol as llvm-readelf prints it: value and the name of its section. */
    record Sym(String name, long value, String section) {
    }

    /** {@return the symbols of {@code object} by name (section symbols under their section's name)} */
    static Map<String, Sym> symbols(Path object) {
        String text = run(List.of(READELF, "-S", "-s", "--wide", object.toString()));
        Map<Integer, String> sectionNames = new HashMap<>();
        Map<String, Sym> out = new HashMap<>();
        Pattern sec = Pattern.compile("^\\s*\\[\\s*(\\d+)\\]\\s+(\\S+)\\s+[A-Z_]+\\s.*");
        Pattern sym = Pattern.compile(
                "^\\s*\\d+:\\s+([0-9a-f]+)\\s+\\d+\\s+\\w+\\s+\\w+\\s+\\w+\\s+(\\d+)\\s+(\\S+)$");
        for (String line : text.split("\n")) {
            Matcher m = sec.matcher(line);
            if (m.matches()) {
                sectionNames.put(Integer.parseInt(m.group(1)), m.group(2));
                continue;
            }
            m = sym.matcher(line);
            if (m.matches()) {
                String section = sectionNames.get(Integer.parseInt(m.group(2)));
                out.putIfAbsent(m.group(3), new Sym(m.group(3), Long.parseLong(m.group(1), 16), section));
            }
        }
        return out;
    }

    /** {@return the functions llvm-objdump -d finds in {@code object}, in output order} */
    static List<Func> disassemble(Path object) {
        String text = run(List.of(OBJDUMP, "-dr", object.toString()));
        List<Func> out = new ArrayList<>();
        String section = null;
        Func current = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("Disassembly of section ")) {
                section = line.substring("Disassembly of section ".length(), line.length() - 1);
                current = null;
            } else if (line.matches("^[0-9a-f]{16} <.*>:$")) {
                current = new Func(section, line.substring(line.indexOf('<') + 1, line.lastIndexOf('>')),
                        Long.parseLong(line.substring(0, 16), 16), new ArrayList<>());
                out.add(current);
            } else if (current != null && line.matches("^\\s*\\d+:\\t.*")) {
                String[] parts = line.trim().split("\t");
                int slot = Integer.parseInt(parts[0].substring(0, parts[0].length() - 1).trim());
                String[] hex = parts[1].trim().split(" ");
                byte[] raw = new byte[hex.length];
                for (int i = 0; i < hex.length; i++) {
                    raw[i] = (byte) Integer.parseInt(hex[i], 16);
                }
                current.lines().add(new Line(slot, raw, null));
            } else if (current != null && line.matches("^\\s*[0-9a-f]+:\\s+R_BPF_\\w+\\s+\\S+$")) {
                String[] parts = line.trim().split("\\s+");
                Line last = current.lines().removeLast();
                current.lines().add(new Line(last.slot(), last.raw(), new String[] {parts[1], parts[2]}));
            }
        }
        return out;
    }
}
