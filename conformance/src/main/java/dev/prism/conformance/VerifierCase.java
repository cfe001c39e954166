package dev.prism.conformance;

import dev.prism.asm.Assembler;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A verifier case (suite/verifier, conformance/README.md "Verifier cases"): a program and the
 * verdict each profile must give, with the expected diagnostic reason and pc for rejections,
 * and the Linux kernel's own verdict where Prism deliberately differs from it.
 *
 * @param id             the file relative to the suite root
 * @param line           the line of {@code -- asm}
 * @param program        the assembled program with its declared maps
 * @param accept         the rfc9669 profile's verdict
 * @param acceptLinux    the linux profile's verdict ({@code -- verdict-linux}, else the same)
 * @param kernelAccepts  what the running kernel does ({@code -- kernel}, else the linux verdict)
 * @param diagnostic     the expected reason of a rejection, or null
 * @param diagnosticPc   the expected pc of a rejection, or -1
 */
public record VerifierCase(String id, int line, Program program, boolean accept, boolean acceptLinux,
                           boolean kernelAccepts, String diagnostic, int diagnosticPc) {

    private static final List<String> DIRECTIVES = List.of("type", "maps", "asm", "verdict", "verdict-linux",
            "diagnostic", "diagnostic-pc", "kernel");

    public String name() {
        return id + ":" + line;
    }

    /** {@return every verifier case under {@code root}} */
    public static List<VerifierCase> readSuite(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            List<VerifierCase> out = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".data")).sorted().toList()) {
                out.add(read(f, root.relativize(f).toString().replace('\\', '/')));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static VerifierCase read(Path file, String id) throws IOException {
        List<String> lines = Files.readAllLines(file);
        Map<String, StringBuilder> sections = new LinkedHashMap<>();
        Map<String, Integer> at = new LinkedHashMap<>();
        StringBuilder current = null;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            String t = l.strip();
            if (t.startsWith("--")) {
                String name = t.substring(2).strip();
                if (!DIRECTIVES.contains(name)) {
                    throw new SuiteFormatException(file, i + 1, "unknown directive '-- " + name + "' in a verifier case (known: -- "
                            + String.join(", -- ", DIRECTIVES) + ")");
                }
                if (sections.containsKey(name)) {
                    throw new SuiteFormatException(file, i + 1, "second '-- " + name + "' section");
                }
                current = new StringBuilder();
                sections.put(name, current);
                at.put(name, i + 1);
            } else if (current != null) {
                current.append(l).append('\n');
            } else if (!t.isEmpty() && !t.startsWith("#")) {
                throw new SuiteFormatException(file, i + 1, "text before the first section: '" + t + "'");
            }
        }
        for (String required : List.of("asm", "verdict")) {
            if (!sections.containsKey(required)) {
                throw new SuiteFormatException(file, 1, "a verifier case needs '-- " + required + "'");
            }
        }
        ProgramType type = switch (word(sections, "type", "raw")) {
            case "raw" -> ProgramType.RAW;
            case "xdp" -> ProgramType.XDP;
            case "tc" -> ProgramType.TC;
            default -> throw new SuiteFormatException(file, at.get("type"), "-- type is raw, xdp or tc");
        };
        List<MapDef> maps = new ArrayList<>();
        if (sections.containsKey("maps")) {
            int ln = at.get("maps");
            for (String l : sections.get("maps").toString().split("\n")) {
                ln++;
                String t = stripComment(l);
                if (!t.isEmpty()) {
                    maps.add(map(file, ln, t));
                }
            }
        }
        Program program = Program.builder(id, type, Assembler.assemble(sections.get("asm").toString())).maps(maps).build();
        boolean accept = verdict(file, at.get("verdict"), word(sections, "verdict", null));
        boolean linux = sections.containsKey("verdict-linux") ? verdict(file, at.get("verdict-linux"), word(sections, "verdict-linux", null)) : accept;
        boolean kernel = sections.containsKey("kernel") ? verdict(file, at.get("kernel"), word(sections, "kernel", null)) : linux;
        String diagnostic = sections.containsKey("diagnostic") ? stripComment(sections.get("diagnostic").toString()) : null;
        int pc = sections.containsKey("diagnostic-pc") ? Integer.parseInt(word(sections, "diagnostic-pc", null)) : -1;
        if ((accept && linux) && diagnostic != null) {
            throw new SuiteFormatException(file, at.get("diagnostic"), "-- diagnostic goes with a reject verdict");
        }
        return new VerifierCase(id, at.get("asm"), program, accept, linux, kernel, diagnostic, pc);
    }

    private static String stripComment(String s) {
        StringBuilder out = new StringBuilder();
        for (String l : s.split("\n")) {
            int hash = l.indexOf('#');
            out.append(hash < 0 ? l : l.substring(0, hash)).append(' ');
        }
        return out.toString().strip();
    }

    private static String word(Map<String, StringBuilder> sections, String name, String dflt) {
        StringBuilder sb = sections.get(name);
        return sb == null ? dflt : stripComment(sb.toString()).toLowerCase(Locale.ROOT);
    }

    private static boolean verdict(Path file, int line, String v) {
        return switch (v) {
            case "accept" -> true;
            case "reject" -> false;
            default -> throw new SuiteFormatException(file, line, "a verdict is accept or reject, not '" + v + "'");
        };
    }

    /**
     * {@code NAME TYPE key K value V entries N [flags F]}, as in the map suite; a map of maps
     * adds {@code inner TYPE key K value V entries N}, its inner map template.
     */
    private static MapDef map(Path file, int line, String t) {
        String[] w = t.split("\\s+");
        if (w.length == 16 && w[8].equals("inner")) {
            MapDef outer = map(file, line, String.join(" ", java.util.Arrays.copyOf(w, 8)) + " flags 0x80000000");
            MapDef inner = map(file, line, w[0] + ".inner " + String.join(" ", java.util.Arrays.copyOfRange(w, 9, 16)));
            try {
                return new MapDef(outer.name(), outer.type(), outer.keySize(), outer.valueSize(), outer.maxEntries(),
                        0, null, false, new MapDef.Inner(inner, new java.util.TreeMap<>()));
            } catch (IllegalArgumentException e) {
                throw new SuiteFormatException(file, line, e.getMessage());
            }
        }
        if (w.length != 8 && w.length != 10 || !w[2].equals("key") || !w[4].equals("value") || !w[6].equals("entries")) {
            throw new SuiteFormatException(file, line, "expected 'NAME TYPE key K value V entries N [flags F]', found '" + t + "'");
        }
        MapType type = null;
        for (MapType m : MapType.values()) {
            if (m.id().equals(w[1])) {
                type = m;
            }
        }
        if (type == null) {
            throw new SuiteFormatException(file, line, "unknown map type '" + w[1] + "'");
        }
        // flags 0x80000000: the outer part of a map of maps, parsed by the caller (no bpf map flag has that bit)
        boolean outerPart = w.length == 10 && w[9].equals("0x80000000");
        int flags = w.length == 10 && !outerPart ? Integer.decode(w[9]) : 0;
        if (outerPart) {
            return new MapDef(w[0], type, Integer.parseInt(w[3]), Integer.parseInt(w[5]), Integer.parseInt(w[7]), 0, null, false,
                    type.ofMaps() ? new MapDef.Inner(MapDef.of("-", MapType.ARRAY, 4, 4, 1, 0), new java.util.TreeMap<>()) : null);
        }
        if (type.ofMaps()) {
            throw new SuiteFormatException(file, line, "map '" + w[0] + "' of type " + type.id()
                    + " needs 'inner TYPE key K value V entries N'");
        }
        return MapDef.of(w[0], type, Integer.parseInt(w[3]), Integer.parseInt(w[5]), Integer.parseInt(w[7]), flags);
    }
}
