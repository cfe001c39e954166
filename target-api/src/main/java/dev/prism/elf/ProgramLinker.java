package dev.prism.elf;

import static dev.prism.elf.ElfFile.R_BPF_64_32;
import static dev.prism.elf.ElfFile.R_BPF_64_64;
import static dev.prism.elf.ElfFile.R_BPF_NONE;
import static dev.prism.elf.ElfFile.putS32;
import static dev.prism.elf.ElfFile.s32;
import static dev.prism.elf.ElfFile.u8;

import dev.prism.error.ElfException;
import dev.prism.error.MalformedProgramException;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.program.Function;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.program.SourceLine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Links one entry function of an object into a {@link Program}, as libbpf does before
 * BPF_PROG_LOAD: the entry's own instructions first, then every piece of code it reaches
 * through BPF-to-BPF calls or code addresses ({@code bpf_loop} callbacks), with map, global-data,
 * call and code-address relocations applied.
 *
 * <p>Code is placed in <em>units</em>: the entry's range; the whole of {@code .text}, once (as
 * older libbpf releases did; current ones append each callee separately); or, for a callee in
 * another program section, the range from the function symbol at or before the target to the
 * next function symbol. A unit is scanned when placed, which may place more units; each
 * distinct unit is placed once, so the loop ends.
 *
 * <p>clang's encodings (clang 19, checked against llvm-objdump -dr and llvm-readelf -r):
 * <ul>
 * <li>call, R_BPF_64_32: the callee is slot {@code sym.value / 8 + imm + 1} of the symbol's
 *     section. Against a global function symbol imm is -1; against the section symbol of
 *     {@code .text} (static callees) imm is the callee's slot minus 1.</li>
 * <li>call without relocation (src 1): a callee in the same section, imm relative to the next
 *     slot, as in the final encoding.</li>
 * <li>lddw of a function address, R_BPF_64_64 against a code section symbol: clang leaves src 0
 *     and the callee's byte offset in imm; the linker sets src 4 (BPF_PSEUDO_FUNC) and a slot
 *     offset counted from the lddw's index plus one.</li>
 * <li>lddw of a map: R_BPF_64_64 against the map's symbol in {@code .maps}/{@code maps}, imm 0.</li>
 * <li>lddw of global data: R_BPF_64_64 against the variable's symbol (globals, imm 0) or the
 *     section symbol (statics and string literals, imm = byte offset in the section); the
 *     address is symbol value + imm. In the output checked, a field's offset inside a variable
 *     went into a following add or the load's offset, not into imm; either way works.</li>
 * </ul>
 */
final class ProgramLinker {
    /** Most slots a linked program may have: Linux's BPF_COMPLEXITY_LIMIT_INSNS. */
    static final int MAX_SLOTS = 1_000_000;

    private static final int OP_LDDW = 0x18;
    private static final int OP_CALL = 0x85;
    private static final int SRC_PSEUDO_CALL = 1;
    private static final int SRC_PSEUDO_FUNC = 4;

    /** A placed piece of code: bytes [start, end) of a section at slot {@code base} of the program. */
    private record Unit(ElfFile.Section section, long start, long end, int base) {
        int slots() {
            return (int) ((end - start) / InsnCodec.SLOT);
        }
    }

    /** A call or code address to point at its target once all code is placed. */
    private record Fix(int slot, ElfFile.Section section, long target) {
    }

    /**
     * What every program of one object shares: the object, its maps and line info, section
     * bytes and relocations indexed once, and a budget on the slots linked for the whole object,
     * since each program gets its own copy of the code it calls.
     */
    static final class Shared {
        /** Most slots linked across all programs of one object: four times the per-program limit. */
        static final long MAX_TOTAL_SLOTS = 4L * MAX_SLOTS;

        private final ElfFile elf;
        private final MapTable maps;
        private final List<MapDef> mapDefs;
        private final BtfExt ext;
        private final String license;
        private final Map<Integer, byte[]> sectionBytes = new HashMap<>();
        private final Map<Integer, Map<Long, ElfFile.Reloc>> relocsByOffset = new HashMap<>();
        private final Map<Integer, SourceLine[]> linesBySlot = new HashMap<>();
        private final long slotBudget;
        private long totalSlots;

        Shared(ElfFile elf, MapTable maps, BtfExt ext, String license, long slotBudget) {
            this.elf = elf;
            this.maps = maps;
            this.mapDefs = maps.defs();
            this.ext = ext;
            this.license = license;
            this.slotBudget = slotBudget;
        }
    }

    private final Shared shared;
    private final ElfFile elf;
    private final String entryName;
    private final List<Unit> units = new ArrayList<>();
    private final List<Fix> fixes = new ArrayList<>();
    /**
     * per section: its placed units by start offset. Units of one section are disjoint except
     * for a unit spanning the whole section (all of .text, or an entry without symbols), which
     * is also kept in {@link #wholeSections}: entry ranges run between global function symbols
     * and callee units between any two function symbols, so a callee unit is either inside a
     * placed range (and then not placed) or apart from it.
     */
    private final Map<Integer, TreeMap<Long, Unit>> unitsBySection = new HashMap<>();
    private final Map<Integer, Unit> wholeSections = new HashMap<>();
    private byte[] code = new byte[256];
    private int slots;

    private ProgramLinker(Shared shared, String entryName) {
        this.shared = shared;
        this.elf = shared.elf;
        this.entryName = entryName;
    }

    /**
     * {@return the linked program of the entry function at [start, end) of {@code section}}
     *
     * @throws ElfException naming the section and file offset of whatever cannot be linked
     */
    static Program link(Shared shared, String name, ProgramType type, ElfFile.Section section, long start, long end) {
        return new ProgramLinker(shared, name).link(type, section, start, end);
    }

    private Program link(ProgramType type, ElfFile.Section section, long start, long end) {
        place(section, start, end);
        for (int u = 0; u < units.size(); u++) {
            scan(units.get(u));
        }
        for (Fix f : fixes) {
            int target = placedSlot(f.section(), f.target());
            if (target < 0) {
                // ensurePlaced ran for every fix, so this would be a bug in placement
                throw new IllegalStateException("unplaced target " + f.section().name() + "+" + f.target());
            }
            putS32(code, (long) f.slot() * InsnCodec.SLOT + 4, target - (f.slot() + 1));
        }
        Insn[] decoded = decode();
        return Program.builder(entryName, type, decoded)
                .maps(shared.mapDefs)
                .functions(functions(decoded))
                .license(shared.license)
                .section(section.name())
                .lines(lines())
                .build();
    }

    // ---------------------------------------------------------------------------------------
    // Placement

    private byte[] bytesOf(ElfFile.Section s) {
        return shared.sectionBytes.computeIfAbsent(s.index(), i -> {
            if (!s.executable() || s.nobits()) {
                throw ElfFile.error(s.where(), "is not a code section (flags 0x" + Long.toHexString(s.flags())
                        + (s.nobits() ? ", NOBITS" : "") + ")");
            }
            if (s.size() % InsnCodec.SLOT != 0) {
                throw ElfFile.error(s.where(), String.format("code section size 0x%x is not a multiple of 8", s.size()));
            }
            return elf.contents(s);
        });
    }

    private void place(ElfFile.Section s, long start, long end) {
        bytesOf(s);
        long n = (end - start) / InsnCodec.SLOT;
        if (n > MAX_SLOTS - slots) {
            throw ElfFile.error(s.where(start), "program '" + entryName + "' exceeds " + MAX_SLOTS
                    + " instructions once its callees are appended");
        }
        if (n > shared.slotBudget - shared.totalSlots) {
            throw ElfFile.error(s.where(start), "the programs of the object exceed " + shared.slotBudget
                    + " instructions in total once their callees are appended");
        }
        shared.totalSlots += n;
        Unit unit = new Unit(s, start, end, slots);
        units.add(unit);
        unitsBySection.computeIfAbsent(s.index(), i -> new TreeMap<>()).putIfAbsent(start, unit);
        if (start == 0 && end == s.size()) {
            wholeSections.putIfAbsent(s.index(), unit);
        }
        int bytes = (slots + (int) n) * InsnCodec.SLOT;
        if (bytes > code.length) {
            code = Arrays.copyOf(code, Math.max(bytes, code.length * 2));
        }
        System.arraycopy(bytesOf(s), (int) start, code, slots * InsnCodec.SLOT, (int) (end - start));
        slots += (int) n;
    }

    /** Makes sure the code at {@code off} of section {@code s} is placed, placing its unit if not. */
    private void ensurePlaced(String where, ElfFile.Section s, long off) {
        if (off < 0 || off >= s.size()) {
            throw ElfFile.error(where, String.format("target 0x%x is outside section %s (0x%x bytes)", off, s.name(),
                    s.size()));
        }
        if (off % InsnCodec.SLOT != 0) {
            throw ElfFile.error(where, String.format("target 0x%x in section %s is not a multiple of 8", off, s.name()));
        }
        if (!s.executable()) {
            throw ElfFile.error(where, "target is in section " + s.name() + ", which is not code");
        }
        if (placedSlot(s, off) >= 0) {
            return;
        }
        if (s.name().equals(".text")) {
            place(s, 0, s.size());
            return;
        }
        // A callee in a program section: from the function symbol at or before it to the next.
        NavigableMap<Long, String> fns = elf.functions(s.index());
        Long start = fns.floorKey(off);
        Long end = fns.higherKey(off);
        place(s, start == null ? 0 : start, end == null ? s.size() : end);
    }

    /**
     * {@return the program slot of the instruction at {@code off} of {@code s}, or -1 when it is
     * not placed}; where two units hold it, the one that starts nearer wins, the same answer
     * for calls, functions and lines
     */
    private int placedSlot(ElfFile.Section s, long off) {
        TreeMap<Long, Unit> bySection = unitsBySection.get(s.index());
        if (bySection == null) {
            return -1;
        }
        Map.Entry<Long, Unit> e = bySection.floorEntry(off);
        Unit u = e != null && off < e.getValue().end() ? e.getValue() : wholeSections.get(s.index());
        return u == null ? -1 : u.base() + (int) ((off - u.start()) / InsnCodec.SLOT);
    }

    // ---------------------------------------------------------------------------------------
    // Relocation

    private Map<Long, ElfFile.Reloc> relocs(ElfFile.Section s) {
        return shared.relocsByOffset.computeIfAbsent(s.index(), i -> {
            Map<Long, ElfFile.Reloc> byOffset = new HashMap<>();
            for (ElfFile.Reloc r : elf.relocations(s.index())) {
                if (r.type() == R_BPF_NONE) {
                    continue;
                }
                ElfFile.Reloc previous = byOffset.put(r.offset(), r);
                if (previous != null) {
                    throw ElfFile.error(relocWhere(s, r), String.format(
                            "second relocation at offset 0x%x of %s (the first is relocation %d)",
                            r.offset(), s.name(), previous.number()));
                }
            }
            return byOffset;
        });
    }

    private String relocWhere(ElfFile.Section target, ElfFile.Reloc r) {
        ElfFile.Section rs = elf.relocationSection(target.index());
        return String.format("%s @0x%x: relocation %d", rs == null ? "?" : rs.name(), r.fileOffset(), r.number());
    }

    private void scan(Unit unit) {
        ElfFile.Section s = unit.section();
        Map<Long, ElfFile.Reloc> relocs = relocs(s);
        for (long off = unit.start(); off < unit.end(); off += InsnCodec.SLOT) {
            int slot = unit.base() + (int) ((off - unit.start()) / InsnCodec.SLOT);
            long at = (long) slot * InsnCodec.SLOT;
            int opcode = u8(code, at);
            int src = u8(code, at + 1) >>> 4;
            int imm = s32(code, at + 4);
            ElfFile.Reloc r = relocs.get(off);
            String where = r != null ? relocWhere(s, r) : s.where(off);
            if (opcode == OP_LDDW) {
                if (off + 2L * InsnCodec.SLOT > unit.end()) {
                    throw ElfFile.error(s.where(off), String.format("lddw at offset 0x%x of %s is cut off by the end "
                            + "of its function (0x%x)", off, s.name(), unit.end()));
                }
                ElfFile.Reloc second = relocs.get(off + InsnCodec.SLOT);
                if (second != null) {
                    throw ElfFile.error(relocWhere(s, second), String.format(
                            "offset 0x%x is the second slot of an lddw", second.offset()));
                }
                if (r != null) {
                    requireType(where, r, R_BPF_64_64, "an lddw", off, opcode);
                    relocateLddw(where, r, at, slot, imm);
                } else if (src == SRC_PSEUDO_FUNC) {
                    addFix(where, slot, s, off + InsnCodec.SLOT + (long) imm * InsnCodec.SLOT);
                }
                off += InsnCodec.SLOT;
            } else if (opcode == OP_CALL) {
                if (r != null && !elf.symbols().get(r.symbol()).defined()) {
                    requireType(where, r, R_BPF_64_32, "a call", off, opcode);
                    kfuncCall(where, elf.symbols().get(r.symbol()), (int) at);
                } else if (r != null) {
                    requireType(where, r, R_BPF_64_32, "a call", off, opcode);
                    ElfFile.Symbol sym = symbol(where, r);
                    ElfFile.Section target = elf.section(sym.shndx());
                    if (!target.executable()) {
                        throw ElfFile.error(where, "call to symbol '" + sym.name() + "' in section " + target.name()
                                + ", which is not code");
                    }
                    code[(int) at + 1] = (byte) ((code[(int) at + 1] & 0x0f) | SRC_PSEUDO_CALL << 4);
                    addFix(where, slot, target, sym.value() + ((long) imm + 1) * InsnCodec.SLOT);
                } else if (src == SRC_PSEUDO_CALL) {
                    addFix(where, slot, s, off + InsnCodec.SLOT + (long) imm * InsnCodec.SLOT);
                }
            } else if (r != null) {
                throw ElfFile.error(where, String.format("%s at offset 0x%x of %s is on opcode 0x%02x, not %s",
                        ElfFile.typeName(r.type()), r.offset(), s.name(), opcode,
                        r.type() == R_BPF_64_64 ? "an lddw" : "a call"));
            }
        }
    }

    /**
     * A call to an extern function (a {@code __ksym} in {@code .ksyms}): a kfunc, resolved by
     * name to Prism's number for it ({@link dev.prism.runtime.Kfuncs}) and made a {@code call}
     * with src 2, as libbpf makes it one with the running kernel's BTF id.
     */
    private void kfuncCall(String where, ElfFile.Symbol sym, int at) {
        dev.prism.runtime.Kfuncs.Kfunc k = dev.prism.runtime.Kfuncs.byName(sym.name()).orElseThrow(() -> ElfFile.error(where,
                "not supported: kfunc '" + sym.name() + "' (Prism implements " + dev.prism.runtime.Kfuncs.all().stream()
                        .map(dev.prism.runtime.Kfuncs.Kfunc::name).toList() + ")"));
        code[at + 1] = (byte) ((code[at + 1] & 0x0f) | 2 << 4);
        int id = k.id();
        code[at + 4] = (byte) id;
        code[at + 5] = (byte) (id >>> 8);
        code[at + 6] = (byte) (id >>> 16);
        code[at + 7] = (byte) (id >>> 24);
    }

    private static void requireType(String where, ElfFile.Reloc r, int type, String insn, long off, int opcode) {
        if (r.type() != type) {
            throw ElfFile.error(where, String.format("%s at offset 0x%x is on %s (opcode 0x%02x), which takes %s",
                    ElfFile.typeName(r.type()), off, insn, opcode, ElfFile.typeName(type)));
        }
    }

    private ElfFile.Symbol symbol(String where, ElfFile.Reloc r) {
        ElfFile.Symbol sym = elf.symbols().get(r.symbol());
        if (!sym.defined()) {
            throw ElfFile.error(where, "unresolved symbol '" + sym.name() + "' (kfuncs/externs are not supported)");
        }
        if (!sym.inSection()) {
            throw ElfFile.error(where, "symbol '" + sym.name() + "' is " + (sym.shndx() == ElfFile.SHN_ABS
                    ? "absolute" : "common") + ", not in a map, data or code section");
        }
        return sym;
    }

    private void addFix(String where, int slot, ElfFile.Section s, long target) {
        ensurePlaced(where, s, target);
        fixes.add(new Fix(slot, s, target));
    }

    /** R_BPF_64_64 on an lddw: a map, a global-data address or a code address. */
    private void relocateLddw(String where, ElfFile.Reloc r, long at, int slot, int imm) {
        ElfFile.Symbol sym = symbol(where, r);
        ElfFile.Section target = elf.section(sym.shndx());
        long offset = sym.value() + imm;
        if (MapTable.isMapSection(target)) {
            int index = shared.maps.mapAt(target.index(), offset);
            if (index < 0) {
                throw ElfFile.error(where, String.format("no map is defined at offset 0x%x of %s (symbol '%s')",
                        offset, target.name(), sym.name()));
            }
            setLddw(at, LoadImm64Kind.MAP_BY_IDX, index, 0);
        } else if (shared.maps.dataMap(target.index()) >= 0) {
            if (offset < 0 || offset > target.size()) {
                throw ElfFile.error(where, String.format("address 0x%x (symbol '%s' + %d) is outside %s (0x%x bytes)",
                        offset, sym.name(), imm, target.name(), target.size()));
            }
            setLddw(at, LoadImm64Kind.MAP_VALUE_BY_IDX, shared.maps.dataMap(target.index()), (int) offset);
        } else if (target.executable()) {
            setLddw(at, LoadImm64Kind.CODE_ADDR, 0, 0);
            addFix(where, slot, target, offset);
        } else {
            throw ElfFile.error(where, "symbol '" + sym.name() + "' is in section " + target.name()
                    + ", which holds no map, global data or code");
        }
    }

    private void setLddw(long at, LoadImm64Kind kind, int imm, int nextImm) {
        code[(int) at + 1] = (byte) ((code[(int) at + 1] & 0x0f) | kind.src() << 4);
        putS32(code, at + 4, imm);
        putS32(code, at + InsnCodec.SLOT + 4, nextImm);
    }

    // ---------------------------------------------------------------------------------------
    // Decoding, functions, lines

    /** {@return the unit holding program slot {@code slot}; units are in ascending base order} */
    private Unit unitAt(int slot) {
        int lo = 0;
        int hi = units.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (units.get(mid).base() <= slot) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return units.get(lo);
    }

    private long sectionOffset(Unit u, int slot) {
        return u.start() + (long) (slot - u.base()) * InsnCodec.SLOT;
    }

    private Insn[] decode() {
        try {
            return InsnCodec.decode(Arrays.copyOf(code, slots * InsnCodec.SLOT));
        } catch (MalformedProgramException e) {
            int pc = Math.max(0, Math.min(e.pc(), slots - 1));
            Unit u = unitAt(pc);
            // the decoder's message starts with the instruction index: "7: unknown opcode 0x92"
            throw ElfFile.error(u.section().where(sectionOffset(u, pc)), "program '" + entryName + "': "
                    + e.getMessage());
        }
    }

    private List<Function> functions(Insn[] decoded) {
        TreeSet<Integer> starts = new TreeSet<>();
        for (int pc = 0; pc < decoded.length; pc++) {
            switch (decoded[pc]) {
                case Insn.Call c when c.kind() == CallKind.LOCAL -> starts.add(pc + 1 + c.imm());
                case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR -> starts.add(pc + 1 + l.imm());
                case null, default -> {
                }
            }
        }
        starts.remove(0);
        List<Function> out = new ArrayList<>();
        out.add(new Function(entryName, 0));
        for (int start : starts) {
            out.add(new Function(functionName(start), start));
        }
        return out;
    }

    private String functionName(int slot) {
        Unit u = unitAt(slot);
        long off = sectionOffset(u, slot);
        String name = elf.functions(u.section().index()).get(off);
        return name != null ? name : String.format("%s+0x%x", u.section().name(), off);
    }

    private Map<Integer, SourceLine> lines() {
        Map<Integer, SourceLine> out = new TreeMap<>();
        if (shared.ext == null) {
            return out;
        }
        for (Unit u : units) {
            SourceLine[] bySlot = linesOf(u.section());
            for (int k = 0; k < u.slots(); k++) {
                SourceLine line = bySlot[(int) (u.start() / InsnCodec.SLOT) + k];
                if (line != null) {
                    // where a unit repeats code placed earlier (.text after an entry from .text),
                    // the line goes where placedSlot puts calls to that instruction
                    out.putIfAbsent(placedSlot(u.section(), u.start() + (long) k * InsnCodec.SLOT), line);
                }
            }
        }
        return out;
    }

    /** {@return the line info of each instruction of section {@code s} (the first record per instruction)} */
    private SourceLine[] linesOf(ElfFile.Section s) {
        return shared.linesBySlot.computeIfAbsent(s.index(), i -> {
            SourceLine[] bySlot = new SourceLine[(int) (s.size() / InsnCodec.SLOT)];
            for (BtfExt.Line line : shared.ext.lines(s.name())) {
                if (line.insnOff() % InsnCodec.SLOT != 0 || line.insnOff() >= s.size()) {
                    throw new ElfException(String.format(".BTF.ext @0x%x: line_info for section %s: insn_off 0x%x is "
                            + "not an instruction of the section (0x%x bytes)", line.at(), s.name(),
                            line.insnOff(), s.size()));
                }
                int k = (int) (line.insnOff() / InsnCodec.SLOT);
                if (bySlot[k] == null) {
                    bySlot[k] = new SourceLine(line.file(), line.line(), line.column(), line.text());
                }
            }
            return bySlot;
        });
    }
}
