package dev.prism.verifier.domain;

import java.util.OptionalLong;

/**
 * Interval arithmetic on 64-bit values that the domain needs in more than one place: runs of
 * consecutive values that may wrap around (an addition's results, the low bits of a range), the
 * intersection of a signed with an unsigned interval, and the nearest value whose low half lies
 * in a given range.
 */
final class Intervals {
    private static final long LOW32 = 0xffff_ffffL;
    /** The distance between two values with the same low half and adjacent high halves. */
    private static final long BLOCK = 1L << 32;

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

    /** The result of {@link #meetSignedUnsigned}. */
    record Bounds(long smin, long smax, long umin, long umax) {
    }

    /** The result of {@link #meetSignedUnsigned32}; umin and umax are read unsigned. */
    record Bounds32(int smin, int smax, int umin, int umax) {
    }

    /**
     * {@return the tightest signed and unsigned intervals of the values in both the signed
     * interval [smin, smax] and the unsigned interval [umin, umax]}, or null when there are none.
     * Both inputs must be non-empty.
     *
     * <p>In unsigned order the signed interval is one piece when it does not cross zero, and
     * otherwise two: [0, smax] and [smin, 2^64 - 1]. Cutting each piece with the unsigned
     * interval leaves at most two pieces, each inside one sign half, so each is an interval in
     * both orders; the answer is their hull in each order.
     */
    static Bounds meetSignedUnsigned(long smin, long smax, long umin, long umax) {
        long[] los;
        long[] his;
        if (smin >= 0 || smax < 0) {
            los = new long[] {smin};
            his = new long[] {smax};
        } else {
            los = new long[] {0, smin};
            his = new long[] {smax, -1L};
        }
        long newUmin = 0;
        long newUmax = 0;
        long newSmin = Long.MAX_VALUE;
        long newSmax = Long.MIN_VALUE;
        boolean any = false;
        for (int i = 0; i < los.length; i++) {
            long lo = maxUnsigned(los[i], umin);
            long hi = minUnsigned(his[i], umax);
            if (Long.compareUnsigned(lo, hi) > 0) {
                continue;
            }
            if (!any) {
                newUmin = lo;
            }
            newUmax = hi;
            newSmin = Math.min(newSmin, lo);
            newSmax = Math.max(newSmax, hi);
            any = true;
        }
        return any ? new Bounds(newSmin, newSmax, newUmin, newUmax) : null;
    }

    /**
     * {@link #meetSignedUnsigned} for 32-bit intervals. A 32-bit value v is placed at v << 32,
     * which keeps both its signed and its unsigned order. Every bound the 64-bit version returns
     * is one of its four inputs or 0 (the piece end 2^64 - 1 is always cut by the unsigned upper
     * bound), so each shifts back exactly. {@return the 32-bit bounds, or null when empty}
     */
    static Bounds32 meetSignedUnsigned32(int smin, int smax, int umin, int umax) {
        Bounds b = meetSignedUnsigned((long) smin << 32, (long) smax << 32,
                (long) umin << 32, (long) umax << 32);
        if (b == null) {
            return null;
        }
        return new Bounds32((int) (b.smin >> 32), (int) (b.smax >> 32),
                (int) (b.umin >>> 32), (int) (b.umax >>> 32));
    }

    /**
     * {@return the least value not below min (in the order lastBlock names) whose low half lies in
     * the unsigned range [lo32, hi32]}, or empty when there is none. Both orders run through
     * blocks of 2^32 values that share a high half, and inside a block the low half counts up
     * unsigned; so the answer is in min's block or the next one.
     *
     * @param lastBlock the high half of the order's last block, in place: 0xffffffff_00000000
     *                  for unsigned, 0x7fffffff_00000000 for signed
     */
    static OptionalLong leastWithLowHalf(long min, long lo32, long hi32, long lastBlock) {
        long high = min & ~LOW32;
        long low = min & LOW32;
        if (low < lo32) {
            return OptionalLong.of(high | lo32);
        }
        if (low <= hi32) {
            return OptionalLong.of(min);
        }
        return high == lastBlock ? OptionalLong.empty() : OptionalLong.of((high + BLOCK) | lo32);
    }

    /**
     * The mirror of {@link #leastWithLowHalf}: {@return the greatest value not above max whose
     * low half lies in [lo32, hi32]}, or empty.
     *
     * @param firstBlock the high half of the order's first block, in place: 0 for unsigned,
     *                   0x80000000_00000000 for signed
     */
    static OptionalLong greatestWithLowHalf(long max, long lo32, long hi32, long firstBlock) {
        long high = max & ~LOW32;
        long low = max & LOW32;
        if (low > hi32) {
            return OptionalLong.of(high | hi32);
        }
        if (low >= lo32) {
            return OptionalLong.of(max);
        }
        return high == firstBlock ? OptionalLong.empty() : OptionalLong.of((high - BLOCK) | hi32);
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
