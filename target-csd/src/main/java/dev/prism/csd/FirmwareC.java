package dev.prism.csd;

import dev.prism.isa.CExpressions;
import dev.prism.isa.Insn;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.Program;
import dev.prism.runtime.Helpers;
import dev.prism.verifier.VerifiedProgram;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.TreeSet;

/**
 * Lowers a verified program to freestanding C firmware: the runtime header ({@code prism_fw.h},
 * shipped as a resource and pasted in, so one file compiles alone) and one C function per BPF
 * function.
 *
 * <p><b>Functions.</b> BPF function {@code f} starting at slot {@code s} becomes
 * {@code static u64 f_s(struct prism_rt *rt, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5)} with r0,
 * r6-r9 as locals and its own stack frame, a local array of the depth the verifier proved
 * (rounded up to 16 bytes; r10 points one past its end). A bpf-to-bpf call is a C call: r6-r9
 * survive it as the caller's locals, r1-r5 are dead after it (the verifier refuses reading
 * them), and a callee may use pointers into its callers' frames, which live on. The verifier
 * bounds the call depth (8 frames), so nothing checks it at run time. Jumps are {@code goto}s
 * to labels at their targets ({@code L<pc>}); the CFG is the verifier's, so no jump leaves its
 * function. The entry is {@code u64 prism_entry(u64 r1, u64 r2, struct prism_rt *rt)}.
 *
 * <p><b>Semantics (RFC 9669), spelled out:</b> all registers are {@code u64}; 32-bit ALU
 * operations compute in {@code u32} and zero-extend; shift counts are masked (63 / 31);
 * division and modulo by zero give 0 and dst; signed division and modulo by -1 are negation
 * and 0 (INT_MIN / -1 = INT_MIN) computed unsigned; arithmetic shifts and sign extension are
 * written out; loads and stores go through packed structs (unaligned access is legal BPF);
 * sign-extending loads and movsx cast through the signed type of the width; atomics are
 * {@code __atomic_*} builtins with sequentially consistent order on the address the verifier
 * proved aligned; {@code be}/{@code bswap} swap by shifts, {@code le} truncates (all three
 * builds are little-endian).
 *
 * <p><b>Helpers.</b> prism_csd_read is native code in the runtime (it only copies namespace
 * bytes); every other helper goes through {@code rt->helper}, which the host binds (in-process:
 * an FFM upcall into the Java helpers; under qemu: the harness). A helper failure sets
 * {@code rt->status}, and each frame returns at once when it sees it. Legacy packet loads,
 * tail calls, callx, kfuncs and callbacks (bpf_loop, for_each) are refused by the target's
 * check before lowering; meeting one here is an internal error.
 */
public final class FirmwareC {
    private static final String RUNTIME = resource("prism_fw.h");

    private final Program program;
    private final VerifiedProgram verified;
    private final StringBuilder out = new StringBuilder();

    private FirmwareC(VerifiedProgram verified) {
        this.verified = verified;
        this.program = verified.normalized();
    }

    /** {@return the C source of {@code verified}, runtime included} */
    public static String lower(VerifiedProgram verified) {
        FirmwareC c = new FirmwareC(verified);
        c.emit();
        return c.out.toString();
    }

    /** {@return the runtime header every firmware file starts with} */
    public static String runtime() {
        return RUNTIME;
    }

    static String resource(String name) {
        try (InputStream in = FirmwareC.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from target-csd");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void line(String s) {
        out.append(s).append('\n');
    }

    private void emit() {
        line("/* Prism csd firmware for " + program.type().id() + " program '" + program.name() + "' (target-csd FirmwareC) */");
        out.append(RUNTIME);
        List<Integer> starts = new ArrayList<>(new TreeSet<>(verified.stackDepths().keySet()));
        if (starts.isEmpty() || starts.get(0) != 0) {
            starts.add(0, 0);
        }
        for (int s : starts) {
            line("static u64 f_" + s + "(struct prism_rt *rt, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5);");
        }
        for (int i = 0; i < starts.size(); i++) {
            int from = starts.get(i);
            int to = i + 1 < starts.size() ? starts.get(i + 1) : program.length();
            function(from, to);
        }
        line("");
        line("u64 prism_entry(u64 r1, u64 r2, struct prism_rt *rt) {");
        line("    return f_0(rt, r1, r2, 0, 0, 0);");
        line("}");
    }

    private void function(int from, int to) {
        int depth = verified.stackDepths().getOrDefault(from, 0);
        int words = Math.max(2, (depth + 15) / 16 * 2);
        BitSet targets = jumpTargets(from, to);
        line("");
        line("static u64 f_" + from + "(struct prism_rt *rt, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5) {");
        line("    u64 r0 = 0, r6 = 0, r7 = 0, r8 = 0, r9 = 0;");
        line("    u64 stack[" + words + "] __attribute__((aligned(16))); /* " + depth + " bytes proven */");
        line("    const u64 r10 = (u64) (uintptr_t) &stack[" + words + "];");
        line("    (void) r1; (void) r2; (void) r3; (void) r4; (void) r5; (void) r6; (void) r7; (void) r8; (void) r9; (void) r10;");
        for (int pc = from; pc < to; pc++) {
            Insn insn = program.at(pc);
            if (insn == null) {
                continue; // lddw's second slot
            }
            if (targets.get(pc)) {
                line("L" + pc + ":");
            }
            line("    /* " + pc + ": " + dev.prism.asm.Disassembler.format(insn).replace("*/", "* /") + " */");
            lowerInsn(pc, insn);
        }
        line("}");
    }

    private BitSet jumpTargets(int from, int to) {
        BitSet b = new BitSet();
        for (int pc = from; pc < to; pc++) {
            Insn insn = program.at(pc);
            int next = pc + (insn == null ? 1 : insn.slots());
            switch (insn) {
                case Insn.Ja j -> b.set(next + j.offset());
                case Insn.Jump j -> b.set(next + j.offset());
                case null, default -> {
                }
            }
        }
        return b;
    }

    /** Firmware C's spelling of the shared ALU and condition expressions (prism_fw.h's types and runtime). */
    private static final CExpressions C = new CExpressions(new CExpressions.Dialect("u64", "u32", "s64", "s32", "s16",
            "s8", FirmwareC::u64, FirmwareC::u32, "63", "31", "0xffff", "prism_",
            (v, s) -> "prism_arsh64(" + v + ", " + s + ")", (v, s) -> "prism_arsh32(" + v + ", " + s + ")"));

    private static String r(Reg reg) {
        return "r" + reg.n();
    }

    private static String u64(long v) {
        return "UINT64_C(0x" + Long.toHexString(v) + ")";
    }

    private static String u32(int v) {
        return "UINT32_C(0x" + Integer.toHexString(v) + ")";
    }

    private static String addr(Reg base, int offset) {
        return "(" + r(base) + " + " + u64(offset) + ")";
    }

    private void lowerInsn(int pc, Insn insn) {
        int next = pc + insn.slots();
        switch (insn) {
            case Insn.Alu a -> line("    " + r(a.dst()) + " = " + C.alu(a) + ";");
            case Insn.Neg g -> line("    " + r(g.dst()) + " = " + (g.width() == Width.W64 ? "0 - " + r(g.dst())
                    : "(u64) (u32) (0 - (u32) " + r(g.dst()) + ")") + ";");
            case Insn.MovSx m -> line("    " + r(m.dst()) + " = " + C.movsx(m) + ";");
            case Insn.Endian e -> line("    " + r(e.dst()) + " = " + C.endian(e) + ";");
            case Insn.LoadImm64 l -> line("    " + r(l.dst()) + " = " + switch (l.kind()) {
                case IMM64 -> u64(l.value());
                case MAP_BY_IDX -> "rt->maps[" + l.imm() + "]";
                case MAP_VALUE_BY_IDX -> "rt->values[" + l.imm() + "] + " + u64(l.nextImm() & 0xffff_ffffL);
                case MAP_BY_FD, MAP_VALUE_BY_FD, VARIABLE_ADDR, CODE_ADDR ->
                        throw new IllegalStateException(pc + ": internal error: lddw " + l.kind() + " passed check");
            } + ";");
            case Insn.Load l -> line("    " + r(l.dst()) + " = " + (l.signExtend() ? "LDS" : "LD") + l.size().bytes() * 8
                    + "(" + addr(l.src(), l.offset()) + ");");
            case Insn.Store s -> line("    ST" + s.size().bytes() * 8 + "(" + addr(s.dst(), s.offset()) + ", " + C.src64(s.src()) + ");");
            case Insn.Atomic a -> line("    " + atomic(a));
            case Insn.Ja j -> line("    goto L" + (next + j.offset()) + ";");
            case Insn.Jump j -> line("    if (" + C.cond(j) + ") goto L" + (next + j.offset()) + ";");
            case Insn.Call c -> {
                switch (c.kind()) {
                    case LOCAL -> line("    r0 = f_" + (next + c.imm()) + "(rt, r1, r2, r3, r4, r5); if (rt->status) return 0;");
                    case HELPER -> line("    " + helper(pc, c.imm()));
                    case HELPER_BTF -> throw new IllegalStateException(pc + ": internal error: call btf passed check");
                }
            }
            case Insn.CallX x -> throw new IllegalStateException(pc + ": internal error: callx passed check");
            case Insn.Exit e -> line("    return r0;");
            case Insn.PacketLoad p -> throw new IllegalStateException(pc + ": internal error: legacy packet load passed check");
        }
    }

    /**
     * RFC 9669 5.3 through gcc's {@code __atomic} builtins, sequentially consistent: the plain
     * forms discard the old value, the fetch forms put it in src (zero-extended for 32 bits),
     * cmpxchg compares with r0 (its low half for 32 bits) and puts the old value in r0. Fetch
     * or/and/xor are compare-and-swap loops over {@code __atomic_compare_exchange_n}
     * (prism_fw.h says why).
     */
    private static String atomic(Insn.Atomic a) {
        boolean w = a.size() == Size.W;
        String t = w ? "u32" : "u64";
        String p = "(" + t + " *) (uintptr_t) " + addr(a.dst(), a.offset());
        String s = "(" + t + ") " + r(a.src());
        String old = "(u64) ";
        String mo = "__ATOMIC_SEQ_CST";
        return switch (a.op()) {
            case ADD -> "(void) __atomic_fetch_add(" + p + ", " + s + ", " + mo + ");";
            case OR -> "(void) __atomic_fetch_or(" + p + ", " + s + ", " + mo + ");";
            case AND -> "(void) __atomic_fetch_and(" + p + ", " + s + ", " + mo + ");";
            case XOR -> "(void) __atomic_fetch_xor(" + p + ", " + s + ", " + mo + ");";
            case FETCH_ADD -> r(a.src()) + " = " + old + "__atomic_fetch_add(" + p + ", " + s + ", " + mo + ");";
            // explicit CAS loops in prism_fw.h: gcc 12.2 (x86-64) drops the OR from its own loop for
            // __atomic_fetch_or in some contexts (FirmwareAluFuzzTest found it)
            case FETCH_OR -> r(a.src()) + " = " + old + "prism_fetch_or" + a.size().bytes() * 8 + "(" + p + ", " + s + ");";
            case FETCH_AND -> r(a.src()) + " = " + old + "prism_fetch_and" + a.size().bytes() * 8 + "(" + p + ", " + s + ");";
            case FETCH_XOR -> r(a.src()) + " = " + old + "prism_fetch_xor" + a.size().bytes() * 8 + "(" + p + ", " + s + ");";
            case XCHG -> r(a.src()) + " = " + old + "__atomic_exchange_n(" + p + ", " + s + ", " + mo + ");";
            case CMPXCHG -> "{ " + t + " expected = (" + t + ") r0; (void) __atomic_compare_exchange_n(" + p + ", &expected, "
                    + s + ", 0, " + mo + ", " + mo + "); r0 = (u64) expected; }";
        };
    }

    /** Helper calls: only r0 is written; r1-r5 are dead afterwards (the verifier refuses reading them). */
    private static String helper(int pc, int id) {
        if (id == Helpers.CSD_READ) {
            return "r0 = prism_csd_read(rt, r1, r2, r3);";
        }
        if (id == Helpers.TAIL_CALL || id == Helpers.LOOP || id == Helpers.FOR_EACH_MAP_ELEM) {
            throw new IllegalStateException(pc + ": internal error: helper " + id + " passed check");
        }
        return "r0 = PRISM_HELPER(" + id + ", " + pc + "); if (rt->status) return 0;";
    }
}
