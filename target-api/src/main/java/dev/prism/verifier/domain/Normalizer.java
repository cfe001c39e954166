package dev.prism.verifier.domain;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@link Scalar#sync}: tightens each component of a scalar against the others, without losing
 * a value. Each step intersects a component with a set that provably holds every member:
 * <ol>
 *   <li>ranges from the tnum: each end moves inward to the nearest value the tnum holds;
 *   <li>low-half ranges from the 64-bit ranges: a 64-bit range is a run of consecutive values,
 *       and so are their low halves, which form an interval unless the run is 2^32 long or
 *       more, or wraps ({@link Intervals#lowBits});
 *   <li>signed against unsigned, in each width ({@link Intervals#meetSignedUnsigned});
 *   <li>64-bit ranges from the low half: move each end of a 64-bit range inward to the nearest
 *       value whose low half is in u32min..u32max ({@link Intervals#leastWithLowHalf});
 *   <li>tnum from the ranges: intersect with the tnum of the unsigned range, and its low half
 *       with the tnum of u32min..u32max.
 * </ol>
 * Linux's reg_bounds_sync does the same steps, steps 1 and 4 in a weaker form (it moves range
 * ends to the tnum's extremes, and combines the halves only when the high halves are equal).
 * The round is repeated while it still changes something, at most {@link #ROUNDS} times: each
 * round is sound on its own, so stopping early only costs precision. An empty component
 * anywhere gives {@link Scalar#EMPTY}; some empty sets are not detected, because the
 * intersection of the components need not be something one component can express.
 */
final class Normalizer {
    /** Rounds before giving up on a fixpoint; in practice the second round changes nothing. */
    static final int ROUNDS = 4;

    private static final long LOW32 = 0xffff_ffffL;
    private static final long SIGN32 = 0x8000_0000L;

    private Tnum bits;
    private long smin;
    private long smax;
    private long umin;
    private long umax;
    private int s32min;
    private int s32max;
    private int u32min;
    private int u32max;
    private boolean empty;

    private Normalizer(Scalar s) {
        bits = s.bits();
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
            return s.contains(v) ? Scalar.constant(v) : Scalar.EMPTY;
        }
        Normalizer n = new Normalizer(s);
        Scalar current = s;
        for (int round = 0; round < ROUNDS; round++) {
            n.round();
            if (n.empty) {
                return Scalar.EMPTY;
            }
            Scalar next = n.toScalar();
            if (next.equals(current)) {
                break;
            }
            current = next;
        }
        return current;
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
        return new Scalar(bits, smin, smax, umin, umax, s32min, s32max, u32min, u32max);
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
     */
    private void boundsFromBits() {
        OptionalLong newUmin = bits.ceil(umin);
        OptionalLong newUmax = bits.floor(umax);
        Tnum flipped = flip(bits, Long.MIN_VALUE);
        OptionalLong newSmin = flipped.ceil(smin ^ Long.MIN_VALUE);
        OptionalLong newSmax = flipped.floor(smax ^ Long.MIN_VALUE);
        Tnum low = bits.subreg();
        OptionalLong newU32min = low.ceil(u32min & LOW32);
        OptionalLong newU32max = low.floor(u32max & LOW32);
        Tnum lowFlipped = flip(low, SIGN32);
        OptionalLong newS32min = lowFlipped.ceil((s32min ^ SIGN32) & LOW32);
        OptionalLong newS32max = lowFlipped.floor((s32max ^ SIGN32) & LOW32);
        for (OptionalLong bound : new OptionalLong[] {newUmin, newUmax, newSmin, newSmax,
                newU32min, newU32max, newS32min, newS32max}) {
            if (bound.isEmpty()) {
                empty = true;
                return;
            }
        }
        umin = newUmin.getAsLong();
        umax = newUmax.getAsLong();
        smin = newSmin.getAsLong() ^ Long.MIN_VALUE;
        smax = newSmax.getAsLong() ^ Long.MIN_VALUE;
        u32min = (int) newU32min.getAsLong();
        u32max = (int) newU32max.getAsLong();
        s32min = (int) (newS32min.getAsLong() ^ SIGN32);
        s32max = (int) (newS32max.getAsLong() ^ SIGN32);
    }

    /** {@return t with the given bit flipped in every value (a known bit flips, an unknown one stays unknown)} */
    private static Tnum flip(Tnum t, long bit) {
        return new Tnum(t.value() ^ (bit & ~t.mask()), t.mask());
    }

    private void lowHalfFromFull() {
        for (Intervals.Low low : new Intervals.Low[] {
                Intervals.lowBits(umin, umax, 32), Intervals.lowBits(smin, smax, 32)}) {
            s32min = Math.max(s32min, (int) low.smin());
            s32max = Math.min(s32max, (int) low.smax());
            u32min = Intervals.maxUnsigned(u32min, (int) low.umin());
            u32max = Intervals.minUnsigned(u32max, (int) low.umax());
        }
    }

    private void signedAgainstUnsigned32() {
        Intervals.Bounds32 b = Intervals.meetSignedUnsigned32(s32min, s32max, u32min, u32max);
        if (b == null) {
            empty = true;
            return;
        }
        s32min = b.smin();
        s32max = b.smax();
        u32min = b.umin();
        u32max = b.umax();
    }

    private void fullFromLowHalf() {
        long lo = u32min & LOW32;
        long hi = u32max & LOW32;
        OptionalLong newUmin = Intervals.leastWithLowHalf(umin, lo, hi, 0xffff_ffff_0000_0000L);
        OptionalLong newUmax = Intervals.greatestWithLowHalf(umax, lo, hi, 0L);
        OptionalLong newSmin = Intervals.leastWithLowHalf(smin, lo, hi, 0x7fff_ffff_0000_0000L);
        OptionalLong newSmax = Intervals.greatestWithLowHalf(smax, lo, hi, Long.MIN_VALUE);
        if (newUmin.isEmpty() || newUmax.isEmpty() || newSmin.isEmpty() || newSmax.isEmpty()) {
            empty = true;
            return;
        }
        umin = newUmin.getAsLong();
        umax = newUmax.getAsLong();
        smin = newSmin.getAsLong();
        smax = newSmax.getAsLong();
    }

    private void signedAgainstUnsigned64() {
        Intervals.Bounds b = Intervals.meetSignedUnsigned(smin, smax, umin, umax);
        if (b == null) {
            empty = true;
            return;
        }
        smin = b.smin();
        smax = b.smax();
        umin = b.umin();
        umax = b.umax();
    }

    private void bitsFromBounds() {
        Optional<Tnum> full = bits.intersect(Tnum.range(umin, umax));
        if (full.isEmpty()) {
            empty = true;
            return;
        }
        Tnum t = full.get();
        Optional<Tnum> low = t.subreg().intersect(Tnum.range(u32min & LOW32, u32max & LOW32));
        if (low.isEmpty()) {
            empty = true;
            return;
        }
        bits = t.withSubreg(low.get());
    }
}
