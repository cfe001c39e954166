package dev.prism.verifier;

import dev.prism.isa.AluOp;
import dev.prism.isa.Width;
import dev.prism.verifier.domain.Scalar;
import dev.prism.verifier.domain.ScalarAlu;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * Joins the pointers of two states at a loop head ({@link State#join(State, boolean, int, IntSupplier)}),
 * keeping what the two states proved about the packet.
 *
 * <p>The packet domain. A packet pointer is {@code data + fixed + var}, where {@code var} is the
 * variable part shared by every pointer of one identity; the state's {@link PacketRanges} holds,
 * per identity, a relational fact {@code data + var + range <= data_end}, that is, for a pointer
 * {@code p} of that identity, {@code p <= data_end - (fixed - range)}. When two pointers with
 * different fixed offsets or identities meet (a pointer induction variable {@code p += 4} at the
 * head of its loop), the result is {@code data + f' + var'} with {@code f'} the smaller fixed
 * offset and {@code var'} covering both variable parts shifted onto it. That is a new variable
 * part, so it gets a new identity, never one of the inputs' (another register may still hold the
 * old one, with the old variable part), and the relation is carried over: from
 * {@code data + var_x + r_x <= data_end} and {@code data + var' = data + var_x + fixed_x - f'}
 * follows {@code data + var' + (r_x - fixed_x + f') <= data_end}; the new range is the smaller
 * of the two sides' (at least zero). So a bound proven before the loop or at the end of the body
 * survives the join, and accesses inside the loop stay proven without walking each iteration.
 * Copies (the same identity and fixed offset on both sides) get one new identity together.
 */
final class PointerJoin {
    private final State a;
    private final State b;
    private final IntSupplier fresh;
    private final Map<String, Value.Ptr> folded = new HashMap<>();
    private PacketRanges ranges;
    /** Widening thresholds: the loop's comparison constants, ascending (see {@link #widenScalar}). */
    private final long[] thresholds;

    /**
     * @param fresh      hands out identities no state holds yet
     * @param thresholds the constants the loop compares with, ascending; empty for none
     */
    PointerJoin(State a, State b, IntSupplier fresh, long[] thresholds) {
        this.a = a;
        this.b = b;
        this.fresh = fresh;
        this.thresholds = thresholds;
        this.ranges = a.packetRange.meet(b.packetRange);
    }

    /**
     * Widening with thresholds: a non-negative scalar whose upper end grows jumps to the next
     * constant the loop compares with (the bound of a counter, clang's {@code i != 1500}), not
     * to the end of its type; only when it passes every threshold does it jump there. The result
     * still holds both inputs, and each variable climbs a finite ladder, so the joins at a loop
     * head still stop changing.
     */
    private Value widenScalar(Value.Scal x, Value.Scal y) {
        Scalar j = x.s().join(y.s());
        Scalar w = x.s().widen(j);
        if (Long.compareUnsigned(w.umax(), j.umax()) > 0 && j.smin() >= 0) {
            for (long t : thresholds) {
                if (t >= j.umax()) {
                    Scalar capped = w.meet(Scalar.unsignedRange(0, t));
                    if (!capped.isEmpty() && j.isSubsetOf(capped)) {
                        return new Value.Scal(capped);
                    }
                    break;
                }
            }
        }
        return new Value.Scal(w);
    }

    /** {@return the ranges of the joined state: those both states prove, and those of the new identities} */
    PacketRanges ranges() {
        return ranges;
    }

    /**
     * The thresholds of a widened packet pointer's variable part: the largest packet offset
     * (0xffff), then doublings of it up to well below Linux's largest variable offset, so that a
     * cursor advanced by a header length in a loop keeps a variable part that more header
     * lengths can still be added to. {@return {@code widened} capped at the first threshold at or
     * above {@code joined}'s maximum} (for non-negative packet offsets; others as they are)
     */
    private static Scalar packetLadder(Value.Kind kind, Scalar joined, Scalar widened) {
        if (kind != Value.Kind.PACKET || joined.smin() < 0 || Long.compareUnsigned(widened.umax(), joined.umax()) <= 0) {
            return widened;
        }
        for (long t = Verifier.MAX_PACKET_OFF; t < Verifier.MAX_VAR_OFF / 4; t = t * 2 + 1) {
            if (t >= joined.umax()) {
                Scalar capped = widened.meet(Scalar.unsignedRange(0, t));
                return capped.isEmpty() || !joined.isSubsetOf(capped) ? widened : capped;
            }
        }
        return widened;
    }

    /** {@return the least upper bound of a value of the first state and one of the second} */
    Value join(Value x0, Value y0, boolean widen) {
        if (widen && x0 instanceof Value.Scal x && y0 instanceof Value.Scal y) {
            return widenScalar(x, y);
        }
        if (!(x0 instanceof Value.Ptr x) || !(y0 instanceof Value.Ptr y) || x.kind() != y.kind() || x.map() != y.map()
                || x.ref() != y.ref() || x.size() != y.size() || (x.id() == y.id() && x.fixed() == y.fixed())
                || x.kind() == Value.Kind.RINGBUF_MEM) {
            Value v = State.join(x0, y0, widen, 0);
            if (widen && v instanceof Value.Ptr p && x0 instanceof Value.Ptr x && y0 instanceof Value.Ptr y) {
                return p.withOffset(p.fixed(), packetLadder(p.kind(), x.var().join(y.var()), p.var()), p.id());
            }
            return v;
        }
        String key = x.id() + "/" + x.fixed() + "/" + y.id() + "/" + y.fixed() + "/" + x.maybeNull() + y.maybeNull();
        Value.Ptr done = folded.get(key);
        if (done != null) {
            return done;
        }
        long fixed = Math.min(x.fixed(), y.fixed());
        Scalar va = ScalarAlu.alu(AluOp.ADD, Width.W64, x.var(), Scalar.constant(x.fixed() - fixed));
        Scalar vb = ScalarAlu.alu(AluOp.ADD, Width.W64, y.var(), Scalar.constant(y.fixed() - fixed));
        Scalar v = va.join(vb);
        if (widen) {
            v = packetLadder(x.kind(), v, State.widenOffset(va, v));
        }
        int id = fresh.getAsInt();
        Value.Ptr r = new Value.Ptr(x.kind(), fixed, v, id, x.map(), x.maybeNull() || y.maybeNull(), x.size(), x.ref());
        if (x.kind() == Value.Kind.PACKET) {
            long range = Math.min(a.range(x.id()) - x.fixed() + fixed, b.range(y.id()) - y.fixed() + fixed);
            if (range > 0) {
                ranges = ranges.atLeast(id, range);
            }
        }
        folded.put(key, r);
        return r;
    }
}
