package dev.prism.sys;

import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.isa.LoadImm64Kind;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.TreeSet;
import java.util.function.IntFunction;

/**
 * The smallest BTF the kernel accepts as a program's function information, made from the
 * instructions alone: one {@code FUNC} per subprogram. Linux verifies bpf_loop callbacks (and
 * other code addresses, {@code lddw src=4}) only with func_info ("missing btf func_info"); libbpf
 * passes the object's own BTF, which needs its DATASEC fix-ups first, so Prism describes the
 * functions itself instead:
 * <pre>
 *   [1] INT  'long' 8 bytes, signed
 *   [2] FUNC_PROTO  long (long a1, long a2, long a3, long a4, long a5)
 *   [3..] FUNC 'name' -> [2]       linkage global for the entry, static for the others
 * </pre>
 * Static functions are verified with the caller's argument registers, so the prototype's
 * argument types do not matter to the verifier (include/uapi/linux/btf.h for the encoding).
 *
 * @param btf      the BTF blob for BPF_BTF_LOAD
 * @param funcInfo {@code struct bpf_func_info[]}: (insn_off, type_id) per subprogram
 * @param count    the number of subprograms
 */
public record FuncInfoBtf(byte[] btf, byte[] funcInfo, int count) {
    private static final int BTF_MAGIC = 0xeB9F;
    private static final int KIND_INT = 1;
    private static final int KIND_FUNC = 12;
    private static final int KIND_FUNC_PROTO = 13;
    private static final int INT_SIGNED = 1;
    private static final int FUNC_STATIC = 0;
    private static final int FUNC_GLOBAL = 1;
    /** sizeof(struct bpf_func_info). */
    public static final int REC_SIZE = 8;

    /**
     * {@return whether Linux requires func_info: the program takes code addresses, or mixes
     * BPF-to-BPF calls with tail calls}
     */
    public static boolean needed(Insn[] slots) {
        boolean localCalls = false;
        boolean tailCalls = false;
        for (Insn insn : slots) {
            if (insn instanceof Insn.LoadImm64 l && l.kind() == LoadImm64Kind.CODE_ADDR) {
                return true;
            }
            localCalls |= insn instanceof Insn.Call c && c.kind() == CallKind.LOCAL;
            tailCalls |= insn instanceof Insn.Call c && c.kind() == CallKind.HELPER && c.imm() == 12;
        }
        // "tail_call is not allowed in subprogs without BTF"
        return localCalls && tailCalls;
    }

    /**
     * {@return the subprogram starts as the kernel finds them: slot 0 and every target of a
     * local call or a code address, reachable or not (add_subprog_and_kfunc)}
     */
    public static List<Integer> subprograms(Insn[] slots) {
        TreeSet<Integer> starts = new TreeSet<>();
        starts.add(0);
        for (int pc = 0; pc < slots.length; pc++) {
            switch (slots[pc]) {
                case Insn.Call c when c.kind() == CallKind.LOCAL -> starts.add(pc + 1 + c.imm());
                case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR -> starts.add(pc + 1 + l.imm());
                case null, default -> {
                }
            }
        }
        return List.copyOf(starts);
    }

    /** {@return the BTF and func_info for {@code slots}; {@code name} names the function at a slot} */
    public static FuncInfoBtf of(Insn[] slots, IntFunction<String> name) {
        List<Integer> starts = subprograms(slots);
        ByteArrayOutputStream strings = new ByteArrayOutputStream();
        strings.write(0);
        int longName = addString(strings, "long");
        int[] argNames = new int[5];
        for (int i = 0; i < 5; i++) {
            argNames[i] = addString(strings, "a" + (i + 1)); // a FUNC's parameters must be named (btf_func_check)
        }
        ByteBuffer types = ByteBuffer.allocate(16 + 12 + 5 * 8 + 12 * starts.size()).order(ByteOrder.LITTLE_ENDIAN);
        // [1] INT long: name, info = kind << 24, size; then encoding << 24 | offset << 16 | bits
        types.putInt(longName).putInt(KIND_INT << 24).putInt(8).putInt(INT_SIGNED << 24 | 64);
        // [2] FUNC_PROTO: no name, info = kind << 24 | vlen, return type; then vlen params {name, type}
        types.putInt(0).putInt(KIND_FUNC_PROTO << 24 | 5).putInt(1);
        for (int i = 0; i < 5; i++) {
            types.putInt(argNames[i]).putInt(1);
        }
        ByteBuffer info = ByteBuffer.allocate(REC_SIZE * starts.size()).order(ByteOrder.LITTLE_ENDIAN);
        int typeId = 3;
        for (int start : starts) {
            String n = sanitize(name.apply(start), start);
            types.putInt(addString(strings, n)).putInt(KIND_FUNC << 24 | (start == 0 ? FUNC_GLOBAL : FUNC_STATIC)).putInt(2);
            info.putInt(start).putInt(typeId++);
        }
        byte[] t = types.array();
        byte[] s = strings.toByteArray();
        ByteBuffer blob = ByteBuffer.allocate(24 + t.length + s.length).order(ByteOrder.LITTLE_ENDIAN);
        blob.putShort((short) BTF_MAGIC).put((byte) 1).put((byte) 0).putInt(24) // magic, version, flags, hdr_len
                .putInt(0).putInt(t.length).putInt(t.length).putInt(s.length)    // type_off, type_len, str_off, str_len
                .put(t).put(s);
        return new FuncInfoBtf(blob.array(), info.array(), starts.size());
    }

    /** BTF function names must be C identifiers. */
    private static String sanitize(String n, int start) {
        if (n == null || !n.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            return "f" + start;
        }
        return n;
    }

    private static int addString(ByteArrayOutputStream strings, String s) {
        int off = strings.size();
        strings.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
        strings.write(0);
        return off;
    }
}
