package dev.prism.arm64;

import dev.prism.isa.Insn;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.program.Program;

/**
 * Which local calls {@link A64Jit} lowers as a copy of the callee's body: those of a <em>bare
 * leaf</em> of at most {@link #INLINE_SLOTS} slots, the arm64 twin of the x86-64 JIT's
 * {@code X86Frames.Frame#bare}.
 *
 * <p>A bare leaf writes none of r6-r9, never names r10 and calls nothing (no local call, helper,
 * kfunc, {@code callx} or legacy packet load). What a call stub does for a callee is then moot
 * (see {@link A64Jit}'s class comment): x19-x22 (r6-r9) need no saving since nothing writes
 * them, x25 (r10) and sp need no fresh frame since nothing addresses one, x30 needs no saving
 * since no {@code bl} runs in between. The depth counter would count one frame more, but the
 * verifier bounded the frames of every local call chain (8, Linux MAX_CALL_FRAMES) and a copy
 * opens none, so the ninth-frame trap cannot be missed. A tail call is a helper call, so none
 * happens inside a bare leaf. Its callee epilogue would only undo the stub, so a copy's exits
 * skip it and branch past the copy.
 */
final class A64Inline {
    /**
     * Bare leaves of at most this many slots (an lddw counts two) are inlined at each local call,
     * as on x86-64: the copy saves a call stub, its epilogue and the branches to them.
     */
    static final int INLINE_SLOTS = 24;

    private A64Inline() {
    }

    /**
     * {@return whether the function occupying slots [{@code t}, {@code end}) is a bare leaf of
     * at most {@link #INLINE_SLOTS} slots whose jumps all stay inside it}
     */
    static boolean inlineable(Program program, int t, int end) {
        if (t <= 0 || end - t > INLINE_SLOTS) {
            return false;
        }
        for (int pc = t; pc < end; pc++) {
            Insn insn = program.at(pc);
            if (insn == null) {
                continue;
            }
            boolean bare = switch (insn) {
                case Insn.Alu x -> plain(x.dst()) && readable(x.src());
                case Insn.Neg x -> plain(x.dst());
                case Insn.MovSx x -> plain(x.dst()) && x.src() != Reg.R10;
                case Insn.Endian x -> plain(x.dst());
                case Insn.LoadImm64 x -> plain(x.dst());
                case Insn.Load x -> plain(x.dst()) && x.src() != Reg.R10;
                case Insn.Store x -> x.dst() != Reg.R10 && readable(x.src());
                // a fetch writes its src; cmpxchg writes r0, which a call clobbers anyway
                case Insn.Atomic x -> x.dst() != Reg.R10 && (x.op().fetches() ? plain(x.src()) : x.src() != Reg.R10);
                case Insn.Ja x -> inside(pc + 1L + x.offset(), t, end);
                case Insn.Jump x -> x.dst() != Reg.R10 && readable(x.src()) && inside(pc + 1L + x.offset(), t, end);
                case Insn.Call x -> false;
                case Insn.CallX x -> false;
                case Insn.PacketLoad x -> false; // reads r6 and may end the run
                case Insn.Exit x -> true;
            };
            if (!bare) {
                return false;
            }
        }
        return true;
    }

    /** {@return whether a leaf may write {@code r}: r0-r5, which a call clobbers} */
    private static boolean plain(Reg r) {
        return r.n() <= 5;
    }

    private static boolean readable(Operand o) {
        return o != Reg.R10;
    }

    /**
     * {@return whether slot {@code target} is in [t, end)}: the verifier keeps jumps inside
     * their function, checked again because a copy binds fresh labels only for its own slots
     */
    private static boolean inside(long target, int t, int end) {
        return target >= t && target < end;
    }
}
