package dev.prism.elf;

import dev.prism.error.ElfException;
import dev.prism.error.PrismException;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A clang {@code -target bpf} object file, loaded the way libbpf loads one: its programs (one
 * per global function in a program section), maps (BTF-defined, legacy and global data),
 * license and BTF line info (DESIGN.md, "Program").
 *
 * <p>Untrusted input: every malformation is an {@link ElfException} whose message names the
 * section (or "ELF header", "section header N") and the file offset where it was found. Nothing
 * else escapes, no count in the file is trusted for an allocation before it is checked against
 * the file's size, and every loop is bounded by the file's size.
 *
 * <p>Programs of a section whose name Prism does not know (kprobe/..., tracepoint/...) are
 * listed in {@link #entries()} but not linked; asking for one by {@link #program(String)} is an
 * error naming the section.
 */
public final class ElfObject {
    /** Files larger than this are refused before they are read. */
    static final long MAX_FILE_SIZE = 1L << 30;

    private static final String KNOWN_SECTIONS = "xdp, tc, classifier, socket, raw";

    /**
     * One entry function of the object.
     *
     * @param name    the function's symbol name, or the section name for a section without one
     * @param section the ELF section holding it
     * @param type    the program type its section names; empty when Prism does not support it
     */
    /**
     * A prog_array slot the object initializes ({@code .values = { [index] = &program }}), which
     * libbpf fills when it loads the object and so should every Prism loader.
     *
     * @param map     the prog_array's name
     * @param index   the slot
     * @param program the program's function name
     */
    public record ProgramSlot(String map, int index, String program) {
    }

    public record Entry(String name, String section, Optional<ProgramType> type) {
        @Override
        public String toString() {
            return name.equals(section) ? name : name + " (" + section + ")";
        }
    }

    private final String name;
    private final List<Entry> entries;
    private final List<Program> programs;
    private final List<MapDef> maps;
    private final String license;
    private final List<ProgramSlot> programSlots;

    private ElfObject(String name, List<Entry> entries, List<Program> programs, List<MapDef> maps, String license,
                      List<ProgramSlot> programSlots) {
        this.programSlots = List.copyOf(programSlots);
        this.name = name;
        this.entries = List.copyOf(entries);
        this.programs = List.copyOf(programs);
        this.maps = List.copyOf(maps);
        this.license = license;
    }

    /** {@return the object in {@code file}} @throws ElfException when it cannot be read or loaded */
    public static ElfObject load(Path file) {
        String name = String.valueOf(file.getFileName());
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_SIZE) {
                throw new ElfException(name + ": file is " + size + " bytes, more than the " + MAX_FILE_SIZE
                        + " an object may have");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ElfException(name + ": cannot read: " + e.getMessage());
        }
        return parse(name, bytes);
    }

    /**
     * {@return the object {@code bytes} hold}
     *
     * @param name a name for messages (the file name)
     * @throws ElfException for any malformed, inconsistent or unsupported input
     */
    public static ElfObject parse(String name, byte[] bytes) {
        try {
            return read(name, bytes);
        } catch (PrismException e) {
            throw new ElfException(name + ": " + e.getMessage());
        } catch (RuntimeException e) {
            // Every check above is meant to make this unreachable; should one be missing, the
            // caller still gets the one exception type the contract promises, not a crash.
            throw new ElfException(name + ": internal error while loading: " + e);
        }
    }

    /** {@link #parse} without the message prefix and the last-resort net, for the fuzz tests. */
    static ElfObject read(String name, byte[] bytes) {
        return read(name, bytes, ProgramLinker.Shared.MAX_TOTAL_SLOTS);
    }

    /** {@link #read(String, byte[])} with another budget of linked slots for the whole object. */
    static ElfObject read(String name, byte[] bytes, long slotBudget) {
        ElfFile elf = ElfFile.parse(name, bytes);
        ElfFile.Section btfSection = elf.section(".BTF");
        Btf btf = btfSection == null || btfSection.nobits() ? null : Btf.parse(btfSection, elf.contents(btfSection));
        ElfFile.Section extSection = elf.section(".BTF.ext");
        BtfExt ext = extSection == null || extSection.nobits() ? null
                : BtfExt.parse(extSection, elf.contents(extSection), btf);
        MapTable maps = MapTable.build(elf, btf);
        String license = license(elf);

        ProgramLinker.Shared shared = new ProgramLinker.Shared(elf, maps, ext, license, slotBudget);
        List<Entry> entries = new ArrayList<>();
        List<Program> programs = new ArrayList<>();
        Map<Integer, List<ElfFile.Symbol>> globalFunctions = new HashMap<>();
        for (ElfFile.Symbol sym : elf.symbols()) {
            if (sym.type() == ElfFile.STT_FUNC && sym.global() && sym.inSection()) {
                globalFunctions.computeIfAbsent(sym.shndx(), k -> new ArrayList<>()).add(sym);
            }
        }
        for (ElfFile.Section s : programSections(elf)) {
            Optional<ProgramType> type = s.name().equals(".text") ? Optional.of(ProgramType.RAW) : typeOf(s.name());
            for (Range r : entryRanges(s, globalFunctions.getOrDefault(s.index(), List.of()))) {
                entries.add(new Entry(r.name(), s.name(), type));
                if (type.isPresent()) {
                    programs.add(ProgramLinker.link(shared, r.name(), type.get(), s, r.start(), r.end()));
                }
            }
        }
        return new ElfObject(name, entries, programs, maps.defs(), license, maps.slots());
    }

    /** {@return the prog_array slots the object initializes; load them with MapAccess.setProgram} */
    public List<ProgramSlot> programSlots() {
        return programSlots;
    }

    /** {@return the object's name, as given to {@link #parse} or the file name} */
    public String name() {
        return name;
    }

    /** {@return every entry function, supported or not, in section and offset order} */
    public List<Entry> entries() {
        return entries;
    }

    /** {@return the programs of the entries whose section names a supported type, in section and offset order} */
    public List<Program> programs() {
        return programs;
    }

    /** {@return the maps, in the order every program's map_idx/map_value_idx immediates index them} */
    public List<MapDef> maps() {
        return maps;
    }

    /** {@return the license string from the {@code license} section; empty when there is none} */
    public String license() {
        return license;
    }

    /**
     * {@return the program whose function name or section name is {@code sectionOrName}}
     *
     * @throws ElfException when none matches, when several do, or when its section names an
     *                      unsupported program type
     */
    public Program program(String sectionOrName) {
        List<Entry> matches = entries.stream()
                .filter(e -> e.name().equals(sectionOrName) || e.section().equals(sectionOrName))
                .toList();
        if (matches.isEmpty()) {
            throw new ElfException(name + ": no program named or in section '" + sectionOrName + "' (available: "
                    + available() + ")");
        }
        if (matches.size() > 1) {
            throw new ElfException(name + ": '" + sectionOrName + "' is ambiguous, it matches "
                    + matches.stream().map(Entry::toString).collect(Collectors.joining(", "))
                    + " (name the function)");
        }
        return programOf(matches.getFirst());
    }

    /** {@return the only program of the object} @throws ElfException when there is not exactly one entry */
    public Program program() {
        if (entries.size() != 1) {
            throw new ElfException(name + ": " + (entries.isEmpty() ? "holds no programs"
                    : "holds " + entries.size() + " programs, name one of: " + available()));
        }
        return programOf(entries.getFirst());
    }

    private Program programOf(Entry e) {
        if (e.type().isEmpty()) {
            throw new ElfException(name + ": unsupported program section '" + e.section() + "' (known: "
                    + KNOWN_SECTIONS + ")");
        }
        int supportedIndex = 0;
        for (Entry other : entries) {
            if (other == e) {
                break;
            }
            if (other.type().isPresent()) {
                supportedIndex++;
            }
        }
        return programs.get(supportedIndex);
    }

    private String available() {
        return entries.isEmpty() ? "none" : entries.stream().map(Entry::toString).collect(Collectors.joining(", "));
    }

    /**
     * {@return the program type a libbpf SEC() name stands for, if Prism supports it}: xdp,
     * xdp/*, xdp.frags* are XDP; tc, tc/*, classifier, classifier/*, tcx/* are TC; socket,
     * socket/* SOCKET; raw, raw/* RAW; csd, csd/* CSD (Prism's computational-storage type).
     */
    public static Optional<ProgramType> typeOf(String section) {
        if (section.equals("xdp") || section.startsWith("xdp/") || section.startsWith("xdp.frags")) {
            return Optional.of(ProgramType.XDP);
        }
        if (section.equals("tc") || section.startsWith("tc/") || section.equals("classifier")
                || section.startsWith("classifier/") || section.startsWith("tcx/")) {
            return Optional.of(ProgramType.TC);
        }
        if (section.equals("socket") || section.startsWith("socket/")) {
            return Optional.of(ProgramType.SOCKET);
        }
        if (section.equals("raw") || section.startsWith("raw/")) {
            return Optional.of(ProgramType.RAW);
        }
        if (section.equals("csd") || section.startsWith("csd/")) {
            return Optional.of(ProgramType.CSD);
        }
        return Optional.empty();
    }

    // ---------------------------------------------------------------------------------------

    /** The code sections whose global functions are programs: every executable section but .text, or .text alone. */
    private static List<ElfFile.Section> programSections(ElfFile elf) {
        List<ElfFile.Section> out = new ArrayList<>();
        ElfFile.Section text = null;
        for (ElfFile.Section s : elf.sections()) {
            if (!s.executable() || s.size() == 0) {
                continue;
            }
            if (s.nobits() || s.type() != ElfFile.SHT_PROGBITS) {
                throw ElfFile.error(s.where(), "executable section has type " + s.type() + ", not PROGBITS");
            }
            if (s.name().equals(".text")) {
                text = s;
            } else {
                out.add(s);
            }
        }
        if (out.isEmpty() && text != null) {
            out.add(text);
        }
        return out;
    }

    private record Range(String name, long start, long end) {
    }

    /**
     * Each global function of a program section runs from its symbol to the next global
     * function's symbol or the section end; static functions in between belong to the range
     * they fall in. A section without global functions is one program named after the section
     * (hand-written assembler objects).
     */
    private static List<Range> entryRanges(ElfFile.Section s, List<ElfFile.Symbol> functions) {
        List<ElfFile.Symbol> globals = new ArrayList<>(functions);
        for (ElfFile.Symbol sym : globals) {
            if (sym.value() < 0 || sym.value() >= s.size() || sym.value() % 8 != 0) {
                throw ElfFile.error(s.where(), String.format("function '%s' at 0x%x is outside the section "
                        + "(0x%x bytes) or not at an instruction boundary", sym.name(), sym.value(), s.size()));
            }
        }
        if (globals.isEmpty()) {
            return List.of(new Range(s.name(), 0, s.size()));
        }
        globals.sort(Comparator.comparingLong(ElfFile.Symbol::value).thenComparingInt(ElfFile.Symbol::index));
        List<Range> out = new ArrayList<>();
        int next = 0;
        for (ElfFile.Symbol sym : globals) {
            while (next < globals.size() && globals.get(next).value() <= sym.value()) {
                next++;
            }
            long end = next < globals.size() ? globals.get(next).value() : s.size();
            out.add(new Range(sym.name(), sym.value(), end));
        }
        return out;
    }

    /** The {@code license} section: a NUL-terminated string (libbpf takes the bytes up to the first NUL). */
    private static String license(ElfFile elf) {
        ElfFile.Section s = elf.section("license");
        if (s == null) {
            return "";
        }
        byte[] b = elf.contents(s);
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
