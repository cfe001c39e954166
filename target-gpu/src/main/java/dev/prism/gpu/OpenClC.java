package dev.prism.gpu;

import dev.prism.isa.CallKind;
import dev.prism.isa.CExpressions;
import dev.prism.isa.Insn;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Program;
import dev.prism.runtime.Helpers;
import dev.prism.verifier.VerifiedProgram;
import java.util.BitSet;
import java.util.List;

/**
 * Lowers a verified program to one OpenCL C kernel, one work-item per input.
 *
 * <p><b>Memory.</b> Every address the program sees is a byte offset into one global buffer
 * {@code M} (the arena of {@link DeviceLayout}): maps, then per work-item a context, stack
 * frames and the packet slot (or raw memory). Offset 0..63 is never valid, so NULL stays 0 and
 * pointer comparisons keep their meaning. Loads and stores go through packed structs (BPF allows
 * unaligned packet access); atomics use the aligned address the verifier proved.
 *
 * <p><b>Control flow.</b> No labels and goto: the CFG becomes a dispatch loop,
 * {@code while (pc != DONE) switch (pc)}, one case per basic block leader, blocks falling through
 * to the next case; a jump assigns pc and continues the loop, the entry's exit sets DONE. bpf-to-bpf calls use the same loop
 * with an explicit return stack (return pc, r6-r9) of {@link DeviceLayout#MAX_FRAMES} frames,
 * since OpenCL C forbids recursion and a verified call graph needs no more than 8 frames.
 *
 * <p><b>Semantics (RFC 9669)</b>: 32-bit operations compute in {@code uint}/{@code int} (no
 * promotion surprises: only 8/16-bit loads are narrower, and they are widened first) and zero-
 * extend; shift counts are masked with 31/63 explicitly; division and modulo by zero give 0 and
 * dst; signed division by -1 is negation computed unsigned (INT_MIN / -1 is INT_MIN, INT_MIN % -1
 * is 0) without touching C's undefined overflow.
 */
final class OpenClC {
    private final List<Program> programs;
    private final DeviceLayout layout;
    private final StringBuilder out = new StringBuilder();
    /** The program being lowered and where its pcs start in the kernel's dispatch. */
    private Program program;
    private int at;
    /** Where each program starts: program k's pc p is case bases[k] + p; its loop-return case is bases[k] + length. */
    private final int[] bases;

    private OpenClC(List<VerifiedProgram> verified, DeviceLayout layout) {
        this.programs = verified.stream().map(VerifiedProgram::normalized).toList();
        this.layout = layout;
        this.bases = new int[programs.size()];
        int b = 0;
        for (int k = 0; k < programs.size(); k++) {
            bases[k] = b;
            b += programs.get(k).length() + 1;
        }
    }

    /** {@return the kernel source of {@code verified} for {@code layout}} */
    static String lower(VerifiedProgram verified, DeviceLayout layout) {
        return lower(List.of(verified), layout);
    }

    /**
     * {@return one kernel for {@code verified}: the first is the entry, the others the programs
     * a prog_array slot may name (by their index here)}: each program's cases are offset by the
     * lengths before it, and a tail call continues the dispatch at its target's first case
     */
    static String lower(List<VerifiedProgram> verified, DeviceLayout layout) {
        OpenClC c = new OpenClC(verified, layout);
        c.emit();
        return c.out.toString();
    }

    /** {@return the dispatch case of pc {@code pc} of the program being lowered} */
    private String p(int pc) {
        return String.valueOf(at + pc);
    }

    private void line(String s) {
        out.append(s).append('\n');
    }

    private void emit() {
        line("// Prism opencl lowering: one work-item per input (target-gpu OpenClC)");
        line("#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable");
        line("#pragma OPENCL EXTENSION cl_khr_int64_extended_atomics : enable");
        line("#define DONE 0xffffffffU");
        out.append(DeviceRuntime.source(layout));
        progBase();
        line("__kernel void prism(__global uchar *M, __global ulong *R0, uint n, ulong items, ulong stride, ulong now, ulong seed, ulong memlen) {");
        line("  uint gid = get_global_id(0);");
        line("  if (gid >= n) return;");
        line("  ulong base = items + (ulong) gid * stride;");
        line("  ulong rng = seed ^ ((ulong) gid * 0x9E3779B97F4A7C15UL) ^ 0xD1B54A32D192ED03UL;");
        line("  uint cpu = get_group_id(0) % " + DeviceLayout.CPUS + "U;");
        line("  ulong r0 = 0, r1 = " + (layout.xdp() ? "base" : "(memlen == 0 ? 0UL : base + SLOT)")
                + ", r2 = " + (layout.xdp() ? "0" : "memlen") + ", r3 = 0, r4 = 0, r5 = 0, r6 = 0, r7 = 0, r8 = 0, r9 = 0;");
        line("  ulong r10 = base + " + (DeviceLayout.CTX_SIZE + layout.stackBytes()) + "UL;");
        line("  uint depth = 0; uint rpc[" + DeviceLayout.MAX_FRAMES + "]; ulong s6[" + DeviceLayout.MAX_FRAMES
                + "], s7[" + DeviceLayout.MAX_FRAMES + "], s8[" + DeviceLayout.MAX_FRAMES + "], s9["
                + DeviceLayout.MAX_FRAMES + "];");
        line("  ulong li[" + DeviceLayout.MAX_FRAMES + "], ln[" + DeviceLayout.MAX_FRAMES + "], lctx["
                + DeviceLayout.MAX_FRAMES + "]; uint lcb[" + DeviceLayout.MAX_FRAMES + "], lret[" + DeviceLayout.MAX_FRAMES + "];");
        line("  uint pc = 0, tcc = 0;");
        line("  while (pc != DONE) {");
        line("    switch (pc) {");
        for (int k = 0; k < programs.size(); k++) {
            program = programs.get(k);
            at = bases[k];
            emitProgram();
        }
        line("    default: pc = DONE; break;");
        line("    }");
        line("  }");
        line("  R0[gid] = r0;");
        line("}");
    }

    private void emitProgram() {
        int n = program.length();
        BitSet leaders = leaders();
        for (int pc = 0; pc < n; pc++) {
            Insn insn = program.at(pc);
            if (insn == null) {
                continue;
            }
            if (leaders.get(pc)) {
                line("    case " + p(pc) + ":");
            }
            line("      // " + pc + ": " + insn);
            lowerInsn(pc, insn);
        }
        if (usesLoop()) {
            loopReturn(n);
        }
    }

    /** Block leaders: entry, jump targets, the slots after jumps, calls and exits. */
    private BitSet leaders() {
        BitSet b = new BitSet();
        b.set(0);
        int n = program.length();
        for (int pc = 0; pc < n; pc++) {
            Insn insn = program.at(pc);
            int next = pc + (insn == null ? 1 : insn.slots());
            switch (insn) {
                case Insn.Ja j -> {
                    b.set(next + j.offset());
                    b.set(next);
                }
                case Insn.Jump j -> {
                    b.set(next + j.offset());
                    b.set(next);
                }
                case Insn.Call c when c.kind() == CallKind.LOCAL -> {
                    b.set(next + c.imm());
                    b.set(next);
                }
                case Insn.Call c when c.kind() == CallKind.HELPER && c.imm() == Helpers.LOOP -> b.set(next);
                case Insn.LoadImm64 l when l.kind() == dev.prism.isa.LoadImm64Kind.CODE_ADDR -> b.set(pc + 1 + l.imm());
                case Insn.Exit e -> b.set(next);
                case null, default -> {
                }
            }
        }
        b.clear(n, Integer.MAX_VALUE);
        return b;
    }

    /** OpenCL C's spelling of the shared ALU and condition expressions (the kernel's runtime functions). */
    private static final CExpressions C = new CExpressions(new CExpressions.Dialect("ulong", "uint", "long", "int",
            "short", "char", OpenClC::u64, OpenClC::u32, "63UL", "31U", "0xffffUL", "",
            (v, s) -> "(ulong) ((long) " + v + " >> (" + s + " & 63UL))",
            (v, s) -> "(uint) ((int) " + v + " >> (" + s + " & 31U))"));

    private static String r(Reg reg) {
        return "r" + reg.n();
    }

    private static String u64(long v) {
        return "0x" + Long.toHexString(v) + "UL";
    }

    private static String u32(int v) {
        return "0x" + Integer.toHexString(v) + "U";
    }

    private static String addr(Reg base, int offset) {
        return "(" + r(base) + " + " + u64(offset) + ")";
    }

    private void lowerInsn(int pc, Insn insn) {
        int next = pc + insn.slots();
        switch (insn) {
            case Insn.Alu a -> line("      " + r(a.dst()) + " = " + C.alu(a) + ";");
            case Insn.Neg g -> line("      " + r(g.dst()) + " = " + (g.width() == Width.W64 ? "0UL - " + r(g.dst())
                    : "(ulong) (0U - (uint) " + r(g.dst()) + ")") + ";");
            case Insn.MovSx m -> line("      " + r(m.dst()) + " = " + C.movsx(m) + ";");
            case Insn.Endian e -> line("      " + r(e.dst()) + " = " + C.endian(e) + ";");
            case Insn.LoadImm64 l -> line("      " + r(l.dst()) + " = " + switch (l.kind()) {
                case IMM64 -> u64(l.value());
                case MAP_BY_IDX -> u64(layout.mapOffset(l.imm()));
                case MAP_VALUE_BY_IDX -> u64(layout.mapOffset(l.imm()) + (l.nextImm() & 0xffff_ffffL));
                case CODE_ADDR -> p(pc + 1 + l.imm()) + "UL";
                case MAP_BY_FD, MAP_VALUE_BY_FD, VARIABLE_ADDR ->
                        throw new IllegalStateException(pc + ": lddw " + l.kind() + " passed check");
            } + ";");
            case Insn.Load l -> line("      " + r(l.dst()) + " = " + (l.signExtend() ? "LDS" : "LD") + l.size().bytes() * 8
                    + "(" + addr(l.src(), l.offset()) + ");");
            case Insn.Store s -> line("      ST" + s.size().bytes() * 8 + "(" + addr(s.dst(), s.offset()) + ", "
                    + C.src64(s.src()) + ");");
            case Insn.Atomic a -> line("      " + atomic(a));
            case Insn.Ja j -> line("      pc = " + p(next + j.offset()) + "; continue;");
            case Insn.Jump j -> line("      if (" + C.cond(j) + ") { pc = " + p(next + j.offset()) + "; continue; }");
            case Insn.Call c -> {
                switch (c.kind()) {
                    case LOCAL -> {
                        line("      rpc[depth] = " + p(next) + "; s6[depth] = r6; s7[depth] = r7; s8[depth] = r8; s9[depth] = r9;");
                        line("      depth++; r10 -= " + DeviceLayout.FRAME_SIZE + "UL; pc = " + p(next + c.imm()) + "; continue;");
                    }
                    case HELPER -> {
                        if (c.imm() == Helpers.LOOP) {
                            loop(next);
                        } else if (c.imm() == Helpers.TAIL_CALL) {
                            tailCall();
                        } else {
                            line("      " + helper(pc, c.imm()));
                        }
                    }
                    case HELPER_BTF -> throw new IllegalStateException(pc + ": call btf passed check");
                }
            }
            case Insn.CallX x -> throw new IllegalStateException(pc + ": callx passed check");
            case Insn.Exit e -> {
                line("      if (depth == 0) { pc = DONE; break; }");
                line("      depth--; r10 += " + DeviceLayout.FRAME_SIZE + "UL; r6 = s6[depth]; r7 = s7[depth]; r8 = s8[depth];"
                        + " r9 = s9[depth]; pc = rpc[depth]; continue;");
            }
            case Insn.PacketLoad p -> throw new IllegalStateException(pc + ": legacy packet load passed check");
        }
    }

    /**
     * bpf_tail_call(ctx, prog_array, index), as the interpreter: when the slot (a u32 index) holds
     * a program and fewer than 33 tail calls ran, the dispatch goes on at that program's first
     * case with the same registers and frame; otherwise r0 = -ENOENT and the program goes on.
     */
    private void tailCall() {
        line("      { uint t = prog_slot(M, r2, (uint) r3);");
        line("        if (t != 0 && tcc < 33U) { tcc++; pc = prog_base(t - 1); continue; }");
        line("        r0 = (ulong) -2L; }");
    }

    /** The program table of tail calls: a slot's value (program index + 1) to the program's first case. */
    private void progBase() {
        line("uint prog_base(uint k) {");
        line("  switch (k) {");
        for (int k = 0; k < programs.size(); k++) {
            line("  case " + k + ": return " + bases[k] + "U;");
        }
        line("  default: return DONE;");
        line("  }");
        line("}");
    }

    private boolean usesLoop() {
        for (int pc = 0; pc < program.length(); pc++) {
            if (program.at(pc) instanceof Insn.Call c && c.kind() == CallKind.HELPER && c.imm() == Helpers.LOOP) {
                return true;
            }
        }
        return false;
    }

    /**
     * bpf_loop(nr, callback, ctx, flags), as the interpreter: flags other than 0 give -EINVAL,
     * nr (u32) above BPF_MAX_LOOPS -E2BIG; otherwise the callback (a pc: {@code lddw code}) is
     * entered as a bpf-to-bpf call with (i, ctx) and a return to the loop's own case
     * ({@link #loopReturn}), the loop's state kept per frame depth.
     */
    private void loop(int next) {
        line("      if (r4 != 0) r0 = (ulong) -22L;");
        line("      else if ((r1 & 0xffffffffUL) > " + (1 << 23) + "UL) r0 = (ulong) -7L;");
        line("      else if ((r1 & 0xffffffffUL) == 0) r0 = 0;");
        line("      else {");
        line("        li[depth] = 0; ln[depth] = r1 & 0xffffffffUL; lcb[depth] = (uint) r2; lctx[depth] = r3; lret[depth] = "
                + p(next) + ";");
        line("        rpc[depth] = " + p(program.length()) + "; s6[depth] = r6; s7[depth] = r7; s8[depth] = r8; s9[depth] = r9;");
        line("        pc = (uint) r2; r1 = 0; r2 = lctx[depth]; depth++; r10 -= " + DeviceLayout.FRAME_SIZE + "UL; continue;");
        line("      }");
    }

    /** The case a bpf_loop callback returns to: the next iteration, or the loop's result and its return pc. */
    private void loopReturn(int n) {
        line("    case " + p(n) + ": {");
        line("      ulong i = li[depth] + 1;");
        line("      if (r0 != 0 || i >= ln[depth]) { r0 = i; pc = lret[depth]; continue; }");
        line("      li[depth] = i; rpc[depth] = " + p(n) + "; s6[depth] = r6; s7[depth] = r7; s8[depth] = r8; s9[depth] = r9;");
        line("      pc = lcb[depth]; r1 = i; r2 = lctx[depth]; depth++; r10 -= " + DeviceLayout.FRAME_SIZE + "UL; continue;");
        line("    }");
    }

    /**
     * Atomics: 32-bit through OpenCL 1.2's atomic_* on {@code volatile __global uint *}, 64-bit
     * through cl_khr_int64_base/extended_atomics' atom_*; fetch forms write the old value to src
     * (zero-extended for 32 bits), cmpxchg compares with r0 and writes the old value to r0.
     */
    private static String atomic(Insn.Atomic a) {
        boolean w = a.size() == Size.W;
        String p = (w ? "(volatile __global uint *) " : "(volatile __global ulong *) ") + "(M + " + addr(a.dst(), a.offset()) + ")";
        String f = w ? "atomic_" : "atom_";
        String s = w ? "(uint) " + r(a.src()) : r(a.src());
        String conv = w ? "(ulong) (uint) " : "(ulong) ";
        return switch (a.op()) {
            case ADD -> f + "add(" + p + ", " + s + ");";
            case OR -> f + "or(" + p + ", " + s + ");";
            case AND -> f + "and(" + p + ", " + s + ");";
            case XOR -> f + "xor(" + p + ", " + s + ");";
            case FETCH_ADD -> r(a.src()) + " = " + conv + f + "add(" + p + ", " + s + ");";
            case FETCH_OR -> r(a.src()) + " = " + conv + f + "or(" + p + ", " + s + ");";
            case FETCH_AND -> r(a.src()) + " = " + conv + f + "and(" + p + ", " + s + ");";
            case FETCH_XOR -> r(a.src()) + " = " + conv + f + "xor(" + p + ", " + s + ");";
            case XCHG -> r(a.src()) + " = " + conv + f + "xchg(" + p + ", " + s + ");";
            case CMPXCHG -> "r0 = " + conv + f + "cmpxchg(" + p + ", " + (w ? "(uint) r0" : "r0") + ", " + s + ");";
        };
    }

    /** Helper calls: r1-r5 are clobbered as the calling convention says; only r0 is written here. */
    private String helper(int pc, int id) {
        return switch (id) {
            case Helpers.MAP_LOOKUP_ELEM -> "r0 = map_lookup(M, r1, r2, cpu);";
            case Helpers.MAP_UPDATE_ELEM -> "r0 = map_update(M, r1, r2, r3, r4, cpu);";
            case Helpers.MAP_DELETE_ELEM -> "r0 = map_delete(M, r1, r2);";
            case Helpers.KTIME_GET_NS, Helpers.KTIME_GET_BOOT_NS -> "r0 = now;";
            case Helpers.GET_PRANDOM_U32 -> "rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; r0 = rng & 0xffffffffUL;";
            case Helpers.GET_SMP_PROCESSOR_ID -> "r0 = cpu;";
            case Helpers.CSUM_DIFF -> "r0 = csum_diff(M, r1, r2, r3, r4, r5);";
            case Helpers.XDP_ADJUST_HEAD -> "r0 = xdp_adjust_head(M, base, r2);";
            case Helpers.XDP_ADJUST_TAIL -> "r0 = xdp_adjust_tail(M, base, r2);";
            case Helpers.XDP_ADJUST_META -> "r0 = xdp_adjust_meta(M, base, r2);";
            case Helpers.RINGBUF_OUTPUT -> "r0 = rb_output(M, r1, r2, r3, r4);";
            case Helpers.RINGBUF_RESERVE -> "r0 = rb_reserve(M, r1, r2, r3);";
            case Helpers.RINGBUF_SUBMIT -> "r0 = rb_commit(M, r1, 0);";
            case Helpers.RINGBUF_DISCARD -> "r0 = rb_commit(M, r1, 1);";
            default -> throw new IllegalStateException(pc + ": helper " + id + " passed check");
        };
    }
}
