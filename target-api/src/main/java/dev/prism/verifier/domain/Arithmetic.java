package dev.prism.verifier.domain;

import dev.prism.verifier.domain.Intervals.Interval;

/** 64-bit add, sub and mul over {@link Scalar}s, for {@link ScalarAlu}; results not normalised. */
final class Arithmetic {
    private Arithmetic() {
    }

    /**
     * The sums run consecutively from the sum of the lower ends, as many as the two widths add
     * up to; in each order that run is an interval unless it wraps ({@link Intervals#run}).
     */
    static Scalar add(Scalar a, Scalar b) {
        Interval u = Intervals.run(a.umin() + b.umin(), a.umax() - a.umin(), b.umax() - b.umin(), false);
        Interval s = Intervals.run(a.smin() + b.smin(), a.smax() - a.smin(), b.smax() - b.smin(), true);
        return Scalar.of64(a.bits().add(b.bits()), s, u);
    }

    /** As {@link #add}: the differences run from a's lower end minus b's upper end. */
    static Scalar sub(Scalar a, Scalar b) {
        Interval u = Intervals.run(a.umin() - b.umax(), a.umax() - a.umin(), b.umax() - b.umin(), false);
        Interval s = Intervals.run(a.smin() - b.smax(), a.smax() - a.smin(), b.smax() - b.smin(), true);
        return Scalar.of64(a.bits().sub(b.bits()), s, u);
    }

    /**
     * Unsigned: monotone, so the product of the upper ends bounds all when it does not overflow.
     * Signed: over a rectangle of operands the product takes its extremes at the corners, which
     * bound every product when none of the four overflows.
     */
    static Scalar mul(Scalar a, Scalar b) {
        Interval u = Math.unsignedMultiplyHigh(a.umax(), b.umax()) == 0
                ? new Interval(a.umin() * b.umin(), a.umax() * b.umax())
                : Interval.ALL_UNSIGNED;
        Interval s = signedProducts(a.smin(), a.smax(), b.smin(), b.smax());
        return Scalar.of64(a.bits().mul(b.bits()), s, u);
    }

    private static Interval signedProducts(long a1, long a2, long b1, long b2) {
        long lo = Long.MAX_VALUE;
        long hi = Long.MIN_VALUE;
        for (long x : new long[] {a1, a2}) {
            for (long y : new long[] {b1, b2}) {
                long p = x * y;
                if (Math.multiplyHigh(x, y) != p >> 63) {
                    return Interval.ALL_SIGNED; // the 128-bit product does not fit in 64 bits
                }
                lo = Math.min(lo, p);
                hi = Math.max(hi, p);
            }
        }
        return new Interval(lo, hi);
    }
}
