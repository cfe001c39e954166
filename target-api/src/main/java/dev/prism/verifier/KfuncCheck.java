package dev.prism.verifier;

import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import dev.prism.runtime.Kfuncs;
import dev.prism.verifier.cfg.Block;
import dev.prism.verifier.cfg.FunctionCfg;
import dev.prism.verifier.cfg.Loop;
import dev.prism.verifier.domain.Scalar;
import java.util.Arrays;

/**
 * The open-coded number iterator, {@code bpf_iter_num_new/next/destroy} ({@link Kfuncs}), as
 * Linux checks it (kernel/bpf/verifier.c, process_iter_arg, process_iter_next_call):
 * <ul>
 *   <li>the iterator is 8 bytes of stack at a constant, 8-byte aligned offset; new() makes the
 *       slot a live iterator (a spilled {@link Value.Kind#ITER} value) and refuses a slot that
 *       holds one already; next() and destroy() need a live one; destroy() leaves the slot
 *       uninitialized; a function may not return with a live iterator in its frame (Linux:
 *       an unreleased reference);
 *   <li>next() returns a nullable pointer to the current number, 4 read-only bytes;
 *   <li>the slot is an ordinary spill otherwise: storing over it ends the iterator (next() on it
 *       is refused), reading it gives a pointer that cannot be dereferenced or leaked.
 * </ul>
 * Termination ({@link #iteratorLoopTrips}): Linux explores such a loop until its states
 * converge; Prism instead bounds it by the iterator: a loop whose every iteration calls next()
 * on one slot, and goes on only when the result is not null, runs at most as many times as
 * the iterator has numbers, plus one.
 */
final class KfuncCheck {
    private KfuncCheck() {
    }

    /** Checks a kfunc call and applies its effect on the stack; {@return r0 afterwards} */
    static Value check(Verifier v, int pc, State s, int id) {
        Kfuncs.Kfunc k = Kfuncs.byId(id).orElseThrow(() -> v.rejectAt(pc, "unknown helper",
                "call btf " + id + ": not a kernel function Prism implements (" + Kfuncs.all().stream().map(Kfuncs.Kfunc::name).toList() + ")"));
        String name = k.name();
        Value.Ptr p = slot(v, pc, s, name);
        int frame = p.map();
        int i = Frame.index(p.fixed());
        Frame f = s.frames.get(frame);
        Value held = f.types[i] == Frame.SPILL ? f.spills[i / 8] : null;
        Value.Ptr live = held instanceof Value.Ptr q && q.kind() == Value.Kind.ITER ? q : null;
        switch (id) {
            case Kfuncs.ITER_NUM_NEW -> {
                if (live != null) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + ": fp" + p.fixed() + " holds a live iterator (destroy it first)");
                }
                Scalar start = scalar(v, pc, s, 2, name);
                Scalar end = scalar(v, pc, s, 3, name);
                // the most numbers it yields: end - start (as ints) at most, 0 when new() fails
                long n = Math.max(0, Math.min((long) end.s32max() - start.s32min(), Kfuncs.MAX_LOOPS));
                Frame w = s.writableFrame(frame);
                Arrays.fill(w.types, i, i + 8, Frame.SPILL);
                w.spills[i / 8] = new Value.Ptr(Value.Kind.ITER, 0, Scalar.constant(0), v.freshId(), frame, false, (int) n, 0);
                w.forget(i, 8);
                s.raiseDepth(w, (int) -p.fixed());
                v.stackSizeCheck(pc, s);
                return Value.scalar(Scalar.signedRange(-22, 0));
            }
            case Kfuncs.ITER_NUM_NEXT -> {
                if (live == null) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + ": fp" + p.fixed() + " holds no live iterator");
                }
                v.sawIteratorNext(pc, frame, p.fixed(), live.size());
                return new Value.Ptr(Value.Kind.MAP_KEY, 0, Scalar.constant(0), v.freshId(), -1, true, 4, 0);
            }
            default -> { // ITER_NUM_DESTROY
                if (live == null) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + ": fp" + p.fixed() + " holds no live iterator");
                }
                Frame w = s.writableFrame(frame);
                Arrays.fill(w.types, i, i + 8, Frame.INVALID);
                w.spills[i / 8] = null;
                w.forget(i, 8);
                return Value.UNINIT;
            }
        }
    }

    /** {@return r1 as the iterator's stack slot} */
    private static Value.Ptr slot(Verifier v, int pc, State s, String name) {
        Value it = s.regs[1];
        if (it instanceof Value.Uninit) {
            throw v.rejectAt(pc, "read of uninitialized register", "r1");
        }
        if (!(it instanceof Value.Ptr p) || p.kind() != Value.Kind.STACK || p.hasVar() || Math.floorMod(p.fixed(), 8) != 0
                || p.fixed() < -Frame.SIZE || p.fixed() + 8 > 0) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " needs an 8-byte aligned stack slot (struct bpf_iter_num) in r1, not " + it);
        }
        return p;
    }

    private static Scalar scalar(Verifier v, int pc, State s, int r, String name) {
        Value x = s.regs[r];
        if (x instanceof Value.Uninit) {
            throw v.rejectAt(pc, "read of uninitialized register", "r" + r);
        }
        if (!(x instanceof Value.Scal sc)) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " needs a number in r" + r + ", not " + x);
        }
        return sc.s();
    }

    /**
     * {@return the pc in [first, last] of the last instruction before last + 1 that may write r0,
     * or -1 when none does} (the straight-line instructions between may write other registers
     * and memory)
     */
    private static int lastWriteOfR0(Insn[] code, int first, int last) {
        for (int pc = last; pc >= first; pc--) {
            boolean writesR0 = switch (code[pc]) {
                case null -> false; // the second slot of an lddw
                case Insn.Alu a -> a.dst() == Reg.R0;
                case Insn.Neg n -> n.dst() == Reg.R0;
                case Insn.MovSx m -> m.dst() == Reg.R0;
                case Insn.Endian e -> e.dst() == Reg.R0;
                case Insn.LoadImm64 l -> l.dst() == Reg.R0;
                case Insn.Load l -> l.dst() == Reg.R0;
                case Insn.Store st -> false;
                case Insn.Atomic at -> true; // cmpxchg and fetches may write r0: do not look past them
                case Insn.Ja j -> true;
                case Insn.Jump j -> true;
                case Insn.Call c -> true;
                case Insn.CallX c -> true;
                case Insn.Exit e -> true;
                case Insn.PacketLoad p -> true;
            };
            if (writesR0) {
                return pc;
            }
        }
        return -1;
    }

    /** A function's exit with a live iterator in its frame: Linux's unreleased reference. */
    static void checkReleased(Verifier v, int pc, Frame f) {
        for (int slot = (Frame.SIZE - f.depth) / 8; slot < Frame.SIZE / 8; slot++) {
            if (f.spills[slot] instanceof Value.Ptr p && p.kind() == Value.Kind.ITER && f.types[slot * 8] == Frame.SPILL) {
                throw v.rejectAt(pc, "unreleased reference", "the iterator at fp" + (slot * 8 - Frame.SIZE)
                        + " is not destroyed (bpf_iter_num_destroy)");
            }
        }
    }

    /**
     * {@return the most iterations of a loop that an iterator bounds, or -1} The loop must have a
     * conditional jump, on every iteration's path, that leaves the loop when r0 is 0 and
     * follows a bpf_iter_num_next call in the same block; every such call seen there took the
     * same slot ({@link Verifier#iteratorNext}); and nothing in the loop can make a new
     * iterator (no bpf_iter_num_new, no function calls). Then each iteration takes a number
     * from one iterator, which has at most n of them.
     */
    static long iteratorLoopTrips(Verifier v, FunctionCfg f, Loop loop) {
        Insn[] code = v.code();
        for (int blockStart : loop.body()) {
            Block b = f.block(blockStart);
            for (int pc = b.first(); pc <= b.last(); pc++) {
                // a function (a local call, or a callback of bpf_loop / for_each) could remake
                // the iterator through a pointer to this frame
                if (code[pc] instanceof Insn.Call c && (c.kind() == CallKind.LOCAL
                        || (c.kind() == CallKind.HELPER_BTF && c.imm() == Kfuncs.ITER_NUM_NEW)
                        || (c.kind() == CallKind.HELPER && (c.imm() == dev.prism.runtime.Helpers.LOOP
                        || c.imm() == dev.prism.runtime.Helpers.FOR_EACH_MAP_ELEM)))
                        || code[pc] instanceof Insn.CallX) {
                    return -1;
                }
            }
        }
        for (int blockStart : loop.body()) {
            Block b = f.block(blockStart);
            int pc = b.last();
            if (pc == b.first() || !(code[pc] instanceof Insn.Jump j) || j.dst() != Reg.R0 || j.width() != Width.W64
                    || !(j.src() instanceof Imm imm) || imm.value() != 0 || (j.op() != JumpOp.JEQ && j.op() != JumpOp.JNE)) {
                continue;
            }
            int call = lastWriteOfR0(code, b.first(), pc - 1);
            if (call < 0 || !(code[call] instanceof Insn.Call c) || c.kind() != CallKind.HELPER_BTF || c.imm() != Kfuncs.ITER_NUM_NEXT) {
                continue;
            }
            int taken = pc + 1 + j.offset();
            int nullEdge = j.op() == JumpOp.JEQ ? taken : pc + 1;
            int otherEdge = j.op() == JumpOp.JEQ ? pc + 1 : taken;
            if (LoopBounds.inLoopPc(f, loop, nullEdge) || !LoopBounds.inLoopPc(f, loop, otherEdge)
                    || !LoopBounds.dominatesBackEdgesPc(f, loop, pc)) {
                continue;
            }
            long n = v.iteratorNext(call);
            if (n >= 0) {
                return n + 1;
            }
        }
        return -1;
    }
}
