package dev.prism.elf;

import static dev.prism.elf.ElfFile.fits;
import static dev.prism.elf.ElfFile.s32;
import static dev.prism.elf.ElfFile.u16;
import static dev.prism.elf.ElfFile.u32;
import static dev.prism.elf.ElfFile.u8;

import dev.prism.error.ElfException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The type section and string section of {@code .BTF} (Linux Documentation/bpf/btf.rst), read
 * far enough to find BTF-defined maps and to resolve the sizes of their keys and values.
 *
 * <pre>
 *   header   u16 magic 0xeb9f | u8 version 1 | u8 flags | u32 hdr_len
 *            u32 type_off | u32 type_len | u32 str_off | u32 str_len      (offsets after the header)
 *   type     u32 name_off | u32 info (vlen:16, kind:5 at bit 24, kind_flag at bit 31) | u32 size/type
 *            followed by kind-specific data (see {@link #extraBytes})
 * </pre>
 *
 * Type ids count from 1 in the order the records appear; id 0 is void. Every id a record refers
 * to is checked when it is followed, not when it is read, so a malformed type that nothing uses
 * does not make the object unloadable.
 */
final class Btf {
    static final int MAGIC = 0xeb9f;

    static final int INT = 1;
    static final int PTR = 2;
    static final int ARRAY = 3;
    static final int STRUCT = 4;
    static final int UNION = 5;
    static final int ENUM = 6;
    static final int FWD = 7;
    static final int TYPEDEF = 8;
    static final int VOLATILE = 9;
    static final int CONST = 10;
    static final int RESTRICT = 11;
    static final int FUNC = 12;
    static final int FUNC_PROTO = 13;
    static final int VAR = 14;
    static final int DATASEC = 15;
    static final int FLOAT = 16;
    static final int DECL_TAG = 17;
    static final int TYPE_TAG = 18;
    static final int ENUM64 = 19;

    /** How deep size resolution follows types, as libbpf's MAX_RESOLVE_DEPTH (32). */
    static final int MAX_DEPTH = 32;

    private static final int TYPE_SIZE = 12;
    private static final int HEADER_SIZE = 24;

    /** A struct or union member, or a DATASEC entry ({@code name} empty, {@code size} set). */
    record Member(String name, int type, long offset, long size) {
    }

    private final ElfFile.Section section;
    private final byte[] data;
    private final long typeStart;
    private final long strStart;
    private final StringTable strings;
    /** per type id (index 0 unused): offset of its record in {@link #data} */
    private final long[] recordAt;
    private final int count;
    /** resolved sizes, -1 until known */
    private final long[] sizes;
    private final boolean[] resolving;

    private Btf(ElfFile.Section section, byte[] data) {
        this.section = section;
        this.data = data;
        if (data.length < HEADER_SIZE) {
            throw fail(0, "BTF header needs 24 bytes, section has " + data.length);
        }
        int magic = u16(data, 0);
        if (magic != MAGIC) {
            throw fail(0, String.format("bad BTF magic 0x%04x (want 0xeb9f, little-endian)", magic));
        }
        if (u8(data, 2) != 1) {
            throw fail(2, "BTF version " + u8(data, 2) + ", only 1 is known");
        }
        long hdrLen = u32(data, 4);
        long typeOff = u32(data, 8);
        long typeLen = u32(data, 12);
        long strOff = u32(data, 16);
        long strLenRaw = u32(data, 20);
        if (hdrLen < HEADER_SIZE || hdrLen > data.length) {
            throw fail(4, "BTF hdr_len " + hdrLen + " is outside 24.." + data.length);
        }
        long body = data.length - hdrLen;
        if (!fits(typeOff, typeLen, body) || (typeOff & 3) != 0) {
            throw fail(8, String.format("type section at 0x%x (0x%x bytes) is outside the 0x%x bytes after the header "
                    + "or not 4-byte aligned", typeOff, typeLen, body));
        }
        if (!fits(strOff, strLenRaw, body)) {
            throw fail(16, String.format("string section at 0x%x (0x%x bytes) is outside the 0x%x bytes after the header",
                    strOff, strLenRaw, body));
        }
        if (typeOff + typeLen > strOff) {
            throw fail(8, "type section overlaps the string section that must follow it");
        }
        if (strLenRaw == 0 || data[(int) (hdrLen + strOff)] != 0 || data[(int) (hdrLen + strOff + strLenRaw - 1)] != 0) {
            throw fail(hdrLen + strOff, "string section must start and end with NUL");
        }
        this.typeStart = hdrLen + typeOff;
        this.strStart = hdrLen + strOff;
        this.strings = new StringTable(data, strStart, strLenRaw, "BTF string section");

        long end = typeStart + typeLen;
        List<Long> at = new ArrayList<>();
        at.add(-1L);
        long p = typeStart;
        while (p < end) {
            if (end - p < TYPE_SIZE) {
                throw fail(p, "type " + at.size() + " is truncated (" + (end - p) + " bytes left in the type section)");
            }
            long info = u32(data, p + 4);
            int kind = (int) ((info >>> 24) & 0x1f);
            int vlen = (int) (info & 0xffff);
            long extra = extraBytes(kind, vlen);
            if (extra < 0) {
                throw fail(p, "type " + at.size() + " has unknown kind " + kind);
            }
            if (end - p - TYPE_SIZE < extra) {
                throw fail(p, "type " + at.size() + " (" + kindName(kind) + ", vlen " + vlen
                        + ") runs past the end of the type section");
            }
            at.add(p);
            p += TYPE_SIZE + extra;
        }
        this.count = at.size() - 1;
        this.recordAt = new long[at.size()];
        for (int i = 0; i < recordAt.length; i++) {
            recordAt[i] = at.get(i);
        }
        this.sizes = new long[at.size()];
        Arrays.fill(sizes, -1);
        this.resolving = new boolean[at.size()];
    }

    /** {@return the parsed BTF of {@code section}} @throws ElfException when malformed */
    static Btf parse(ElfFile.Section section, byte[] data) {
        return new Btf(section, data);
    }

    /** {@return the bytes of kind-specific data after a type record, or -1 for an unknown kind} */
    private static long extraBytes(int kind, int vlen) {
        return switch (kind) {
            case INT, VAR, DECL_TAG -> 4;
            case PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG -> 0;
            case ARRAY -> 12;
            case STRUCT, UNION, DATASEC, ENUM64 -> 12L * vlen;
            case ENUM, FUNC_PROTO -> 8L * vlen;
            default -> -1;
        };
    }

    static String kindName(int kind) {
        return switch (kind) {
            case INT -> "int";
            case PTR -> "ptr";
            case ARRAY -> "array";
            case STRUCT -> "struct";
            case UNION -> "union";
            case ENUM -> "enum";
            case FWD -> "fwd";
            case TYPEDEF -> "typedef";
            case VOLATILE -> "volatile";
            case CONST -> "const";
            case RESTRICT -> "restrict";
            case FUNC -> "func";
            case FUNC_PROTO -> "func_proto";
            case VAR -> "var";
            case DATASEC -> "datasec";
            case FLOAT -> "float";
            case DECL_TAG -> "decl_tag";
            case TYPE_TAG -> "type_tag";
            case ENUM64 -> "enum64";
            default -> "kind " + kind;
        };
    }

    ElfException fail(long at, String message) {
        return ElfFile.error(section.where(at), message);
    }

    /** {@return the number of types (ids 1..count)} */
    int count() {
        return count;
    }

    /** {@return the string at {@code off} of the string section} */
    String string(long off) {
        return strings.get(off, section.where(strStart));
    }

    private long record(int id) {
        if (id <= 0 || id > count) {
            throw fail(typeStart, "type id " + id + " does not exist (types are 1.." + count + ")");
        }
        return recordAt[id];
    }

    int kind(int id) {
        return (int) ((u32(data, record(id) + 4) >>> 24) & 0x1f);
    }

    int vlen(int id) {
        return (int) (u32(data, record(id) + 4) & 0xffff);
    }

    String name(int id) {
        return string(u32(data, record(id)));
    }

    /** {@return the size field of INT, ENUM, STRUCT, UNION, DATASEC, FLOAT, ENUM64} */
    private long sizeField(int id) {
        return u32(data, record(id) + 8);
    }

    /** {@return the type field of PTR, TYPEDEF, modifiers, FUNC, VAR, DECL_TAG, TYPE_TAG} */
    int referenced(int id) {
        return s32(data, record(id) + 8);
    }

    /** {@return the element type of an ARRAY} */
    int arrayElement(int id) {
        return s32(data, record(id) + TYPE_SIZE);
    }

    /** {@return the element count of an ARRAY} */
    long arrayLength(int id) {
        return u32(data, record(id) + TYPE_SIZE + 8);
    }

    /** {@return the members of a STRUCT or UNION (bit offsets), or the entries of a DATASEC (byte offsets)} */
    List<Member> members(int id) {
        int kind = kind(id);
        long base = record(id) + TYPE_SIZE;
        int n = vlen(id);
        List<Member> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long at = base + 12L * i;
            if (kind == DATASEC) {
                out.add(new Member("", s32(data, at), u32(data, at + 4), u32(data, at + 8)));
            } else {
                out.add(new Member(string(u32(data, at)), s32(data, at + 4), u32(data, at + 8), 0));
            }
        }
        return out;
    }

    /** {@return the id of the DATASEC named {@code name}, or 0} */
    int datasec(String name) {
        for (int id = 1; id <= count; id++) {
            if (kind(id) == DATASEC && name(id).equals(name)) {
                return id;
            }
        }
        return 0;
    }

    /** {@return a description of type {@code id} for messages: "type 7 (typedef 'key_t')"} */
    String describe(int id) {
        if (id <= 0 || id > count) {
            return "type " + id;
        }
        String n = name(id);
        return "type " + id + " (" + kindName(kind(id)) + (n.isEmpty() ? "" : " '" + n + "'") + ")";
    }

    /** {@return {@code id} with typedefs and const/volatile/restrict/type_tag modifiers skipped} */
    int skipModifiers(int id) {
        int cur = id;
        for (int depth = 0; depth <= MAX_DEPTH; depth++) {
            if (cur == 0) {
                return 0;
            }
            switch (kind(cur)) {
                case TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG -> cur = referenced(cur);
                default -> {
                    return cur;
                }
            }
        }
        throw fail(record(id), "type " + id + ": more than " + MAX_DEPTH
                + " typedefs and modifiers in a row (cyclic BTF?)");
    }

    /**
     * {@return the size in bytes of type {@code id}}, as libbpf's btf__resolve_size computes it:
     * through typedefs and modifiers, array length times element size, pointers 8 bytes. Members
     * of structs and unions are resolved too, though their size is explicit, so that a struct
     * that contains itself by value is refused rather than trusted.
     *
     * @throws ElfException for void, functions, forward declarations, cycles, depth beyond
     *                      {@link #MAX_DEPTH}, or a size above 2^32 - 1
     */
    long size(int id) {
        return size(id, 0);
    }

    private long size(int id, int depth) {
        if (id == 0) {
            throw fail(typeStart, "void has no size");
        }
        long at = record(id);
        if (sizes[id] >= 0) {
            return sizes[id];
        }
        if (resolving[id]) {
            throw fail(at, describe(id) + " contains itself (cyclic BTF)");
        }
        if (depth >= MAX_DEPTH) {
            throw fail(at, describe(id) + " is nested more than " + MAX_DEPTH + " levels deep");
        }
        resolving[id] = true;
        long result;
        try {
            result = switch (kind(id)) {
                case INT, ENUM, ENUM64, FLOAT, DATASEC -> sizeField(id);
                case PTR -> 8;
                case STRUCT, UNION -> {
                    for (Member m : members(id)) {
                        size(m.type(), depth + 1);
                    }
                    yield sizeField(id);
                }
                case TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG, VAR -> size(referenced(id), depth + 1);
                case ARRAY -> {
                    long element = size(arrayElement(id), depth + 1);
                    long n = arrayLength(id);
                    if (element != 0 && n > 0xffff_ffffL / element) {
                        throw fail(at, describe(id) + ": " + n + " elements of " + element
                                + " bytes exceed 2^32 - 1 bytes");
                    }
                    yield element * n;
                }
                default -> throw fail(at, describe(id) + " has no size");
            };
        } finally {
            resolving[id] = false;
        }
        sizes[id] = result;
        return result;
    }
}
