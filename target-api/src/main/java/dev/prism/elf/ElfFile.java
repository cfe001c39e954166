package dev.prism.elf;

import dev.prism.error.ElfException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The checked structure of an ELF64 little-endian EM_BPF relocatable object: header, section
 * headers, symbols and relocation entries (System V gABI, "Object Files"). Nothing here knows
 * about programs or maps; {@link ElfObject} builds those on top.
 *
 * <p>Everything is validated once, here, before anyone indexes into the file: the header, the
 * section header table, each section's extent, {@code sh_link}/{@code sh_info}, names, the symbol
 * table and every relocation entry. After construction every {@link Section} lies inside the
 * file (or is NOBITS), every symbol's name and section index are valid and every relocation's
 * symbol index and offset are in range, so later stages cannot read out of bounds.
 */
final class ElfFile {
    static final int EHDR_SIZE = 64;
    static final int SHDR_SIZE = 64;
    static final int SYM_SIZE = 24;
    static final int REL_SIZE = 16;
    static final int RELA_SIZE = 24;

    static final int EM_BPF = 247;
    static final int ET_REL = 1;

    static final int SHT_NULL = 0;
    static final int SHT_PROGBITS = 1;
    static final int SHT_SYMTAB = 2;
    static final int SHT_STRTAB = 3;
    static final int SHT_RELA = 4;
    static final int SHT_NOBITS = 8;
    static final int SHT_REL = 9;
    static final int SHT_DYNSYM = 11;

    static final long SHF_EXECINSTR = 0x4;

    static final int SHN_UNDEF = 0;
    static final int SHN_LORESERVE = 0xff00;
    static final int SHN_ABS = 0xfff1;
    static final int SHN_COMMON = 0xfff2;
    static final int SHN_XINDEX = 0xffff;

    static final int STT_NOTYPE = 0;
    static final int STT_OBJECT = 1;
    static final int STT_FUNC = 2;
    static final int STT_SECTION = 3;
    static final int STT_FILE = 4;

    static final int STB_LOCAL = 0;
    static final int STB_GLOBAL = 1;
    static final int STB_WEAK = 2;

    /** BPF relocation types (llvm/BinaryFormat/ELFRelocs/BPF.def). */
    static final int R_BPF_NONE = 0;
    static final int R_BPF_64_64 = 1;
    static final int R_BPF_64_ABS64 = 2;
    static final int R_BPF_64_ABS32 = 3;
    static final int R_BPF_64_NODYLD32 = 4;
    static final int R_BPF_64_32 = 10;

    /** One section header, checked: [offset, offset + size) lies in the file unless NOBITS. */
    record Section(int index, String name, int type, long flags, long offset, long size, int link, int info,
                   long entsize) {
        boolean executable() {
            return (flags & SHF_EXECINSTR) != 0;
        }

        boolean nobits() {
            return type == SHT_NOBITS;
        }

        /** {@return "name @0xoffset", the prefix of every message about this section} */
        String where() {
            return where(0);
        }

        /** {@return "name @0xoffset" for a byte {@code at} inside the section} */
        String where(long at) {
            return String.format("%s @0x%x", name.isEmpty() ? "section " + index : name, offset + at);
        }
    }

    /** One symbol, checked: a valid name and a section index that is UNDEF, special or in range. */
    record Symbol(int index, String name, long value, long size, int type, int bind, int shndx) {
        boolean defined() {
            return shndx != SHN_UNDEF;
        }

        /** {@return whether shndx names a real section (not UNDEF, ABS or COMMON)} */
        boolean inSection() {
            return shndx != SHN_UNDEF && shndx < SHN_LORESERVE;
        }

        boolean global() {
            return bind == STB_GLOBAL || bind == STB_WEAK;
        }
    }

    /**
     * One relocation entry, checked: its symbol exists and [offset, offset + width) lies in the
     * target section.
     *
     * @param number the entry's index in its relocation section (for messages)
     * @param fileOffset where the entry itself lies in the file
     * @param addend the explicit addend of a RELA entry, 0 for REL
     */
    record Reloc(int number, long fileOffset, long offset, int type, int symbol, long addend) {
    }

    private final String name;
    private final byte[] bytes;
    private final List<Section> sections;
    private final List<Symbol> symbols;
    private final int symtabIndex;
    /** relocations by target section index; empty lists where a section has none */
    private final List<List<Reloc>> relocations;
    /** the relocation section (REL or RELA) that holds the relocations of each section, or -1 */
    private final int[] relocationSection;

    /** per section: the function symbols at instruction boundaries inside it, by offset */
    private final Map<Integer, TreeMap<Long, String>> functions = new HashMap<>();

    private ElfFile(String name, byte[] bytes) {
        this.name = name;
        this.bytes = bytes;
        this.sections = readSections();
        this.symtabIndex = findSymtab();
        this.symbols = symtabIndex < 0 ? List.of() : readSymbols(sections.get(symtabIndex));
        this.relocationSection = new int[sections.size()];
        Arrays.fill(relocationSection, -1);
        this.relocations = readRelocations();
        indexFunctions();
    }

    /** Indexes STT_FUNC symbols by section and offset; a global name wins over a local one at the same offset. */
    private void indexFunctions() {
        for (Symbol sym : symbols) {
            if (sym.type() != STT_FUNC || !sym.inSection()) {
                continue;
            }
            Section s = sections.get(sym.shndx());
            if (sym.value() < 0 || sym.value() >= s.size() || sym.value() % 8 != 0) {
                continue;
            }
            TreeMap<Long, String> m = functions.computeIfAbsent(s.index(), k -> new TreeMap<>());
            if (sym.global() || !m.containsKey(sym.value())) {
                m.put(sym.value(), sym.name());
            }
        }
    }

    /**
     * {@return the function symbols of section {@code index} at instruction boundaries inside
     * it, by offset (a global name where a global and a local share an offset)}
     */
    NavigableMap<Long, String> functions(int index) {
        TreeMap<Long, String> m = functions.get(index);
        return m == null ? Collections.emptyNavigableMap() : Collections.unmodifiableNavigableMap(m);
    }

    /** {@return the checked structure of {@code bytes}} @throws ElfException for any inconsistency */
    static ElfFile parse(String name, byte[] bytes) {
        return new ElfFile(name, bytes);
    }

    String name() {
        return name;
    }

    List<Section> sections() {
        return sections;
    }

    Section section(int index) {
        return sections.get(index);
    }

    List<Symbol> symbols() {
        return symbols;
    }

    /** {@return the relocations that apply to section {@code index}, in file order} */
    List<Reloc> relocations(int index) {
        return relocations.get(index);
    }

    /** {@return the REL/RELA section holding the relocations of section {@code index}} */
    Section relocationSection(int index) {
        int r = relocationSection[index];
        return r < 0 ? null : sections.get(r);
    }

    /** {@return a copy of a section's bytes; empty for NOBITS, which has none in the file} */
    byte[] contents(Section s) {
        if (s.nobits() || s.type() == SHT_NULL) {
            return new byte[0];
        }
        return Arrays.copyOfRange(bytes, (int) s.offset(), (int) (s.offset() + s.size()));
    }

    /** {@return the first section named {@code name}, or null} */
    Section section(String sectionName) {
        for (Section s : sections) {
            if (s.name().equals(sectionName)) {
                return s;
            }
        }
        return null;
    }

    static ElfException error(String where, String message) {
        return new ElfException(where + ": " + message);
    }

    // ---------------------------------------------------------------------------------------
    // Little-endian reads. Callers check bounds first; these are only for offsets already known
    // to be inside the array.

    static int u8(byte[] b, long at) {
        return b[(int) at] & 0xff;
    }

    static int u16(byte[] b, long at) {
        return u8(b, at) | u8(b, at + 1) << 8;
    }

    static long u32(byte[] b, long at) {
        return (u16(b, at) | (long) u16(b, at + 2) << 16) & 0xffff_ffffL;
    }

    static int s32(byte[] b, long at) {
        return (int) u32(b, at);
    }

    /** Reads an unsigned 64-bit field; values above Long.MAX_VALUE come back negative, which every check rejects. */
    static long u64(byte[] b, long at) {
        return u32(b, at) | u32(b, at + 4) << 32;
    }

    static void putS32(byte[] b, long at, int v) {
        for (int i = 0; i < 4; i++) {
            b[(int) at + i] = (byte) (v >>> (8 * i));
        }
    }

    /** {@return whether [offset, offset + size) lies in [0, limit), without overflow} */
    static boolean fits(long offset, long size, long limit) {
        return offset >= 0 && size >= 0 && offset <= limit && size <= limit - offset;
    }

    // ---------------------------------------------------------------------------------------
    // Header and section headers

    private List<Section> readSections() {
        if (bytes.length < EHDR_SIZE) {
            throw error("ELF header @0x0", String.format("file is %d bytes, shorter than the 64-byte ELF64 header",
                    bytes.length));
        }
        if (u8(bytes, 0) != 0x7f || u8(bytes, 1) != 'E' || u8(bytes, 2) != 'L' || u8(bytes, 3) != 'F') {
            throw error("ELF header @0x0", "not an ELF file (bad magic)");
        }
        if (u8(bytes, 4) != 2) {
            throw error("ELF header @0x4", "EI_CLASS is " + u8(bytes, 4) + ", must be 2 (ELF64)");
        }
        if (u8(bytes, 5) != 1) {
            throw error("ELF header @0x5", "EI_DATA is " + u8(bytes, 5) + ", must be 1 (little-endian)");
        }
        if (u8(bytes, 6) != 1) {
            throw error("ELF header @0x6", "EI_VERSION is " + u8(bytes, 6) + ", must be 1");
        }
        int type = u16(bytes, 16);
        if (type != ET_REL) {
            throw error("ELF header @0x10", "e_type is " + type + ", must be 1 (ET_REL, a relocatable object)");
        }
        int machine = u16(bytes, 18);
        if (machine != EM_BPF) {
            throw error("ELF header @0x12", "e_machine is " + machine + ", must be 247 (EM_BPF)");
        }
        long shoff = u64(bytes, 40);
        int ehsize = u16(bytes, 52);
        if (ehsize != EHDR_SIZE) {
            throw error("ELF header @0x34", "e_ehsize is " + ehsize + ", must be 64");
        }
        int shentsize = u16(bytes, 58);
        long shnum = u16(bytes, 60);
        int shstrndx = u16(bytes, 62);
        if (shoff == 0) {
            throw error("ELF header @0x28", "no section header table (e_shoff is 0)");
        }
        if (shentsize != SHDR_SIZE) {
            throw error("ELF header @0x3a", "e_shentsize is " + shentsize + ", must be 64");
        }
        if (!fits(shoff, SHDR_SIZE, bytes.length)) {
            throw error("ELF header @0x28", String.format("section header table at 0x%x is outside the file (0x%x bytes)",
                    shoff, bytes.length));
        }
        // Extended numbering (gABI): e_shnum 0 and SHN_XINDEX put the real values in section 0.
        if (shnum == 0) {
            shnum = u64(bytes, shoff + 32);
        }
        if (shstrndx == SHN_XINDEX) {
            shstrndx = (int) u32(bytes, shoff + 40);
        }
        if (shnum <= 0 || !fits(shoff, shnum * SHDR_SIZE, bytes.length) || shnum > bytes.length / SHDR_SIZE) {
            throw error("ELF header @0x28", String.format(
                    "section header table at 0x%x (%d entries of 64 bytes) extends past the end of the file (0x%x bytes)",
                    shoff, shnum, bytes.length));
        }
        int count = (int) shnum;
        if (shstrndx == 0 || shstrndx >= count) {
            throw error("ELF header @0x3e", "e_shstrndx " + shstrndx + " is not a section (" + count + " sections)");
        }

        // First pass: raw headers, checked for extent; names come once the name table is known.
        long[][] raw = new long[count][];
        for (int i = 0; i < count; i++) {
            long at = shoff + (long) i * SHDR_SIZE;
            raw[i] = new long[] {u32(bytes, at), u32(bytes, at + 4), u64(bytes, at + 8), u64(bytes, at + 24),
                    u64(bytes, at + 32), u32(bytes, at + 40), u32(bytes, at + 44), u64(bytes, at + 56)};
            int shType = (int) raw[i][1];
            long offset = raw[i][3];
            long size = raw[i][4];
            String where = String.format("section header %d @0x%x", i, at);
            if (i == 0) {
                if (shType != SHT_NULL) {
                    throw error(where, "section 0 must be SHT_NULL, not type " + shType);
                }
                continue;
            }
            if (shType != SHT_NOBITS && shType != SHT_NULL && !fits(offset, size, bytes.length)) {
                throw error(where, String.format("section data at 0x%x (0x%x bytes) extends past the end of the file "
                        + "(0x%x bytes)", offset, size, bytes.length));
            }
            if (shType != SHT_NULL && (size < 0 || offset < 0)) {
                throw error(where, String.format("section offset 0x%x or size 0x%x is out of range", offset, size));
            }
            if (raw[i][5] >= count) {
                throw error(where, "sh_link " + raw[i][5] + " is not a section (" + count + " sections)");
            }
            if ((shType == SHT_REL || shType == SHT_RELA) && (raw[i][6] == 0 || raw[i][6] >= count)) {
                throw error(where, "sh_info " + raw[i][6] + " is not a section (" + count + " sections)");
            }
        }
        long[] names = raw[shstrndx];
        String shstrWhere = String.format("section header %d @0x%x", shstrndx, shoff + (long) shstrndx * SHDR_SIZE);
        if (names[1] != SHT_STRTAB) {
            throw error(shstrWhere, "section name table (e_shstrndx) has type " + names[1] + ", must be SHT_STRTAB (3)");
        }
        StringTable nameTable = new StringTable(bytes, names[3], names[4], "section name table");
        List<Section> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long[] h = raw[i];
            String where = String.format("section header %d @0x%x", i, shoff + (long) i * SHDR_SIZE);
            String sectionName = i == 0 ? "" : nameTable.get(h[0], where);
            // An SHT_NULL header's other fields mean nothing (gABI): give it no extent at all.
            boolean none = h[1] == SHT_NULL;
            out.add(new Section(i, sectionName, (int) h[1], h[2], none ? 0 : h[3], none ? 0 : h[4], (int) h[5],
                    (int) h[6], h[7]));
        }
        checkOverlaps(out, shoff, count);
        return List.copyOf(out);
    }

    /** Rejects two non-empty file ranges that overlap, counting the ELF header and the section header table. */
    private void checkOverlaps(List<Section> list, long shoff, int count) {
        record Extent(String what, long start, long end) {
        }
        List<Extent> extents = new ArrayList<>();
        extents.add(new Extent("ELF header", 0, EHDR_SIZE));
        extents.add(new Extent("section header table", shoff, shoff + (long) count * SHDR_SIZE));
        for (Section s : list) {
            if (s.index() != 0 && !s.nobits() && s.type() != SHT_NULL && s.size() > 0) {
                extents.add(new Extent(s.where(), s.offset(), s.offset() + s.size()));
            }
        }
        extents.sort(Comparator.comparingLong(Extent::start).thenComparingLong(Extent::end));
        for (int i = 1; i < extents.size(); i++) {
            Extent a = extents.get(i - 1);
            Extent b = extents.get(i);
            if (b.start() < a.end()) {
                throw error(b.what(), String.format("overlaps %s (0x%x..0x%x)", a.what(), a.start(), a.end()));
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Symbols

    private int findSymtab() {
        int found = -1;
        for (Section s : sections) {
            if (s.type() == SHT_SYMTAB) {
                if (found >= 0) {
                    throw error(s.where(), "second symbol table (the first is section " + found + ")");
                }
                found = s.index();
            }
        }
        return found;
    }

    private List<Symbol> readSymbols(Section symtab) {
        if (symtab.entsize() != SYM_SIZE) {
            throw error(symtab.where(), "sh_entsize is " + symtab.entsize() + ", must be 24 (Elf64_Sym)");
        }
        if (symtab.size() % SYM_SIZE != 0) {
            throw error(symtab.where(), String.format("size 0x%x is not a multiple of 24 (Elf64_Sym)", symtab.size()));
        }
        Section strtab = sections.get(symtab.link());
        if (strtab.type() != SHT_STRTAB) {
            throw error(symtab.where(), "sh_link " + symtab.link() + " (" + strtab.name() + ") is not a string table");
        }
        int n = (int) (symtab.size() / SYM_SIZE);
        if (symtab.info() > n) {
            throw error(symtab.where(), "sh_info " + symtab.info() + " (first non-local symbol) exceeds the "
                    + n + " symbols");
        }
        StringTable names = new StringTable(bytes, strtab.offset(), strtab.size(), "string table " + strtab.name());
        List<Symbol> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long at = symtab.offset() + (long) i * SYM_SIZE;
            String where = String.format("%s @0x%x: symbol %d", symtab.name(), at, i);
            long nameOff = u32(bytes, at);
            int info = u8(bytes, at + 4);
            int shndx = u16(bytes, at + 6);
            long value = u64(bytes, at + 8);
            long size = u64(bytes, at + 16);
            String symName = names.get(nameOff, where);
            if (shndx == SHN_XINDEX) {
                throw new ElfException(where + " '" + symName + "': extended section indices (SHN_XINDEX) are not supported");
            }
            if (shndx != SHN_UNDEF && shndx < SHN_LORESERVE && shndx >= sections.size()) {
                throw new ElfException(where + " '" + symName + "': section index " + shndx + " is not a section ("
                        + sections.size() + " sections)");
            }
            int type = info & 0xf;
            if (symName.isEmpty() && type == STT_SECTION && shndx != SHN_UNDEF && shndx < SHN_LORESERVE) {
                symName = sections.get(shndx).name(); // as llvm-readelf names section symbols
            }
            out.add(new Symbol(i, symName, value, size, type, info >>> 4, shndx));
        }
        return List.copyOf(out);
    }

    // ---------------------------------------------------------------------------------------
    // Relocations

    private List<List<Reloc>> readRelocations() {
        List<List<Reloc>> out = new ArrayList<>(sections.size());
        for (int i = 0; i < sections.size(); i++) {
            out.add(List.of());
        }
        for (Section rs : sections) {
            if (rs.type() != SHT_REL && rs.type() != SHT_RELA) {
                continue;
            }
            boolean rela = rs.type() == SHT_RELA;
            int entry = rela ? RELA_SIZE : REL_SIZE;
            if (rs.entsize() != entry) {
                throw error(rs.where(), "sh_entsize is " + rs.entsize() + ", must be " + entry
                        + (rela ? " (Elf64_Rela)" : " (Elf64_Rel)"));
            }
            if (rs.size() % entry != 0) {
                throw error(rs.where(), String.format("size 0x%x is not a multiple of %d", rs.size(), entry));
            }
            if (rs.link() != symtabIndex || symtabIndex < 0) {
                throw error(rs.where(), "sh_link " + rs.link() + " is not the symbol table"
                        + (symtabIndex < 0 ? " (there is none)" : " (section " + symtabIndex + ")"));
            }
            Section target = sections.get(rs.info());
            if (relocationSection[target.index()] >= 0) {
                throw error(rs.where(), "second relocation section for " + target.name() + " (the first is section "
                        + relocationSection[target.index()] + ")");
            }
            if (rela && target.executable()) {
                throw error(rs.where(), "RELA relocations for code section " + target.name()
                        + " (BPF objects use SHT_REL)");
            }
            relocationSection[target.index()] = rs.index();
            int n = (int) (rs.size() / entry);
            List<Reloc> list = new ArrayList<>(n);
            for (int k = 0; k < n; k++) {
                long at = rs.offset() + (long) k * entry;
                long offset = u64(bytes, at);
                long info = u64(bytes, at + 8);
                int type = (int) (info & 0xffff_ffffL);
                long sym = info >>> 32;
                long addend = rela ? u64(bytes, at + 16) : 0;
                Reloc r = new Reloc(k, at, offset, type, (int) Math.min(sym, Integer.MAX_VALUE), addend);
                String where = String.format("%s @0x%x: relocation %d", rs.name(), at, k);
                if (sym >= symbols.size()) {
                    throw new ElfException(where + ": symbol index " + sym + " is out of range (" + symbols.size()
                            + " symbols)");
                }
                checkRelocation(where, r, target);
                list.add(r);
            }
            out.set(target.index(), List.copyOf(list));
        }
        return List.copyOf(out);
    }

    private static void checkRelocation(String where, Reloc r, Section target) {
        int width = switch (r.type()) {
            case R_BPF_NONE -> 0;
            case R_BPF_64_64 -> target.executable() ? 16 : 8;
            case R_BPF_64_32 -> target.executable() ? 8 : 4;
            case R_BPF_64_ABS64 -> 8;
            case R_BPF_64_ABS32, R_BPF_64_NODYLD32 -> 4;
            default -> throw new ElfException(where + ": unknown relocation type " + Integer.toUnsignedString(r.type()));
        };
        if (!fits(r.offset(), width, target.size())) {
            throw new ElfException(where + String.format(": offset 0x%x outside section %s (0x%x bytes)",
                    r.offset(), target.name(), target.size()));
        }
        if (target.executable()) {
            if ((r.offset() & 7) != 0) {
                throw new ElfException(where + String.format(": offset 0x%x in code section %s is not a multiple of 8",
                        r.offset(), target.name()));
            }
            if (r.type() != R_BPF_NONE && r.type() != R_BPF_64_64 && r.type() != R_BPF_64_32) {
                throw new ElfException(where + ": relocation type " + r.type() + " (" + typeName(r.type())
                        + ") is not valid in code section " + target.name());
            }
        }
    }

    static String typeName(int type) {
        return switch (type) {
            case R_BPF_NONE -> "R_BPF_NONE";
            case R_BPF_64_64 -> "R_BPF_64_64";
            case R_BPF_64_ABS64 -> "R_BPF_64_ABS64";
            case R_BPF_64_ABS32 -> "R_BPF_64_ABS32";
            case R_BPF_64_NODYLD32 -> "R_BPF_64_NODYLD32";
            case R_BPF_64_32 -> "R_BPF_64_32";
            default -> "type " + Integer.toUnsignedString(type);
        };
    }
}
