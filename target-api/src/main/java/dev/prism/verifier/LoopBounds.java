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
import java.math.BigInteger;

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
            long pointerTrips = pointerLoop(code, f, loop, b, j, entry, takenLeaves);
            if (pointerTrips >= 0 && pointerTrips <= MAX_TRIPS) {
                return pointerTrips;
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
            long trips = trips(stay, j.width(), step, start.s(), bound, updates(code, f, loop, i) == 1);
            if (trips >= 0 && trips <= MAX_TRIPS) {
                return trips;
            }
        }
        long byIterator = KfuncCheck.iteratorLoopTrips(v, f, loop);
        if (byIterator >= 0 && byIterator <= MAX_TRIPS + 1) {
            return byIterator;
        }
        throw v.rejectLoop(loop.head(), where);
    }

    /**
     * {@return the trip bound of a loop whose exit {@code j} compares a packet pointer that moves
     * by a constant each iteration with a bound the loop does not change ({@link #pointerTrips}),
     * or -1} The moving pointer may be either operand, and may be the induction variable itself
     * or {@code mov x, p; add x, c} of it in the exit's block (clang checks {@code p + 4 <=
     * data_end} so, then reads at p).
     */
    private static long pointerLoop(Insn[] code, FunctionCfg f, Loop loop, Block b, Insn.Jump j, State entry, boolean takenLeaves) {
        if (j.width() != Width.W64 || !(j.src() instanceof Reg src)) {
            return -1;
        }
        for (boolean swapped : new boolean[] {false, true}) {
            Reg x = swapped ? src : j.dst();
            Reg other = swapped ? j.dst() : src;
            if (writtenInLoop(code, f, loop, other)) {
                continue;
            }
            Reg base = x;
            long step = step(code, f, loop, x);
            if (step == 0) {
                base = copiedFrom(code, b, x);
                step = base == null ? 0 : step(code, f, loop, base);
            }
            if (step == 0 || !(entry.regs[base.n()] instanceof Value.Ptr p)) {
                continue;
            }
            JumpOp op = swapped ? Verifier.swap(j.op()) : j.op();
            long trips = pointerTrips(p, entry.regs[other.n()], takenLeaves ? negate(op) : op, step);
            if (trips >= 0) {
                return trips;
            }
        }
        return -1;
    }

    /**
     * {@return the register {@code x} was copied from before the last instruction of block
     * {@code b}, when in that block x is written only by one {@code mov x, base} (64-bit) and
     * then {@code add x, c} with non-negative constants (so x is never behind base, and the
     * distance base has left to the bound is at most the one x has); else null}
     */
    private static Reg copiedFrom(Insn[] code, Block b, Reg x) {
        for (int pc = b.last() - 1; pc >= b.first(); pc--) {
            Insn insn = code[pc];
            if (insn == null || !writes(insn, x)) {
                continue;
            }
            if (insn instanceof Insn.Alu a && a.width() == Width.W64 && a.op() == AluOp.ADD && a.src() instanceof Imm c) {
                if (c.value() < 0) {
                    return null; // x = base - c would stay behind the pointer: not counted here
                }
                continue;
            }
            if (insn instanceof Insn.Alu a && a.width() == Width.W64 && a.op() == AluOp.MOV && a.src() instanceof Reg r && r != x) {
                for (int q = pc + 1; q < b.last(); q++) {
                    if (code[q] != null && writes(code[q], r)) {
                        return null; // the base moved after the copy
                    }
                }
                return r;
            }
            return null;
        }
        return null;
    }

    /**
     * {@return the largest number of iterations of a loop that moves packet pointer {@code p} by
     * {@code step} bytes per iteration and stays while {@code p STAY bound}, or -1} A loop is
     * bounded when a value moves monotonically toward a bound it is compared with; here the
     * value is an address. The bound is data_end, which is at most {@link Verifier#MAX_PACKET_OFF}
     * bytes past data, or a packet pointer the loop does not change (data plus a constant, or
     * plus a bounded variable part). Both are offsets from data, so the distance left is at most
     * the bound's largest offset minus the pointer's smallest, and the pointer closes it by
     * {@code step} each time. Only the orders where moving toward the bound ends the loop count
     * (an upward step against {@code <} or {@code <=}, a downward one against {@code >} or
     * {@code >=}); addresses in the packet do not wrap.
     */
    private static long pointerTrips(Value.Ptr p, Value bound, JumpOp stay, long step) {
        if (p.kind() != Value.Kind.PACKET || stay == null || !(bound instanceof Value.Ptr b) || p.var().smin() < 0
                || b.map() != p.map()) {
            return -1; // (map: a csd program's two packets, data and out, bound nothing of each other)
        }
        long boundMax;
        if (b.kind() == Value.Kind.PACKET_END) {
            boundMax = Verifier.MAX_PACKET_OFF;
        } else if (b.kind() == Value.Kind.PACKET && b.var().smin() >= 0 && b.maxOffset() <= Verifier.MAX_VAR_OFF) {
            boundMax = b.maxOffset();
        } else {
            return -1;
        }
        boolean upward = switch (stay) {
            case JLT, JLE, JSLT, JSLE -> true;
            case JGT, JGE, JSGT, JSGE -> false;
            default -> {
                yield step > 0; // JEQ/JNE/JSET: no monotone exit
            }
        };
        if (stay == JumpOp.JEQ || stay == JumpOp.JNE || stay == JumpOp.JSET || upward != step > 0 || !upward) {
            return -1; // a pointer counting down toward data is not a form clang writes; refused
        }
        long span = boundMax - p.minOffset();
        return span < 0 ? 1 : span / step + 2;
    }

    /** {@link #inLoop}, for {@link KfuncCheck}. */
    static boolean inLoopPc(FunctionCfg f, Loop loop, int pc) {
        return inLoop(f, loop, pc);
    }

    /** {@link #dominatesBackEdges}, for {@link KfuncCheck}. */
    static boolean dominatesBackEdgesPc(FunctionCfg f, Loop loop, int pc) {
        return dominatesBackEdges(f, loop, pc);
    }

    private static JumpOp negate(JumpOp op) {
        return op == JumpOp.JSET ? null : op.negate();
    }

    /**
     * {@return the largest number of iterations, or -1} when "i REL bound" with i moving by
     * {@code step} each iteration need not become false. Computed exactly (BigInteger), in the
     * comparison's own order and width, so no wrap-around can fake a small count.
     */
    private static long trips(JumpOp stay, Width w, long step, Scalar start, Scalar bound, boolean singleUpdate) {
        boolean w32 = w == Width.W32;
        boolean signed = stay == JumpOp.JSLT || stay == JumpOp.JSLE || stay == JumpOp.JSGT || stay == JumpOp.JSGE;
        BigInteger lo = value(signed, w32, true, start);
        BigInteger hi = value(signed, w32, false, start);
        BigInteger bmin = value(signed, w32, true, bound);
        BigInteger bmax = value(signed, w32, false, bound);
        BigInteger typeMax = signed ? BigInteger.ONE.shiftLeft(w32 ? 31 : 63).subtract(BigInteger.ONE)
                : BigInteger.ONE.shiftLeft(w32 ? 32 : 64).subtract(BigInteger.ONE);
        BigInteger typeMin = signed ? BigInteger.ONE.shiftLeft(w32 ? 31 : 63).negate() : BigInteger.ZERO;
        BigInteger d = BigInteger.valueOf(Math.abs(step));
        switch (stay) {
            case JLT, JLE, JSLT, JSLE -> {
                if (step <= 0) {
                    return -1;
                }
                // the largest i that stays; i + step must not wrap past the type's top
                BigInteger last = stay == JumpOp.JLE || stay == JumpOp.JSLE ? bmax : bmax.subtract(BigInteger.ONE);
                if (last.add(d).compareTo(typeMax) > 0) {
                    return -1;
                }
                return count(last.subtract(lo), d);
            }
            case JGT, JGE, JSGT, JSGE -> {
                if (step >= 0) {
                    return -1;
                }
                BigInteger last = stay == JumpOp.JGE || stay == JumpOp.JSGE ? bmin : bmin.add(BigInteger.ONE);
                if (last.subtract(d).compareTo(typeMin) < 0) {
                    return -1;
                }
                return count(hi.subtract(last), d);
            }
            case JNE -> {
                // i != bound: unit steps cannot skip the bound, from its known side, and strictly
                // on that side: i == bound at the head may be stepped past before the comparison
                // (add; jne), and then the loop runs until i wraps around. A larger step from a
                // known start lands on the bound exactly when the distance is a positive multiple
                // of it (clang's "i += 2; i != 1500" for a loop over 16-bit words).
                if (bmin.compareTo(bmax) != 0) {
                    return -1;
                }
                if (d.compareTo(BigInteger.ONE) != 0) {
                    if (lo.compareTo(hi) != 0 || bmin.subtract(lo).mod(d).signum() != 0) {
                        return -1;
                    }
                    BigInteger dist = step > 0 ? bmin.subtract(lo) : lo.subtract(bmin);
                    return dist.signum() <= 0 || !singleUpdate ? -1 : count(dist, d);
                }
                if (step > 0 && hi.compareTo(bmin) < 0) {
                    return count(bmin.subtract(lo), d);
                }
                if (step < 0 && lo.compareTo(bmin) > 0) {
                    return count(hi.subtract(bmin), d);
                }
                return -1;
            }
            default -> {
                return -1;
            }
        }
    }

    /** {@return span / step + 1 iterations (1 when the loop cannot repeat), or -1 when too many} */
    private static long count(BigInteger span, BigInteger step) {
        if (span.signum() < 0) {
            return 1;
        }
        BigInteger n = span.divide(step).add(BigInteger.ONE);
        return n.bitLength() > 62 ? -1 : n.longValueExact();
    }

    private static BigInteger value(boolean signed, boolean w32, boolean min, Scalar s) {
        if (signed) {
            return BigInteger.valueOf(w32 ? (min ? s.s32min() : s.s32max()) : (min ? s.smin() : s.smax()));
        }
        long v = w32 ? (min ? s.u32min() : s.u32max()) & 0xffff_ffffL : (min ? s.umin() : s.umax());
        return new BigInteger(Long.toUnsignedString(v));
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

    /** {@return how many instructions of the loop write {@code r}} */
    private static int updates(Insn[] code, FunctionCfg f, Loop loop, Reg r) {
        int n = 0;
        for (int start : loop.body()) {
            Block b = f.block(start);
            for (int pc = b.first(); pc <= b.last(); pc++) {
                if (code[pc] != null && writes(code[pc], r)) {
                    n++;
                }
            }
        }
        return n;
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
