package dev.prism.verifier;

import dev.prism.isa.AluOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import dev.prism.verifier.domain.Scalar;
import dev.prism.verifier.domain.ScalarAlu;
import java.util.ArrayList;
import java.util.List;

/**
 * Registers that hold the same number, or the same number plus a constant, since a copy: what
 * Linux's verifier tracks with scalar ids and BPF_ADD_CONST (sync_linked_regs), so that a
 * bounds check on one copy bounds the other. clang relies on it: for {@code if (i >= 10 &&
 * i <= 245) v->b[i]} it emits {@code w2 = w1; w2 += -10; if w2 > 235 goto out; ... r0 += r1},
 * checking a shifted copy and indexing with the original.
 *
 * <p>A link says a == f(b) for two registers, with f(x) = x + delta (64 bits) or
 * f(x) = zext32(x + delta) (a 32-bit copy or addition). It holds for the Value objects the
 * registers had when it was made: both are made fresh then, and a Value object travels only
 * by copies of the same number (mov, spill and fill, the callee-saved registers across a
 * call), so while each register still holds its object (compared by identity) the relation
 * holds. Where paths meet, a join may hand one path's object to another path's number, so
 * links end at every instruction a jump or exit leads to ({@link Verifier}'s arrival): they
 * live from a copy to the branch that checks it, which is where clang puts them, and never
 * take part in pruning or joins.
 */
final class ScalarLinks {
    private ScalarLinks() {
    }

    /** At most this many links are kept (the oldest go first). */
    static final int MAX = 8;

    /** a == f(b), for the objects av and bv. */
    record Link(int a, Value av, int b, Value bv, long delta, boolean w32) {
        boolean valid(Value[] regs) {
            return regs[a] == av && regs[b] == bv;
        }
    }

    /**
     * Updates the links of {@code s} after the ALU instruction {@code insn}: a copy links its
     * two registers, adding or subtracting a constant moves a link's delta.
     *
     * @param oldDst the destination's value before the instruction
     * @param src    the source operand's value (the immediate's scalar for an immediate)
     */
    static void afterAlu(State s, Insn.Alu insn, Value oldDst, Value src) {
        int d = insn.dst().n();
        if (!(s.regs[d] instanceof Value.Scal result) || result.s().isConstant()) {
            return;
        }
        boolean w32 = insn.width() == Width.W32;
        if (insn.op() == AluOp.MOV && insn.src() instanceof Reg r && r.n() != d && src instanceof Value.Scal x) {
            // dst == src (64-bit, or 32-bit of a value below 2^32); dst == zext32(src) otherwise
            boolean exact = !w32 || Long.compareUnsigned(x.s().umax(), 0xffff_ffffL) <= 0;
            Value fresh = freshen(s, r.n());
            Value copy = Value.scalar(result.s());
            s.regs[d] = copy;
            // the copy also joins the links of its source, so that a chain of copies stays
            // linked when the registers in the middle are overwritten or die
            List<Link> composed = new ArrayList<>();
            for (Link l : s.links) {
                if (!l.valid(s.regs)) {
                    continue;
                }
                if (l.a() == r.n() && l.b() != d) {
                    composed.add(new Link(d, copy, l.b(), l.bv(), l.delta(), l.w32() || !exact));
                } else if (l.b() == r.n() && exact && l.a() != d) {
                    composed.add(new Link(l.a(), l.av(), d, copy, l.delta(), l.w32()));
                }
            }
            add(s, new Link(d, copy, r.n(), fresh, 0, !exact));
            composed.forEach(l -> add(s, l));
            return;
        }
        if ((insn.op() != AluOp.ADD && insn.op() != AluOp.SUB) || !(src instanceof Value.Scal c) || !c.s().isConstant()
                || !(oldDst instanceof Value.Scal)) {
            return;
        }
        long k = insn.src() instanceof Imm imm ? imm.value() : c.s().constantValue();
        if (insn.op() == AluOp.SUB) {
            k = -k;
        }
        Value moved = null;
        List<Link> made = new ArrayList<>();
        for (Link l : s.links) {
            if (l.av() != (l.a() == d ? oldDst : s.regs[l.a()]) || l.bv() != (l.b() == d ? oldDst : s.regs[l.b()])) {
                continue; // not valid before the instruction
            }
            if (moved == null) {
                moved = Value.scalar(result.s());
            }
            if (l.a() == d && l.b() != d && !(l.w32() && !w32)) {
                // dst = f(b) + k; zext32(b + delta) + k (64 bits) is not of the form
                made.add(new Link(d, moved, l.b(), l.bv(), l.delta() + k, l.w32() || w32));
            } else if (l.b() == d && l.a() != d && (l.w32() || !w32)) {
                // a = f(dst) = f(dst' - k): exact in 64 bits, and in the low half whatever the width
                made.add(new Link(l.a(), l.av(), d, moved, l.delta() - k, l.w32()));
            }
        }
        if (!made.isEmpty()) {
            s.regs[d] = moved;
            made.forEach(l -> add(s, l));
        }
    }

    /** Gives register r a fresh object for the same value, keeping the links that named the old one. */
    private static Value freshen(State s, int r) {
        Value old = s.regs[r];
        Value fresh = Value.scalar(((Value.Scal) old).s());
        s.regs[r] = fresh;
        List<Link> out = new ArrayList<>(s.links.size());
        for (Link l : s.links) {
            Value av = l.a() == r && l.av() == old ? fresh : l.av();
            Value bv = l.b() == r && l.bv() == old ? fresh : l.bv();
            out.add(av == l.av() && bv == l.bv() ? l : new Link(l.a(), av, l.b(), bv, l.delta(), l.w32()));
        }
        s.links = List.copyOf(out);
        return fresh;
    }

    private static void add(State s, Link link) {
        List<Link> out = new ArrayList<>(MAX);
        for (Link l : s.links) {
            if (l.valid(s.regs)) {
                out.add(l);
            }
        }
        if (out.size() >= MAX) {
            out.remove(0);
        }
        out.add(link);
        s.links = List.copyOf(out);
    }

    /**
     * {@return the links valid in {@code s}} (taken before a branch replaces the registers it
     * refines)
     */
    static List<Link> valid(State s) {
        if (s.links.isEmpty()) {
            return List.of();
        }
        List<Link> out = new ArrayList<>(s.links.size());
        for (Link l : s.links) {
            if (l.valid(s.regs)) {
                out.add(l);
            }
        }
        return out;
    }

    /**
     * Carries what a branch learnt about the registers in {@code changed} (a bit set) to the
     * registers linked to them in {@code n}, the state on one edge, until nothing changes;
     * {@return false when some register becomes empty: the edge cannot be taken}
     */
    static boolean propagate(State n, List<Link> links, int changed) {
        if (links.isEmpty()) {
            return true;
        }
        for (int round = 0; round < MAX && changed != 0; round++) {
            int next = 0;
            for (Link l : links) {
                if ((changed & 1 << l.a()) != 0 && n.regs[l.a()] instanceof Value.Scal a && n.regs[l.b()] instanceof Value.Scal b) {
                    Scalar back = ScalarAlu.alu(AluOp.ADD, l.w32() ? Width.W32 : Width.W64, a.s(), Scalar.constant(-l.delta()));
                    Scalar nb = l.w32() ? b.s().meetLowHalfOf(back) : b.s().meet(back);
                    if (nb.isEmpty()) {
                        return false;
                    }
                    if (!nb.equals(b.s())) {
                        n.regs[l.b()] = Value.scalar(nb);
                        next |= 1 << l.b();
                    }
                }
                if ((changed & 1 << l.b()) != 0 && n.regs[l.a()] instanceof Value.Scal a && n.regs[l.b()] instanceof Value.Scal b) {
                    Scalar fwd = ScalarAlu.alu(AluOp.ADD, l.w32() ? Width.W32 : Width.W64, b.s(), Scalar.constant(l.delta()));
                    Scalar na = a.s().meet(fwd);
                    if (na.isEmpty()) {
                        return false;
                    }
                    if (!na.equals(a.s())) {
                        n.regs[l.a()] = Value.scalar(na);
                        next |= 1 << l.a();
                    }
                }
            }
            changed = next;
        }
        return true;
    }
}
