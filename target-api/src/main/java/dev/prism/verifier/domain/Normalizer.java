package dev.prism.verifier.domain;

/**
 * {@link Scalar#sync}: tightens each component of a scalar against the others, without losing
 * a value. Each step intersects a component with a set that provably holds every member:
 * <ol>
 *   <li>ranges from the tnum: each end moves inward to the nearest value the tnum holds;
 *   <li>low-half ranges from the 64-bit ranges: a 64-bit range is a run of consecutive values,
 *       and so are their low halves, which form an interval unless the run is 2^32 long or
 *       more, or wraps ({@link Intervals#lowBits});
 *   <li>signed against unsigned, in each width ({@link #meetSignedUnsigned});
 *   <li>64-bit ranges from the low half: move each end of a 64-bit range inward to the nearest
 *       value whose low half is in u32min..u32max ({@link #leastWithLowHalf});
 *   <li>tnum from the ranges: intersect with the tnum of the unsigned range, and its low half
 *       with the tnum of u32min..u32max.
 * </ol>
 * Linux's reg_bounds_sync does the same steps, steps 1 and 4 in a weaker form (it moves range
 * ends to the tnum's extremes, and combines the halves only when the high halves are equal).
 * The round is repeated while it still changes something, at most {@link #ROUNDS} times: each
 * round is sound on its own, so stopping early only costs precision. An empty component
 * anywhere gives {@link Scalar#EMPTY}; some empty sets are not detected, because the
 * intersection of the components need not be something one component can express.
 *
 * <p>Normalisation runs several times per instruction verified, so a round works on the nine
 * components held in fields and allocates nothing, and results are remembered ({@link #sync}).
 */
final class Normalizer {
    /** Rounds before giving up on a fixpoint; in practice the second round changes nothing. */
    static final int ROUNDS = 4;

    private static final long LOW32 = 0xffff_ffffL;
    private static final long SIGN32 = 0x8000_0000L;
    /** The distance between two values with the same low half and adjacent high halves. */
    private static final long BLOCK = 1L << 32;

    // The scalar being normalised, component by component (the tnum as value and mask), so that
    // a round allocates nothing: normalisation runs several times per instruction verified.
    private long value;
    private long mask;
    private long smin;
    private long smax;
    private long umin;
    private long umax;
    private int s32min;
    private int s32max;
    private int u32min;
    private int u32max;
    private boolean empty;
    // The result of meetSignedUnsigned.
    private long meetSmin;
    private long meetSmax;
    private long meetUmin;
    private long meetUmax;

    private Normalizer(Scalar s) {
        value = s.bits().value();
        mask = s.bits().mask();
        smin = s.smin();
        smax = s.smax();
        umin = s.umin();
        umax = s.umax();
        s32min = s.s32min();
        s32max = s.s32max();
        u32min = s.u32min();
        u32max = s.u32max();
    }

    static Scalar sync(Scalar s) {
        if (s.isEmpty()) {
            return Scalar.EMPTY;
        }
        if (s.bits().isConst()) {
            // One value: it is the normal form itself, or nothing (the fixpoint the rounds reach).
            long v = s.bits().value();
            if (s.smin() == v && s.smax() == v && s.umin() == v && s.umax() == v && s.s32min() == (int) v
                    && s.s32max() == (int) v && s.u32min() == (int) v && s.u32max() == (int) v) {
                return s; // already Scalar.constant(v)
            }
            return s.contains(v) ? Scalar.constant(v) : Scalar.EMPTY;
        }
        int slot = slot(s);
        Memo m = MEMO[slot];
        if (m != null && m.in.equals(s)) {
            return m.out;
        }
        Scalar out = normalise(s);
        MEMO[slot] = new Memo(s, out);
        return out;
    }

    /**
     * Normalisation is a function of the nine components alone, and an analysis asks for the
     * same few sets over and over (the join of a register that did not change, the extension of
     * a loaded byte), so results are remembered in a small table: one entry per slot, the last
     * one computed there. Entries are immutable, so threads sharing the table see whole entries
     * or none, and a lost write only costs a recomputation.
     */
    private record Memo(Scalar in, Scalar out) {
    }

    private static final int MEMO_SIZE = 1 << 12;
    private static final Memo[] MEMO = new Memo[MEMO_SIZE];

    private static int slot(Scalar s) {
        return (int) (hash(s) >>> 52) & (MEMO_SIZE - 1);
    }

    /** {@return a hash of the nine components, well mixed in its upper bits} (for the memo tables of this package) */
    static long hash(Scalar s) {
        long h = s.bits().value();
        h = h * 0x9E37_79B9_7F4A_7C15L + s.bits().mask();
        h = h * 0x9E37_79B9_7F4A_7C15L + s.smin();
        h = h * 0x9E37_79B9_7F4A_7C15L + s.smax();
        h = h * 0x9E37_79B9_7F4A_7C15L + s.umin();
        h = h * 0x9E37_79B9_7F4A_7C15L + s.umax();
        h = h * 0x9E37_79B9_7F4A_7C15L + (((long) s.s32min() << 32) ^ (s.s32max() & 0xffff_ffffL));
        h = h * 0x9E37_79B9_7F4A_7C15L + (((long) s.u32min() << 32) ^ (s.u32max() & 0xffff_ffffL));
        return h * 0x9E37_79B9_7F4A_7C15L;
    }

    private static Scalar normalise(Scalar s) {
        Normalizer n = new Normalizer(s);
        for (int round = 0; round < ROUNDS; round++) {
            long v = n.value;
            long m = n.mask;
            long a = n.smin;
            long b = n.smax;
            long c = n.umin;
            long d = n.umax;
            int e = n.s32min;
            int f = n.s32max;
            int g = n.u32min;
            int h = n.u32max;
            n.round();
            if (n.empty) {
                return Scalar.EMPTY;
            }
            if (v == n.value && m == n.mask && a == n.smin && b == n.smax && c == n.umin && d == n.umax
                    && e == n.s32min && f == n.s32max && g == n.u32min && h == n.u32max) {
                return round == 0 ? s : n.toScalar(); // a fixpoint
            }
        }
        return n.toScalar();
    }

    private void round() {
        boundsFromBits();
        if (!checkEmpty()) {
            lowHalfFromFull();
        }
        if (!checkEmpty()) {
            signedAgainstUnsigned32();
        }
        if (!empty) {
            fullFromLowHalf();
        }
        if (!checkEmpty()) {
            signedAgainstUnsigned64();
        }
        if (!empty) {
            bitsFromBounds();
        }
    }

    private Scalar toScalar() {
        return new Scalar(new Tnum(value, mask), smin, smax, umin, umax, s32min, s32max, u32min, u32max);
    }

    private boolean checkEmpty() {
        if (smin > smax || Long.compareUnsigned(umin, umax) > 0
                || s32min > s32max || Integer.compareUnsigned(u32min, u32max) > 0) {
            empty = true;
        }
        return empty;
    }

    /**
     * Moves each range end inward to the nearest value the tnum holds ({@link Tnum#ceil},
     * {@link Tnum#floor}). Signed order is unsigned order with the sign bit flipped, in the
     * values and in the tnum alike; the low half is the tnum's low 32 bits, with bit 31 the sign.
     * When some end has no such value, the set is empty (and the components are left as they are).
     */
    private void boundsFromBits() {
        long newUmin = ceil(value, mask, umin);
        long newUmax = floor(value, mask, umax);
        long flipped = value ^ (Long.MIN_VALUE & ~mask);
        long newSmin = ceil(flipped, mask, smin ^ Long.MIN_VALUE);
        long newSmax = floor(flipped, mask, smax ^ Long.MIN_VALUE);
        long lowValue = value & LOW32;
        long lowMask = mask & LOW32;
        long newU32min = ceil(lowValue, lowMask, u32min & LOW32);
        long newU32max = floor(lowValue, lowMask, u32max & LOW32);
        long lowFlipped = lowValue ^ (SIGN32 & ~lowMask);
        long newS32min = ceil(lowFlipped, lowMask, (s32min ^ SIGN32) & LOW32);
        long newS32max = floor(lowFlipped, lowMask, (s32max ^ SIGN32) & LOW32);
        if (empty) {
            return;
        }
        umin = newUmin;
        umax = newUmax;
        smin = newSmin ^ Long.MIN_VALUE;
        smax = newSmax ^ Long.MIN_VALUE;
        u32min = (int) newU32min;
        u32max = (int) newU32max;
        s32min = (int) (newS32min ^ SIGN32);
        s32max = (int) (newS32max ^ SIGN32);
    }

    /**
     * {@link Tnum#ceil} of the tnum (v; m), without allocating: the least member not below x
     * (unsigned); sets {@link #empty} when there is none. The first known bit, from the top, on
     * which x disagrees with the tnum decides: a 1 in the tnum puts every member that follows x
     * above it to there; a 0 makes the least answer rise at the lowest unknown bit above it where
     * x has a 0 (none: every member is below x).
     */
    private long ceil(long v, long m, long x) {
        if ((x & ~m) == v) {
            return x;
        }
        int i = 63 - Long.numberOfLeadingZeros((v ^ x) & ~m);
        long bit = 1L << i;
        if ((v & bit) != 0) {
            return above(x, i) | bit | (v & (bit - 1));
        }
        long candidates = m & ~x & (i == 63 ? 0 : -1L << (i + 1));
        if (candidates == 0) {
            empty = true;
            return 0;
        }
        long raised = Long.lowestOneBit(candidates);
        return above(x, Long.numberOfTrailingZeros(candidates)) | raised | (v & (raised - 1));
    }

    /** {@link Tnum#floor} of (v; m): {@link #ceil} on the complements. */
    private long floor(long v, long m, long x) {
        return ~ceil(~v & ~m, m, ~x);
    }

    /** {@return the bits of x above bit i} */
    private static long above(long x, int i) {
        return i == 63 ? 0 : x & (-1L << (i + 1));
    }

    /** The low halves of each 64-bit range, where they form an interval ({@link Intervals#lowBits}). */
    private void lowHalfFromFull() {
        lowHalfOf(umin, umax);
        lowHalfOf(smin, smax);
    }

    /**
     * Meets the 32-bit ranges with the low halves of the run lo..hi (lo not above hi in the
     * caller's order): {@link Intervals#lowBits} at width 32, where a run that does not fit
     * leaves the full range, which meets to no change.
     */
    private void lowHalfOf(long lo, long hi) {
        long span = hi - lo;
        if (Long.compareUnsigned(span, LOW32) > 0) {
            return;
        }
        long ustart = lo & LOW32;
        long uend = ustart + span;
        if (uend <= LOW32) {
            u32min = Intervals.maxUnsigned(u32min, (int) ustart);
            u32max = Intervals.minUnsigned(u32max, (int) uend);
        }
        long sstart = (lo << 32) >> 32;
        long send = sstart + span;
        if (send <= Integer.MAX_VALUE) {
            s32min = Math.max(s32min, (int) sstart);
            s32max = Math.min(s32max, (int) send);
        }
    }

    /**
     * {@link #meetSignedUnsigned} for the 32-bit intervals. A 32-bit value v is placed at
     * v << 32, which keeps both its signed and its unsigned order. Every bound the 64-bit meet
     * returns is one of its four inputs or 0 (the piece end 2^64 - 1 is always cut by the
     * unsigned upper bound), so each shifts back exactly.
     */
    private void signedAgainstUnsigned32() {
        if (!meetSignedUnsigned((long) s32min << 32, (long) s32max << 32, (long) u32min << 32, (long) u32max << 32)) {
            empty = true;
            return;
        }
        s32min = (int) (meetSmin >> 32);
        s32max = (int) (meetSmax >> 32);
        u32min = (int) (meetUmin >>> 32);
        u32max = (int) (meetUmax >>> 32);
    }

    private void fullFromLowHalf() {
        long lo = u32min & LOW32;
        long hi = u32max & LOW32;
        long newUmin = leastWithLowHalf(umin, lo, hi, 0xffff_ffff_0000_0000L);
        long newUmax = greatestWithLowHalf(umax, lo, hi, 0L);
        long newSmin = leastWithLowHalf(smin, lo, hi, 0x7fff_ffff_0000_0000L);
        long newSmax = greatestWithLowHalf(smax, lo, hi, Long.MIN_VALUE);
        if (empty) {
            return;
        }
        umin = newUmin;
        umax = newUmax;
        smin = newSmin;
        smax = newSmax;
    }

    /**
     * {@return the least value not below min (in the order lastBlock names) whose low half lies in
     * the unsigned range [lo32, hi32]}; sets {@link #empty} when there is none. Both orders run
     * through blocks of 2^32 values that share a high half, and inside a block the low half counts
     * up unsigned; so the answer is in min's block or the next one.
     *
     * @param lastBlock the high half of the order's last block, in place: 0xffffffff_00000000
     *                  for unsigned, 0x7fffffff_00000000 for signed
     */
    private long leastWithLowHalf(long min, long lo32, long hi32, long lastBlock) {
        long high = min & ~LOW32;
        long low = min & LOW32;
        if (low < lo32) {
            return high | lo32;
        }
        if (low <= hi32) {
            return min;
        }
        if (high == lastBlock) {
            empty = true;
            return 0;
        }
        return (high + BLOCK) | lo32;
    }

    /**
     * The mirror of {@link #leastWithLowHalf}: {@return the greatest value not above max whose
     * low half lies in [lo32, hi32]}; sets {@link #empty} when there is none.
     *
     * @param firstBlock the high half of the order's first block, in place: 0 for unsigned,
     *                   0x80000000_00000000 for signed
     */
    private long greatestWithLowHalf(long max, long lo32, long hi32, long firstBlock) {
        long high = max & ~LOW32;
        long low = max & LOW32;
        if (low > hi32) {
            return high | hi32;
        }
        if (low >= lo32) {
            return max;
        }
        if (high == firstBlock) {
            empty = true;
            return 0;
        }
        return (high - BLOCK) | hi32;
    }

    private void signedAgainstUnsigned64() {
        if (!meetSignedUnsigned(smin, smax, umin, umax)) {
            empty = true;
            return;
        }
        smin = meetSmin;
        smax = meetSmax;
        umin = meetUmin;
        umax = meetUmax;
    }

    /**
     * The tightest signed and unsigned intervals of the values in both the signed interval
     * [sLo, sHi] and the unsigned interval [uLo, uHi] (both non-empty), into the meet fields;
     * {@return false when there are none}
     *
     * <p>In unsigned order the signed interval is one piece when it does not cross zero, and
     * otherwise two: [0, sHi] and [sLo, 2^64 - 1]. Cutting each piece with the unsigned
     * interval leaves at most two pieces, each inside one sign half, so each is an interval in
     * both orders; the answer is their hull in each order.
     */
    private boolean meetSignedUnsigned(long sLo, long sHi, long uLo, long uHi) {
        meetUmin = 0;
        meetUmax = 0;
        meetSmin = Long.MAX_VALUE;
        meetSmax = Long.MIN_VALUE;
        if (sLo >= 0 || sHi < 0) {
            return cutPiece(sLo, sHi, uLo, uHi, false);
        }
        boolean any = cutPiece(0, sHi, uLo, uHi, false);
        return cutPiece(sLo, -1L, uLo, uHi, any) || any;
    }

    /** One piece of {@link #meetSignedUnsigned}; {@return whether it is non-empty} */
    private boolean cutPiece(long pieceLo, long pieceHi, long uLo, long uHi, boolean any) {
        long lo = Intervals.maxUnsigned(pieceLo, uLo);
        long hi = Intervals.minUnsigned(pieceHi, uHi);
        if (Long.compareUnsigned(lo, hi) > 0) {
            return false;
        }
        if (!any) {
            meetUmin = lo;
        }
        meetUmax = hi;
        meetSmin = Math.min(meetSmin, lo);
        meetSmax = Math.max(meetSmax, hi);
        return true;
    }

    /** Intersects the tnum with {@link Tnum#range} of the unsigned range, and its low half with that of u32min..u32max. */
    private void bitsFromBounds() {
        long rangeMask = rangeMask(umin, umax);
        if (((value ^ (umin & ~rangeMask)) & ~mask & ~rangeMask) != 0) {
            empty = true;
            return;
        }
        long unknown = mask & rangeMask;
        long v = (value | (umin & ~rangeMask)) & ~unknown;
        long lo = u32min & LOW32;
        long hi = u32max & LOW32;
        long lowRangeMask = rangeMask(lo, hi);
        long lowValue = v & LOW32;
        long lowMask = unknown & LOW32;
        if (((lowValue ^ (lo & ~lowRangeMask)) & ~lowMask & ~lowRangeMask) != 0) {
            empty = true;
            return;
        }
        long lowUnknown = lowMask & lowRangeMask;
        long newLowValue = (lowValue | (lo & ~lowRangeMask)) & ~lowUnknown;
        value = (v & ~LOW32) | (newLowValue & LOW32);
        mask = (unknown & ~LOW32) | (lowUnknown & LOW32);
    }

    /** {@return the mask of {@link Tnum#range}(min, max)}; its value is min without those bits */
    private static long rangeMask(long min, long max) {
        if (Long.compareUnsigned(min, max) > 0) {
            throw new IllegalArgumentException(String.format(
                    "tnum range: min 0x%x is above max 0x%x (unsigned)", min, max));
        }
        int differing = 64 - Long.numberOfLeadingZeros(min ^ max);
        return differing == 64 ? -1L : (1L << differing) - 1;
    }
}
