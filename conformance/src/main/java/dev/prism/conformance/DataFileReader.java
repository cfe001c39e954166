package dev.prism.conformance;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.ProgramType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads the bpf_conformance {@code .data} format and Prism's extensions (see
 * conformance/README.md):
 * <pre>
 *   # comment
 *   -- asm            assembler text        (or -- raw: instruction bytes in hex; or -- elf)
 *   -- mem            optional input memory in hex
 *   -- result         expected r0, hex (0x...) or decimal, 64-bit
 *   -- error          or: a substring of the expected error message
 * </pre>
 * Extensions: {@code -- type}, {@code -- packet}, {@code -- maps}, {@code -- map-init},
 * {@code -- maps-after}, {@code -- packet-after}, {@code -- elf}. Unknown directives and
 * malformed sections are reported as {@link SuiteFormatException}s naming file and line, never
 * skipped silently.
 *
 * <p>Upstream's own files (bpf_conformance's {@code tests/}) are read as its
 * {@code bpf_test_parser.cc} reads them: {@code -- no register offset} and {@code -- c} start
 * sections that are ignored; when a file has both {@code -- asm} and {@code -- raw} the raw
 * instructions are the program; a {@code -- raw} section whose words start with {@code 0x}
 * holds one 64-bit little-endian instruction per word ({@code 0x5566778800000018} is opcode
 * 0x18, imm 0x55667788), where Prism's own raw form is byte pairs (which never contain
 * {@code x}, so no Prism file changes meaning). {@link #load} skips a file with an unknown
 * directive and goes on, as upstream does.
 */
public final class DataFileReader {
    private static final List<String> DIRECTIVES = List.of("asm", "raw", "elf", "type", "mem", "packet", "maps",
            "map-init", "maps-after", "packet-after", "result", "error", "skb", "skb-after");
    /** bpf_conformance's sections that its parser reads past: notes for other tools, C sources. */
    private static final List<String> IGNORED = List.of("no register offset", "c");
    /** The least packet an XDP test run takes (ETH_HLEN), in Linux and in the interpreter. */
    private static final int ETH_HLEN = 14;
    /** The keyword of ring-buffer lines in {@code -- maps-after}; no map may be named so. */
    private static final String RINGBUF = "ringbuf";

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

    /**
     * A file {@link #load} could not turn into a case.
     *
     * @param file    the file
     * @param id      its path relative to the suite root
     * @param message {@code file:line: reason}
     * @param skipped true for an unknown directive (bpf_conformance skips such a file), false
     *                for any other format error (an error of the suite)
     */
    public record Unread(Path file, String id, String message, boolean skipped) {
    }

    /** What {@link #load} read: the cases, and the files it could not read. */
    public record Loaded(List<ConformanceCase> cases, List<Unread> unread) {
        public Loaded {
            cases = List.copyOf(cases);
            unread = List.copyOf(unread);
        }
    }

    /**
     * {@return every case under {@code root} (recursively, sorted by path), and every file that
     * is not a case}: where {@link #readSuite} stops at the first bad file, this reads on, as
     * bpf_conformance's runner does, so one file with a directive Prism does not know costs
     * that file only
     */
    public static Loaded load(Path root) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("suite directory " + root + " does not exist");
        }
        try (Stream<Path> files = Files.walk(root)) {
            List<ConformanceCase> cases = new ArrayList<>();
            List<Unread> unread = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".data")).sorted().toList()) {
                try {
                    cases.add(read(root, f));
                } catch (SuiteFormatException e) {
                    unread.add(new Unread(f, root.relativize(f).toString().replace('\\', '/'), e.getMessage(),
                            e instanceof UnknownDirectiveException));
                }
            }
            return new Loaded(cases, unread);
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

    /** One section: its directive line and its body. */
    private record Section(int line, String body) {
        /** {@return the body's lines without comments or blanks, each with its file line} */
        List<Line> lines() {
            List<Line> out = new ArrayList<>();
            String[] ls = body.split("\\R", -1);
            for (int i = 0; i < ls.length; i++) {
                String s = withoutComments(ls[i]).strip();
                if (!s.isEmpty()) {
                    out.add(new Line(line + 1 + i, s));
                }
            }
            return out;
        }
    }

    private record Line(int line, String text) {
        String[] tokens() {
            return text.split("\\s+");
        }
    }

    /** {@return the case in {@code text}} @param id the name the case is reported under */
    public static ConformanceCase parse(Path file, String id, String text) {
        String[] lines = text.split("\\R", -1);
        Map<String, Section> sections = new LinkedHashMap<>();
        String section = null;
        boolean ignoring = false;
        int sectionLine = 0;
        StringBuilder body = new StringBuilder();
        for (int i = 0; i <= lines.length; i++) {
            boolean end = i == lines.length;
            String raw = end ? "" : lines[i];
            String line = raw.strip();
            if (!end && !line.startsWith("--")) {
                if (ignoring) {
                    continue;
                }
                if (section == null) {
                    if (!line.isEmpty() && !line.startsWith("#")) {
                        throw new SuiteFormatException(file, i + 1, "text before the first section: '" + line + "'");
                    }
                } else {
                    body.append(raw).append('\n');
                }
                continue;
            }
            if (section != null) {
                sections.put(section, new Section(sectionLine, body.toString()));
            }
            if (end) {
                break;
            }
            String name = line.substring(2).strip();
            ignoring = IGNORED.contains(name);
            if (ignoring) {
                section = null;
                continue;
            }
            if (!DIRECTIVES.contains(name)) {
                throw new UnknownDirectiveException(file, i + 1, "unknown directive '-- " + name + "' (known: -- "
                        + String.join(", -- ", DIRECTIVES) + "; ignored: -- " + String.join(", -- ", IGNORED) + ")");
            }
            boolean program = name.equals("asm") || name.equals("raw") || name.equals("elf");
            // bpf_conformance: a file may give its program twice, as text and as raw words; the raw form runs
            boolean asmAndRaw = (name.equals("asm") && sections.containsKey("raw") && !sections.containsKey("asm"))
                    || (name.equals("raw") && sections.containsKey("asm") && !sections.containsKey("raw"));
            if (asmAndRaw && !sections.containsKey("elf")) {
                program = false;
            }
            boolean outcome = name.equals("result") || name.equals("error");
            boolean second = sections.containsKey(name)
                    || (program && (sections.containsKey("asm") || sections.containsKey("raw") || sections.containsKey("elf")))
                    || (outcome && (sections.containsKey("result") || sections.containsKey("error")));
            if (second) {
                throw new SuiteFormatException(file, i + 1, "second '-- " + name + "' section"
                        + (program ? " (one program per file: -- asm, -- raw or -- elf)"
                        : outcome ? " (one of -- result or -- error)" : ""));
            }
            section = name;
            sectionLine = i + 1;
            body.setLength(0);
        }
        return build(file, id, lines.length, sections);
    }

    private static ConformanceCase build(Path file, String id, int lastLine, Map<String, Section> s) {
        // the program
        ConformanceCase.Source source;
        int programLine;
        if (s.containsKey("raw")) {
            programLine = s.get("raw").line();
            source = new ConformanceCase.Source.Raw(raw(file, programLine, s.get("raw").body()));
        } else if (s.containsKey("asm")) {
            programLine = s.get("asm").line();
            source = new ConformanceCase.Source.Asm(s.get("asm").body(), programLine + 1);
        } else if (s.containsKey("elf")) {
            programLine = s.get("elf").line();
            source = elf(file, s.get("elf"));
        } else {
            throw new SuiteFormatException(file, 1, "no program: a case needs '-- asm', '-- raw' or '-- elf'");
        }
        boolean elf = source instanceof ConformanceCase.Source.Elf;

        // the outcome
        ConformanceCase.Expected expected;
        if (s.containsKey("result")) {
            expected = new ConformanceCase.Expected.Result(number(file, s.get("result").line(), s.get("result").body()));
        } else if (s.containsKey("error")) {
            String e = withoutComments(s.get("error").body()).strip();
            if (e.isEmpty()) {
                throw new SuiteFormatException(file, s.get("error").line(), "-- error needs the expected message text");
            }
            expected = new ConformanceCase.Expected.Error(e);
        } else {
            throw new SuiteFormatException(file, lastLine, "no expectation: a case needs '-- result' or '-- error'");
        }
        if (expected instanceof ConformanceCase.Expected.Error) {
            for (String after : List.of("maps-after", "packet-after", "skb-after")) {
                if (s.containsKey(after)) {
                    throw new SuiteFormatException(file, s.get(after).line(), "-- " + after
                            + " only goes with -- result (a case that expects an error has no state after it)");
                }
            }
        }

        // the type and the input
        ProgramType type = ProgramType.RAW;
        if (s.containsKey("type")) {
            int line = s.get("type").line();
            if (elf) {
                throw new SuiteFormatException(file, line, "-- type does not go with -- elf: the program's section gives its type");
            }
            String t = withoutComments(s.get("type").body()).strip();
            type = switch (t) {
                case "raw" -> ProgramType.RAW;
                case "xdp" -> ProgramType.XDP;
                case "tc" -> ProgramType.TC;
                default -> throw new SuiteFormatException(file, line, "-- type is 'raw', 'xdp' or 'tc', found '" + t + "'");
            };
        }
        byte[] mem = s.containsKey("mem") ? hex(file, s.get("mem").line(), s.get("mem").body()) : new byte[0];
        byte[] packet = s.containsKey("packet") ? hex(file, s.get("packet").line(), s.get("packet").body()) : null;
        byte[] packetAfter = s.containsKey("packet-after")
                ? hex(file, s.get("packet-after").line(), s.get("packet-after").body()) : null;
        if (elf) {
            if (s.containsKey("mem") && s.containsKey("packet")) {
                throw new SuiteFormatException(file, s.get("packet").line(), "-- mem and -- packet: an -- elf case has one input, "
                        + "memory for a raw section, a packet for an xdp one");
            }
        } else if (type == ProgramType.XDP || type == ProgramType.TC) {
            if (s.containsKey("mem")) {
                throw new SuiteFormatException(file, s.get("mem").line(), (type == ProgramType.XDP ? "an" : "a") + " " + type.id() + " case takes -- packet, not -- mem");
            }
            if (packet == null) {
                throw new SuiteFormatException(file, programLine, (type == ProgramType.XDP ? "an" : "a") + " " + type.id() + " case needs -- packet");
            }
        } else {
            for (String x : List.of("packet", "packet-after")) {
                if (s.containsKey(x)) {
                    throw new SuiteFormatException(file, s.get(x).line(), "-- " + x + " needs -- type xdp or tc");
                }
            }
        }
        if (type != ProgramType.TC && !elf) {
            for (String x : List.of("skb", "skb-after")) {
                if (s.containsKey(x)) {
                    throw new SuiteFormatException(file, s.get(x).line(), "-- " + x + " needs -- type tc");
                }
            }
        }
        dev.prism.target.SkbFields skb = s.containsKey("skb") ? skbFields(file, s.get("skb"), null) : null;
        dev.prism.target.SkbFields skbAfter = s.containsKey("skb-after")
                ? skbFields(file, s.get("skb-after"), skb == null ? dev.prism.target.SkbFields.ZERO : skb) : null;
        if (packet != null && packet.length < ETH_HLEN) {
            throw new SuiteFormatException(file, s.get("packet").line(), "the packet has " + packet.length
                    + " bytes; an XDP test run needs at least " + ETH_HLEN + " (an Ethernet header)");
        }
        if (type != ProgramType.RAW && expected instanceof ConformanceCase.Expected.Result r && (r.r0() >>> 32) != 0) {
            throw new SuiteFormatException(file, s.get("result").line(), (type == ProgramType.XDP ? "an" : "a") + " " + type.id() + " program's result is a u32 "
                    + "(bpf_prog_run returns the low half of r0), found " + r);
        }

        // the maps
        List<ConformanceCase.MapDecl> maps = List.of();
        if (s.containsKey("maps")) {
            if (elf) {
                throw new SuiteFormatException(file, s.get("maps").line(), "-- maps does not go with -- elf: the object defines the maps");
            }
            maps = maps(file, s.get("maps"));
        }
        Map<String, ConformanceCase.MapDecl> declared = new HashMap<>();
        maps.forEach(m -> declared.put(m.name(), m));
        List<ConformanceCase.MapInit> init = s.containsKey("map-init")
                ? mapInit(file, s.get("map-init"), elf, declared) : List.of();
        List<ConformanceCase.MapCheck> after = s.containsKey("maps-after")
                ? mapsAfter(file, s.get("maps-after"), elf, declared) : List.of();
        return new ConformanceCase(file, id, programLine, source, type, mem, packet, maps, init, after, packetAfter, expected,
                skb, skbAfter);
    }

    /**
     * {@code -- skb} / {@code -- skb-after}: lines {@code mark N}, {@code priority N},
     * {@code cb HEX} (20 bytes) and, after a run only, {@code tc_classid N}. Fields not named
     * keep {@code base}'s value (for -- skb-after: the input's, tc_classid 0); base null: zero.
     */
    private static dev.prism.target.SkbFields skbFields(Path file, Section section, dev.prism.target.SkbFields base) {
        dev.prism.target.SkbFields b = base == null ? dev.prism.target.SkbFields.ZERO : base;
        int mark = b.mark();
        int priority = b.priority();
        byte[] cb = b.cb();
        Integer classid = base == null ? null : 0;
        for (Line l : section.lines()) {
            String[] t = l.tokens();
            if (t.length != 2) {
                throw new SuiteFormatException(file, l.line(), "an skb line is 'FIELD VALUE', found '" + l.text() + "'");
            }
            switch (t[0]) {
                case "mark" -> mark = (int) number(file, l.line(), t[1]);
                case "priority" -> priority = (int) number(file, l.line(), t[1]);
                case "cb" -> {
                    cb = hex(file, l.line(), t[1]);
                    if (cb.length != dev.prism.target.SkbFields.CB_SIZE) {
                        throw new SuiteFormatException(file, l.line(), "cb holds 20 bytes, found " + cb.length);
                    }
                }
                case "tc_classid" -> {
                    if (base == null) {
                        throw new SuiteFormatException(file, l.line(), "tc_classid is not an input (Linux's test run does not take it)");
                    }
                    classid = (int) number(file, l.line(), t[1]);
                }
                default -> throw new SuiteFormatException(file, l.line(), "unknown skb field '" + t[0]
                        + "' (mark, priority, cb, tc_classid)");
            }
        }
        return new dev.prism.target.SkbFields(mark, priority, cb, classid);
    }

    private static ConformanceCase.Source.Elf elf(Path file, Section section) {
        String c = null;
        List<String> names = new ArrayList<>();
        for (Line l : section.lines()) {
            int colon = l.text().indexOf(':');
            String key = colon < 0 ? "" : l.text().substring(0, colon).strip();
            String value = colon < 0 ? "" : l.text().substring(colon + 1).strip();
            switch (key) {
                case "file" -> {
                    if (c != null) {
                        throw new SuiteFormatException(file, l.line(), "second 'file:' line (one C source per case)");
                    }
                    if (!value.endsWith(".c") || value.startsWith("/") || value.contains("..")) {
                        throw new SuiteFormatException(file, l.line(), "'file:' names a .c file next to the .data file "
                                + "(a relative path without '..'), found '" + value + "'");
                    }
                    c = value;
                }
                case "section" -> {
                    if (value.isEmpty() || value.contains(" ")) {
                        throw new SuiteFormatException(file, l.line(), "'section:' names one program (its section or function)");
                    }
                    names.add(value);
                }
                default -> throw new SuiteFormatException(file, l.line(), "-- elf holds 'file: NAME.c' and 'section: S' lines, found '"
                        + l.text() + "'");
            }
        }
        if (c == null) {
            throw new SuiteFormatException(file, section.line(), "-- elf needs a 'file: NAME.c' line");
        }
        if (names.isEmpty()) {
            throw new SuiteFormatException(file, section.line(), "-- elf needs a 'section: S' line (the entry program)");
        }
        return new ConformanceCase.Source.Elf(c, names);
    }

    private static List<ConformanceCase.MapDecl> maps(Path file, Section section) {
        List<ConformanceCase.MapDecl> out = new ArrayList<>();
        for (Line l : section.lines()) {
            String[] t = l.tokens();
            // a map-in-map: NAME array_of_maps key K value 4 entries N inner TYPE key K value V entries N
            MapDef inner = null;
            if (t.length == 16 && t[8].equals("inner")) {
                if (!t[10].equals("key") || !t[12].equals("value") || !t[14].equals("entries")) {
                    throw mapsSyntax(file, l);
                }
                inner = MapDef.of(t[0] + ".inner", mapType(file, l.line(), t[9]), size(file, l.line(), "key", t[11]),
                        size(file, l.line(), "value", t[13]), size(file, l.line(), "entries", t[15]), 0);
                t = java.util.Arrays.copyOf(t, 8);
            }
            if (t.length != 8 && t.length != 10) {
                throw mapsSyntax(file, l);
            }
            String name = t[0];
            if (!name.matches("[A-Za-z_.][A-Za-z0-9_.]*") || name.equals(RINGBUF)) {
                throw new SuiteFormatException(file, l.line(), "bad map name '" + name + "' (letters, digits, '_', '.'; not '"
                        + RINGBUF + "', the -- maps-after keyword)");
            }
            if (out.stream().anyMatch(m -> m.name().equals(name))) {
                throw new SuiteFormatException(file, l.line(), "second map named '" + name + "'");
            }
            MapType type = mapType(file, l.line(), t[1]);
            if (!t[2].equals("key") || !t[4].equals("value") || !t[6].equals("entries")
                    || (t.length == 10 && !t[8].equals("flags"))) {
                throw mapsSyntax(file, l);
            }
            int key = size(file, l.line(), "key", t[3]);
            int value = size(file, l.line(), "value", t[5]);
            int entries = size(file, l.line(), "entries", t[7]);
            int flags = t.length == 10 ? size(file, l.line(), "flags", t[9]) : 0;
            if (entries == 0) {
                throw new SuiteFormatException(file, l.line(), "map '" + name + "' has 0 entries");
            }
            if ((inner != null) != type.ofMaps()) {
                throw new SuiteFormatException(file, l.line(), inner == null ? "map '" + name + "' of type " + type.id()
                        + " needs 'inner TYPE key K value V entries N'" : "map '" + name + "' of type " + type.id() + " holds no maps");
            }
            out.add(new ConformanceCase.MapDecl(name, type, key, value, entries, flags, inner));
        }
        if (out.isEmpty()) {
            throw new SuiteFormatException(file, section.line(), "-- maps declares no map");
        }
        return out;
    }

    private static SuiteFormatException mapsSyntax(Path file, Line l) {
        return new SuiteFormatException(file, l.line(), "expected 'NAME TYPE key K value V entries N [flags F]' (a map of maps:"
                + " '... entries N inner TYPE key K value V entries N'), found '"
                + l.text() + "'");
    }

    private static MapType mapType(Path file, int line, String id) {
        for (MapType t : MapType.values()) {
            if (t.id().equals(id)) {
                return t;
            }
        }
        throw new SuiteFormatException(file, line, "unknown map type '" + id + "' (known: "
                + String.join(", ", Stream.of(MapType.values()).map(MapType::id).toList()) + ")");
    }

    private static int size(Path file, int line, String what, String s) {
        try {
            long v = s.startsWith("0x") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return (int) v;
        } catch (NumberFormatException e) {
            throw new SuiteFormatException(file, line, what + " must be a number 0.." + Integer.MAX_VALUE + ", found '" + s + "'");
        }
    }

    private static ConformanceCase.MapDecl map(Path file, Line l, String name, boolean elf, Map<String, ConformanceCase.MapDecl> declared) {
        ConformanceCase.MapDecl m = declared.get(name);
        if (m == null && !elf) {
            throw new SuiteFormatException(file, l.line(), "no map '" + name + "' in -- maps"
                    + (declared.isEmpty() ? " (the case declares none)" : " (maps: " + String.join(", ", declared.keySet()) + ")"));
        }
        return m;
    }

    private static void checkLength(Path file, Line l, String what, byte[] bytes, int size, String map) {
        if (bytes.length != size) {
            throw new SuiteFormatException(file, l.line(), what + " of " + bytes.length + " bytes for map '" + map
                    + "', whose " + what + " size is " + size);
        }
    }

    private static List<ConformanceCase.MapInit> mapInit(Path file, Section section, boolean elf,
                                                         Map<String, ConformanceCase.MapDecl> declared) {
        List<ConformanceCase.MapInit> out = new ArrayList<>();
        for (Line l : section.lines()) {
            String[] t = l.tokens();
            if (t.length != 3) {
                throw new SuiteFormatException(file, l.line(), "expected 'NAME KEY_HEX VALUE_HEX' (or a program name as "
                        + "the value of a prog_array), found '" + l.text() + "'");
            }
            ConformanceCase.MapDecl m = map(file, l, t[0], elf, declared);
            byte[] key = token(file, l, "key", t[1]);
            if (m != null) {
                checkLength(file, l, "key", key, m.keySize(), m.name());
                switch (m.type()) {
                    case PROG_ARRAY -> {
                        if (!t[2].matches("[A-Za-z_.][A-Za-z0-9_./]*")) {
                            throw new SuiteFormatException(file, l.line(), "a prog_array value is a program name, found '" + t[2] + "'");
                        }
                    }
                    case RINGBUF -> throw new SuiteFormatException(file, l.line(), "a ring buffer cannot be initialized");
                    case PERCPU_HASH -> throw new SuiteFormatException(file, l.line(), "per-CPU hash '" + m.name()
                            + "' cannot be initialized: the harness learns the target's CPU count from an existing "
                            + "element, and a hash key does not exist yet (let the program insert it)");
                    default -> checkLength(file, l, "value", token(file, l, "value", t[2]), m.valueSize(), m.name());
                }
            }
            out.add(new ConformanceCase.MapInit(t[0], key, t[2], l.line()));
        }
        return out;
    }

    private static List<ConformanceCase.MapCheck> mapsAfter(Path file, Section section, boolean elf,
                                                           Map<String, ConformanceCase.MapDecl> declared) {
        List<ConformanceCase.MapCheck> out = new ArrayList<>();
        Map<String, List<byte[]>> rings = new LinkedHashMap<>();
        Map<String, Boolean> ringNone = new HashMap<>();
        for (Line l : section.lines()) {
            String[] t = l.tokens();
            if (t.length == 3 && t[0].equals(RINGBUF)) {
                ConformanceCase.MapDecl m = map(file, l, t[1], elf, declared);
                if (m != null && m.type() != MapType.RINGBUF) {
                    throw new SuiteFormatException(file, l.line(), "map '" + m.name() + "' is a " + m.type().id() + ", not a ringbuf");
                }
                boolean none = t[2].equals("none");
                if (ringNone.containsKey(t[1]) && (none || ringNone.get(t[1]))) {
                    throw new SuiteFormatException(file, l.line(), "'ringbuf " + t[1] + " none' must be the only line for that ring buffer");
                }
                ringNone.put(t[1], none);
                List<byte[]> records = rings.computeIfAbsent(t[1], k -> new ArrayList<>());
                if (!none) {
                    records.add(token(file, l, "record", t[2]));
                }
                continue;
            }
            if (t.length != 3) {
                throw new SuiteFormatException(file, l.line(), "expected 'NAME KEY_HEX VALUE_HEX', 'NAME KEY_HEX absent' or "
                        + "'ringbuf NAME RECORD_HEX', found '" + l.text() + "'");
            }
            ConformanceCase.MapDecl m = map(file, l, t[0], elf, declared);
            byte[] key = token(file, l, "key", t[1]);
            if (m != null) {
                if (m.type() == MapType.RINGBUF || m.type() == MapType.PROG_ARRAY) {
                    throw new SuiteFormatException(file, l.line(), "map '" + m.name() + "' is a " + m.type().id()
                            + (m.type() == MapType.RINGBUF ? ": check it with 'ringbuf NAME RECORD_HEX' lines"
                            : ": its values (program ids) cannot be compared across targets"));
                }
                checkLength(file, l, "key", key, m.keySize(), m.name());
            }
            if (t[2].equals("absent")) {
                out.add(new ConformanceCase.MapCheck.Absent(t[0], key));
            } else {
                byte[] value = token(file, l, "value", t[2]);
                if (m != null) {
                    checkLength(file, l, "value", value, m.valueSize(), m.name());
                }
                out.add(new ConformanceCase.MapCheck.Value(t[0], key, value));
            }
        }
        rings.forEach((name, records) -> out.add(new ConformanceCase.MapCheck.Ring(name, records)));
        return out;
    }

    private static byte[] token(Path file, Line l, String what, String token) {
        if (token.length() % 2 != 0 || !token.matches("[0-9a-fA-F]*")) {
            throw new SuiteFormatException(file, l.line(), "the " + what + " must be hex bytes (pairs of 0-9a-f, no spaces), found '"
                    + token + "'");
        }
        return HexFormat.of().parseHex(token.toLowerCase(Locale.ROOT));
    }

    private static String withoutComments(String content) {
        StringBuilder sb = new StringBuilder();
        for (String l : content.split("\\R")) {
            int hash = l.indexOf('#');
            sb.append(hash < 0 ? l : l.substring(0, hash)).append('\n');
        }
        return sb.toString();
    }

    private static byte[] hex(Path file, int line, String content) {
        String digits = withoutComments(content).replaceAll("\\s+", "");
        if (digits.length() % 2 != 0 || !digits.matches("[0-9a-fA-F]*")) {
            throw new SuiteFormatException(file, line, "expected hex bytes (pairs of 0-9a-f), found '" + content.strip() + "'");
        }
        return HexFormat.of().parseHex(digits);
    }

    /**
     * {@return the bytes of a {@code -- raw} section}: bpf_conformance's 64-bit words when a word
     * starts with {@code 0x} (each word one instruction, stored little-endian; a word without
     * the prefix is decimal, as upstream's parser reads it), Prism's byte pairs otherwise
     */
    private static byte[] raw(Path file, int line, String content) {
        String[] words = withoutComments(content).strip().split("\\s+");
        boolean upstream = java.util.Arrays.stream(words).anyMatch(w -> w.startsWith("0x") || w.startsWith("0X"));
        if (!upstream) {
            return hex(file, line, content);
        }
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(words.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (String w : words) {
            try {
                boolean hexWord = w.startsWith("0x") || w.startsWith("0X");
                String digits = hexWord ? w.substring(2) : w;
                if (digits.isEmpty() || (hexWord && digits.length() > 16)) {
                    throw new NumberFormatException();
                }
                out.putLong(Long.parseUnsignedLong(digits, hexWord ? 16 : 10));
            } catch (NumberFormatException e) {
                throw new SuiteFormatException(file, line, "expected one 64-bit instruction per word (0x... or decimal), found '"
                        + w + "'");
            }
        }
        return out.array();
    }

    private static long number(Path file, int line, String content) {
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
