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
 *   [3] maps         struct bpf_map_def { u32 type, key_size, value_size, max_entries, map_flags }
 *                    per map, 20 bytes each: legacy definitions, no BTF (offloaded maps take none)
 *   [4] license      the program's license, NUL-terminated
 *   [5] .symtab      null, the program (STT_FUNC, global), one STT_OBJECT per map (global)
 *   [6] .strtab
 *   [7] .shstrtab
 * </pre>
 * Local calls stay resolved inside the one section (src 1, imm relative), as clang leaves calls
 * to static functions of the same section.
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

    private NfpElf() {
    }

    /** {@return the section a loader names with {@code sec}: the program's own, or xdp / classifier} */
    public static String sectionOf(Program p) {
        if (!p.section().isEmpty()) {
            return p.section();
        }
        return p.type() == ProgramType.TC ? "classifier" : "xdp";
    }

    /** {@return the object file} @throws TargetException for a map reference of a form an object cannot carry */
    public static byte[] write(Program p) {
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
        ByteBuffer maps = le(p.maps().size() * MAP_DEF_SIZE);
        for (MapDef m : p.maps()) {
            maps.putInt(m.type().code()).putInt(m.keySize()).putInt(m.valueSize()).putInt(m.maxEntries()).putInt(m.flags());
        }
        String licenseText = p.license().isEmpty() ? "GPL" : p.license();
        byte[] license = (licenseText + "\0").getBytes(StandardCharsets.UTF_8);

        // symbols: 0 null, 1 program, 2.. maps
        ByteBuffer sym = le(24 * (2 + p.maps().size()));
        sym.put(new byte[24]);
        symbol(sym, str.add(progName), STB_GLOBAL << 4 | STT_FUNC, 1, 0, code.length);
        for (int i = 0; i < p.maps().size(); i++) {
            symbol(sym, str.add(symbolName(p.maps().get(i).name())), STB_GLOBAL << 4 | STT_OBJECT, 3,
                    (long) i * MAP_DEF_SIZE, MAP_DEF_SIZE);
        }
        ByteBuffer rel = le(16 * rels.size());
        for (long[] r : rels) {
            rel.putLong(r[0]).putLong(r[1] << 32 | R_BPF_64_64);
        }

        List<Section> sections = List.of(
                new Section(shstr.add(sec), SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, code, 0, 0, 8, 0),
                new Section(shstr.add(".rel" + sec), SHT_REL, 0, rel.array(), 5, 1, 8, 16),
                new Section(shstr.add("maps"), SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, maps.array(), 0, 0, 4, 0),
                new Section(shstr.add("license"), SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, license, 0, 0, 1, 0),
                new Section(shstr.add(".symtab"), SHT_SYMTAB, 0, sym.array(), 6, 1, 8, 24),
                new Section(shstr.add(".strtab"), SHT_STRTAB, 0, str.bytes(), 0, 0, 1, 0),
                new Section(shstr.add(".shstrtab"), SHT_STRTAB, 0, null, 0, 0, 1, 0));
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
