package dev.prism.verifier.domain;

import dev.prism.isa.AluOp;
import dev.prism.isa.Width;
import dev.prism.verifier.domain.Intervals.Interval;

/**
 * 64-bit and, or, xor and the shifts over {@link Scalar}s, for {@link ScalarAlu}; results not
 * normalised. The known bits carry most of the information; the ranges add what the tnum
 * cannot say (x & y is not above either operand, x | y not below).
 */
final class Bitwise {
    private Bitwise() {
    }

    /**
     * Unsigned, x & y is at most min(x, y). Signed: a non-negative operand keeps the result in
     * [0, that operand]; two negative operands give a negative result, at most the smaller of
     * them (both lie in the upper unsigned half, where signed and unsigned order agree).
     */
    static Scalar and(Scalar a, Scalar b) {
        Interval u = new Interval(0, Intervals.minUnsigned(a.umax(), b.umax()));
        Interval s;
        if (a.smin() >= 0 || b.smin() >= 0) {
            long hi = Long.MAX_VALUE;
            if (a.smin() >= 0) {
                hi = a.smax();
            }
            if (b.smin() >= 0) {
                hi = Math.min(hi, b.smax());
            }
            s = new Interval(0, hi);
        } else if (a.smax() < 0 && b.smax() < 0) {
            s = new Interval(Long.MIN_VALUE, Math.min(a.smax(), b.smax()));
        } else {
            s = Interval.ALL_SIGNED;
        }
        return Scalar.of64(a.bits().and(b.bits()), s, u);
    }

    /**
     * Unsigned, x | y is at least max(x, y). Signed: a negative operand makes the result
     * negative and not below it; two non-negative ones give a result at least the larger.
     */
    static Scalar or(Scalar a, Scalar b) {
        Interval u = new Interval(Intervals.maxUnsigned(a.umin(), b.umin()), -1L);
        Interval s;
        if (a.smax() < 0 || b.smax() < 0) {
            long lo = Long.MIN_VALUE;
            if (a.smax() < 0) {
                lo = a.smin();
            }
            if (b.smax() < 0) {
                lo = Math.max(lo, b.smin());
            }
            s = new Interval(lo, -1);
        } else if (a.smin() >= 0 && b.smin() >= 0) {
            s = new Interval(Math.max(a.smin(), b.smin()), Long.MAX_VALUE);
        } else {
            s = Interval.ALL_SIGNED;
        }
        return Scalar.of64(a.bits().or(b.bits()), s, u);
    }

    /** Only the known bits: every bound of x ^ y follows from them. */
    static Scalar xor(Scalar a, Scalar b) {
        return Scalar.of64(a.bits().xor(b.bits()), Interval.ALL_SIGNED, Interval.ALL_UNSIGNED);
    }

    /**
     * {@return a shifted by each amount it may be}: by the constant when the amount is known,
     * else the union of the shifts by every amount in the (already masked, so at most 64 long)
     * amount set.
     */
    static Scalar shift(AluOp op, Scalar a, Scalar amount) {
        if (amount.isEmpty()) {
            return Scalar.EMPTY;
        }
        if (amount.isConstant()) {
            return shiftBy(op, a, (int) amount.constantValue());
        }
        Scalar union = Scalar.EMPTY;
        for (long k = amount.umin(); k <= amount.umax(); k++) {
            if (amount.contains(k)) {
                union = union.hull(shiftBy(op, a, (int) k));
            }
        }
        return union;
    }

    /**
     * Shifts by a constant are exact on the tnum. Left: each range end shifts when no value of
     * the range loses bits (for the signed range: no value changes sign), which the ends decide.
     * Logical right: monotone unsigned. Arithmetic right: monotone signed.
     */
    private static Scalar shiftBy(AluOp op, Scalar a, int k) {
        if (k == 0) {
            return a;
        }
        return switch (op) {
            case LSH -> {
                Interval u = a.umax() >>> (64 - k) == 0
                        ? new Interval(a.umin() << k, a.umax() << k)
                        : Interval.ALL_UNSIGNED;
                Interval s = (a.smin() << k) >> k == a.smin() && (a.smax() << k) >> k == a.smax()
                        ? new Interval(a.smin() << k, a.smax() << k)
                        : Interval.ALL_SIGNED;
                yield Scalar.of64(a.bits().lshift(k), s, u);
            }
            case RSH -> Scalar.of64(a.bits().rshift(k), Interval.ALL_SIGNED,
                    new Interval(a.umin() >>> k, a.umax() >>> k));
            case ARSH -> Scalar.of64(a.bits().arshift(k, Width.W64),
                    new Interval(a.smin() >> k, a.smax() >> k), Interval.ALL_UNSIGNED);
            default -> throw new IllegalArgumentException(op + " is not a shift");
        };
    }
}
