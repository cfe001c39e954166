package dev.prism.verifier;

import dev.prism.isa.AluOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import dev.prism.verifier.cfg.Block;
import dev.prism.verifier.cfg.FunctionCfg;
import dev.prism.verifier.cfg.Loop;
import dev.prism.verifier.domain.Scalar;

/**
 * Termination: a loop is accepted when an induction variable bounds it. The proof looks for
 * <ul>
 *   <li>a conditional jump in the loop, on every iteration's path (its block dominates every
 *       back edge), with one edge leaving the loop;</li>
 *   <li>comparing a register {@code i} with a bound that the loop does not change (an immediate,
 *       or a register the loop never writes, whose value at the loop head is bounded);</li>
 *   <li>{@code i} written in the loop only by {@code add i, c} / {@code sub i, c} with a
 *       constant c, each on every iteration's path, all moving {@code i} the same way, and the
 *       exit edge taken once {@code i} passes the bound in that direction.</li>
 * </ul>
 * Then the trip count is at most (bound - i at entry) / |c| + 1; the numbers come from the
 * abstract state at the loop head. Anything else is refused as an unbounded loop, naming the
 * head and the back edge.
 */
final class LoopBounds {
    /** Trip counts above this are refused: Linux's instruction budget would stop them too. */
    static final long MAX_TRIPS = 1L << 23;

    private LoopBounds() {
    }

    static long prove(Verifier v, FunctionCfg f, Loop loop) {
        Insn[] code = v.code();
        int backEdge = f.block(loop.backEdgeSources().get(0)).last();
        String where = "head " + loop.head() + ", back edge " + backEdge;
        State entry = v.loopState(loop.head(), true);
        if (entry == null) {
            return 0; // never reached on an accepted path
        }
        for (int blockStart : loop.body()) {
            Block b = f.block(blockStart);
            if (!(code[b.last()] instanceof Insn.Jump j)) {
                continue;
            }
            int pc = b.last();
            int taken = pc + 1 + j.offset();
            int fall = pc + 1;
            boolean takenLeaves = !inLoop(f, loop, taken);
            boolean fallLeaves = !inLoop(f, loop, fall);
            if (takenLeaves == fallLeaves || !dominatesBackEdges(f, loop, pc)) {
                continue;
            }
            Reg i = j.dst();
            long step = step(code, f, loop, i);
            if (step == 0) {
                continue;
            }
            Scalar bound;
            if (j.src() instanceof Imm imm) {
                bound = Scalar.constant(j.width() == Width.W32 ? imm.value() & 0xffff_ffffL : imm.value());
            } else {
                Reg r = (Reg) j.src();
                if (writtenInLoop(code, f, loop, r) || !(entry.regs[r.n()] instanceof Value.Scal bs)) {
                    continue;
                }
                bound = bs.s();
            }
            if (!(entry.regs[i.n()] instanceof Value.Scal start)) {
                continue;
            }
            // Normalise to "the loop continues while i REL bound".
            JumpOp stay = takenLeaves ? j.op().equals(JumpOp.JSET) ? null : negate(j.op()) : j.op();
            if (stay == null) {
                continue;
            }
            long trips = trips(stay, j.width(), step, start.s(), bound);
            if (trips >= 0 && trips <= MAX_TRIPS) {
                return trips;
            }
        }
        throw v.rejectLoop(loop.head(), where);
    }

    private static JumpOp negate(JumpOp op) {
        return op == JumpOp.JSET ? null : op.negate();
    }

    /**
     * {@return the largest number of iterations, or -1} when "i REL bound" with i moving by
     * {@code step} each iteration need not become false.
     */
    private static long trips(JumpOp stay, Width w, long step, Scalar start, Scalar bound) {
        boolean w32 = w == Width.W32;
        boolean signed = stay == JumpOp.JSLT || stay == JumpOp.JSLE || stay == JumpOp.JSGT || stay == JumpOp.JSGE;
        long lo = signed ? (w32 ? start.s32min() : start.smin()) : (w32 ? start.u32min() & 0xffff_ffffL : start.umin());
        long hi = signed ? (w32 ? start.s32max() : start.smax()) : (w32 ? start.u32max() & 0xffff_ffffL : start.umax());
        long bmin = signed ? (w32 ? bound.s32min() : bound.smin()) : (w32 ? bound.u32min() & 0xffff_ffffL : bound.umin());
        long bmax = signed ? (w32 ? bound.s32max() : bound.smax()) : (w32 ? bound.u32max() & 0xffff_ffffL : bound.umax());
        long limit = w32 ? (signed ? Integer.MAX_VALUE : 0xffff_ffffL) : (signed ? Long.MAX_VALUE : -1L);
        switch (stay) {
            case JLT, JLE, JSLT, JSLE -> {
                if (step <= 0) {
                    return -1;
                }
                // i grows towards the bound; it must not wrap before leaving the loop
                long last = stay == JumpOp.JLE || stay == JumpOp.JSLE ? bmax : bmax - 1;
                if (!fits(last, step, limit, signed)) {
                    return -1;
                }
                long span = signed ? last - lo : last - lo; // unsigned values < 2^63 here
                if ((!signed && (last < 0 || lo < 0)) || span < 0) {
                    return span < 0 ? 1 : -1;
                }
                return span / step + 1;
            }
            case JGT, JGE, JSGT, JSGE -> {
                if (step >= 0) {
                    return -1;
                }
                long last = stay == JumpOp.JGE || stay == JumpOp.JSGE ? bmin : bmin + 1;
                long floor = signed ? (w32 ? Integer.MIN_VALUE : Long.MIN_VALUE) : 0;
                if (last - (-step) < floor && !(signed ? last + step >= floor : Long.compareUnsigned(last, -step) >= 0)) {
                    return -1; // could wrap below the floor
                }
                long span = hi - last;
                if ((!signed && hi < 0) || span < 0) {
                    return span < 0 ? 1 : -1;
                }
                return span / (-step) + 1;
            }
            case JNE -> {
                // i != bound: only with unit steps from a known side, i cannot skip the bound
                if (Math.abs(step) != 1 || !bound.isConstant()) {
                    return -1;
                }
                long b = bound.constantValue();
                if (step > 0 && hi <= b && lo >= 0) {
                    return b - lo + 1;
                }
                if (step < 0 && lo >= b && b >= 0) {
                    return hi - b + 1;
                }
                return -1;
            }
            default -> {
                return -1;
            }
        }
    }

    private static boolean fits(long last, long step, long limit, boolean signed) {
        // last + step must not overflow the type, so i cannot wrap past the bound
        return signed ? last <= limit - step : (limit == -1L ? Long.compareUnsigned(last, -1L - step) <= 0 : last <= limit - step);
    }

    private static boolean inLoop(FunctionCfg f, Loop loop, int pc) {
        return f.blockContaining(pc).map(b -> loop.body().contains(b.first())).orElse(false);
    }

    private static boolean dominatesBackEdges(FunctionCfg f, Loop loop, int pc) {
        for (int src : loop.backEdgeSources()) {
            if (!f.dominates(pc, f.block(src).last())) {
                return false;
            }
        }
        return true;
    }

    /** {@return the constant step of {@code r} per iteration, or 0 when it is not an induction variable} */
    private static long step(Insn[] code, FunctionCfg f, Loop loop, Reg r) {
        long step = 0;
        for (int start : loop.body()) {
            Block b = f.block(start);
            for (int pc = b.first(); pc <= b.last(); pc++) {
                Insn insn = code[pc];
                if (insn == null || !writes(insn, r)) {
                    continue;
                }
                if (!(insn instanceof Insn.Alu a) || !(a.src() instanceof Imm c) || (a.op() != AluOp.ADD && a.op() != AluOp.SUB)) {
                    return 0;
                }
                long d = a.op() == AluOp.ADD ? c.value() : -(long) c.value();
                if (d == 0 || (step != 0 && Long.signum(d) != Long.signum(step)) || !dominatesBackEdges(f, loop, pc)) {
                    return 0;
                }
                // several updates on the path add up; the smallest move is the safe per-iteration bound
                step = step == 0 ? d : (Math.abs(d) < Math.abs(step) ? d : step);
            }
        }
        return step;
    }

    private static boolean writtenInLoop(Insn[] code, FunctionCfg f, Loop loop, Reg r) {
        for (int start : loop.body()) {
            Block b = f.block(start);
            for (int pc = b.first(); pc <= b.last(); pc++) {
                if (code[pc] != null && writes(code[pc], r)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@return whether {@code insn} may write {@code r}} */
    static boolean writes(Insn insn, Reg r) {
        return switch (insn) {
            case Insn.Alu a -> a.dst() == r;
            case Insn.Neg n -> n.dst() == r;
            case Insn.MovSx m -> m.dst() == r;
            case Insn.Endian e -> e.dst() == r;
            case Insn.LoadImm64 l -> l.dst() == r;
            case Insn.Load l -> l.dst() == r;
            case Insn.Atomic a -> (a.op().fetches() && a.src() == r) || (a.op() == dev.prism.isa.AtomicOp.CMPXCHG && r == Reg.R0);
            case Insn.Call c -> r.n() <= 5;
            case Insn.CallX c -> r.n() <= 5;
            case Insn.PacketLoad p -> r.n() <= 5;
            case Insn.Store s -> false;
            case Insn.Ja j -> false;
            case Insn.Jump j -> false;
            case Insn.Exit e -> false;
        };
    }
}
