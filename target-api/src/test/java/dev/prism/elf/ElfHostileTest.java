package dev.prism.elf;

import static dev.prism.elf.ElfWriter.EXIT;
import static dev.prism.elf.ElfWriter.insn;
import static dev.prism.elf.ElfWriter.insns;
import static dev.prism.elf.ElfWriter.mov64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.error.ElfException;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Reg;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Hand-made hostile objects: each malformation is refused with an {@link ElfException} whose
 * message names the section (or header) and the file offset.
 */
class ElfHostileTest {
    private static final long WA = ElfWriter.SHF_WRITE | ElfWriter.SHF_ALLOC;
    private static final int STT_OBJECT = 1;
    private static final int STB_GLOBAL = 1;
    private static final long LDDW_R1 = insn(0x18, 1, 0, 0, 0);

    /** xdp: lddw r1, counts; mov r0, 2; exit, with a legacy map and a license. */
    private static ElfWriter base() {
        return base(2, 4, 8, 4, 0);
    }

    private static ElfWriter base(int type, int key, int value, int max, int flags) {
        ElfWriter w = new ElfWriter();
        int xdp = w.code("xdp", insns(LDDW_R1, 0, mov64(0, 2), EXIT));
        ByteBuffer def = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(type).putInt(key).putInt(value).putInt(max).putInt(flags);
        int maps = w.section("maps", WA, def.array());
        int counts = w.symbol("counts", 0, 20, STT_OBJECT, STB_GLOBAL, maps);
        w.function("prog", xdp, 0);
        w.rel(xdp, 0, 1, counts);
        w.section("license", WA, "GPL\0".getBytes(StandardCharsets.US_ASCII));
        return w;
    }

    private static byte[] patch(byte[] bytes, long at, int width, long value) {
        byte[] out = bytes.clone();
        for (int i = 0; i < width; i++) {
            out[(int) at + i] = (byte) (value >>> (8 * i));
        }
        return out;
    }

    private static ElfException rejects(byte[] bytes, String... fragments) {
        ElfException e = assertThrows(ElfException.class, () -> ElfObject.parse("t.o", bytes));
        String m = e.getMessage();
        for (String f : fragments) {
            assertTrue(m.contains(f), "message \"" + m + "\" should contain \"" + f + "\"");
        }
        assertTrue(m.matches("(?s)t\\.o: .*@0x[0-9a-f]+.*"), "message names no offset: " + m);
        assertTrue(!m.contains("internal error"), m);
        return e;
    }

    @Test
    void theBaseObjectLoads() {
        ElfObject o = ElfObject.parse("t.o", base().build());
        Program p = o.program("xdp");
        assertEquals(new Insn.LoadImm64(LoadImm64Kind.MAP_BY_IDX, Reg.R1, 0, 0), p.at(0));
        assertEquals(MapDef.of("counts", MapType.ARRAY, 4, 8, 4, 0), o.maps().getFirst());
        assertEquals("GPL", o.license());
        assertEquals(p, o.program());
    }

    // ---------------------------------------------------------------------------------------
    // Header and section table

    @Test
    void everyTruncationIsRefused() {
        byte[] full = base().build();
        for (int n = 0; n < full.length; n++) {
            byte[] cut = Arrays.copyOf(full, n);
            ElfException e = assertThrows(ElfException.class, () -> ElfObject.parse("t.o", cut), "length " + n);
            assertTrue(e.getMessage().contains("@0x"), e.getMessage());
        }
    }

    @Test
    void notAnElfBpfObject() {
        byte[] ok = base().build();
        rejects("hello".getBytes(StandardCharsets.US_ASCII), "ELF header @0x0", "shorter than the 64-byte");
        rejects(patch(ok, 0, 1, 0x7e), "ELF header @0x0: not an ELF file");
        rejects(patch(ok, 4, 1, 1), "ELF header @0x4: EI_CLASS is 1, must be 2 (ELF64)");
        rejects(patch(ok, 5, 1, 2), "ELF header @0x5: EI_DATA is 2");
        rejects(patch(ok, 16, 2, 2), "ELF header @0x10: e_type is 2");
        rejects(patch(ok, 18, 2, 62), "ELF header @0x12: e_machine is 62, must be 247 (EM_BPF)");
        rejects(patch(ok, 58, 2, 40), "ELF header @0x3a: e_shentsize is 40");
    }

    @Test
    void sectionHeaderTableOutsideTheFile() {
        ElfWriter w = base();
        byte[] ok = w.build();
        rejects(patch(ok, 40, 8, ok.length + 8L), "ELF header @0x28", "outside the file");
        rejects(patch(ok, 40, 8, -64L), "ELF header @0x28");
        rejects(patch(ok, 40, 8, 0), "ELF header @0x28: no section header table");
        rejects(patch(ok, 60, 2, 0xffff), "ELF header @0x28", "65535 entries", "extends past the end of the file");
        // extended numbering: e_shnum 0 puts the count in section 0's sh_size
        rejects(patch(patch(ok, 60, 2, 0), w.shoff() + 32, 8, 0x7fff_ffff_ffffL), "ELF header @0x28",
                "extends past the end");
        rejects(patch(ok, 62, 2, 200), "ELF header @0x3e: e_shstrndx 200 is not a section");
        rejects(patch(ok, 62, 2, w.index("xdp")), "section name table (e_shstrndx) has type 1");
    }

    @Test
    void sectionDataOutsideTheFile() {
        ElfWriter w = base();
        byte[] ok = w.build();
        long xdp = w.headerOffset("xdp");
        String header = String.format("section header 1 @0x%x", xdp);
        rejects(patch(ok, xdp + 24, 8, 0x7fff_0000L), header, "section data at 0x7fff0000",
                "extends past the end of the file");
        rejects(patch(ok, xdp + 32, 8, 0xffff_ffff_ffff_fff0L), header);
        rejects(patch(ok, xdp + 32, 8, ok.length), header, "extends past the end");
        rejects(patch(ok, xdp + 40, 4, 999), header, "sh_link 999 is not a section");
        long rel = w.headerOffset(".relxdp");
        rejects(patch(ok, rel + 44, 4, 999), String.format("section header %d @0x%x", w.index(".relxdp"), rel),
                "sh_info 999 is not a section");
    }

    @Test
    void overlappingSectionsAreRefused() {
        ElfWriter w = base();
        byte[] ok = w.build();
        byte[] overlap = patch(ok, w.headerOffset("xdp") + 24, 8, w.dataOffset("maps") - 8);
        rejects(overlap, "overlaps", "maps");
        rejects(patch(ok, w.headerOffset("xdp") + 24, 8, 16), "overlaps ELF header (0x0..0x40)");
        rejects(patch(ok, w.headerOffset("maps") + 24, 8, w.shoff()), "overlaps");
    }

    @Test
    void namesOutsideTheirStringTables() {
        ElfWriter w = base();
        byte[] ok = w.build();
        rejects(patch(ok, w.headerOffset("xdp"), 4, 0xfffff), String.format("section header 1 @0x%x",
                w.headerOffset("xdp")), "name offset 0xfffff is outside the section name table");
        long sym1 = w.dataOffset(".symtab") + 24;
        rejects(patch(ok, sym1, 4, 0x12345), String.format(".symtab @0x%x: symbol 1", sym1),
                "name offset 0x12345 is outside the string table .strtab");
        // a name that runs to the end of the table without a NUL
        long strtabEnd = w.dataOffset(".strtab") + ".counts.prog.".length();
        rejects(patch(ok, strtabEnd - 1, 1, 'x'), "is not NUL-terminated");
    }

    @Test
    void symbolTableShape() {
        ElfWriter w = base();
        byte[] ok = w.build();
        long symtab = w.headerOffset(".symtab");
        rejects(patch(ok, symtab + 56, 8, 16), ".symtab @0x", "sh_entsize is 16, must be 24");
        rejects(patch(ok, symtab + 32, 8, 24 * 3 - 1), ".symtab @0x", "size 0x47 is not a multiple of 24");
        rejects(patch(ok, symtab + 40, 4, w.index("xdp")), ".symtab @0x", "is not a string table");
        rejects(patch(ok, w.dataOffset(".symtab") + 24 + 6, 2, 500), ".symtab @0x", "symbol 1 'counts'",
                "section index 500 is not a section");
    }

    // ---------------------------------------------------------------------------------------
    // Relocations

    @Test
    void relocationsOutsideOrMisplaced() {
        ElfWriter w = base();
        byte[] ok = w.build();
        long rel = w.dataOffset(".relxdp");
        String entry = String.format(".relxdp @0x%x: relocation 0", rel);
        rejects(patch(ok, rel, 8, 0x400), entry + ": offset 0x400 outside section xdp (0x20 bytes)");
        rejects(patch(ok, rel, 8, 0x1c), entry + ": offset 0x1c outside section xdp");
        rejects(patch(ok, rel, 8, 4), entry + ": offset 0x4 in code section xdp is not a multiple of 8");
        rejects(patch(ok, rel, 8, 0x10), entry, "R_BPF_64_64 at offset 0x10 of xdp is on opcode 0xb7, not an lddw");
        rejects(patch(ok, rel, 8, 0x8), entry, "offset 0x8 is the second slot of an lddw");
        rejects(patch(ok, rel + 12, 4, 99), entry + ": symbol index 99 is out of range (3 symbols)");
        rejects(patch(ok, rel + 8, 4, 10), entry, "R_BPF_64_32 at offset 0x0 is on an lddw (opcode 0x18), which "
                + "takes R_BPF_64_64");
        rejects(patch(ok, rel + 8, 4, 7), entry + ": unknown relocation type 7");
        rejects(patch(ok, rel + 8, 4, 2), entry + ": relocation type 2 (R_BPF_64_ABS64) is not valid in code section");
        long relHeader = w.headerOffset(".relxdp");
        rejects(patch(ok, relHeader + 56, 8, 24), ".relxdp @0x", "sh_entsize is 24, must be 16");
        rejects(patch(ok, relHeader + 40, 4, w.index("xdp")), ".relxdp @0x", "is not the symbol table");
    }

    @Test
    void relocationAgainstAnUndefinedSymbol() {
        ElfWriter w = new ElfWriter();
        int xdp = w.code("xdp", insns(insn(0x85, 0, 1, 0, -1), EXIT));
        int kfunc = w.symbol("bpf_kfunc_thing", 0, 0, 0, STB_GLOBAL, 0);
        w.function("prog", xdp, 0);
        w.rel(xdp, 0, 10, kfunc);
        byte[] b = w.build();
        // a call to an extern function is a kfunc: known ones are resolved by name, others refused
        rejects(b, String.format(".relxdp @0x%x: relocation 0: not supported: kfunc 'bpf_kfunc_thing' (Prism implements "
                + "[bpf_iter_num_new, bpf_iter_num_next, bpf_iter_num_destroy])", w.dataOffset(".relxdp")));
    }

    @Test
    void relocationAgainstSomethingThatIsNeitherMapDataNorCode() {
        ElfWriter w = base();
        int lic = w.index("license");
        int sym = w.symbol("_license", 0, 4, STT_OBJECT, STB_GLOBAL, lic);
        w.rel(w.index("xdp"), 0, 1, sym);
        // two relocations at the same offset
        rejects(w.build(), "second relocation at offset 0x0 of xdp");
        ElfWriter v = new ElfWriter();
        int xdp = v.code("xdp", insns(LDDW_R1, 0, EXIT));
        int l = v.section("license", WA, "GPL\0".getBytes(StandardCharsets.US_ASCII));
        int s = v.symbol("_license", 0, 4, STT_OBJECT, STB_GLOBAL, l);
        v.function("prog", xdp, 0);
        v.rel(xdp, 0, 1, s);
        rejects(v.build(), "symbol '_license' is in section license, which holds no map, global data or code");
    }

    // ---------------------------------------------------------------------------------------
    // Code

    @Test
    void malformedInstructionNamesSectionAndOffset() {
        ElfWriter w = new ElfWriter();
        int xdp = w.code("xdp", insns(mov64(0, 1), insn(0xff, 0, 0, 0, 0), EXIT));
        w.function("prog", xdp, 0);
        byte[] b = w.build();
        rejects(b, String.format("xdp @0x%x: program 'prog': 1: unknown opcode 0xff",
                w.dataOffset("xdp") + 8));
    }

    @Test
    void callsAndCodeOutsideTheSection() {
        ElfWriter w = new ElfWriter();
        int xdp = w.code("xdp", insns(insn(0x85, 0, 1, 0, 100), EXIT));
        w.function("prog", xdp, 0);
        rejects(w.build(), "xdp @0x", "target 0x328 is outside section xdp (0x10 bytes)");

        ElfWriter cut = new ElfWriter();
        int s = cut.code("xdp", insns(mov64(0, 0), EXIT, LDDW_R1));
        cut.function("prog", s, 0);
        rejects(cut.build(), "xdp @0x", "lddw at offset 0x10 of xdp is cut off");

        ElfWriter odd = new ElfWriter();
        int o = odd.code("xdp", Arrays.copyOf(insns(mov64(0, 0), EXIT), 12));
        odd.function("prog", o, 0);
        rejects(odd.build(), "xdp @0x", "code section size 0xc is not a multiple of 8");

        ElfWriter outside = new ElfWriter();
        int x = outside.code("xdp", insns(mov64(0, 0), EXIT));
        outside.function("prog", x, 0x40);
        rejects(outside.build(), "xdp @0x", "function 'prog' at 0x40 is outside the section");
    }

    @Test
    void callRelocationToAStaticTextFunction() {
        // call .text + imm: the callee is slot (imm + 1) of .text, as clang encodes static callees
        ElfWriter w = new ElfWriter();
        int text = w.code(".text", insns(mov64(0, 9), EXIT, mov64(0, 7), EXIT));
        int xdp = w.code("xdp", insns(insn(0x85, 0, 1, 0, 1), EXIT));
        int textSym = w.symbol("", 0, 0, 3, 0, text);
        w.symbol("seven", 16, 16, 2, 0, text);
        w.function("prog", xdp, 0);
        w.rel(xdp, 0, 10, textSym);
        Program p = ElfObject.parse("t.o", w.build()).program("prog");
        assertEquals(6, p.length());
        assertEquals(new Insn.Call(CallKind.LOCAL, 3), p.at(0)); // slot 2 + 2 = 4 = 0 + 1 + 3
        assertEquals("seven", p.functions().get(1).name());
        assertEquals(4, p.functions().get(1).start());
    }

    @Test
    void perProgramAndPerObjectSlotLimits() {
        long[] big = new long[ProgramLinker.MAX_SLOTS];
        Arrays.fill(big, mov64(0, 0));
        big[big.length - 1] = EXIT;
        ElfWriter w = new ElfWriter();
        int text = w.code(".text", insns(big));
        int xdp = w.code("xdp", insns(insn(0x85, 0, 1, 0, -1), EXIT));
        int callee = w.function("callee", text, 0);
        w.function("prog", xdp, 0);
        w.rel(xdp, 0, 10, callee);
        rejects(w.build(), ".text @0x", "program 'prog' exceeds 1000000 instructions once its callees are appended");

        ElfWriter three = new ElfWriter();
        long[] forty = new long[40];
        Arrays.fill(forty, EXIT);
        int t = three.code(".text", insns(forty));
        int c = three.function("callee", t, 0);
        for (String sec : new String[] {"xdp", "tc", "socket"}) {
            int s = three.code(sec, insns(insn(0x85, 0, 1, 0, -1), EXIT));
            three.function("p_" + sec, s, 0);
            three.rel(s, 0, 10, c);
        }
        byte[] b = three.build();
        assertEquals(3, ElfObject.read("t.o", b).programs().size());
        ElfException e = assertThrows(ElfException.class, () -> ElfObject.read("t.o", b, 100));
        assertTrue(e.getMessage().contains("the programs of the object exceed 100 instructions in total"),
                e.getMessage());
    }

    @Test
    void thousandsOfProgramsLoadInLinearTime() {
        int n = 20_000;
        ElfWriter w = new ElfWriter();
        int text = w.code(".text", insns(mov64(0, 1), EXIT));
        long[] code = new long[2 * n];
        for (int i = 0; i < n; i++) {
            code[2 * i] = insn(0x85, 0, 1, 0, -1);
            code[2 * i + 1] = EXIT;
        }
        int xdp = w.code("xdp", insns(code));
        int callee = w.function("callee", text, 0);
        for (int i = 0; i < n; i++) {
            w.function("p" + i, xdp, 16L * i);
            w.rel(xdp, 16L * i, 10, callee);
        }
        byte[] b = w.build();
        ElfObject o = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> ElfObject.parse("t.o", b));
        assertEquals(n, o.programs().size());
        Program last = o.program("p" + (n - 1));
        assertEquals(4, last.length());
        assertEquals(new Insn.Call(CallKind.LOCAL, 1), last.at(0));
    }

    // ---------------------------------------------------------------------------------------
    // Maps

    @Test
    void unsupportedOrEmptyMaps() {
        rejects(base(99, 4, 4, 4, 0).build(), "maps @0x", "map 'counts': unsupported map type 99 (supported: hash, "
                + "array, prog_array, perf_event_array, percpu_hash, percpu_array, lru_hash, lpm_trie, array_of_maps, "
                + "hash_of_maps, devmap, cpumap, xskmap, devmap_hash, ringbuf)");
        // a legacy bpf_map_def cannot name an inner map template
        rejects(base(12, 4, 4, 4, 0).build(), "maps @0x", "map 'counts': array_of_maps needs its inner map as "
                + "__array(values, struct inner_def) in a BTF-defined map");
        rejects(base(2, 4, 8, 0, 0).build(), "map 'counts': max_entries 0 is out of range");
        ElfWriter w = base();
        w.symbol("beyond", 16, 20, STT_OBJECT, STB_GLOBAL, w.index("maps"));
        rejects(w.build(), "map 'beyond': struct bpf_map_def at 0x10 (20 bytes) is outside section maps");
        ElfWriter big = base();
        big.nobits(".bss", 1L << 40);
        rejects(big.build(), ".bss @0x", "global data section is 0x10000000000 bytes");
    }

    /** {@return an object whose .maps holds "m": a struct of type, max_entries and key fields with these BTF ids} */
    private static byte[] btfMapObject(ElfWriter.Btf btf, int keyPtr, int typeField, int maxField) {
        int def = btf.type("", 4, 3, 24, btf.str("type"), typeField, 0, btf.str("max_entries"), maxField, 64,
                btf.str("key"), keyPtr, 128);
        int var = btf.type("m", 14, 0, def, 1);
        btf.type(".maps", 15, 1, 24, var, 0, 24);
        ElfWriter w = new ElfWriter();
        int xdp = w.code("xdp", insns(mov64(0, 0), EXIT));
        int maps = w.section(".maps", WA, new byte[24]);
        w.symbol("m", 0, 24, STT_OBJECT, STB_GLOBAL, maps);
        w.function("prog", xdp, 0);
        w.section(".BTF", 0, btf.build());
        return w.build();
    }

    /** {@return a BTF with int (1), __uint(type, 1) (3), __uint(max_entries, 16) (5)} */
    private static ElfWriter.Btf btfBase() {
        ElfWriter.Btf btf = new ElfWriter.Btf();
        int i32 = btf.type("int", 1, 0, 4, 32);
        btf.type("", 3, 0, 0, i32, i32, 1);
        btf.type("", 2, 0, 2);
        btf.type("", 3, 0, 0, i32, i32, 16);
        btf.type("", 2, 0, 4);
        return btf;
    }

    @Test
    void btfMapResolvesKeySize() {
        ElfWriter.Btf btf = btfBase();
        int u64 = btf.type("long long unsigned int", 1, 0, 8, 64);
        int td = btf.type("key_t", 8, 0, u64);
        int cv = btf.type("", 10, 0, td);
        int arr = btf.type("", 3, 0, 0, cv, 1, 3);
        int ptr = btf.type("", 2, 0, arr);
        ElfObject o = ElfObject.parse("t.o", btfMapObject(btf, ptr, 3, 5));
        assertEquals(MapDef.of("m", MapType.HASH, 24, 0, 16, 0), o.maps().getFirst());
    }

    @Test
    void cyclicTypedefIsRefused() {
        ElfWriter.Btf btf = btfBase();
        int loop = btf.type("loop", 8, 0, 6); // id 6 refers to itself
        assertEquals(6, loop);
        int ptr = btf.type("", 2, 0, loop);
        rejects(btfMapObject(btf, ptr, 3, 5), "map 'm': key type", ".BTF @0x",
                "type 6 (typedef 'loop') contains itself (cyclic BTF)");
    }

    @Test
    void structContainingItselfByValueIsRefused() {
        ElfWriter.Btf btf = btfBase();
        int node = btf.type("node", 4, 2, 16, btf.str("value"), 1, 0, btf.str("next"), 6, 32);
        assertEquals(6, node);
        int ptr = btf.type("", 2, 0, node);
        rejects(btfMapObject(btf, ptr, 3, 5), "type 6 (struct 'node') contains itself (cyclic BTF)");
    }

    @Test
    void mutuallyCyclicTypedefsAreRefused() {
        ElfWriter.Btf btf = btfBase();
        btf.type("a", 8, 0, 7);
        btf.type("b", 8, 0, 6);
        int ptr = btf.type("", 2, 0, 6);
        // as the key's type, size resolution sees the cycle
        rejects(btfMapObject(btf, ptr, 3, 5), "type 6 (typedef 'a') contains itself (cyclic BTF)");
        // as the type of the 'type' field, skipping typedefs gives up after 32 steps
        ElfWriter.Btf again = btfBase();
        again.type("a", 8, 0, 7);
        again.type("b", 8, 0, 6);
        rejects(btfMapObject(again, 3, 6, 5), "map 'm': field 'type'", "type 6: more than 32 typedefs and modifiers");
    }

    @Test
    void deeplyNestedOrOversizedTypesAreRefused() {
        ElfWriter.Btf btf = btfBase();
        int t = 1;
        for (int i = 0; i < 40; i++) {
            t = btf.type("", 3, 0, 0, t, 1, 1);
        }
        int ptr = btf.type("", 2, 0, t);
        rejects(btfMapObject(btf, ptr, 3, 5), "levels deep");

        ElfWriter.Btf huge = btfBase();
        int u64 = huge.type("u64", 1, 0, 8, 64);
        int arr = huge.type("", 3, 0, 0, u64, 1, 0x4000_0000);
        int p = huge.type("", 2, 0, arr);
        rejects(btfMapObject(huge, p, 3, 5), "1073741824 elements of 8 bytes exceed 2^32 - 1 bytes");
    }

    @Test
    void btfStructureErrors() {
        ElfWriter.Btf btf = btfBase();
        int ptr = btf.type("", 2, 0, 1);
        byte[] ok = btfMapObject(btf, ptr, 3, 5);
        ElfObject.parse("t.o", ok);
        int at = indexOf(ok, new byte[] {(byte) 0x9f, (byte) 0xeb, 1, 0});
        rejects(patch(ok, at, 2, 0x1234), ".BTF @0x", "bad BTF magic 0x1234");
        rejects(patch(ok, at + 12, 4, 0x10000), ".BTF @0x", "type section at 0x0 (0x10000 bytes) is outside");
        rejects(patch(ok, at + 20, 4, 0x10000), ".BTF @0x", "string section");
        // type 1's kind becomes 31
        rejects(patch(ok, at + 24 + 4, 4, 31 << 24), ".BTF @0x", "type 1 has unknown kind 31");
        // types: int 0, array 16, ptr 40, array 52, ptr 76, ptr 88, struct 100, var 148, datasec 164;
        // the struct's first member name and the variable's name point past the strings
        rejects(patch(ok, at + 24 + 112, 4, 0x7fff), ".BTF @0x", "name offset 0x7fff is outside the BTF string section");
        rejects(patch(ok, at + 24 + 148, 4, 0x7fff), ".BTF @0x", "name offset 0x7fff is outside the BTF string section");
        // the type's vlen is larger than the type section holds
        rejects(patch(ok, at + 24 + 4, 4, 4 << 24 | 0xffff), ".BTF @0x", "runs past the end of the type section");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        fail("not found");
        return -1;
    }
}
