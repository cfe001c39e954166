package dev.prism.gpu;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import java.util.List;

/**
 * The PTX functions the kernels of {@link PtxC} call: the same helpers and map operations as
 * {@link DeviceRuntime}'s OpenCL C, over the same arena and map layouts ({@link DeviceLayout}),
 * so that {@link DeviceMaps} serves both targets. Every function takes and returns {@code .b64}
 * ({@code .func (.param .b64 rv) name (.param .b64 p0, ...)}); addresses are arena offsets, the
 * arena's device pointer is the first parameter.
 *
 * <p><b>Atomics and memory ordering.</b> A hash slot's state (the u32 before its u32 reference
 * bit, used by LRU_HASH) is claimed empty (or, in an LRU map, deleted) to "being written" with
 * {@code atom.global.cas.b32}, the key and value written, then {@code fence.acq_rel.gpu} and {@code atom.global.exch.b32} publish it as
 * full (2); readers read the state with {@code atom.global.or.b32 [s], 0} and fence before
 * reading the key; a reader that finds a slot being written spins (sm_70+ schedules diverged
 * threads of a warp independently, so the writer finishes). The live count is a u32 changed
 * with {@code atom.global.add.u32}: PTX has no {@code atom.sub}, so a decrement adds
 * 0xffffffff. The host reads maps only after {@code cuCtxSynchronize}, which orders everything.
 */
final class PtxRuntime {
    private final StringBuilder out = new StringBuilder();
    private final DeviceLayout layout;

    private PtxRuntime(DeviceLayout layout) {
        this.layout = layout;
    }

    /** {@return the declarations and bodies of every runtime function for {@code layout}} */
    static String source(DeviceLayout layout) {
        PtxRuntime r = new PtxRuntime(layout);
        r.emit();
        return r.out.toString();
    }

    /** The names and arities of the functions, declared before the kernel so that it may call them. */
    private static final String[][] FUNCS = {
        {"ld32", "M", "a"},
        {"copy_bytes", "M", "to", "from", "n"},
        {"hkey", "M", "k", "ks"},
        {"keq", "M", "x", "y", "ks"},
        {"slot_state", "M", "s"},
        {"hash_find", "M", "m", "ks", "slot", "mask", "key"},
        {"hash_update", "M", "m", "ks", "vs", "slot", "mask", "max", "key", "val", "flags", "lru"},
        {"lru_evict", "M", "m", "slot", "mask"},
        {"hash_delete", "M", "m", "ks", "slot", "mask", "key"},
        {"lpm_lookup", "M", "m", "dlen", "slot", "key"},
        {"csum_diff", "M", "from", "fs", "to", "ts", "seed"},
        {"xdp_adjust_head", "M", "ctx", "d"},
        {"xdp_adjust_meta", "M", "ctx", "d"},
        {"xdp_adjust_tail", "M", "ctx", "d"},
        {"rb_reserve", "M", "m", "size", "flags"},
        {"rb_commit", "M", "rec", "discard"},
        {"rb_output", "M", "m", "data", "size", "flags"},
        {"map_lookup", "M", "m", "key"},
        {"map_update", "M", "m", "key", "val", "flags"},
        {"map_delete", "M", "m", "key"},
        {"prog_slot", "M", "m", "i"},
    };

    /** {@return the prototype of a function with {@code params}} */
    static String prototype(String name, List<String> params) {
        StringBuilder b = new StringBuilder(".func (.param .b64 rv) ").append(name).append(" (");
        for (int i = 0; i < params.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(".param .b64 ").append(params.get(i));
        }
        return b.append(")").toString();
    }

    /**
     * {@return the lines that call {@code fn} with {@code args} (registers or immediates) and put
     * its result in {@code result}}: each argument goes through {@code %ca<i>} into a call-scoped
     * {@code .param}
     */
    static String call(String result, String fn, String... args) {
        StringBuilder b = new StringBuilder("\t{\n");
        for (int i = 0; i < args.length; i++) {
            b.append("\t.param .b64 c").append(i).append(";\n");
        }
        b.append("\t.param .b64 cr;\n");
        for (int i = 0; i < args.length; i++) {
            b.append("\tmov.b64 %ca").append(i).append(", ").append(args[i]).append(";\n");
            b.append("\tst.param.b64 [c").append(i).append("], %ca").append(i).append(";\n");
        }
        b.append("\tcall.uni (cr), ").append(fn).append(", (");
        for (int i = 0; i < args.length; i++) {
            b.append(i == 0 ? "" : ", ").append("c").append(i);
        }
        b.append(");\n");
        b.append("\tld.param.b64 ").append(result).append(", [cr];\n");
        return b.append("\t}\n").toString();
    }

    private void l(String s) {
        out.append('\t').append(s).append('\n');
    }

    private void label(String s) {
        out.append(s).append(":\n");
    }

    private void c(String result, String fn, String... args) {
        out.append(call(result, fn, args));
    }

    /** Opens a function: its parameters loaded into %a0.. in order, registers %a<40>, %b<12>, %q<6>. */
    private void open(String name) {
        for (String[] f : FUNCS) {
            if (f[0].equals(name)) {
                out.append(prototype(name, List.of(f).subList(1, f.length))).append("\n{\n");
                l(".reg .b64 %a<40>;");
                l(".reg .b32 %b<12>;");
                l(".reg .pred %q<6>;");
                l(".reg .b64 %ca<12>;");
                for (int i = 1; i < f.length; i++) {
                    l("ld.param.b64 %a" + (i - 1) + ", [" + f[i] + "];");
                }
                return;
            }
        }
        throw new IllegalStateException("no runtime function " + name);
    }

    /** Returns {@code value} (a register or an immediate) from the function. */
    private void ret(String value) {
        l("mov.b64 %a39, " + value + ";");
        l("st.param.b64 [rv], %a39;");
        l("ret;");
    }

    private void close() {
        out.append("}\n\n");
    }

    private void emit() {
        for (String[] f : FUNCS) {
            out.append(prototype(f[0], List.of(f).subList(1, f.length))).append(";\n");
        }
        out.append('\n');
        ld32();
        copyBytes();
        hkey();
        keq();
        slotState();
        hashFind();
        lruEvict();
        hashUpdate();
        hashDelete();
        lpmLookup();
        csumDiff();
        adjustHead();
        adjustMeta();
        adjustTail();
        rbReserve();
        rbCommit();
        rbOutput();
        mapLookup();
        mapUpdate();
        mapDelete();
        progSlot();
    }

    /** prog_slot(M, m, i): slot i (a u32) of the prog_array at m: the program's index + 1, or 0 when empty or out of range. */
    private void progSlot() {
        open("prog_slot");
        l("and.b64 %a2, %a2, 0xffffffff;");
        List<MapDef> maps = layout.maps();
        for (int i = 0; i < maps.size(); i++) {
            MapDef d = maps.get(i);
            if (d.type() != MapType.PROG_ARRAY) {
                continue;
            }
            l("setp.ne.u64 %q0, %a1, " + layout.mapOffset(i) + ";");
            l("@%q0 bra NOT" + i + ";");
            l("setp.ge.u64 %q1, %a2, " + d.maxEntries() + ";");
            l("@%q1 bra NONE;");
            l("mad.lo.u64 %a3, %a2, 4, %a1;");
            l("add.u64 %a3, %a3, %a0;");
            l("ld.global.u32 %b0, [%a3];");
            l("cvt.u64.u32 %a4, %b0;");
            ret("%a4");
            label("NOT" + i);
        }
        label("NONE");
        ret("0");
        close();
    }

    /** ld32(M, a): the u32 at arena offset a, byte by byte (any alignment), little-endian. */
    private void ld32() {
        open("ld32");
        l("add.u64 %a2, %a0, %a1;");
        l("ld.global.u8 %b0, [%a2];");
        l("ld.global.u8 %b1, [%a2+1];");
        l("ld.global.u8 %b2, [%a2+2];");
        l("ld.global.u8 %b3, [%a2+3];");
        l("shl.b32 %b1, %b1, 8;");
        l("shl.b32 %b2, %b2, 16;");
        l("shl.b32 %b3, %b3, 24;");
        l("or.b32 %b0, %b0, %b1;");
        l("or.b32 %b0, %b0, %b2;");
        l("or.b32 %b0, %b0, %b3;");
        l("cvt.u64.u32 %a3, %b0;");
        ret("%a3");
        close();
    }

    /** copy_bytes(M, to, from, n): n bytes, ascending. */
    private void copyBytes() {
        open("copy_bytes");
        l("add.u64 %a1, %a0, %a1;");
        l("add.u64 %a2, %a0, %a2;");
        l("mov.b64 %a4, 0;");
        label("LOOP");
        l("setp.ge.u64 %q0, %a4, %a3;");
        l("@%q0 bra DONE;");
        l("add.u64 %a5, %a2, %a4;");
        l("ld.global.u8 %b0, [%a5];");
        l("add.u64 %a5, %a1, %a4;");
        l("st.global.u8 [%a5], %b0;");
        l("add.u64 %a4, %a4, 1;");
        l("bra LOOP;");
        label("DONE");
        ret("0");
        close();
    }

    /** hkey(M, k, ks): FNV-1a over the ks key bytes at k (DeviceMaps.hash). */
    private void hkey() {
        open("hkey");
        l("add.u64 %a1, %a0, %a1;");
        l("mov.b32 %b0, 0x811c9dc5;");
        l("mov.b64 %a4, 0;");
        label("LOOP");
        l("setp.ge.u64 %q0, %a4, %a2;");
        l("@%q0 bra DONE;");
        l("add.u64 %a5, %a1, %a4;");
        l("ld.global.u8 %b1, [%a5];");
        l("xor.b32 %b0, %b0, %b1;");
        l("mul.lo.u32 %b0, %b0, 16777619;");
        l("add.u64 %a4, %a4, 1;");
        l("bra LOOP;");
        label("DONE");
        l("cvt.u64.u32 %a6, %b0;");
        ret("%a6");
        close();
    }

    /** keq(M, x, y, ks): 1 when the ks bytes at x and y are equal, else 0. */
    private void keq() {
        open("keq");
        l("add.u64 %a1, %a0, %a1;");
        l("add.u64 %a2, %a0, %a2;");
        l("mov.b64 %a4, 0;");
        label("LOOP");
        l("setp.ge.u64 %q0, %a4, %a3;");
        l("@%q0 bra SAME;");
        l("add.u64 %a5, %a1, %a4;");
        l("ld.global.u8 %b0, [%a5];");
        l("add.u64 %a5, %a2, %a4;");
        l("ld.global.u8 %b1, [%a5];");
        l("setp.ne.u32 %q1, %b0, %b1;");
        l("@%q1 bra DIFF;");
        l("add.u64 %a4, %a4, 1;");
        l("bra LOOP;");
        label("SAME");
        ret("1");
        label("DIFF");
        ret("0");
        close();
    }

    /** slot_state(M, s): the slot's state read atomically, waiting while it is 1 (being written), then an acquire fence. */
    private void slotState() {
        open("slot_state");
        l("add.u64 %a2, %a0, %a1;");
        label("WAIT");
        l("atom.global.or.b32 %b0, [%a2], 0;");
        l("setp.eq.u32 %q0, %b0, 1;");
        l("@%q0 bra WAIT;");
        l("fence.acq_rel.gpu;");
        l("cvt.u64.u32 %a3, %b0;");
        ret("%a3");
        close();
    }

    /** hash_find(M, m, ks, slot, mask, key): the offset of the full slot holding key, or 0. */
    private void hashFind() {
        open("hash_find");
        c("%a6", "hkey", "%a0", "%a5", "%a2");
        l("and.b64 %a6, %a6, %a4;");
        l("mov.b64 %a7, 0;");
        label("LOOP");
        l("setp.gt.u64 %q0, %a7, %a4;");
        l("@%q0 bra MISS;");
        l("mad.lo.u64 %a8, %a6, %a3, %a1;");
        l("add.u64 %a8, %a8, 8;");
        c("%a9", "slot_state", "%a0", "%a8");
        l("setp.eq.u64 %q1, %a9, 0;");
        l("@%q1 bra MISS;");
        l("setp.ne.u64 %q1, %a9, 2;");
        l("@%q1 bra NEXT;");
        l("add.u64 %a10, %a8, 8;");
        c("%a11", "keq", "%a0", "%a10", "%a5", "%a2");
        l("setp.ne.u64 %q1, %a11, 0;");
        l("@%q1 bra HIT;");
        label("NEXT");
        l("add.u64 %a7, %a7, 1;");
        l("add.u64 %a6, %a6, 1;");
        l("and.b64 %a6, %a6, %a4;");
        l("bra LOOP;");
        label("HIT");
        ret("%a8");
        label("MISS");
        ret("0");
        close();
    }

    /**
     * lru_evict(M, m, slot, mask): the clock hand (the header's second u32) moves over the
     * slots; a full slot with its reference bit set loses it, the first without is deleted (state
     * 2 to 3 by CAS) and the count goes down; at most two rounds.
     */
    private void lruEvict() {
        open("lru_evict");
        l("add.u64 %a4, %a0, %a1;");
        l("mov.b64 %a5, 0;");
        l("add.u64 %a6, %a3, %a3;");
        l("add.u64 %a6, %a6, 1;");
        label("LOOP");
        l("setp.gt.u64 %q0, %a5, %a6;");
        l("@%q0 bra DONE;");
        l("add.u64 %a5, %a5, 1;");
        l("atom.global.add.u32 %b0, [%a4+4], 1;");
        l("cvt.u64.u32 %a7, %b0;");
        l("and.b64 %a7, %a7, %a3;");
        l("mad.lo.u64 %a8, %a7, %a2, %a1;");
        l("add.u64 %a8, %a8, 8;");
        l("add.u64 %a9, %a0, %a8;");
        l("atom.global.or.b32 %b1, [%a9], 0;");
        l("setp.ne.u32 %q1, %b1, 2;");
        l("@%q1 bra LOOP;");
        l("mov.b32 %b3, 0;");
        l("atom.global.exch.b32 %b2, [%a9+4], %b3;");
        l("setp.ne.u32 %q1, %b2, 0;");
        l("@%q1 bra LOOP;");
        l("atom.global.cas.b32 %b4, [%a9], 2, 3;");
        l("setp.ne.u32 %q1, %b4, 2;");
        l("@%q1 bra LOOP;");
        l("atom.global.add.u32 %b5, [%a4], 0xffffffff;");
        label("DONE");
        ret("0");
        close();
    }

    /**
     * hash_update(M, m, ks, vs, slot, mask, max, key, val, flags, lru): BPF_ANY (0), BPF_NOEXIST
     * (1) or BPF_EXIST (2); 0, -EINVAL, -EEXIST, -ENOENT or -E2BIG as Linux answers. With lru
     * (LRU_HASH): the key's chain is searched first (an update sets the reference bit), an insert
     * may take a deleted slot, and a full map evicts instead of answering -E2BIG.
     */
    private void hashUpdate() {
        open("hash_update");
        // %a0 M, %a1 m, %a2 ks, %a3 vs, %a4 slot, %a5 mask, %a6 max, %a7 key, %a8 val, %a9 flags, %a10 lru
        l("setp.ne.u64 %q5, %a10, 0;"); // lru, for the whole function
        l("setp.gt.u64 %q0, %a9, 2;");
        l("@%q0 bra EINVAL;");
        l("add.u64 %a10, %a2, 7;");
        l("and.b64 %a10, %a10, 0xfffffffffffffff8U;");
        l("add.u64 %a10, %a10, 8;"); // value offset in a slot
        l("add.u64 %a18, %a0, %a1;"); // the live count's address
        l("@!%q5 bra PROBE;");
        c("%a20", "hash_find", "%a0", "%a1", "%a2", "%a4", "%a5", "%a7");
        l("setp.eq.u64 %q0, %a20, 0;");
        l("@%q0 bra ABSENT;");
        l("setp.eq.u64 %q0, %a9, 1;");
        l("@%q0 bra EEXIST;");
        l("add.u64 %a15, %a20, %a10;");
        c("%a16", "copy_bytes", "%a0", "%a15", "%a8", "%a3");
        l("add.u64 %a21, %a0, %a20;");
        l("mov.b32 %b3, 1;");
        l("atom.global.exch.b32 %b2, [%a21+4], %b3;");
        ret("0");
        label("ABSENT");
        l("setp.eq.u64 %q0, %a9, 2;");
        l("@%q0 bra ENOENT;");
        label("PROBE");
        c("%a11", "hkey", "%a0", "%a7", "%a2");
        l("and.b64 %a11, %a11, %a5;"); // i
        l("mov.b64 %a12, 0;"); // probes
        label("LOOP");
        l("setp.gt.u64 %q0, %a12, %a5;");
        l("@%q0 bra E2BIG;");
        l("mad.lo.u64 %a13, %a11, %a4, %a1;");
        l("add.u64 %a13, %a13, 8;"); // s
        l("add.u64 %a17, %a0, %a13;");
        c("%a14", "slot_state", "%a0", "%a13");
        l("setp.ne.u64 %q0, %a14, 2;");
        l("@%q0 bra NOTFULL;");
        l("add.u64 %a15, %a13, 8;");
        c("%a16", "keq", "%a0", "%a15", "%a7", "%a2");
        l("setp.eq.u64 %q0, %a16, 0;");
        l("@%q0 bra NEXT;");
        l("setp.eq.u64 %q0, %a9, 1;");
        l("@%q0 bra EEXIST;");
        l("add.u64 %a15, %a13, %a10;");
        c("%a16", "copy_bytes", "%a0", "%a15", "%a8", "%a3");
        l("mov.b32 %b3, 1;");
        l("@%q5 atom.global.exch.b32 %b2, [%a17+4], %b3;");
        ret("0");
        label("NOTFULL");
        l("setp.eq.u64 %q0, %a14, 0;");
        l("@%q0 bra FREE;");
        l("setp.eq.u64 %q0, %a14, 3;");
        l("and.pred %q0, %q0, %q5;");
        l("@!%q0 bra NEXT;");
        label("FREE");
        l("setp.eq.u64 %q0, %a9, 2;");
        l("@%q0 bra ENOENT;");
        l("atom.global.add.u32 %b0, [%a18], 1;");
        l("cvt.u64.u32 %a16, %b0;");
        l("setp.ge.u64 %q0, %a16, %a6;");
        l("@%q0 bra FULL;");
        // claim the slot: its state from what was read (0 empty, 3 deleted) to 1, being written
        l("cvt.u32.u64 %b4, %a14;");
        l("mov.b32 %b5, 1;");
        l("atom.global.cas.b32 %b6, [%a17], %b4, %b5;");
        l("setp.ne.u32 %q0, %b6, %b4;");
        l("@%q0 bra LOST;");
        l("mov.b32 %b3, 0;");
        l("st.global.u32 [%a17+4], %b3;");
        l("add.u64 %a15, %a13, 8;");
        c("%a16", "copy_bytes", "%a0", "%a15", "%a7", "%a2");
        l("add.u64 %a15, %a13, %a10;");
        c("%a16", "copy_bytes", "%a0", "%a15", "%a8", "%a3");
        l("fence.acq_rel.gpu;");
        l("atom.global.exch.b32 %b1, [%a17], 2;");
        ret("0");
        label("LOST");
        // another thread claimed this slot first: give the count back (no atom.sub: add -1) and look at the slot again
        l("atom.global.add.u32 %b0, [%a18], 0xffffffff;");
        l("bra LOOP;");
        label("FULL");
        l("atom.global.add.u32 %b0, [%a18], 0xffffffff;");
        l("@!%q5 bra E2BIG;");
        c("%a16", "lru_evict", "%a0", "%a1", "%a4", "%a5");
        l("bra LOOP;");
        label("NEXT");
        l("add.u64 %a12, %a12, 1;");
        l("add.u64 %a11, %a11, 1;");
        l("and.b64 %a11, %a11, %a5;");
        l("bra LOOP;");
        label("EINVAL");
        ret("-22");
        label("EEXIST");
        ret("-17");
        label("ENOENT");
        ret("-2");
        label("E2BIG");
        ret("-7");
        close();
    }

    /** hash_delete(M, m, ks, slot, mask, key): full to deleted (3) with a CAS, the count decremented; 0 or -ENOENT. */
    private void hashDelete() {
        open("hash_delete");
        c("%a6", "hash_find", "%a0", "%a1", "%a2", "%a3", "%a4", "%a5");
        l("setp.eq.u64 %q0, %a6, 0;");
        l("@%q0 bra ENOENT;");
        l("add.u64 %a7, %a0, %a6;");
        l("atom.global.cas.b32 %b1, [%a7], 2, 3;");
        l("setp.ne.u32 %q0, %b1, 2;");
        l("@%q0 bra ENOENT;");
        l("add.u64 %a9, %a0, %a1;");
        l("atom.global.add.u32 %b0, [%a9], 0xffffffff;");
        ret("0");
        label("ENOENT");
        ret("-2");
        close();
    }

    /**
     * lpm_lookup(M, m, dlen, slot, key): the value of the first entry (longest prefix first, as
     * DeviceMaps writes them) whose prefix covers the key's, or 0.
     */
    private void lpmLookup() {
        open("lpm_lookup");
        // %a0 M, %a1 m, %a2 dlen, %a3 slot, %a4 key
        c("%a5", "ld32", "%a0", "%a1"); // entries
        c("%a6", "ld32", "%a0", "%a4"); // the key's prefix length
        l("shl.b64 %a7, %a2, 3;");
        l("setp.gt.u64 %q0, %a6, %a7;");
        l("@%q0 bra MISS;");
        l("add.u64 %a20, %a0, %a4;");
        l("add.u64 %a20, %a20, 4;"); // the key's data
        l("mov.b64 %a8, 0;"); // e
        label("ENTRY");
        l("setp.ge.u64 %q0, %a8, %a5;");
        l("@%q0 bra MISS;");
        l("mad.lo.u64 %a9, %a8, %a3, %a1;");
        l("add.u64 %a9, %a9, 8;"); // s
        c("%a10", "ld32", "%a0", "%a9"); // p
        l("setp.gt.u64 %q0, %a10, %a6;");
        l("@%q0 bra NEXT;");
        l("add.u64 %a21, %a0, %a9;");
        l("add.u64 %a21, %a21, 8;"); // the entry's data
        l("shr.u64 %a11, %a10, 3;"); // whole bytes
        l("mov.b64 %a12, 0;");
        label("BYTE");
        l("setp.ge.u64 %q0, %a12, %a11;");
        l("@%q0 bra TAIL;");
        l("add.u64 %a13, %a21, %a12;");
        l("ld.global.u8 %b0, [%a13];");
        l("add.u64 %a13, %a20, %a12;");
        l("ld.global.u8 %b1, [%a13];");
        l("setp.ne.u32 %q1, %b0, %b1;");
        l("@%q1 bra NEXT;");
        l("add.u64 %a12, %a12, 1;");
        l("bra BYTE;");
        label("TAIL");
        l("and.b64 %a14, %a10, 7;");
        l("setp.eq.u64 %q0, %a14, 0;");
        l("@%q0 bra HIT;");
        l("cvt.u32.u64 %b2, %a14;");
        l("mov.b32 %b3, 0xff00;");
        l("shr.u32 %b3, %b3, %b2;");
        l("and.b32 %b3, %b3, 0xff;");
        l("add.u64 %a13, %a21, %a11;");
        l("ld.global.u8 %b0, [%a13];");
        l("add.u64 %a13, %a20, %a11;");
        l("ld.global.u8 %b1, [%a13];");
        l("and.b32 %b0, %b0, %b3;");
        l("and.b32 %b1, %b1, %b3;");
        l("setp.ne.u32 %q1, %b0, %b1;");
        l("@%q1 bra NEXT;");
        label("HIT");
        l("add.u64 %a15, %a2, 7;");
        l("and.b64 %a15, %a15, 0xfffffffffffffff8U;");
        l("add.u64 %a15, %a15, %a9;");
        l("add.u64 %a15, %a15, 8;");
        ret("%a15");
        label("NEXT");
        l("add.u64 %a8, %a8, 1;");
        l("bra ENTRY;");
        label("MISS");
        ret("0");
        close();
    }

    /** csum_diff(M, from, fs, to, ts, seed): as Linux, sizes multiples of 4 summing to at most 512, else -EINVAL. */
    private void csumDiff() {
        open("csum_diff");
        // %a0 M, %a1 from, %a2 fs, %a3 to, %a4 ts, %a5 seed
        l("and.b64 %a2, %a2, 0xffffffff;");
        l("and.b64 %a4, %a4, 0xffffffff;");
        l("or.b64 %a6, %a2, %a4;");
        l("and.b64 %a6, %a6, 3;");
        l("setp.ne.u64 %q0, %a6, 0;");
        l("@%q0 bra EINVAL;");
        l("add.u64 %a6, %a2, %a4;");
        l("setp.gt.u64 %q0, %a6, 512;");
        l("@%q0 bra EINVAL;");
        l("and.b64 %a7, %a5, 0xffffffff;"); // sum
        l("mov.b64 %a8, 0;");
        label("FROM");
        l("setp.ge.u64 %q0, %a8, %a2;");
        l("@%q0 bra TO0;");
        l("add.u64 %a9, %a1, %a8;");
        c("%a10", "ld32", "%a0", "%a9");
        l("not.b64 %a10, %a10;");
        l("and.b64 %a10, %a10, 0xffffffff;");
        l("add.u64 %a7, %a7, %a10;");
        l("add.u64 %a8, %a8, 4;");
        l("bra FROM;");
        label("TO0");
        l("mov.b64 %a8, 0;");
        label("TO");
        l("setp.ge.u64 %q0, %a8, %a4;");
        l("@%q0 bra FOLD;");
        l("add.u64 %a9, %a3, %a8;");
        c("%a10", "ld32", "%a0", "%a9");
        l("add.u64 %a7, %a7, %a10;");
        l("add.u64 %a8, %a8, 4;");
        l("bra TO;");
        label("FOLD");
        l("shr.u64 %a11, %a7, 16;");
        l("setp.eq.u64 %q0, %a11, 0;");
        l("@%q0 bra DONE;");
        l("and.b64 %a7, %a7, 0xffff;");
        l("add.u64 %a7, %a7, %a11;");
        l("bra FOLD;");
        label("DONE");
        ret("%a7");
        label("EINVAL");
        ret("-22");
        close();
    }

    /** Loads the context's data (%a3), data_end (%a4) and data_meta (%a5), the frame (%a6) and delta, sign-extended (%a2). */
    private void context() {
        l("add.u64 %a10, %a0, %a1;");
        l("ld.global.u64 %a3, [%a10];");
        l("ld.global.u64 %a4, [%a10+8];");
        l("ld.global.u64 %a5, [%a10+16];");
        l("add.u64 %a6, %a1, " + layout.slotOffset() + ";");
        l("cvt.u32.u64 %b0, %a2;");
        l("cvt.s64.s32 %a2, %b0;");
    }

    /** xdp_adjust_head(M, ctx, delta): moves data (and the metadata before it) by delta, as XdpBuffer does. */
    private void adjustHead() {
        open("xdp_adjust_head");
        context();
        l("sub.s64 %a7, %a3, %a5;"); // metaLen
        l("add.s64 %a8, %a3, %a2;"); // new data
        l("add.s64 %a9, %a6, 40;");
        l("add.s64 %a9, %a9, %a7;");
        l("setp.lt.s64 %q0, %a8, %a9;");
        l("@%q0 bra EINVAL;");
        l("sub.s64 %a9, %a4, 14;");
        l("setp.gt.s64 %q0, %a8, %a9;");
        l("@%q0 bra EINVAL;");
        l("setp.le.s64 %q0, %a7, 0;");
        l("@%q0 bra STORE;");
        l("add.u64 %a11, %a0, %a5;"); // &M[meta]
        l("setp.lt.s64 %q1, %a2, 0;");
        l("@%q1 bra DOWN;");
        // delta >= 0: from the last byte down
        l("sub.s64 %a12, %a7, 1;");
        label("UPLOOP");
        l("setp.lt.s64 %q0, %a12, 0;");
        l("@%q0 bra STORE;");
        l("add.u64 %a13, %a11, %a12;");
        l("ld.global.u8 %b1, [%a13];");
        l("add.u64 %a13, %a13, %a2;");
        l("st.global.u8 [%a13], %b1;");
        l("sub.s64 %a12, %a12, 1;");
        l("bra UPLOOP;");
        label("DOWN");
        l("mov.b64 %a12, 0;");
        label("DOWNLOOP");
        l("setp.ge.s64 %q0, %a12, %a7;");
        l("@%q0 bra STORE;");
        l("add.u64 %a13, %a11, %a12;");
        l("ld.global.u8 %b1, [%a13];");
        l("add.u64 %a13, %a13, %a2;");
        l("st.global.u8 [%a13], %b1;");
        l("add.s64 %a12, %a12, 1;");
        l("bra DOWNLOOP;");
        label("STORE");
        l("st.global.u64 [%a10], %a8;");
        l("add.s64 %a5, %a5, %a2;");
        l("st.global.u64 [%a10+16], %a5;");
        ret("0");
        label("EINVAL");
        ret("-22");
        close();
    }

    /** xdp_adjust_meta(M, ctx, delta): moves data_meta by delta, 4-byte multiples up to 255 bytes of metadata. */
    private void adjustMeta() {
        open("xdp_adjust_meta");
        context();
        l("add.s64 %a8, %a5, %a2;"); // new meta
        l("add.s64 %a9, %a6, 40;");
        l("setp.lt.s64 %q0, %a8, %a9;");
        l("@%q0 bra EINVAL;");
        l("setp.gt.s64 %q0, %a8, %a3;");
        l("@%q0 bra EINVAL;");
        l("sub.s64 %a7, %a3, %a8;");
        l("and.b64 %a9, %a7, 3;");
        l("setp.ne.u64 %q0, %a9, 0;");
        l("@%q0 bra EACCES;");
        l("setp.gt.s64 %q0, %a7, 255;");
        l("@%q0 bra EACCES;");
        l("st.global.u64 [%a10+16], %a8;");
        ret("0");
        label("EINVAL");
        ret("-22");
        label("EACCES");
        ret("-13");
        close();
    }

    /** xdp_adjust_tail(M, ctx, delta): moves data_end by delta within the 4 KiB frame (less the 320-byte tailroom), zeroing grown bytes. */
    private void adjustTail() {
        open("xdp_adjust_tail");
        context();
        l("add.s64 %a8, %a4, %a2;"); // new end
        l("add.s64 %a9, %a6, " + (DeviceLayout.XDP_FRAME - 320) + ";");
        l("setp.gt.s64 %q0, %a8, %a9;");
        l("@%q0 bra EINVAL;");
        l("add.s64 %a9, %a3, 14;");
        l("setp.lt.s64 %q0, %a8, %a9;");
        l("@%q0 bra EINVAL;");
        l("add.u64 %a11, %a0, %a4;");
        l("mov.b64 %a12, 0;");
        l("mov.b32 %b1, 0;");
        label("ZERO");
        l("setp.ge.s64 %q0, %a12, %a2;");
        l("@%q0 bra STORE;");
        l("add.u64 %a13, %a11, %a12;");
        l("st.global.u8 [%a13], %b1;");
        l("add.s64 %a12, %a12, 1;");
        l("bra ZERO;");
        label("STORE");
        l("st.global.u64 [%a10+8], %a8;");
        ret("0");
        label("EINVAL");
        ret("-22");
        close();
    }

    /**
     * rb_reserve(M, m, size, flags): claims round8(size + 8) bytes of the ring at m with a CAS
     * loop on its bytes used while they fit its capacity; writes the header (size | busy);
     * {@return the payload's offset, or 0 (flags not 0, too large, no room)}
     */
    private void rbReserve() {
        open("rb_reserve");
        l("setp.ne.u64 %q0, %a3, 0;");
        l("@%q0 bra NULL;");
        l("setp.gt.u64 %q0, %a2, 0x3fffffff;");
        l("@%q0 bra NULL;");
        l("add.u64 %a4, %a2, 15;");
        l("and.b64 %a4, %a4, 0xfffffffffffffff8U;"); // need
        l("add.u64 %a5, %a0, %a1;");
        l("ld.global.u64 %a6, [%a5+8];"); // capacity
        l("mov.b64 %a12, 0;");
        l("atom.global.add.u64 %a7, [%a5], %a12;"); // bytes used
        label("CLAIM");
        l("add.u64 %a8, %a7, %a4;");
        l("setp.gt.u64 %q0, %a8, %a6;");
        l("@%q0 bra NULL;");
        l("atom.global.cas.b64 %a9, [%a5], %a7, %a8;");
        l("setp.eq.u64 %q0, %a9, %a7;");
        l("@%q0 bra GOT;");
        l("mov.b64 %a7, %a9;");
        l("bra CLAIM;");
        label("GOT");
        l("add.u64 %a10, %a1, " + DeviceLayout.RING_HEADER + ";");
        l("add.u64 %a10, %a10, %a7;");
        l("add.u64 %a11, %a0, %a10;");
        l("cvt.u32.u64 %b0, %a2;");
        l("or.b32 %b0, %b0, 0x80000000;");
        l("st.global.u32 [%a11], %b0;");
        l("mov.b32 %b1, 0;");
        l("st.global.u32 [%a11+4], %b1;");
        l("add.u64 %a10, %a10, 8;");
        ret("%a10");
        label("NULL");
        ret("0");
        close();
    }

    /** rb_commit(M, rec, discard): the record's header without busy (with discarded when asked), exchanged atomically. */
    private void rbCommit() {
        open("rb_commit");
        l("add.u64 %a3, %a0, %a1;");
        l("sub.u64 %a3, %a3, 8;");
        l("atom.global.or.b32 %b0, [%a3], 0;");
        l("and.b32 %b0, %b0, 0x3fffffff;");
        l("setp.eq.u64 %q0, %a2, 0;");
        l("@%q0 bra KEEP;");
        l("or.b32 %b0, %b0, 0x40000000;");
        label("KEEP");
        l("atom.global.exch.b32 %b1, [%a3], %b0;");
        ret("0");
        close();
    }

    /** rb_output(M, m, data, size, flags): flags beyond the two wakeup bits -EINVAL; reserve, copy, submit, or -EAGAIN. */
    private void rbOutput() {
        open("rb_output");
        l("and.b64 %a5, %a4, 0xfffffffffffffffcU;");
        l("setp.ne.u64 %q0, %a5, 0;");
        l("@%q0 bra EINVAL;");
        c("%a6", "rb_reserve", "%a0", "%a1", "%a3", "0");
        l("setp.eq.u64 %q0, %a6, 0;");
        l("@%q0 bra EAGAIN;");
        c("%a7", "copy_bytes", "%a0", "%a6", "%a2", "%a3");
        c("%a7", "rb_commit", "%a0", "%a6", "0");
        ret("0");
        label("EINVAL");
        ret("-22");
        label("EAGAIN");
        ret("-11");
        close();
    }

    /** The device CPU of per-CPU maps: the block, modulo CPUS (as opencl's work-group). */
    private void cpuOffset(long perCpuBytes) {
        l("mov.u32 %b4, %ctaid.x;");
        l("rem.u32 %b4, %b4, " + DeviceLayout.CPUS + ";");
        l("cvt.u64.u32 %a30, %b4;");
        l("mul.lo.u64 %a30, %a30, " + perCpuBytes + ";");
    }

    /** map_lookup(M, m, key): a pointer (arena offset) to the value, or 0; dispatched on the map's offset. */
    private void mapLookup() {
        open("map_lookup");
        List<MapDef> maps = layout.maps();
        for (int i = 0; i < maps.size(); i++) {
            MapDef d = maps.get(i);
            long off = layout.mapOffset(i);
            int stride = DeviceLayout.round8(d.valueSize());
            if (d.type() != MapType.ARRAY && d.type() != MapType.PERCPU_ARRAY && d.type() != MapType.HASH
                    && d.type() != MapType.LRU_HASH && d.type() != MapType.LPM_TRIE) {
                continue;
            }
            l("setp.ne.u64 %q0, %a1, " + off + ";");
            l("@%q0 bra NOT" + i + ";");
            switch (d.type()) {
                case ARRAY, PERCPU_ARRAY -> {
                    c("%a3", "ld32", "%a0", "%a2");
                    l("setp.ge.u64 %q1, %a3, " + d.maxEntries() + ";");
                    l("@%q1 bra MISS;");
                    if (d.type() == MapType.PERCPU_ARRAY) {
                        cpuOffset((long) stride * d.maxEntries());
                    } else {
                        l("mov.b64 %a30, 0;");
                    }
                    l("mad.lo.u64 %a4, %a3, " + stride + ", " + off + ";");
                    l("add.u64 %a4, %a4, %a30;");
                    ret("%a4");
                }
                case HASH, LRU_HASH -> {
                    c("%a4", "hash_find", "%a0", "%a1", String.valueOf(d.keySize()), String.valueOf(DeviceLayout.hashSlot(d)),
                            String.valueOf(DeviceLayout.hashCapacity(d) - 1), "%a2");
                    l("setp.eq.u64 %q1, %a4, 0;");
                    l("@%q1 bra MISS;");
                    if (d.type() == MapType.LRU_HASH) {
                        // a lookup references the entry (its second chance)
                        l("add.u64 %a5, %a0, %a4;");
                        l("mov.b32 %b0, 1;");
                        l("atom.global.exch.b32 %b1, [%a5+4], %b0;");
                    }
                    l("add.u64 %a4, %a4, " + (8 + DeviceLayout.round8(d.keySize())) + ";");
                    ret("%a4");
                }
                case LPM_TRIE -> {
                    c("%a4", "lpm_lookup", "%a0", "%a1", String.valueOf(d.keySize() - 4), String.valueOf(DeviceLayout.lpmSlot(d)),
                            "%a2");
                    ret("%a4");
                }
                default -> throw new IllegalStateException("map type " + d.type());
            }
            label("NOT" + i);
        }
        label("MISS");
        ret("0");
        close();
    }

    /** map_update(M, m, key, val, flags): as DeviceRuntime's map_update. */
    private void mapUpdate() {
        open("map_update");
        List<MapDef> maps = layout.maps();
        for (int i = 0; i < maps.size(); i++) {
            MapDef d = maps.get(i);
            long off = layout.mapOffset(i);
            int stride = DeviceLayout.round8(d.valueSize());
            if (d.type() != MapType.ARRAY && d.type() != MapType.PERCPU_ARRAY && d.type() != MapType.HASH
                    && d.type() != MapType.LRU_HASH) {
                continue;
            }
            l("setp.ne.u64 %q0, %a1, " + off + ";");
            l("@%q0 bra NOT" + i + ";");
            if (d.type() == MapType.HASH || d.type() == MapType.LRU_HASH) {
                c("%a5", "hash_update", "%a0", "%a1", String.valueOf(d.keySize()), String.valueOf(d.valueSize()),
                        String.valueOf(DeviceLayout.hashSlot(d)), String.valueOf(DeviceLayout.hashCapacity(d) - 1),
                        String.valueOf(d.maxEntries()), "%a2", "%a3", "%a4", d.type() == MapType.LRU_HASH ? "1" : "0");
                ret("%a5");
            } else {
                l("setp.gt.u64 %q1, %a4, 2;");
                l("@%q1 bra EINVAL;");
                c("%a5", "ld32", "%a0", "%a2");
                l("setp.ge.u64 %q1, %a5, " + d.maxEntries() + ";");
                l("@%q1 bra E2BIG;");
                l("setp.eq.u64 %q1, %a4, 1;");
                l("@%q1 bra EEXIST;");
                if (d.type() == MapType.PERCPU_ARRAY) {
                    cpuOffset((long) stride * d.maxEntries());
                } else {
                    l("mov.b64 %a30, 0;");
                }
                l("mad.lo.u64 %a6, %a5, " + stride + ", " + off + ";");
                l("add.u64 %a6, %a6, %a30;");
                c("%a7", "copy_bytes", "%a0", "%a6", "%a3", String.valueOf(d.valueSize()));
                ret("0");
            }
            label("NOT" + i);
        }
        label("EINVAL");
        ret("-22");
        label("E2BIG");
        ret("-7");
        label("EEXIST");
        ret("-17");
        close();
    }

    /** map_delete(M, m, key): hash maps only; arrays answer -EINVAL as Linux does. */
    private void mapDelete() {
        open("map_delete");
        List<MapDef> maps = layout.maps();
        for (int i = 0; i < maps.size(); i++) {
            MapDef d = maps.get(i);
            if (d.type() != MapType.HASH && d.type() != MapType.LRU_HASH) {
                continue;
            }
            l("setp.ne.u64 %q0, %a1, " + layout.mapOffset(i) + ";");
            l("@%q0 bra NOT" + i + ";");
            c("%a5", "hash_delete", "%a0", "%a1", String.valueOf(d.keySize()), String.valueOf(DeviceLayout.hashSlot(d)),
                    String.valueOf(DeviceLayout.hashCapacity(d) - 1), "%a2");
            ret("%a5");
            label("NOT" + i);
        }
        ret("-22");
        close();
    }
}
