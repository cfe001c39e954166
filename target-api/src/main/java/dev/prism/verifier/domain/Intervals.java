package dev.prism.verifier.domain;

/**
 * Interval arithmetic on 64-bit values that the domain needs in more than one place: runs of
 * consecutive values that may wrap around (an addition's results, the low bits of a range).
 * (The meet of a signed with an unsigned interval, and the nearest value whose low half lies in
 * a range, are {@link Normalizer}'s alone.)
 */
final class Intervals {
    private Intervals() {
    }

    /** A closed interval [lo, hi]; the order (signed or unsigned) is the caller's. */
    record Interval(long lo, long hi) {
        static final Interval ALL_UNSIGNED = new Interval(0, -1L);
        static final Interval ALL_SIGNED = new Interval(Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /**
     * The values that a width-bit quantity can take, as an unsigned and a signed interval, both
     * held in longs (the unsigned one in [0, 2^width), the signed one in [-2^(width-1),
     * 2^(width-1))). Only for width 8, 16 and 32, so that the longs never overflow.
     */
    record Low(int width, long umin, long umax, long smin, long smax) {
        static Low full(int width) {
            long half = 1L << (width - 1);
            return new Low(width, 0, (1L << width) - 1, -half, half - 1);
        }

        Low meet(Low o) {
            return new Low(width, Math.max(umin, o.umin), Math.min(umax, o.umax),
                    Math.max(smin, o.smin), Math.min(smax, o.smax));
        }

        boolean isEmpty() {
            return umin > umax || smin > smax;
        }
    }

    /**
     * {@return the run start, start + 1, ..., start + w1 + w2 (mod 2^64) as one interval in the
     * given order}, or that order's full range when the run passes its end and wraps. Adding two
     * ranges is the run from the sum of their lower ends whose length is the sum of their widths.
     *
     * @param w1 the first width, read unsigned
     * @param w2 the second width, read unsigned
     */
    static Interval run(long start, long w1, long w2, boolean signed) {
        Interval all = signed ? Interval.ALL_SIGNED : Interval.ALL_UNSIGNED;
        long span = w1 + w2;
        if (Long.compareUnsigned(span, w1) < 0) {
            return all; // the widths add up to 2^64 or more: every value
        }
        long end = start + span;
        boolean wraps = signed ? end < start : Long.compareUnsigned(end, start) < 0;
        return wraps ? all : new Interval(start, end);
    }

    /**
     * {@return the low {@code width} bits of the values of the interval [lo, hi]} The interval
     * may be read signed or unsigned (the caller's order, with lo not above hi in it): either way
     * its values are hi - lo + 1 consecutive numbers, so their low bits are a run of that length
     * starting at lo's low bits. A run shorter than 2^width that does not pass an end of the
     * unsigned (or signed) width-bit range is an interval there.
     *
     * @param width 8, 16 or 32
     */
    static Low lowBits(long lo, long hi, int width) {
        Low full = Low.full(width);
        long span = hi - lo; // exact, read unsigned, because lo <= hi in the caller's order
        if (Long.compareUnsigned(span, full.umax) > 0) {
            return full;
        }
        long ustart = lo & full.umax;
        long uend = ustart + span;
        long sstart = (lo << (64 - width)) >> (64 - width);
        long send = sstart + span;
        boolean unsignedFits = uend <= full.umax;
        boolean signedFits = send <= full.smax;
        return new Low(width,
                unsignedFits ? ustart : full.umin, unsignedFits ? uend : full.umax,
                signedFits ? sstart : full.smin, signedFits ? send : full.smax);
    }

    static long minUnsigned(long a, long b) {
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }

    static long maxUnsigned(long a, long b) {
        return Long.compareUnsigned(a, b) >= 0 ? a : b;
    }

    static int minUnsigned(int a, int b) {
        return Integer.compareUnsigned(a, b) <= 0 ? a : b;
    }

    static int maxUnsigned(int a, int b) {
        return Integer.compareUnsigned(a, b) >= 0 ? a : b;
    }
}
