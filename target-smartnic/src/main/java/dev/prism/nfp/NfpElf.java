package dev.prism.nfp;

import dev.prism.error.TargetException;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a legalized program as the relocatable object the nfp offload path loads:
 * {@code ip -force link set dev X xdpoffload obj F sec S}. ELF64, little-endian, ET_REL, EM_BPF.
 *
 * <pre>
 *   [1] S            the program (section xdp or classifier), map references as lddw src 0,
 *                    imm 0, each with an R_BPF_64_64 relocation against its map's symbol
 *   [2] .relS        those relocations
 *   [3] .maps        BTF_MAPS (the default): 32 zero bytes per map, the storage of
 *                    struct { __uint(type, T); __uint(max_entries, N); __uint(key_size, K);
 *                    __uint(value_size, V); } NAME SEC(".maps");
 *       maps         LEGACY_MAPS: struct bpf_map_def { u32 type, key_size, value_size,
 *                    max_entries, map_flags } per map, 20 bytes each
 *   [4] license      the program's license, NUL-terminated
 *   [5] .BTF         BTF_MAPS only: int; per distinct number n, int[n] and a pointer to it (what
 *                    __uint(name, n) declares); per map its anonymous struct of four such
 *                    pointers and a global VAR; the DATASEC .maps with every VAR at its offset
 *   [.] .symtab      null, the program (STT_FUNC, global), one STT_OBJECT per map (global)
 *   [.] .strtab
 *   [.] .shstrtab
 * </pre>
 * Local calls stay resolved inside the one section (src 1, imm relative), as clang leaves calls
 * to static functions of the same section.
 *
 * <p>Why BTF-defined maps by default: the {@code ip} of Debian 12 (iproute2 6.1 on libbpf 1.1.2)
 * opens every object with libbpf, and libbpf 1.0 and later refuse a legacy {@code maps} section
 * ("legacy map definitions in 'maps' section are not supported by libbpf v1.0+"), so an object in
 * the form the nfp documentation of 2018 shows cannot be loaded by a current {@code ip} at all.
 * The offloaded maps still get no BTF: the sizes are given as {@code key_size}/{@code value_size}
 * numbers, not as {@code __type(key, ...)}, so libbpf has no key or value type id to pass and
 * creates each map with btf_key_type_id = btf_value_type_id = 0, which the kernel's offload map
 * ops (map_check_no_btf) never see. The flags are 0 (no {@code map_flags} member): the checker
 * refuses any other, and this writer refuses a map with flags in this form. {@link Form#LEGACY_MAPS}
 * stays for the old iproute2 loader (without libbpf) and tools that read bpf_map_def.
 */
public final class NfpElf {
    static final int EM_BPF = 247;
    static final int ET_REL = 1;
    static final int SHT_PROGBITS = 1;
    static final int SHT_SYMTAB = 2;
    static final int SHT_STRTAB = 3;
    static final int SHT_REL = 9;
    static final long SHF_WRITE = 1;
    static final long SHF_ALLOC = 2;
    static final long SHF_EXECINSTR = 4;
    static final int R_BPF_64_64 = 1;
    static final int STB_GLOBAL = 1;
    static final int STT_OBJECT = 1;
    static final int STT_FUNC = 2;
    static final int MAP_DEF_SIZE = 20;
    /** a BTF map definition: four pointers (no map_flags: 0); the storage clang gives it */
    static final int BTF_MAP_SIZE = 32;

    /** How the object defines its maps. */
    public enum Form {
        /** {@code .maps} with {@code .BTF}: what libbpf 1.x, and so {@code ip} on it, loads (the default) */
        BTF_MAPS,
        /** legacy {@code struct bpf_map_def} in {@code maps}, no {@code .BTF}: refused by libbpf 1.x */
        LEGACY_MAPS
    }

    private NfpElf() {
    }

    /** {@return the section a loader names with {@code sec}: the program's own, or xdp / classifier} */
    public static String sectionOf(Program p) {
        if (!p.section().isEmpty()) {
            return p.section();
        }
        return p.type() == ProgramType.TC ? "classifier" : "xdp";
    }

    /** {@return the object file, maps in {@link Form#BTF_MAPS}} @throws TargetException for a map reference of a form an object cannot carry */
    public static byte[] write(Program p) {
        return write(p, Form.BTF_MAPS);
    }

    /** {@return the object file, maps in {@code form}} @throws TargetException for a map reference of a form an object cannot carry */
    public static byte[] write(Program p, Form form) {
        boolean btf = form == Form.BTF_MAPS;
        int mapSize = btf ? BTF_MAP_SIZE : MAP_DEF_SIZE;
        String sec = sectionOf(p);
        Insn[] slots = p.slots();
        List<long[]> rels = new ArrayList<>(); // offset, symbol index
        Insn[] out = slots.clone();
        for (int pc = 0; pc < slots.length; pc++) {
            if (slots[pc] instanceof Insn.LoadImm64 l && l.kind() != LoadImm64Kind.IMM64 && l.kind() != LoadImm64Kind.CODE_ADDR) {
                if (l.kind() != LoadImm64Kind.MAP_BY_IDX && l.kind() != LoadImm64Kind.MAP_BY_FD) {
                    throw new TargetException(pc + ": lddw " + l.kind().keyword() + " cannot be written to an nfp object");
                }
                if (l.imm() < 0 || l.imm() >= p.maps().size()) {
                    throw new TargetException(pc + ": lddw names map " + l.imm() + ", the program has " + p.maps().size());
                }
                out[pc] = new Insn.LoadImm64(LoadImm64Kind.IMM64, l.dst(), 0, 0);
                rels.add(new long[] {pc * 8L, 2 + l.imm()});
            }
        }
        byte[] code = InsnCodec.encode(out);
        String progName = symbolName(p.name());

        Strings shstr = new Strings();
        Strings str = new Strings();
        ByteBuffer maps = le(p.maps().size() * mapSize);
        if (!btf) {
            for (MapDef m : p.maps()) {
                maps.putInt(m.type().code()).putInt(m.keySize()).putInt(m.valueSize()).putInt(m.maxEntries()).putInt(m.flags());
            }
        }
        String licenseText = p.license().isEmpty() ? "GPL" : p.license();
        byte[] license = (licenseText + "\0").getBytes(StandardCharsets.UTF_8);

        // symbols: 0 null, 1 program, 2.. maps
        ByteBuffer sym = le(24 * (2 + p.maps().size()));
        sym.put(new byte[24]);
        symbol(sym, str.add(progName), STB_GLOBAL << 4 | STT_FUNC, 1, 0, code.length);
        for (int i = 0; i < p.maps().size(); i++) {
            symbol(sym, str.add(symbolName(p.maps().get(i).name())), STB_GLOBAL << 4 | STT_OBJECT, 3,
                    (long) i * mapSize, mapSize);
        }
        ByteBuffer rel = le(16 * rels.size());
        for (long[] r : rels) {
            rel.putLong(r[0]).putLong(r[1] << 32 | R_BPF_64_64);
        }

        // section indices: 1 program, 2 relocations, 3 maps, 4 license, [5 .BTF], then .symtab, .strtab
        int symtab = btf ? 6 : 5;
        List<Section> sections = new ArrayList<>(List.of(
                new Section(shstr.add(sec), SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, code, 0, 0, 8, 0),
                new Section(shstr.add(".rel" + sec), SHT_REL, 0, rel.array(), symtab, 1, 8, 16),
                new Section(shstr.add(btf ? ".maps" : "maps"), SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, maps.array(), 0, 0,
                        btf ? 8 : 4, 0),
                new Section(shstr.add("license"), SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, license, 0, 0, 1, 0)));
        if (btf) {
            sections.add(new Section(shstr.add(".BTF"), SHT_PROGBITS, 0, btf(p.maps()), 0, 0, 4, 0));
        }
        sections.add(new Section(shstr.add(".symtab"), SHT_SYMTAB, 0, sym.array(), symtab + 1, 1, 8, 24));
        sections.add(new Section(shstr.add(".strtab"), SHT_STRTAB, 0, str.bytes(), 0, 0, 1, 0));
        sections.add(new Section(shstr.add(".shstrtab"), SHT_STRTAB, 0, null, 0, 0, 1, 0));
        byte[] shstrtab = shstr.bytes();

        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(new byte[64]);
        long[] offsets = new long[sections.size()];
        for (int i = 0; i < sections.size(); i++) {
            byte[] data = sections.get(i).data() == null ? shstrtab : sections.get(i).data();
            while (file.size() % 8 != 0) {
                file.write(0);
            }
            offsets[i] = file.size();
            file.writeBytes(data);
        }
        while (file.size() % 8 != 0) {
            file.write(0);
        }
        long shoff = file.size();
        ByteBuffer sh = le(64 * (sections.size() + 1));
        sh.put(new byte[64]);
        for (int i = 0; i < sections.size(); i++) {
            Section s = sections.get(i);
            int size = s.data() == null ? shstrtab.length : s.data().length;
            sh.putInt(s.name()).putInt(s.type()).putLong(s.flags()).putLong(0).putLong(offsets[i]).putLong(size)
                    .putInt(s.link()).putInt(s.info()).putLong(s.align()).putLong(s.entsize());
        }
        file.writeBytes(sh.array());
        byte[] bytes = file.toByteArray();
        ByteBuffer h = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        h.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        h.position(16);
        h.putShort((short) ET_REL).putShort((short) EM_BPF).putInt(1).putLong(0).putLong(0).putLong(shoff).putInt(0)
                .putShort((short) 64).putShort((short) 0).putShort((short) 0).putShort((short) 64)
                .putShort((short) (sections.size() + 1)).putShort((short) sections.size());
        return bytes;
    }

    // BTF kinds and the one int encoding used (Documentation/bpf/btf.rst)
    private static final int BTF_KIND_INT = 1;
    private static final int BTF_KIND_PTR = 2;
    private static final int BTF_KIND_ARRAY = 3;
    private static final int BTF_KIND_STRUCT = 4;
    private static final int BTF_KIND_VAR = 14;
    private static final int BTF_KIND_DATASEC = 15;
    private static final int BTF_INT_SIGNED = 1;
    private static final int BTF_VAR_GLOBAL_ALLOCATED = 1;

    /**
     * {@return the .BTF section describing {@code maps} as BTF-defined maps}: type 1 is int; each
     * number n a field holds becomes int[n] (index type int) and a pointer to it, as
     * {@code __uint(name, n)} declares {@code int (*name)[n]}; each map an anonymous struct of
     * those pointers (8 bytes each) and a global VAR of that struct named as the map's symbol; one
     * DATASEC ".maps" listing the VARs at their offsets in the section, size filled in (libbpf
     * keeps a non-zero DATASEC size and its offsets as they are).
     */
    static byte[] btf(List<MapDef> maps) {
        Strings str = new Strings();
        ByteArrayOutputStream types = new ByteArrayOutputStream();
        int[] next = {1};
        btfType(types, str.add("int"), BTF_KIND_INT, 0, 4);
        types.writeBytes(le(4).putInt(BTF_INT_SIGNED << 24 | 32).array());
        next[0]++;
        java.util.Map<Integer, Integer> pointerTo = new java.util.HashMap<>();
        java.util.function.IntUnaryOperator uint = n -> pointerTo.computeIfAbsent(n, k -> {
            int array = next[0]++;
            btfType(types, 0, BTF_KIND_ARRAY, 0, 0);
            types.writeBytes(le(12).putInt(1).putInt(1).putInt(k).array());
            int ptr = next[0]++;
            btfType(types, 0, BTF_KIND_PTR, 0, array);
            return ptr;
        });
        int[] vars = new int[maps.size()];
        for (int i = 0; i < maps.size(); i++) {
            MapDef m = maps.get(i);
            if (m.flags() != 0) {
                throw new TargetException("map " + m.name() + ": not supported: map flags 0x" + Integer.toHexString(m.flags())
                        + " in an nfp object (offloaded maps take flags 0)");
            }
            List<String> names = List.of("type", "max_entries", "key_size", "value_size");
            List<Integer> values = List.of(m.type().code(), m.maxEntries(), m.keySize(), m.valueSize());
            int[] ptrs = new int[values.size()];
            for (int f = 0; f < ptrs.length; f++) {
                ptrs[f] = uint.applyAsInt(values.get(f));
            }
            int struct = next[0]++;
            btfType(types, 0, BTF_KIND_STRUCT, ptrs.length, BTF_MAP_SIZE);
            for (int f = 0; f < ptrs.length; f++) {
                types.writeBytes(le(12).putInt(str.add(names.get(f))).putInt(ptrs[f]).putInt(f * 64).array());
            }
            vars[i] = next[0]++;
            btfType(types, str.add(symbolName(m.name())), BTF_KIND_VAR, 0, struct);
            types.writeBytes(le(4).putInt(BTF_VAR_GLOBAL_ALLOCATED).array());
        }
        btfType(types, str.add(".maps"), BTF_KIND_DATASEC, maps.size(), maps.size() * BTF_MAP_SIZE);
        for (int i = 0; i < maps.size(); i++) {
            types.writeBytes(le(12).putInt(vars[i]).putInt(i * BTF_MAP_SIZE).putInt(BTF_MAP_SIZE).array());
        }
        byte[] t = types.toByteArray();
        byte[] s = str.bytes();
        ByteBuffer b = le(24 + t.length + s.length);
        b.putShort((short) 0xeb9f).put((byte) 1).put((byte) 0).putInt(24).putInt(0).putInt(t.length).putInt(t.length)
                .putInt(s.length).put(t).put(s);
        return b.array();
    }

    private static void btfType(ByteArrayOutputStream out, int name, int kind, int vlen, int sizeOrType) {
        out.writeBytes(le(12).putInt(name).putInt(kind << 24 | vlen).putInt(sizeOrType).array());
    }

    private record Section(int name, int type, long flags, byte[] data, int link, int info, long align, long entsize) {
    }

    private static void symbol(ByteBuffer b, int name, int info, int shndx, long value, long size) {
        b.putInt(name).put((byte) info).put((byte) 0).putShort((short) shndx).putLong(value).putLong(size);
    }

    /** {@return a C identifier for a symbol (map names like ".bss" are refused before: they need direct value access)} */
    static String symbolName(String name) {
        StringBuilder sb = new StringBuilder();
        for (char c : name.toCharArray()) {
            sb.append(Character.isLetterOrDigit(c) && c < 128 || c == '_' ? c : '_');
        }
        if (sb.isEmpty() || Character.isDigit(sb.charAt(0))) {
            sb.insert(0, '_');
        }
        return sb.toString();
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A string table: offset 0 is the empty string. */
    private static final class Strings {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Strings() {
            bytes.write(0);
        }

        int add(String s) {
            int at = bytes.size();
            bytes.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            bytes.write(0);
            return at;
        }

        byte[] bytes() {
            return bytes.toByteArray();
        }
    }
}
