package dev.prism.verifier.domain;

import dev.prism.isa.AluOp;
import dev.prism.isa.Semantics;
import dev.prism.verifier.domain.Intervals.Interval;

/**
 * 64-bit div, sdiv, mod and smod over {@link Scalar}s, for {@link ScalarAlu}; results not
 * normalised. RFC 9669 4.1: division by zero gives 0, modulo by zero leaves dst, and
 * {@code LLONG_MIN sdiv -1} is {@code LLONG_MIN} ({@link Semantics#alu64}). A divisor set that may
 * hold 0 therefore adds 0 (div) or the whole dividend (mod) to the result. The known bits of a
 * quotient or remainder are given up (the normaliser rebuilds them from the ranges), except for
 * a power-of-two divisor, where the operation is a shift or a mask.
 */
final class Division {
    private Division() {
    }

    static Scalar udiv(Scalar a, Scalar b) {
        long dmax = b.umax();
        if (dmax == 0) {
            return Scalar.constant(0); // the divisor is 0
        }
        long dmin = Intervals.maxUnsigned(b.umin(), 1);
        long lo = b.contains(0) ? 0 : Long.divideUnsigned(a.umin(), dmax);
        long hi = Long.divideUnsigned(a.umax(), dmin);
        Tnum bits = powerOfTwo(b) ? a.bits().rshift(Long.numberOfTrailingZeros(b.constantValue())) : Tnum.UNKNOWN;
        return Scalar.of64(bits, Interval.ALL_SIGNED, new Interval(lo, hi));
    }

    /** The remainder is below the divisor and not above the dividend, and is the dividend when that is below every divisor. */
    static Scalar umod(Scalar a, Scalar b) {
        long dmax = b.umax();
        long dmin = Intervals.maxUnsigned(b.umin(), 1);
        if (dmax == 0 || Long.compareUnsigned(a.umax(), dmin) < 0) {
            return a;
        }
        long hi = b.contains(0) ? a.umax() : Intervals.minUnsigned(a.umax(), dmax - 1);
        Tnum bits = powerOfTwo(b) ? a.bits().and(Tnum.of(b.constantValue() - 1)) : Tnum.UNKNOWN;
        return Scalar.of64(bits, Interval.ALL_SIGNED, new Interval(0, hi));
    }

    /**
     * Truncating division is monotone in the dividend for a divisor of fixed sign, and in the
     * divisor for a dividend of fixed sign, so over a rectangle of operands that avoids the
     * divisor 0 its extremes are at the corners. The one overflowing pair, LLONG_MIN / -1, is
     * split off as a rectangle of its own by adding the corners LLONG_MIN + 1 and -2.
     */
    static Scalar sdiv(Scalar a, Scalar b) {
        long lo = Long.MAX_VALUE;
        long hi = Long.MIN_VALUE;
        if (b.contains(0)) {
            lo = 0;
            hi = 0;
        }
        long[] dividends = a.smin() == Long.MIN_VALUE && a.smax() > Long.MIN_VALUE
                ? new long[] {a.smin(), a.smin() + 1, a.smax()}
                : new long[] {a.smin(), a.smax()};
        for (Interval part : nonZeroParts(b)) {
            long[] divisors = part.hi() == -1 && part.lo() <= -2
                    ? new long[] {part.lo(), -2, -1}
                    : new long[] {part.lo(), part.hi()};
            for (long x : dividends) {
                for (long y : divisors) {
                    long q = Semantics.alu64(AluOp.SDIV, x, y);
                    lo = Math.min(lo, q);
                    hi = Math.max(hi, q);
                }
            }
        }
        return Scalar.of64(Tnum.UNKNOWN, new Interval(lo, hi), Interval.ALL_UNSIGNED);
    }

    /**
     * The remainder has the dividend's sign, and its magnitude is below the divisor's and not
     * above the dividend's; it is the dividend when that is smaller in magnitude than every
     * divisor.
     */
    static Scalar smod(Scalar a, Scalar b) {
        Interval[] parts = nonZeroParts(b);
        if (parts.length == 0) {
            return a; // the divisor is 0
        }
        long minAbs = -1L; // magnitudes are read unsigned: |LLONG_MIN| is 2^63
        long maxAbs = 0;
        for (Interval part : parts) {
            minAbs = Intervals.minUnsigned(minAbs, minAbs(part));
            maxAbs = Intervals.maxUnsigned(maxAbs, maxAbs(part));
        }
        if (Long.compareUnsigned(maxAbs(new Interval(a.smin(), a.smax())), minAbs) < 0) {
            return a;
        }
        long bound = maxAbs - 1; // at most 2^63 - 1
        long lo = a.smin() < 0 ? Math.max(a.smin(), -bound) : 0;
        long hi = a.smax() > 0 ? Math.min(a.smax(), bound) : 0;
        if (b.contains(0)) {
            lo = Math.min(lo, a.smin());
            hi = Math.max(hi, a.smax());
        }
        return Scalar.of64(Tnum.UNKNOWN, new Interval(lo, hi), Interval.ALL_UNSIGNED);
    }

    /** {@return b's signed range without 0: its negative and its positive part, where present} */
    private static Interval[] nonZeroParts(Scalar b) {
        Interval negative = b.smin() <= -1 ? new Interval(b.smin(), Math.min(b.smax(), -1)) : null;
        Interval positive = b.smax() >= 1 ? new Interval(Math.max(b.smin(), 1), b.smax()) : null;
        if (negative == null) {
            return positive == null ? new Interval[0] : new Interval[] {positive};
        }
        return positive == null ? new Interval[] {negative} : new Interval[] {negative, positive};
    }

    /** {@return the largest magnitude in a signed interval, read unsigned} */
    private static long maxAbs(Interval i) {
        return Intervals.maxUnsigned(abs(i.lo()), abs(i.hi()));
    }

    /** {@return the smallest magnitude in a signed interval that does not hold 0, read unsigned} */
    private static long minAbs(Interval i) {
        return Intervals.minUnsigned(abs(i.lo()), abs(i.hi()));
    }

    /** {@return |x| read unsigned, so that |LLONG_MIN| is 2^63} */
    private static long abs(long x) {
        return x < 0 ? -x : x;
    }

    private static boolean powerOfTwo(Scalar b) {
        return b.isConstant() && Long.bitCount(b.constantValue()) == 1;
    }
}
