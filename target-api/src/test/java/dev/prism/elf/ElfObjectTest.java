package dev.prism.elf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.error.ElfException;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.program.Function;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.program.SourceLine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Loads objects clang-19 builds from {@code src/test/resources/elf/*.c} and checks what the
 * loader makes of them against the sources and against llvm-objdump / llvm-readelf.
 */
class ElfObjectTest {

    @BeforeEach
    void needClang() {
        ElfToolchain.require();
    }

    private static ElfObject load(String name, String cpu) {
        return ElfObject.load(ElfToolchain.object(name, cpu));
    }

    private static MapDef map(ElfObject o, String name) {
        return o.maps().stream().filter(m -> m.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no map " + name + " in " + o.maps()));
    }

    private static int mapIndex(ElfObject o, String name) {
        return o.maps().indexOf(map(o, name));
    }

    private static List<Insn.LoadImm64> lddws(Program p, LoadImm64Kind kind) {
        return Arrays.stream(p.slots()).filter(i -> i instanceof Insn.LoadImm64 l && l.kind() == kind)
                .map(i -> (Insn.LoadImm64) i).toList();
    }

    private static Function function(Program p, String name) {
        return p.functions().stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no function " + name + " in " + p.functions()));
    }

    private static byte[] encoded(Insn insn) {
        long[] words = InsnCodec.encode(insn);
        ByteBuffer b = ByteBuffer.allocate(words.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long w : words) {
            b.putLong(w);
        }
        return b.array();
    }

    private static List<String> sourceLines(String name) throws IOException {
        try (InputStream in = ElfObjectTest.class.getResourceAsStream("/elf/" + name + ".c")) {
            return List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n", -1));
        }
    }

    /** {@return the 1-based line of the first source line containing {@code text}} */
    private static int lineOf(List<String> source, String text) {
        for (int i = 0; i < source.size(); i++) {
            if (source.get(i).contains(text)) {
                return i + 1;
            }
        }
        throw new AssertionError("no line contains " + text);
    }

    // ---------------------------------------------------------------------------------------
    // Maps

    @Test
    void btfDefinedMapsOfEveryKind() {
        ElfObject o = load("maps", "v3");
        // struct flow_key { u32, u32, u16, u16, u8 } is 13 bytes padded to 16, reached through a
        // const volatile typedef; struct flow_stats is 2 * 8 + 4 * 8 = 48; __u64[3] is 24.
        assertEquals(MapDef.of("flows", MapType.HASH, 16, 48, 1024, 1), map(o, "flows"));
        assertEquals(MapDef.of("counters", MapType.ARRAY, 4, 24, 16, 0), map(o, "counters"));
        assertEquals(MapDef.of("blocklist", MapType.LPM_TRIE, 8, 4, 256, 1), map(o, "blocklist"));
        assertEquals(MapDef.of("events", MapType.RINGBUF, 0, 0, 65536, 0), map(o, "events"));
        assertEquals(MapDef.of("jumps", MapType.PROG_ARRAY, 4, 4, 8, 0), map(o, "jumps"));
        assertEquals("GPL", o.license());
    }

    @Test
    void mapInMapTemplatesAndInitializedSlots() {
        ElfObject o = load("mapinmap", "v3");
        MapDef inner = MapDef.of("per_cpu.inner", MapType.LRU_HASH, 4, 8, 64, 0);
        // the value of a map-in-map is a 4-byte map reference; slots 0 and 5 name lru0 and lru1
        assertEquals(MapDef.ofMaps("per_cpu", MapType.ARRAY_OF_MAPS, 4, 8, 0,
                new MapDef.Inner(inner, new java.util.TreeMap<>(Map.of(0, "lru0", 5, "lru1")))), map(o, "per_cpu"));
        // an anonymous inner definition, a u64 key, no initializer
        assertEquals(MapDef.ofMaps("by_id", MapType.HASH_OF_MAPS, 8, 4, 0,
                new MapDef.Inner(MapDef.of("by_id.inner", MapType.ARRAY, 4, 4, 2, 0), new java.util.TreeMap<>())), map(o, "by_id"));
        assertEquals(MapDef.of("lru0", MapType.LRU_HASH, 4, 8, 64, 0), map(o, "lru0"));
        assertEquals(MapDef.of("devs", MapType.DEVMAP, 4, 4, 4, 0), map(o, "devs"));
        assertEquals(MapDef.of("devs_hash", MapType.DEVMAP_HASH, 4, 8, 4, 0), map(o, "devs_hash"));
        assertEquals(MapDef.of("cpus", MapType.CPUMAP, 4, 4, 2, 0), map(o, "cpus"));
        assertEquals(MapDef.of("xsks", MapType.XSKMAP, 4, 4, 4, 0), map(o, "xsks"));
        assertEquals(MapDef.of("events", MapType.PERF_EVENT_ARRAY, 4, 4, 2, 0), map(o, "events"));
        assertTrue(o.programSlots().isEmpty(), "map-in-map slots are not prog_array slots: " + o.programSlots());
    }

    @Test
    void mapInMapSlotOfAnotherShapeIsRefused() {
        ElfException e = assertThrows(ElfException.class, () -> load("mapinmap_mismatch", "v3"));
        assertTrue(e.getMessage().contains("map 'outer': slot 1: map small") && e.getMessage().contains("inner map template"),
                e.getMessage());
    }

    @Test
    void mapsAreInSymbolOrderAndSharedByEveryProgram() {
        Path obj = ElfToolchain.object("maps", "v3");
        ElfObject o = ElfObject.load(obj);
        Map<String, ElfToolchain.Sym> syms = ElfToolchain.symbols(obj);
        List<String> names = o.maps().stream().map(MapDef::name).toList();
        List<String> bySymbolOrder = ElfToolchain.run(List.of(ElfToolchain.READELF, "-s", "--wide", obj.toString()))
                .lines().map(l -> l.trim().split("\\s+")).filter(f -> f.length == 8 && names.contains(f[7]))
                .map(f -> f[7]).toList();
        assertEquals(bySymbolOrder, names);
        assertEquals(5, names.size(), syms.keySet().toString());
        for (Program p : o.programs()) {
            assertEquals(o.maps(), p.maps(), p.name());
        }
    }

    @Test
    void mapReferencesBecomeMapByIndex() {
        Path obj = ElfToolchain.object("maps", "v3");
        ElfObject o = ElfObject.load(obj);
        List<ElfToolchain.Func> dis = ElfToolchain.disassemble(obj);
        for (String entry : List.of("firewall", "account")) {
            Program p = o.program(entry);
            int checked = 0;
            for (ElfToolchain.Line line : ElfToolchain.func(dis, entry).lines()) {
                if (line.reloc() == null) {
                    continue;
                }
                assertEquals("R_BPF_64_64", line.reloc()[0]);
                Insn.LoadImm64 l = (Insn.LoadImm64) p.at(line.slot());
                assertEquals(new Insn.LoadImm64(LoadImm64Kind.MAP_BY_IDX, l.dst(), mapIndex(o, line.reloc()[1]), 0), l,
                        entry + " slot " + line.slot());
                checked++;
            }
            assertTrue(checked >= 2, entry + ": " + checked + " map references");
        }
        // the firewall looks up blocklist, then counters, then tail-calls through jumps
        assertEquals(List.of(mapIndex(o, "blocklist"), mapIndex(o, "counters"), mapIndex(o, "jumps")),
                lddws(o.program("firewall"), LoadImm64Kind.MAP_BY_IDX).stream().map(Insn.LoadImm64::imm).toList());
    }

    @Test
    void legacyMapsSectionAndUnsupportedProgramSection() {
        ElfObject o = load("legacy", "v3");
        assertEquals(List.of(MapDef.of("ports", MapType.ARRAY, 4, 8, 64, 0),
                MapDef.of("seen", MapType.PERCPU_HASH, 16, 4, 4096, 1)), o.maps());
        assertEquals("Dual BSD/GPL", o.license());
        Program filter = o.program("socket");
        assertEquals(ProgramType.SOCKET, filter.type());
        assertEquals("filter", filter.name());
        assertEquals(List.of(0, 1), lddws(filter, LoadImm64Kind.MAP_BY_IDX).stream().map(Insn.LoadImm64::imm).toList());
        assertEquals(List.of(new ElfObject.Entry("filter", "socket", Optional.of(ProgramType.SOCKET)),
                new ElfObject.Entry("probe", "kprobe/do_sys_open", Optional.empty())), o.entries());
        assertEquals(List.of(filter), o.programs());
        ElfException e = assertThrows(ElfException.class, () -> o.program("probe"));
        assertTrue(e.getMessage().endsWith("unsupported program section 'kprobe/do_sys_open' (known: xdp, tc, "
                + "classifier, socket, raw)"), e.getMessage());
        assertThrows(ElfException.class, () -> o.program("kprobe/do_sys_open"));
        ElfException none = assertThrows(ElfException.class, () -> o.program("nothing"));
        assertTrue(none.getMessage().contains("available: filter (socket), probe (kprobe/do_sys_open)"),
                none.getMessage());
    }

    // ---------------------------------------------------------------------------------------
    // Global data

    @Test
    void globalDataSectionsBecomeArrays() {
        ElfObject o = load("globals", "v4");
        MapDef data = map(o, ".data");
        MapDef rodata = map(o, ".rodata");
        MapDef bss = map(o, ".bss");
        MapDef strings = map(o, ".rodata.str1.1");
        // .data: struct config (4 + 4 + 8 + 16 = 32) and hits (8); .bss: drops (8) and scratch (32)
        assertEquals(new MapDef(".data", MapType.ARRAY, 4, 40, 1, 0, data.initialData(), false), data);
        assertEquals(40, data.initialData().length);
        assertEquals(new MapDef(".bss", MapType.ARRAY, 4, 40, 1, 0, new byte[0], false), bss);
        assertArrayEquals(new byte[] {77, 0, 0, 0}, rodata.initialData());
        assertTrue(rodata.readOnly());
        assertTrue(strings.readOnly());
        assertEquals("alpha\0bravo charlie\0", new String(strings.initialData(), StandardCharsets.US_ASCII));
        ByteBuffer d = ByteBuffer.wrap(data.initialData()).order(ByteOrder.LITTLE_ENDIAN);
        // cfg = { 1, 0, 1000, { 22, 80, 443, 8080 } } and hits = 5, wherever clang put them
        assertTrue(containsLong(d, 1000) && containsLong(d, 5), "cfg.limit and hits in .data");
        // global-data maps follow no BTF/legacy maps here, in section order
        assertEquals(List.of(".data", ".rodata", ".bss", ".rodata.str1.1"),
                o.maps().stream().map(MapDef::name).toList());
    }

    private static boolean containsLong(ByteBuffer b, long v) {
        for (int i = 0; i + 8 <= b.limit(); i += 8) {
            if (b.getLong(i) == v) {
                return true;
            }
        }
        return false;
    }

    /**
     * Every R_BPF_64_64 llvm-objdump shows in the program becomes map_value_idx with imm = the
     * section's map and next_imm = symbol value + the insn's original imm (clang's implicit addend:
     * 0 against a variable's own symbol, the byte offset against a section symbol).
     */
    @ParameterizedTest
    @CsvSource({"v3", "v4"})
    void globalDataReferencesCarryTheirAddend(String cpu) {
        Path obj = ElfToolchain.object("globals", cpu);
        ElfObject o = ElfObject.load(obj);
        Program p = o.program("raw");
        assertEquals(ProgramType.RAW, p.type());
        Map<String, ElfToolchain.Sym> syms = ElfToolchain.symbols(obj);
        int sectionSymbols = 0;
        int withAddend = 0;
        ElfToolchain.Func f = ElfToolchain.func(ElfToolchain.disassemble(obj), "globals");
        for (ElfToolchain.Line line : f.lines()) {
            if (line.reloc() == null || !line.reloc()[0].equals("R_BPF_64_64")) {
                continue;
            }
            ElfToolchain.Sym sym = syms.get(line.reloc()[1]);
            assertNotNull(sym, line.reloc()[1]);
            Insn.LoadImm64 l = (Insn.LoadImm64) p.at(line.slot());
            assertEquals(new Insn.LoadImm64(LoadImm64Kind.MAP_VALUE_BY_IDX, l.dst(), mapIndex(o, sym.section()),
                    (int) sym.value() + line.imm()), l, "slot " + line.slot() + " " + sym);
            sectionSymbols += sym.name().equals(sym.section()) ? 1 : 0;
            withAddend += line.imm() != 0 ? 1 : 0;
        }
        assertTrue(sectionSymbols >= 3 && withAddend >= 2, sectionSymbols + " section symbols, " + withAddend
                + " non-zero addends");
        // "bravo charlie" starts at byte 6 of .rodata.str1.1
        assertTrue(lddws(p, LoadImm64Kind.MAP_VALUE_BY_IDX).stream()
                .anyMatch(l -> l.imm() == mapIndex(o, ".rodata.str1.1") && l.nextImm() == 6));
        assertEquals(List.of("globals", "bump", "char_at"), p.functions().stream().map(Function::name).toList());
    }

    // ---------------------------------------------------------------------------------------
    // BPF-to-BPF calls

    @Test
    void textCalleesAreAppendedOnceAndCallsPointAtThem() {
        Path obj = ElfToolchain.object("calls", "v3");
        ElfObject o = ElfObject.load(obj);
        List<ElfToolchain.Func> dis = ElfToolchain.disassemble(obj);
        int text = dis.stream().filter(f -> f.section().equals(".text")).mapToInt(ElfToolchain.Func::slots).sum();
        assertEquals(23, text);

        Program xdp = o.program("xdp");
        assertEquals(ProgramType.XDP, xdp.type());
        assertEquals(ElfToolchain.func(dis, "entry_xdp").slots() + text, xdp.length());
        assertEquals(List.of(new Function("entry_xdp", 0), new Function("clamp", 20), new Function("add_index", 27),
                new Function("sum_squares", 33), new Function("square", 40)), xdp.functions());
        for (Function f : xdp.functions().subList(1, xdp.functions().size())) {
            assertArrayEquals(ElfToolchain.func(dis, f.name()).lines().getFirst().raw(), encoded(xdp.at(f.start())),
                    f.name());
        }
        // bpf_loop(4, add_index, ...): clang emits lddw src 0 + R_BPF_64_64 against .text with the
        // byte offset in imm; linked, it is a code address (src 4) counted from the lddw + 1.
        Insn.LoadImm64 callback = lddws(xdp, LoadImm64Kind.CODE_ADDR).getFirst();
        assertEquals(27, 6 + 1 + callback.imm());
        assertEquals(new Insn.Call(CallKind.LOCAL, 33 - 13), xdp.at(12)); // sum_squares via .text + imm
        assertEquals(new Insn.Call(CallKind.LOCAL, 20 - 19), xdp.at(18)); // clamp via its own symbol, imm -1
        // inside the appended .text, clang's own call offsets still hold
        assertEquals(new Insn.Call(CallKind.LOCAL, 5), xdp.at(20 + 14));
    }

    @Test
    void twoProgramsInOneSectionAndACalleeInThatSection() {
        Path obj = ElfToolchain.object("calls", "v3");
        ElfObject o = ElfObject.load(obj);
        List<ElfToolchain.Func> dis = ElfToolchain.disassemble(obj);
        ElfException ambiguous = assertThrows(ElfException.class, () -> o.program("tc"));
        assertTrue(ambiguous.getMessage().contains("entry_tc_one (tc), entry_tc_two (tc)"), ambiguous.getMessage());

        // entry_tc_one runs to entry_tc_two and so holds the static twice(); it calls square in .text
        Program one = o.program("entry_tc_one");
        assertEquals(ProgramType.TC, one.type());
        assertEquals("tc", one.section());
        assertEquals(9 + 23, one.length());
        assertEquals(List.of(new Function("entry_tc_one", 0), new Function("twice", 6), new Function("square", 29)),
                one.functions());

        // entry_tc_two calls twice() with no relocation (clang resolved it inside the section):
        // twice is appended as its own unit, then .text for clamp. The whole .text comes along,
        // so sum_squares' call to square is a call target too.
        Program two = o.program("entry_tc_two");
        assertEquals(7 + 3 + 23, two.length());
        assertEquals(List.of(new Function("entry_tc_two", 0), new Function("twice", 7), new Function("clamp", 10),
                new Function("square", 30)), two.functions());
        assertEquals(new Insn.Call(CallKind.LOCAL, 7 - 2), two.at(1));
        assertArrayEquals(ElfToolchain.func(dis, "twice").lines().getFirst().raw(), encoded(two.at(7)));
        assertArrayEquals(ElfToolchain.func(dis, "clamp").lines().getFirst().raw(), encoded(two.at(10)));
        assertEquals(List.of("entry_xdp", "entry_tc_one", "entry_tc_two"),
                o.programs().stream().map(Program::name).toList());
    }

    @Test
    void textOnlyObjectHasRawPrograms() {
        ElfObject o = load("rawtext", "v3");
        assertEquals(List.of("first", "second"), o.programs().stream().map(Program::name).toList());
        Program first = o.program("first");
        Program second = o.program("second");
        assertEquals(ProgramType.RAW, first.type());
        assertEquals(".text", first.section());
        assertEquals(8, first.length()); // mix lies inside first's range
        assertEquals(List.of(new Function("first", 0), new Function("mix", 4)), first.functions());
        assertEquals(4 + 12, second.length());
        assertEquals(List.of(new Function("second", 0), new Function("mix", 8)), second.functions());
        assertEquals("", o.license());
        assertTrue(o.maps().isEmpty());
    }

    // ---------------------------------------------------------------------------------------
    // Line info

    @Test
    void lineInfoNamesTheSourceLine() throws IOException {
        ElfObject o = load("calls", "v3");
        List<String> src = sourceLines("calls");
        Program xdp = o.program("entry_xdp");
        assertTrue(xdp.hasLineInfo());
        SourceLine first = xdp.sourceLine(0).orElseThrow();
        assertTrue(first.file().endsWith("calls.c"), first.file());
        int entryStart = lineOf(src, "int entry_xdp(");
        assertTrue(first.line() >= entryStart && first.line() <= entryStart + 5, first + " vs " + entryStart);
        assertEquals(src.get(first.line() - 1), first.text());
        // clang gives a function's opening line column 0; the statements inside have columns
        assertTrue(IntStream.range(0, xdp.length())
                .anyMatch(pc -> xdp.sourceLine(pc).orElseThrow().column() > 0));
        // the appended .text keeps its own lines: clamp's first instruction lies in clamp()
        SourceLine clamp = xdp.sourceLine(function(xdp, "clamp").start()).orElseThrow();
        int clampStart = lineOf(src, "int clamp(");
        assertTrue(clamp.line() >= clampStart && clamp.line() <= clampStart + 7, clamp.toString());
        // BTF line info gives a function's first instruction the line of its declaration
        // (llvm-objdump -S, which reads DWARF, shows the opening brace instead)
        int square = function(xdp, "square").start();
        assertEquals(lineOf(src, "int square("), xdp.sourceLine(square).orElseThrow().line());
        SourceLine body = xdp.sourceLine(square + 1).orElseThrow();
        assertEquals(lineOf(src, "return x * x;"), body.line());
        assertEquals(src.get(body.line() - 1).indexOf('*') + 1, body.column()); // clang points at the operator
    }

    // ---------------------------------------------------------------------------------------
    // Cross-checks over every object and CPU version

    @ParameterizedTest
    @CsvSource({"maps,v3", "maps,v4", "legacy,v3", "legacy,v4", "globals,v3", "globals,v4", "calls,v3", "calls,v4",
            "rawtext,v3", "rawtext,v4"})
    void everyProgramMatchesLlvmObjdump(String name, String cpu) {
        Path obj = ElfToolchain.object(name, cpu);
        ElfObject o = ElfObject.load(obj);
        List<ElfToolchain.Func> dis = ElfToolchain.disassemble(obj);
        assertFalse(o.programs().isEmpty());
        for (Program p : o.programs()) {
            ElfToolchain.Func entry = ElfToolchain.func(dis, p.name());
            assertEquals(p.section(), entry.section());
            // the entry's own instructions come first, opcode for opcode (relocations change
            // src and imm, never the opcode)
            for (ElfToolchain.Line line : entry.lines()) {
                int pc = line.slot() - (int) (entry.address() / 8);
                assertNotNull(p.at(pc), p.name() + " slot " + pc);
                assertEquals(line.opcode(), InsnCodec.opcodeByte(p.at(pc)), p.name() + " slot " + pc);
            }
            // every callee starts with the instruction llvm-objdump shows for that function
            for (Function f : p.functions().subList(1, p.functions().size())) {
                ElfToolchain.Line firstLine = ElfToolchain.func(dis, f.name()).lines().getFirst();
                assertEquals(firstLine.opcode(), InsnCodec.opcodeByte(p.at(f.start())), p.name() + " -> " + f.name());
            }
            boolean callsText = p.functions().stream().skip(1).anyMatch(f -> dis.stream()
                    .anyMatch(d -> d.name().equals(f.name()) && d.section().equals(".text")));
            int text = dis.stream().filter(d -> d.section().equals(".text")).mapToInt(ElfToolchain.Func::slots).sum();
            assertTrue(p.length() >= entry.slots() + (callsText && !p.section().equals(".text") ? text : 0),
                    p + " length vs objdump");
            assertEquals(o.maps(), p.maps());
            assertEquals(o.license(), p.license());
            assertSame(p, o.program(p.name()));
        }
    }
}
