package dev.prism.sys;

import dev.prism.error.TargetException;
import dev.prism.runtime.Kfuncs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The running kernel's BTF ids of the kfuncs Prism implements, read by name from
 * {@code /sys/kernel/btf/vmlinux} (the BTF format of Documentation/bpf/btf.rst: a header,
 * then types numbered from 1, each 12 bytes plus what its kind appends, then strings). Programs
 * call a kfunc with Prism's number ({@link Kfuncs}); before BPF_PROG_LOAD, {@link #resolveKfuncs}
 * puts the kernel's id in its place, as libbpf does with the program's extern symbols.
 */
public final class KernelBtf {
    private KernelBtf() {
    }

    private static final Path VMLINUX = Path.of("/sys/kernel/btf/vmlinux");
    private static final int KIND_FUNC = 12;
    private static Map<String, Integer> ids;

    /** {@return the instructions with every {@code call btf} of a Prism kfunc given the kernel's BTF id} */
    public static byte[] resolveKfuncs(byte[] insns) {
        byte[] out = null;
        for (int at = 0; at + 8 <= insns.length; at += 8) {
            if ((insns[at] & 0xff) != 0x85 || (insns[at + 1] & 0xf0) != 0x20) {
                continue;
            }
            int imm = ByteBuffer.wrap(insns, at + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            var k = Kfuncs.byId(imm);
            if (k.isEmpty()) {
                continue;
            }
            Integer id = kfuncIds().get(k.get().name());
            if (id == null) {
                throw new TargetException("the running kernel's BTF has no function " + k.get().name());
            }
            if (out == null) {
                out = insns.clone();
            }
            ByteBuffer.wrap(out, at + 4, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(id);
            out[at + 2] = 0; // off = 0: the id is in vmlinux's BTF
            out[at + 3] = 0;
        }
        return out == null ? insns : out;
    }

    /** {@return the vmlinux BTF ids of the kfuncs, by name} (read once) */
    static synchronized Map<String, Integer> kfuncIds() {
        if (ids == null) {
            try {
                ids = funcIds(Files.readAllBytes(VMLINUX));
            } catch (IOException e) {
                throw new TargetException("cannot read " + VMLINUX + " for the kernel's kfunc ids: " + e.getMessage(), e);
            }
        }
        return ids;
    }

    /** {@return the ids of the FUNC types named as Prism's kfuncs in a BTF blob} */
    static Map<String, Integer> funcIds(byte[] btf) {
        ByteBuffer b = ByteBuffer.wrap(btf).order(ByteOrder.LITTLE_ENDIAN);
        if ((b.getShort(0) & 0xffff) != 0xeb9f) {
            throw new TargetException("not BTF: magic 0x" + Integer.toHexString(b.getShort(0) & 0xffff));
        }
        int hdrLen = b.getInt(4);
        int typeOff = hdrLen + b.getInt(8);
        int typeLen = b.getInt(12);
        int strOff = hdrLen + b.getInt(16);
        Map<String, Integer> wanted = new HashMap<>();
        Kfuncs.all().forEach(k -> wanted.put(k.name(), -1));
        Map<String, Integer> found = new HashMap<>();
        int id = 1;
        for (int p = typeOff; p < typeOff + typeLen; id++) {
            int nameOff = b.getInt(p);
            int info = b.getInt(p + 4);
            int vlen = info & 0xffff;
            int kind = (info >>> 24) & 0x1f;
            if (kind == KIND_FUNC) {
                String name = cstring(btf, strOff + nameOff);
                if (wanted.containsKey(name)) {
                    found.put(name, id);
                }
            }
            p += 12 + switch (kind) {
                case 1, 14, 17 -> 4;              // INT, VAR, DECL_TAG
                case 3 -> 12;                     // ARRAY
                case 4, 5, 15, 19 -> 12 * vlen;   // STRUCT, UNION, DATASEC, ENUM64
                case 6, 13 -> 8 * vlen;           // ENUM, FUNC_PROTO
                default -> 0;                     // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
            };
        }
        return found;
    }

    private static String cstring(byte[] b, int at) {
        int end = at;
        while (end < b.length && b[end] != 0) {
            end++;
        }
        return new String(b, at, end - at, StandardCharsets.US_ASCII);
    }
}
