package dev.prism.elf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes small ELF64 EM_BPF relocatable objects for tests that need exact control over every
 * field: user sections, a symbol table, REL sections and the section name table. Layout: ELF
 * header, section data in order (8-aligned), section header table last. Sections are numbered
 * from 1 in the order added; .strtab, .symtab, the REL sections and .shstrtab follow them.
 */
final class ElfWriter {
    static final int SHT_PROGBITS = 1;
    static final int SHT_NOBITS = 8;
    static final long SHF_WRITE = 1;
    static final long SHF_ALLOC = 2;
    static final long SHF_EXEC = 4;

    private record Sec(String name, int type, long flags, byte[] data, long size) {
    }

    private record Sym(String name, long value, long size, int info, int shndx) {
    }

    private record Rel(int target, long offset, int type, int symbol) {
    }

    private final List<Sec> sections = new ArrayList<>();
    private final List<Sym> symbols = new ArrayList<>(List.of(new Sym("", 0, 0, 0, 0)));
    private final List<Rel> rels = new ArrayList<>();

    /** where each section's data and header ended up in the last {@link #build()} */
    private final Map<String, Long> dataOffsets = new HashMap<>();
    private final Map<String, Long> headerOffsets = new HashMap<>();
    private final Map<String, Integer> indices = new HashMap<>();
    private long shoff;

    /** {@return the index of a new PROGBITS section} */
    int section(String name, long flags, byte[] data) {
        sections.add(new Sec(name, SHT_PROGBITS, flags, data.clone(), data.length));
        return sections.size();
    }

    /** {@return the index of a new code section} */
    int code(String name, byte[] insns) {
        return section(name, SHF_ALLOC | SHF_EXEC, insns);
    }

    /** {@return the index of a new NOBITS section} */
    int nobits(String name, long size) {
        sections.add(new Sec(name, SHT_NOBITS, SHF_ALLOC | SHF_WRITE, new byte[0], size));
        return sections.size();
    }

    /** {@return the index of a new symbol} @param type STT_* @param bind STB_* */
    int symbol(String name, long value, long size, int type, int bind, int shndx) {
        symbols.add(new Sym(name, value, size, bind << 4 | type, shndx));
        return symbols.size() - 1;
    }

    /** {@return a global function symbol} */
    int function(String name, int section, long value) {
        return symbol(name, value, 0, 2, 1, section);
    }

    /** Adds a REL entry for section {@code target}. */
    void rel(int target, long offset, int type, int symbol) {
        rels.add(new Rel(target, offset, type, symbol));
    }

    /** {@return the file offset of a section's data in the last build} */
    long dataOffset(String name) {
        return dataOffsets.get(name);
    }

    /** {@return the file offset of a section's header in the last build} */
    long headerOffset(String name) {
        return headerOffsets.get(name);
    }

    /** {@return the index of a section: a user section at any time, the generated ones after a build} */
    int index(String name) {
        for (int i = 0; i < sections.size(); i++) {
            if (sections.get(i).name().equals(name)) {
                return i + 1;
            }
        }
        return indices.get(name);
    }

    long shoff() {
        return shoff;
    }

    byte[] build() {
        List<Sec> all = new ArrayList<>(sections);
        List<int[]> meta = new ArrayList<>(); // link, info, entsize per section
        for (int i = 0; i < sections.size(); i++) {
            meta.add(new int[] {0, 0, 0});
        }
        ByteArrayOutputStream strtab = new ByteArrayOutputStream();
        strtab.write(0);
        ByteBuffer symtab = ByteBuffer.allocate(24 * symbols.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (Sym s : symbols) {
            int nameOff = s.name().isEmpty() ? 0 : strtab.size();
            if (!s.name().isEmpty()) {
                strtab.writeBytes(s.name().getBytes(StandardCharsets.UTF_8));
                strtab.write(0);
            }
            symtab.putInt(nameOff).put((byte) s.info()).put((byte) 0).putShort((short) s.shndx())
                    .putLong(s.value()).putLong(s.size());
        }
        int strtabIndex = all.size() + 1;
        all.add(new Sec(".strtab", 3, 0, strtab.toByteArray(), strtab.size()));
        meta.add(new int[] {0, 0, 0});
        int symtabIndex = all.size() + 1;
        all.add(new Sec(".symtab", 2, 0, symtab.array(), symtab.capacity()));
        meta.add(new int[] {strtabIndex, 1, 24});
        Map<Integer, ByteBuffer> relData = new LinkedHashMap<>();
        for (Rel r : rels) {
            relData.computeIfAbsent(r.target(), t -> ByteBuffer.allocate(16 * (int) rels.stream()
                    .filter(x -> x.target() == t).count()).order(ByteOrder.LITTLE_ENDIAN));
            relData.get(r.target()).putLong(r.offset()).putLong((long) r.symbol() << 32 | r.type());
        }
        for (Map.Entry<Integer, ByteBuffer> e : relData.entrySet()) {
            all.add(new Sec(".rel" + all.get(e.getKey() - 1).name(), 9, 0x40, e.getValue().array(),
                    e.getValue().capacity()));
            meta.add(new int[] {symtabIndex, e.getKey(), 16});
        }
        ByteArrayOutputStream shstr = new ByteArrayOutputStream();
        shstr.write(0);
        int[] nameOffs = new int[all.size() + 1];
        for (int i = 0; i < all.size(); i++) {
            nameOffs[i] = shstr.size();
            shstr.writeBytes(all.get(i).name().getBytes(StandardCharsets.UTF_8));
            shstr.write(0);
        }
        nameOffs[all.size()] = shstr.size();
        shstr.writeBytes(".shstrtab\0".getBytes(StandardCharsets.UTF_8));
        all.add(new Sec(".shstrtab", 3, 0, shstr.toByteArray(), shstr.size()));
        meta.add(new int[] {0, 0, 0});

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[64]);
        long[] offsets = new long[all.size()];
        for (int i = 0; i < all.size(); i++) {
            while (out.size() % 8 != 0) {
                out.write(0);
            }
            offsets[i] = out.size();
            out.writeBytes(all.get(i).data());
        }
        while (out.size() % 8 != 0) {
            out.write(0);
        }
        shoff = out.size();
        ByteBuffer sh = ByteBuffer.allocate(64 * (all.size() + 1)).order(ByteOrder.LITTLE_ENDIAN);
        sh.put(new byte[64]);
        dataOffsets.clear();
        headerOffsets.clear();
        indices.clear();
        for (int i = 0; i < all.size(); i++) {
            Sec s = all.get(i);
            int[] m = meta.get(i);
            dataOffsets.put(s.name(), offsets[i]);
            headerOffsets.put(s.name(), shoff + 64L * (i + 1));
            indices.put(s.name(), i + 1);
            sh.putInt(nameOffs[i]).putInt(s.type()).putLong(s.flags()).putLong(0).putLong(offsets[i])
                    .putLong(s.size()).putInt(m[0]).putInt(m[1]).putLong(8).putLong(m[2]);
        }
        out.writeBytes(sh.array());
        ByteBuffer h = ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        h.put(0, new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        h.putShort(16, (short) 1).putShort(18, (short) 247).putInt(20, 1).putLong(40, shoff)
                .putShort(52, (short) 64).putShort(58, (short) 64).putShort(60, (short) (all.size() + 1))
                .putShort(62, (short) all.size());
        return h.array();
    }

    // ---------------------------------------------------------------------------------------
    // Instructions and BTF

    /** {@return little-endian instruction words as bytes} */
    static byte[] insns(long... words) {
        ByteBuffer b = ByteBuffer.allocate(8 * words.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long w : words) {
            b.putLong(w);
        }
        return b.array();
    }

    /** {@return one instruction word} */
    static long insn(int opcode, int dst, int src, int off, int imm) {
        return (opcode & 0xffL) | (long) (dst & 0xf) << 8 | (long) (src & 0xf) << 12 | (long) (off & 0xffff) << 16
                | (long) imm << 32;
    }

    static final long EXIT = insn(0x95, 0, 0, 0, 0);

    static long mov64(int dst, int imm) {
        return insn(0xb7, dst, 0, 0, imm);
    }

    /** Writes .BTF: types as raw u32 words (name given as a string, interned), then strings. */
    static final class Btf {
        private final ByteArrayOutputStream types = new ByteArrayOutputStream();
        private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
        private final Map<String, Integer> interned = new HashMap<>();
        private int count;

        Btf() {
            strings.write(0);
            interned.put("", 0);
        }

        int str(String s) {
            return interned.computeIfAbsent(s, k -> {
                int off = strings.size();
                strings.writeBytes(k.getBytes(StandardCharsets.UTF_8));
                strings.write(0);
                return off;
            });
        }

        /** {@return the id of a new type} @param rest the u32 words after the 12-byte header */
        int type(String name, int kind, int vlen, int sizeOrType, int... rest) {
            ByteBuffer b = ByteBuffer.allocate(12 + 4 * rest.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(str(name)).putInt(kind << 24 | vlen).putInt(sizeOrType);
            for (int r : rest) {
                b.putInt(r);
            }
            types.writeBytes(b.array());
            return ++count;
        }

        byte[] build() {
            byte[] t = types.toByteArray();
            byte[] s = strings.toByteArray();
            ByteBuffer b = ByteBuffer.allocate(24 + t.length + s.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) 0xeb9f).put((byte) 1).put((byte) 0).putInt(24).putInt(0).putInt(t.length)
                    .putInt(t.length).putInt(s.length).put(t).put(s);
            return b.array();
        }
    }
}
