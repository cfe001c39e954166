package dev.prism.verifier.domain;

import dev.prism.isa.AluOp;
import dev.prism.isa.JumpOp;
import dev.prism.isa.Semantics;
import dev.prism.isa.Width;
import java.util.Optional;

/**
 * Conditional jumps over {@link Scalar}s: whether a comparison is decided, and what each edge
 * teaches about its operands. Sound with respect to {@link Semantics#condition}: a decided
 * comparison has that outcome for every pair of values, and a refined pair keeps every pair of
 * values that takes the edge.
 *
 * <p>A 32-bit comparison compares the low halves, which is the 64-bit comparison of the low
 * halves zero-extended (unsigned comparisons, equality, jset) or sign-extended (signed ones).
 * So it is decided and refined on those extensions, and what the refinement learns is carried
 * back into the low-half components of the full operands.
 *
 * <p>When both operands are the same register, the caller should meet the two refined values.
 */
public final class ScalarBranch {
    private ScalarBranch() {
    }

    /**
     * The operands as narrowed on one edge of a comparison.
     *
     * @param a the first operand (dst)
     * @param b the second operand (src or the immediate)
     */
    public record Refined(Scalar a, Scalar b) {
        static final Refined INFEASIBLE = new Refined(Scalar.EMPTY, Scalar.EMPTY);

        /** {@return whether no pair of values takes the edge: the edge is dead} */
        public boolean isEmpty() {
            return a.isEmpty() || b.isEmpty();
        }
    }

    /** {@return true or false when every pair (a, b) takes or skips the jump, empty when it depends} */
    public static Optional<Boolean> decide(JumpOp op, Width width, Scalar a, Scalar b) {
        if (a.isEmpty() || b.isEmpty()) {
            return Optional.empty();
        }
        int slot = slot(op, width, a, b, false);
        Memo m = DECIDED[slot];
        if (m != null && m.op == op && m.width == width && m.a.equals(a) && m.b.equals(b)) {
            return m.decided;
        }
        Optional<Boolean> out = width == Width.W32 ? decide64(op, view32(op, a), view32(op, b)) : decide64(op, a, b);
        DECIDED[slot] = new Memo(op, width, a, b, false, out, null);
        return out;
    }

    /**
     * The answers last computed, by a hash of the question: they depend on nothing else, and an
     * analysis asks the same ones along many paths (as ScalarAlu's table; entries are immutable).
     */
    private record Memo(JumpOp op, Width width, Scalar a, Scalar b, boolean taken, Optional<Boolean> decided, Refined refined) {
    }

    private static final Memo[] DECIDED = new Memo[1 << 9];
    private static final Memo[] REFINED = new Memo[1 << 9];

    private static int slot(JumpOp op, Width width, Scalar a, Scalar b, boolean taken) {
        long h = (Normalizer.hash(a) * 31 + Normalizer.hash(b)) * 31 + op.ordinal() * 4 + width.ordinal() * 2 + (taken ? 1 : 0);
        return (int) (h * 0x9E37_79B9_7F4A_7C15L >>> 55);
    }

    /**
     * {@return a and b narrowed to the pairs that take the edge}: the jump when taken, the
     * fall-through otherwise; both {@link Scalar#EMPTY} when no pair does.
     */
    public static Refined refine(JumpOp op, Width width, Scalar a, Scalar b, boolean taken) {
        if (a.isEmpty() || b.isEmpty()) {
            return Refined.INFEASIBLE;
        }
        int slot = slot(op, width, a, b, taken);
        Memo m = REFINED[slot];
        if (m != null && m.op == op && m.width == width && m.taken == taken && m.a.equals(a) && m.b.equals(b)) {
            return m.refined;
        }
        Refined out = refineOnce(op, width, a, b, taken);
        REFINED[slot] = new Memo(op, width, a, b, taken, null, out);
        return out;
    }

    private static Refined refineOnce(JumpOp op, Width width, Scalar a, Scalar b, boolean taken) {
        Refined r;
        if (width == Width.W32) {
            Refined low = refine64(op, view32(op, a), view32(op, b), taken);
            r = low.isEmpty() ? Refined.INFEASIBLE
                    : new Refined(a.meetLowHalf(low.a()), b.meetLowHalf(low.b()));
        } else {
            r = refine64(op, a, b, taken);
        }
        return r.isEmpty() ? Refined.INFEASIBLE : r;
    }

    /** {@return the 64-bit operand whose comparison is the 32-bit comparison of v's low half} */
    private static Scalar view32(JumpOp op, Scalar v) {
        return isSigned(op) ? v.signExtendLow(32) : v.zeroExtendLow(32);
    }

    private static boolean isSigned(JumpOp op) {
        return switch (op) {
            case JSGT, JSGE, JSLT, JSLE -> true;
            case JEQ, JNE, JSET, JGT, JGE, JLT, JLE -> false;
        };
    }

    private static Optional<Boolean> decide64(JumpOp op, Scalar a, Scalar b) {
        return switch (op) {
            case JEQ -> equal(a, b);
            case JNE -> equal(a, b).map(e -> !e);
            case JSET -> {
                Scalar common = ScalarAlu.alu(AluOp.AND, Width.W64, a, b);
                if (!common.contains(0)) {
                    yield Optional.of(true);
                }
                yield common.isConstant() ? Optional.of(false) : Optional.empty();
            }
            case JGT -> greater(a.umin(), a.umax(), b.umin(), b.umax(), false, false);
            case JGE -> greater(a.umin(), a.umax(), b.umin(), b.umax(), false, true);
            case JLT -> greater(b.umin(), b.umax(), a.umin(), a.umax(), false, false);
            case JLE -> greater(b.umin(), b.umax(), a.umin(), a.umax(), false, true);
            case JSGT -> greater(a.smin(), a.smax(), b.smin(), b.smax(), true, false);
            case JSGE -> greater(a.smin(), a.smax(), b.smin(), b.smax(), true, true);
            case JSLT -> greater(b.smin(), b.smax(), a.smin(), a.smax(), true, false);
            case JSLE -> greater(b.smin(), b.smax(), a.smin(), a.smax(), true, true);
        };
    }

    private static Optional<Boolean> equal(Scalar a, Scalar b) {
        if (a.isConstant() && b.isConstant()) {
            return Optional.of(a.constantValue() == b.constantValue());
        }
        return a.meet(b).isEmpty() ? Optional.of(false) : Optional.empty();
    }

    /** {@return whether x > y (x >= y when orEqual) is decided for x in [xmin, xmax], y in [ymin, ymax]} */
    private static Optional<Boolean> greater(long xmin, long xmax, long ymin, long ymax,
                                             boolean signed, boolean orEqual) {
        int low = compare(xmin, ymax, signed); // the least x against the greatest y
        int high = compare(xmax, ymin, signed); // the greatest x against the least y
        if (orEqual ? low >= 0 : low > 0) {
            return Optional.of(true);
        }
        if (orEqual ? high < 0 : high <= 0) {
            return Optional.of(false);
        }
        return Optional.empty();
    }

    private static int compare(long x, long y, boolean signed) {
        return signed ? Long.compare(x, y) : Long.compareUnsigned(x, y);
    }

    private static Refined refine64(JumpOp op, Scalar a, Scalar b, boolean taken) {
        if (!taken) {
            if (op == JumpOp.JSET) {
                return noCommonBits(a, b);
            }
            op = op.negate();
        }
        return switch (op) {
            case JEQ -> {
                Scalar both = a.meet(b);
                yield new Refined(both, both);
            }
            case JNE -> new Refined(without(a, b), without(b, a));
            case JSET -> someCommonBit(a, b);
            case JGT -> unsignedGreater(a, b, 1);
            case JGE -> unsignedGreater(a, b, 0);
            case JLT -> swap(unsignedGreater(b, a, 1));
            case JLE -> swap(unsignedGreater(b, a, 0));
            case JSGT -> signedGreater(a, b, 1);
            case JSGE -> signedGreater(a, b, 0);
            case JSLT -> swap(signedGreater(b, a, 1));
            case JSLE -> swap(signedGreater(b, a, 0));
        };
    }

    private static Refined swap(Refined r) {
        return new Refined(r.b(), r.a());
    }

    /**
     * x > y (gap 1) or x >= y (gap 0), unsigned: x is at least y's least value plus the gap,
     * y at most x's greatest value minus the gap. A bound that would pass the end of the range
     * leaves no pair.
     */
    private static Refined unsignedGreater(Scalar x, Scalar y, int gap) {
        if (gap == 1 && (y.umin() == -1L || x.umax() == 0)) {
            return Refined.INFEASIBLE;
        }
        long xmin = Intervals.maxUnsigned(x.umin(), y.umin() + gap);
        long ymax = Intervals.minUnsigned(y.umax(), x.umax() - gap);
        return new Refined(withUnsigned(x, xmin, x.umax()), withUnsigned(y, y.umin(), ymax));
    }

    /** As {@link #unsignedGreater}, signed. */
    private static Refined signedGreater(Scalar x, Scalar y, int gap) {
        if (gap == 1 && (y.smin() == Long.MAX_VALUE || x.smax() == Long.MIN_VALUE)) {
            return Refined.INFEASIBLE;
        }
        long xmin = Math.max(x.smin(), y.smin() + gap);
        long ymax = Math.min(y.smax(), x.smax() - gap);
        return new Refined(withSigned(x, xmin, x.smax()), withSigned(y, y.smin(), ymax));
    }

    /**
     * {@return x without the value of c when c is a constant}: a range end equal to it moves
     * one inward (the only way an interval can lose a value).
     */
    private static Scalar without(Scalar x, Scalar c) {
        if (!c.isConstant()) {
            return x;
        }
        long v = c.constantValue();
        if (x.isConstant()) {
            return x.constantValue() == v ? Scalar.EMPTY : x;
        }
        long umin = x.umin() == v ? v + 1 : x.umin();
        long umax = x.umax() == v ? v - 1 : x.umax();
        long smin = x.smin() == v ? v + 1 : x.smin();
        long smax = x.smax() == v ? v - 1 : x.smax();
        return new Scalar(x.bits(), smin, smax, umin, umax,
                x.s32min(), x.s32max(), x.u32min(), x.u32max()).sync();
    }

    /**
     * x & y != 0: both have one of the bits that may be set in both, so each is at least the
     * lowest such bit; when there is only one, both have it. With none the edge is dead.
     */
    private static Refined someCommonBit(Scalar a, Scalar b) {
        long maybeCommon = a.bits().umax() & b.bits().umax();
        if (maybeCommon == 0) {
            return Refined.INFEASIBLE;
        }
        long least = Long.lowestOneBit(maybeCommon);
        Scalar x = withUnsigned(a, Intervals.maxUnsigned(a.umin(), least), a.umax());
        Scalar y = withUnsigned(b, Intervals.maxUnsigned(b.umin(), least), b.umax());
        if (Long.bitCount(maybeCommon) == 1) {
            Scalar bitSet = Scalar.of(new Tnum(maybeCommon, ~maybeCommon));
            x = x.meet(bitSet);
            y = y.meet(bitSet);
        }
        return new Refined(x, y);
    }

    /** x & y == 0: a bit known to be 1 in one operand is 0 in the other. */
    private static Refined noCommonBits(Scalar a, Scalar b) {
        Scalar x = a.meet(Scalar.of(new Tnum(0, ~b.bits().value())));
        Scalar y = b.meet(Scalar.of(new Tnum(0, ~a.bits().value())));
        return new Refined(x, y);
    }

    private static Scalar withUnsigned(Scalar x, long umin, long umax) {
        return new Scalar(x.bits(), x.smin(), x.smax(), umin, umax,
                x.s32min(), x.s32max(), x.u32min(), x.u32max()).sync();
    }

    private static Scalar withSigned(Scalar x, long smin, long smax) {
        return new Scalar(x.bits(), smin, smax, x.umin(), x.umax(),
                x.s32min(), x.s32max(), x.u32min(), x.u32max()).sync();
    }
}
