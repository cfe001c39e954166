package dev.prism.gpu;

import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Program;
import dev.prism.runtime.Helpers;
import dev.prism.verifier.VerifiedProgram;
import java.util.List;
import java.util.TreeSet;

/**
 * Lowers a verified program without maps, helpers or calls to PTX ({@code .target sm_90},
 * {@code .address_size 64}), one thread per input, with the arena of {@link DeviceLayout}
 * (addresses are offsets into the buffer {@code M}). PTX has branches, so the CFG stays as
 * labels and {@code bra}.
 *
 * <p>Where PTX differs from RFC 9669, the lowering guards it:
 * <ul>
 *   <li>{@code shl}/{@code shr} clamp shift amounts at or above the width; BPF masks them: the
 *       amount is and-ed with 63 (31) first;</li>
 *   <li>{@code div}/{@code rem} by zero are unspecified: the divisor is replaced by 1 and the
 *       result selected as 0 (div) or dst (mod) with {@code selp};</li>
 *   <li>signed division by -1 (INT_MIN / -1 overflows): the result is {@code neg} (div) or 0
 *       (mod), selected;</li>
 *   <li>there is no {@code atom.sub}: BPF has no atomic subtraction either, so none is needed;</li>
 *   <li>32-bit results are computed in 32-bit registers and zero-extended with {@code cvt.u64.u32};</li>
 *   <li>loads and stores are byte by byte ({@code ld.global.u8}): PTX needs natural alignment,
 *       BPF packet accesses need none; atomics use the aligned address the verifier proved.</li>
 * </ul>
 */
final class PtxC {
    private final List<Program> programs;
    private final DeviceLayout layout;
    private final StringBuilder out = new StringBuilder();
    /** The program being lowered, its index, and the functions its {@code lddw code} names (bpf_loop's callbacks). */
    private Program program;
    private int k;
    private TreeSet<Integer> callbacks = new TreeSet<>();

    private PtxC(List<VerifiedProgram> verified, DeviceLayout layout) {
        this.programs = verified.stream().map(VerifiedProgram::normalized).toList();
        this.layout = layout;
    }

    /** {@return the PTX module of {@code verified}, kernel entry {@code prism}} */
    static String lower(VerifiedProgram verified, DeviceLayout layout) {
        return lower(List.of(verified), layout);
    }

    /**
     * {@return one PTX module for {@code verified}: the first is the entry, the others the
     * programs a prog_array slot may name (by their index here)}. With a tail call anywhere,
     * every program's main body is a function ({@code main_K}) and a tail call calls the
     * target's and returns its r0, in the frame of the caller, as Linux returns from a tail
     * call made in a subprogram to that subprogram's caller.
     */
    static String lower(List<VerifiedProgram> verified, DeviceLayout layout) {
        PtxC c = new PtxC(verified, layout);
        c.emit();
        return c.out.toString();
    }

    private void l(String s) {
        out.append("\t").append(s).append('\n');
    }

    /** {@return the entries of the bpf-to-bpf functions of {@code p} (0 first) and fills {@code cbs} with its callbacks} */
    private static TreeSet<Integer> entries(Program p, TreeSet<Integer> cbs) {
        TreeSet<Integer> entries = new TreeSet<>();
        entries.add(0);
        for (int pc = 0; pc < p.length(); pc++) {
            if (p.at(pc) instanceof Insn.Call c && c.kind() == CallKind.LOCAL) {
                entries.add(pc + c.slots() + c.imm());
            }
            if (p.at(pc) instanceof Insn.LoadImm64 li && li.kind() == dev.prism.isa.LoadImm64Kind.CODE_ADDR) {
                entries.add(pc + 1 + li.imm());
                cbs.add(pc + 1 + li.imm());
            }
        }
        return entries;
    }

    private static boolean tailCalls(Program p) {
        for (int pc = 0; pc < p.length(); pc++) {
            if (p.at(pc) instanceof Insn.Call c && c.kind() == CallKind.HELPER && c.imm() == Helpers.TAIL_CALL) {
                return true;
            }
        }
        return false;
    }

    private void emit() {
        out.append("// Prism ptx lowering: one thread per input (target-gpu PtxC)\n");
        out.append(".version 9.0\n.target sm_90\n.address_size 64\n\n");
        boolean tails = programs.stream().anyMatch(PtxC::tailCalls);
        List<TreeSet<Integer>> entries = new java.util.ArrayList<>();
        List<TreeSet<Integer>> cbs = new java.util.ArrayList<>();
        for (k = 0; k < programs.size(); k++) {
            TreeSet<Integer> cb = new TreeSet<>();
            entries.add(entries(programs.get(k), cb));
            cbs.add(cb);
            if (tails) {
                out.append(PtxRuntime.prototype(main(k), SUB_PARAMS)).append(";\n");
            }
            for (int e : entries.get(k).tailSet(1)) {
                out.append(PtxRuntime.prototype(sub(e), SUB_PARAMS)).append(";\n");
            }
        }
        out.append(PtxRuntime.source(layout));
        out.append(".visible .entry prism(.param .u64 pM, .param .u64 pR0, .param .u32 pn, .param .u64 pitems,"
                + " .param .u64 pstride, .param .u64 pnow, .param .u64 pseed, .param .u64 pmemlen)\n{\n");
        registers();
        l("ld.param.u64 %M, [pM];");
        l("mov.u32 %w0, %ctaid.x;");
        l("mov.u32 %w1, %ntid.x;");
        l("mov.u32 %w2, %tid.x;");
        l("mad.lo.u32 %w0, %w0, %w1, %w2;");
        l("ld.param.u32 %w1, [pn];");
        l("setp.ge.u32 %p0, %w0, %w1;");
        l("@%p0 bra RET;");
        l("cvt.u64.u32 %gid, %w0;");
        l("ld.param.u64 %t0, [pstride];");
        l("ld.param.u64 %base, [pitems];");
        l("mad.lo.u64 %base, %gid, %t0, %base;");
        // the per-thread generator of get_prandom_u32 lives in the unused end of the context (+" + RNG + ")
        l("ld.param.u64 %t0, [pseed];");
        l("mul.lo.u64 %t1, %gid, 0x9E3779B97F4A7C15U;");
        l("xor.b64 %t0, %t0, %t1;");
        l("xor.b64 %t0, %t0, 0xD1B54A32D192ED03U;");
        l("add.u64 %a, %M, %base;");
        l("st.global.u64 [%a+" + RNG + "], %t0;");
        if (tails) {
            l("mov.b32 %w0, 0;");
            l("st.global.u32 [%a+" + TAIL_CALLS + "], %w0;");
        }
        for (int i = 0; i <= 9; i++) {
            l("mov.b64 %r" + i + ", 0;");
        }
        if (layout.xdp()) {
            l("mov.b64 %r1, %base;");
        } else {
            l("ld.param.u64 %r2, [pmemlen];");
            l("add.u64 %t0, %base, " + layout.slotOffset() + ";");
            l("setp.eq.u64 %p0, %r2, 0;");
            l("selp.b64 %r1, 0, %t0, %p0;");
        }
        l("add.u64 %r10, %base, " + (DeviceLayout.CTX_SIZE + layout.stackBytes()) + ";");
        k = 0;
        program = programs.getFirst();
        callbacks = cbs.getFirst();
        if (tails) {
            out.append(PtxRuntime.call("%r0", main(0), "%M", "%base", "%r1", "%r2", "%r3", "%r4", "%r5", "%r10"));
        } else {
            Integer end = entries.getFirst().higher(0);
            body(0, end == null ? program.length() : end);
        }
        out.append("EXIT:\n");
        l("ld.param.u64 %t0, [pR0];");
        l("mad.lo.u64 %t0, %gid, 8, %t0;");
        l("st.global.u64 [%t0], %r0;");
        out.append("RET:\n");
        l("ret;");
        out.append("}\n");
        for (k = 0; k < programs.size(); k++) {
            program = programs.get(k);
            callbacks = cbs.get(k);
            int n = program.length();
            for (int e : entries.get(k)) {
                if (e == 0 && !tails) {
                    continue;
                }
                Integer next = entries.get(k).higher(e);
                out.append("\n").append(PtxRuntime.prototype(e == 0 ? main(k) : sub(e), SUB_PARAMS)).append("\n{\n");
                registers();
                l("ld.param.b64 %M, [M];");
                l("ld.param.b64 %base, [base];");
                for (int i = 1; i <= 5; i++) {
                    l("ld.param.b64 %r" + i + ", [a" + i + "];");
                }
                l("ld.param.b64 %r10, [fp];");
                l("mov.b64 %r0, 0;");
                for (int i = 6; i <= 9; i++) {
                    l("mov.b64 %r" + i + ", 0;");
                }
                body(e, next == null ? n : next);
                out.append("EXIT:\n");
                l("st.param.b64 [rv], %r0;");
                l("ret;");
                out.append("}\n");
            }
        }
    }

    /** Offset in the item's context of the count of tail calls taken (u32). */
    static final int TAIL_CALLS = 32;

    private static String main(int program) {
        return "main_" + program;
    }

    /**
     * bpf_tail_call(ctx, prog_array, index), as the interpreter: when the slot holds a program
     * and fewer than 33 tail calls ran (the count in the item's context), that program's main
     * function runs with the same registers and frame and its r0 is this function's; otherwise
     * r0 = -ENOENT and the program goes on.
     */
    private void tailCall(int pc) {
        String h = "T" + pc + "_";
        out.append(PtxRuntime.call("%t4", "prog_slot", "%M", "%r2", "%r3"));
        l("setp.eq.u64 %p0, %t4, 0;");
        l("@%p0 bra " + h + "FAIL;");
        l("add.u64 %a, %M, %base;");
        l("ld.global.u32 %w0, [%a+" + TAIL_CALLS + "];");
        l("setp.ge.u32 %p0, %w0, 33;");
        l("@%p0 bra " + h + "FAIL;");
        l("add.u32 %w0, %w0, 1;");
        l("st.global.u32 [%a+" + TAIL_CALLS + "], %w0;");
        for (int t = 0; t < programs.size(); t++) {
            l("setp.eq.u64 %p0, %t4, " + (t + 1) + ";");
            l("@!%p0 bra " + h + "NOT" + t + ";");
            out.append(PtxRuntime.call("%r0", main(t), "%M", "%base", "%r1", "%r2", "%r3", "%r4", "%r5", "%r10"));
            l("bra EXIT;");
            out.append(h).append("NOT").append(t).append(":\n");
        }
        out.append(h).append("FAIL:\n");
        l("mov.b64 %r0, -2;");
    }

    /** Offset in the item's context of the get_prandom_u32 state (the host layout uses bytes 0-31). */
    static final int RNG = 48;
    /** A bpf-to-bpf function's parameters: the arena, the item, r1-r5 and its frame pointer. */
    private static final List<String> SUB_PARAMS = List.of("M", "base", "a1", "a2", "a3", "a4", "a5", "fp");

    private String sub(int entry) {
        return k == 0 ? "bpf_" + entry : "bpf" + k + "_" + entry;
    }

    private void registers() {
        l(".reg .b64 %r<11>;");
        l(".reg .b64 %t<6>;");
        l(".reg .b32 %w<4>;");
        l(".reg .pred %p<2>;");
        l(".reg .b64 %M, %base, %gid, %a;");
        l(".reg .b64 %ca<12>;");
        l(".reg .b64 %li, %ln, %lcb, %lctx;");
    }

    /** Lowers the instructions in [from, to): one function's body, each instruction labelled by its pc. */
    private void body(int from, int to) {
        for (int pc = from; pc < to; pc++) {
            Insn insn = program.at(pc);
            if (insn == null) {
                continue;
            }
            out.append("L").append(pc).append(":\n");
            out.append("\t// ").append(insn).append('\n');
            lower(pc, insn);
        }
    }

    private static String r(Reg reg) {
        return "%r" + reg.n();
    }

    private static String hex64(long v) {
        return String.format("0x%016xU", v);
    }

    /** {@return a 64-bit register holding the operand (an immediate sign-extended into %t1)} */
    private String src64(Operand o) {
        return switch (o) {
            case Reg reg -> r(reg);
            case Imm imm -> {
                l("mov.b64 %t1, " + hex64(imm.value()) + ";");
                yield "%t1";
            }
        };
    }

    /** Loads the low 32 bits of dst into %w0 and of the source into %w1. */
    private void operands32(Reg dst, Operand src) {
        l("cvt.u32.u64 %w0, " + r(dst) + ";");
        switch (src) {
            case Reg reg -> l("cvt.u32.u64 %w1, " + r(reg) + ";");
            case Imm imm -> l("mov.b32 %w1, " + String.format("0x%08x", imm.value()) + ";");
        }
    }

    private void lower(int pc, Insn insn) {
        int next = pc + insn.slots();
        switch (insn) {
            case Insn.Alu a -> {
                if (a.width() == Width.W64) {
                    alu64(a);
                } else {
                    alu32(a);
                }
            }
            case Insn.Neg g -> {
                if (g.width() == Width.W64) {
                    l("neg.s64 " + r(g.dst()) + ", " + r(g.dst()) + ";");
                } else {
                    l("cvt.u32.u64 %w0, " + r(g.dst()) + ";");
                    l("neg.s32 %w0, %w0;");
                    l("cvt.u64.u32 " + r(g.dst()) + ", %w0;");
                }
            }
            case Insn.MovSx m -> {
                if (m.width() == Width.W64) {
                    l("shl.b64 %t0, " + r(m.src()) + ", " + (64 - m.fromBits()) + ";");
                    l("shr.s64 " + r(m.dst()) + ", %t0, " + (64 - m.fromBits()) + ";");
                } else {
                    l("cvt.u32.u64 %w0, " + r(m.src()) + ";");
                    l("shl.b32 %w0, %w0, " + (32 - m.fromBits()) + ";");
                    l("shr.s32 %w0, %w0, " + (32 - m.fromBits()) + ";");
                    l("cvt.u64.u32 " + r(m.dst()) + ", %w0;");
                }
            }
            case Insn.Endian e -> endian(e);
            case Insn.LoadImm64 li -> l("mov.b64 " + r(li.dst()) + ", " + switch (li.kind()) {
                case IMM64 -> hex64(li.value());
                case MAP_BY_IDX -> hex64(layout.mapOffset(li.imm()));
                case MAP_VALUE_BY_IDX -> hex64(layout.mapOffset(li.imm()) + (li.nextImm() & 0xffff_ffffL));
                case CODE_ADDR -> String.valueOf(pc + 1 + li.imm());
                case MAP_BY_FD, MAP_VALUE_BY_FD, VARIABLE_ADDR ->
                        throw new IllegalStateException(pc + ": lddw " + li.kind() + " passed ptx's check");
            } + ";");
            case Insn.Load ld -> {
                l("add.u64 %a, %M, " + r(ld.src()) + ";");
                int n = ld.size().bytes();
                l("mov.b64 %t3, 0;");
                for (int i = 0; i < n; i++) {
                    l("ld.global.u8 %w0, [%a+" + (ld.offset() + i) + "];");
                    l("cvt.u64.u32 %t0, %w0;");
                    if (i > 0) {
                        l("shl.b64 %t0, %t0, " + 8 * i + ";");
                    }
                    l("or.b64 %t3, %t3, %t0;");
                }
                if (ld.signExtend()) {
                    l("shl.b64 %t3, %t3, " + (64 - 8 * n) + ";");
                    l("shr.s64 %t3, %t3, " + (64 - 8 * n) + ";");
                }
                l("mov.b64 " + r(ld.dst()) + ", %t3;");
            }
            case Insn.Store st -> {
                String v = src64(st.src());
                l("add.u64 %a, %M, " + r(st.dst()) + ";");
                for (int i = 0; i < st.size().bytes(); i++) {
                    l("shr.u64 %t0, " + v + ", " + 8 * i + ";");
                    l("cvt.u32.u64 %w0, %t0;");
                    l("st.global.u8 [%a+" + (st.offset() + i) + "], %w0;");
                }
            }
            case Insn.Atomic at -> atomic(at);
            case Insn.Ja j -> l("bra L" + (next + j.offset()) + ";");
            case Insn.Jump j -> {
                jump(j);
                l("@%p0 bra L" + (next + j.offset()) + ";");
            }
            case Insn.Call c -> {
                switch (c.kind()) {
                    case LOCAL -> {
                        l("sub.u64 %t5, %r10, " + DeviceLayout.FRAME_SIZE + ";");
                        out.append(PtxRuntime.call("%r0", sub(next + c.imm()), "%M", "%base", "%r1", "%r2", "%r3", "%r4", "%r5", "%t5"));
                    }
                    case HELPER -> helper(pc, c.imm());
                    case HELPER_BTF -> throw new IllegalStateException(pc + ": call btf passed ptx's check");
                }
            }
            case Insn.CallX x -> throw new IllegalStateException(pc + ": callx passed ptx's check");
            case Insn.Exit e -> l("bra EXIT;");
            case Insn.PacketLoad p -> throw new IllegalStateException(pc + ": legacy packet load passed ptx's check");
        }
    }

    /**
     * Helper calls: r1-r5 are clobbered as the calling convention says; only r0 is written.
     * ktime reads {@code %globaltimer} (ns since an unspecified epoch, updated every microsecond or
     * so: a device clock, not the host's); get_prandom_u32 is a xorshift64 per thread, its state
     * in the item's context, seeded per batch and thread; get_smp_processor_id is the block
     * modulo {@link DeviceLayout#CPUS}, the per-CPU slot of per-CPU maps.
     */
    private void helper(int pc, int id) {
        switch (id) {
            case Helpers.MAP_LOOKUP_ELEM -> out.append(PtxRuntime.call("%r0", "map_lookup", "%M", "%r1", "%r2"));
            case Helpers.MAP_UPDATE_ELEM -> out.append(PtxRuntime.call("%r0", "map_update", "%M", "%r1", "%r2", "%r3", "%r4"));
            case Helpers.MAP_DELETE_ELEM -> out.append(PtxRuntime.call("%r0", "map_delete", "%M", "%r1", "%r2"));
            case Helpers.KTIME_GET_NS, Helpers.KTIME_GET_BOOT_NS -> l("mov.u64 %r0, %globaltimer;");
            case Helpers.GET_PRANDOM_U32 -> {
                l("add.u64 %a, %M, %base;");
                l("ld.global.u64 %t0, [%a+" + RNG + "];");
                l("shl.b64 %t1, %t0, 13;");
                l("xor.b64 %t0, %t0, %t1;");
                l("shr.u64 %t1, %t0, 7;");
                l("xor.b64 %t0, %t0, %t1;");
                l("shl.b64 %t1, %t0, 17;");
                l("xor.b64 %t0, %t0, %t1;");
                l("st.global.u64 [%a+" + RNG + "], %t0;");
                l("and.b64 %r0, %t0, 0xffffffff;");
            }
            case Helpers.GET_SMP_PROCESSOR_ID -> {
                l("mov.u32 %w0, %ctaid.x;");
                l("rem.u32 %w0, %w0, " + DeviceLayout.CPUS + ";");
                l("cvt.u64.u32 %r0, %w0;");
            }
            case Helpers.CSUM_DIFF -> out.append(PtxRuntime.call("%r0", "csum_diff", "%M", "%r1", "%r2", "%r3", "%r4", "%r5"));
            case Helpers.XDP_ADJUST_HEAD -> out.append(PtxRuntime.call("%r0", "xdp_adjust_head", "%M", "%base", "%r2"));
            case Helpers.XDP_ADJUST_TAIL -> out.append(PtxRuntime.call("%r0", "xdp_adjust_tail", "%M", "%base", "%r2"));
            case Helpers.XDP_ADJUST_META -> out.append(PtxRuntime.call("%r0", "xdp_adjust_meta", "%M", "%base", "%r2"));
            case Helpers.LOOP -> loop(pc);
            case Helpers.TAIL_CALL -> tailCall(pc);
            case Helpers.RINGBUF_OUTPUT -> out.append(PtxRuntime.call("%r0", "rb_output", "%M", "%r1", "%r2", "%r3", "%r4"));
            case Helpers.RINGBUF_RESERVE -> out.append(PtxRuntime.call("%r0", "rb_reserve", "%M", "%r1", "%r2", "%r3"));
            case Helpers.RINGBUF_SUBMIT -> out.append(PtxRuntime.call("%r0", "rb_commit", "%M", "%r1", "0"));
            case Helpers.RINGBUF_DISCARD -> out.append(PtxRuntime.call("%r0", "rb_commit", "%M", "%r1", "1"));
            default -> throw new IllegalStateException(pc + ": helper " + id + " passed ptx's check");
        }
    }

    /**
     * bpf_loop(nr, callback, ctx, flags), as the interpreter: flags other than 0 give -EINVAL, nr
     * (u32) above BPF_MAX_LOOPS -E2BIG; otherwise the callback (a pc, from {@code lddw code}) is
     * called as a function with (i, ctx) on a new frame until it returns nonzero (r0 = i + 1) or
     * the loop ends (r0 = nr). The callback is chosen among the program's {@code lddw code}
     * targets by its pc.
     */
    private void loop(int pc) {
        String h = "H" + pc + "_";
        l("setp.ne.u64 %p0, %r4, 0;");
        l("@%p0 bra " + h + "EINVAL;");
        l("and.b64 %ln, %r1, 0xffffffff;");
        l("setp.gt.u64 %p0, %ln, " + (1 << 23) + ";");
        l("@%p0 bra " + h + "E2BIG;");
        l("mov.b64 %lcb, %r2;");
        l("mov.b64 %lctx, %r3;");
        l("mov.b64 %li, 0;");
        out.append(h).append("LOOP:\n");
        l("setp.ge.u64 %p0, %li, %ln;");
        l("@%p0 bra " + h + "DONE;");
        l("sub.u64 %t5, %r10, " + DeviceLayout.FRAME_SIZE + ";");
        l("mov.b64 %t4, 1;");
        for (int cb : callbacks) {
            l("setp.eq.u64 %p0, %lcb, " + cb + ";");
            l("@!%p0 bra " + h + "NOT" + cb + ";");
            out.append(PtxRuntime.call("%t4", sub(cb), "%M", "%base", "%li", "%lctx", "0", "0", "0", "%t5"));
            l("bra " + h + "NEXT;");
            out.append(h).append("NOT").append(cb).append(":\n");
        }
        out.append(h).append("NEXT:\n");
        l("add.u64 %li, %li, 1;");
        l("setp.eq.u64 %p0, %t4, 0;");
        l("@%p0 bra " + h + "LOOP;");
        out.append(h).append("DONE:\n");
        l("mov.b64 %r0, %li;");
        l("bra " + h + "END;");
        out.append(h).append("EINVAL:\n");
        l("mov.b64 %r0, -22;");
        l("bra " + h + "END;");
        out.append(h).append("E2BIG:\n");
        l("mov.b64 %r0, -7;");
        out.append(h).append("END:\n");
    }

    private void alu64(Insn.Alu a) {
        String d = r(a.dst());
        String s = src64(a.src());
        switch (a.op()) {
            case ADD -> l("add.u64 " + d + ", " + d + ", " + s + ";");
            case SUB -> l("sub.u64 " + d + ", " + d + ", " + s + ";");
            case MUL -> l("mul.lo.u64 " + d + ", " + d + ", " + s + ";");
            case OR -> l("or.b64 " + d + ", " + d + ", " + s + ";");
            case AND -> l("and.b64 " + d + ", " + d + ", " + s + ";");
            case XOR -> l("xor.b64 " + d + ", " + d + ", " + s + ";");
            case MOV -> l("mov.b64 " + d + ", " + s + ";");
            case LSH, RSH, ARSH -> {
                l("cvt.u32.u64 %w1, " + s + ";");
                l("and.b32 %w1, %w1, 63;");
                String op = a.op() == dev.prism.isa.AluOp.LSH ? "shl.b64" : a.op() == dev.prism.isa.AluOp.RSH ? "shr.u64" : "shr.s64";
                l(op + " " + d + ", " + d + ", %w1;");
            }
            case DIV, MOD -> {
                l("setp.eq.u64 %p0, " + s + ", 0;");
                l("selp.b64 %t2, 1, " + s + ", %p0;");
                l((a.op() == dev.prism.isa.AluOp.DIV ? "div.u64" : "rem.u64") + " %t3, " + d + ", %t2;");
                l("selp.b64 " + d + ", " + (a.op() == dev.prism.isa.AluOp.DIV ? "0" : d) + ", %t3, %p0;");
            }
            case SDIV, SMOD -> {
                boolean div = a.op() == dev.prism.isa.AluOp.SDIV;
                l("setp.eq.u64 %p0, " + s + ", 0;");
                l("setp.eq.s64 %p1, " + s + ", -1;");
                l("selp.b64 %t2, 1, " + s + ", %p0;");
                l("selp.b64 %t2, 1, %t2, %p1;");
                l((div ? "div.s64" : "rem.s64") + " %t3, " + d + ", %t2;");
                if (div) {
                    l("neg.s64 %t4, " + d + ";");
                    l("selp.b64 %t3, %t4, %t3, %p1;");
                } else {
                    l("selp.b64 %t3, 0, %t3, %p1;");
                }
                l("selp.b64 " + d + ", " + (div ? "0" : d) + ", %t3, %p0;");
            }
        }
    }

    private void alu32(Insn.Alu a) {
        String d = r(a.dst());
        operands32(a.dst(), a.src());
        switch (a.op()) {
            case ADD -> l("add.u32 %w0, %w0, %w1;");
            case SUB -> l("sub.u32 %w0, %w0, %w1;");
            case MUL -> l("mul.lo.u32 %w0, %w0, %w1;");
            case OR -> l("or.b32 %w0, %w0, %w1;");
            case AND -> l("and.b32 %w0, %w0, %w1;");
            case XOR -> l("xor.b32 %w0, %w0, %w1;");
            case MOV -> l("mov.b32 %w0, %w1;");
            case LSH, RSH, ARSH -> {
                l("and.b32 %w1, %w1, 31;");
                String op = a.op() == dev.prism.isa.AluOp.LSH ? "shl.b32" : a.op() == dev.prism.isa.AluOp.RSH ? "shr.u32" : "shr.s32";
                l(op + " %w0, %w0, %w1;");
            }
            case DIV, MOD -> {
                l("setp.eq.u32 %p0, %w1, 0;");
                l("selp.b32 %w2, 1, %w1, %p0;");
                l((a.op() == dev.prism.isa.AluOp.DIV ? "div.u32" : "rem.u32") + " %w3, %w0, %w2;");
                l("selp.b32 %w0, " + (a.op() == dev.prism.isa.AluOp.DIV ? "0" : "%w0") + ", %w3, %p0;");
            }
            case SDIV, SMOD -> {
                boolean div = a.op() == dev.prism.isa.AluOp.SDIV;
                l("setp.eq.u32 %p0, %w1, 0;");
                l("setp.eq.s32 %p1, %w1, -1;");
                l("selp.b32 %w2, 1, %w1, %p0;");
                l("selp.b32 %w2, 1, %w2, %p1;");
                l((div ? "div.s32" : "rem.s32") + " %w3, %w0, %w2;");
                if (div) {
                    l("neg.s32 %w2, %w0;");
                    l("selp.b32 %w3, %w2, %w3, %p1;");
                } else {
                    l("selp.b32 %w3, 0, %w3, %p1;");
                }
                l("selp.b32 %w0, " + (div ? "0" : "%w0") + ", %w3, %p0;");
            }
        }
        l("cvt.u64.u32 " + d + ", %w0;");
    }

    private void endian(Insn.Endian e) {
        String d = r(e.dst());
        switch (e.op()) {
            case LE -> {
                if (e.bits() == 16) {
                    l("and.b64 " + d + ", " + d + ", 0xffff;");
                } else if (e.bits() == 32) {
                    l("and.b64 " + d + ", " + d + ", 0xffffffff;");
                }
            }
            case BE, BSWAP -> {
                if (e.bits() == 64) {
                    l("mov.b64 {%w0, %w1}, " + d + ";");
                    l("prmt.b32 %w0, %w0, 0, 0x0123;");
                    l("prmt.b32 %w1, %w1, 0, 0x0123;");
                    l("mov.b64 " + d + ", {%w1, %w0};");
                } else {
                    l("cvt.u32.u64 %w0, " + d + ";");
                    l("prmt.b32 %w0, %w0, 0, " + (e.bits() == 16 ? "0x4401" : "0x0123") + ";");
                    l("cvt.u64.u32 " + d + ", %w0;");
                }
            }
        }
    }

    private void jump(Insn.Jump j) {
        boolean w64 = j.width() == Width.W64;
        String d;
        String s;
        if (w64) {
            s = src64(j.src());
            d = r(j.dst());
        } else {
            operands32(j.dst(), j.src());
            d = "%w0";
            s = "%w1";
        }
        String u = w64 ? ".u64" : ".u32";
        String sg = w64 ? ".s64" : ".s32";
        if (j.op() == JumpOp.JSET) {
            l((w64 ? "and.b64 %t0, " : "and.b32 %w2, ") + d + ", " + s + ";");
            l("setp.ne" + u + " %p0, " + (w64 ? "%t0" : "%w2") + ", 0;");
            return;
        }
        String cmp = switch (j.op()) {
            case JEQ -> "eq" + u;
            case JNE -> "ne" + u;
            case JGT -> "gt" + u;
            case JGE -> "ge" + u;
            case JLT -> "lt" + u;
            case JLE -> "le" + u;
            case JSGT -> "gt" + sg;
            case JSGE -> "ge" + sg;
            case JSLT -> "lt" + sg;
            case JSLE -> "le" + sg;
            case JSET -> throw new IllegalStateException("handled above");
        };
        l("setp." + cmp + " %p0, " + d + ", " + s + ";");
    }

    private void atomic(Insn.Atomic a) {
        boolean w = a.size() == Size.W;
        String addr = "[%a+" + a.offset() + "]";
        String src = r(a.src());
        l("add.u64 %a, %M, " + r(a.dst()) + ";");
        if (w) {
            l("cvt.u32.u64 %w1, " + src + ";");
        }
        String v = w ? "%w1" : src;
        String old = w ? "%w0" : "%t0";
        String t = w ? "32" : "64";
        switch (a.op()) {
            case ADD -> l("red.global.add.u" + t + " " + addr + ", " + v + ";");
            case OR -> l("red.global.or.b" + t + " " + addr + ", " + v + ";");
            case AND -> l("red.global.and.b" + t + " " + addr + ", " + v + ";");
            case XOR -> l("red.global.xor.b" + t + " " + addr + ", " + v + ";");
            case FETCH_ADD, FETCH_OR, FETCH_AND, FETCH_XOR, XCHG -> {
                String op = switch (a.op()) {
                    case FETCH_ADD -> "add.u";
                    case FETCH_OR -> "or.b";
                    case FETCH_AND -> "and.b";
                    case FETCH_XOR -> "xor.b";
                    default -> "exch.b";
                };
                l("atom.global." + op + t + " " + old + ", " + addr + ", " + v + ";");
                l(w ? "cvt.u64.u32 " + src + ", %w0;" : "mov.b64 " + src + ", %t0;");
            }
            case CMPXCHG -> {
                if (w) {
                    l("cvt.u32.u64 %w2, %r0;");
                    l("atom.global.cas.b32 %w0, " + addr + ", %w2, %w1;");
                    l("cvt.u64.u32 %r0, %w0;");
                } else {
                    l("atom.global.cas.b64 %t0, " + addr + ", %r0, " + src + ";");
                    l("mov.b64 %r0, %t0;");
                }
            }
        }
    }
}
