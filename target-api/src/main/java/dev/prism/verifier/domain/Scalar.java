package dev.prism.verifier.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the verifier knows about a scalar register: a set of 64-bit values. A value belongs to
 * the set when it satisfies every component at once:
 * <ul>
 *   <li>{@code bits}: its known bits;
 *   <li>{@code smin..smax}, {@code umin..umax}: the whole value read signed and unsigned;
 *   <li>{@code s32min..s32max}, {@code u32min..u32max}: its low 32 bits read signed and
 *       unsigned (the unsigned pair is held in ints and compared with
 *       {@link Integer#compareUnsigned}).
 * </ul>
 * The same nine components as Linux's {@code struct bpf_reg_state}, so the verifier's
 * diagnostics can be compared with the kernel's. Each component catches facts the others
 * cannot: the tnum alignment and masks, the signed and unsigned ranges each other's wrap-around,
 * the 32-bit ranges what ALU32 code and JMP32 branches learn about the low half.
 *
 * <p>Any tuple is meaningful; a tuple with some min above its max is empty, which is how an
 * infeasible branch shows ({@link #isEmpty}). {@link #sync} brings a tuple to normal form: each
 * component as tight as the others allow (to the extent {@link Normalizer} computes), and the
 * canonical {@link #EMPTY} for every empty set. Everything this package returns is normalised.
 */
public record Scalar(Tnum bits, long smin, long smax, long umin, long umax,
                     int s32min, int s32max, int u32min, int u32max) {

    /** The empty set: an unreachable state, or the register on an edge that cannot be taken. */
    public static final Scalar EMPTY = new Scalar(Tnum.UNKNOWN, Long.MAX_VALUE, Long.MIN_VALUE,
            -1L, 0L, Integer.MAX_VALUE, Integer.MIN_VALUE, -1, 0);

    private static final Scalar TOP = new Scalar(Tnum.UNKNOWN, Long.MIN_VALUE, Long.MAX_VALUE,
            0L, -1L, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1);

    public Scalar {
        Objects.requireNonNull(bits, "bits");
    }

    /** As a record's equals, component by component, written out for speed (see {@link Tnum#equals}). */
    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof Scalar x && smin == x.smin && smax == x.smax && umin == x.umin && umax == x.umax
                && s32min == x.s32min && s32max == x.s32max && u32min == x.u32min && u32max == x.u32max
                && bits.equals(x.bits);
    }

    /** {@return every 64-bit value} */
    public static Scalar top() {
        return TOP;
    }

    /** {@return the set holding only c} */
    public static Scalar constant(long c) {
        return new Scalar(Tnum.of(c), c, c, c, c, (int) c, (int) c, (int) c, (int) c);
    }

    /** {@return the values with the given known bits} */
    public static Scalar of(Tnum bits) {
        return new Scalar(bits, Long.MIN_VALUE, Long.MAX_VALUE, 0L, -1L,
                Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1).sync();
    }

    /**
     * {@return the values within the given 64-bit bounds and known bits, not normalised}: the
     * raw result of a transfer function, whose low-half ranges the normaliser derives
     */
    static Scalar of64(Tnum bits, Intervals.Interval signed, Intervals.Interval unsigned) {
        return new Scalar(bits, signed.lo(), signed.hi(), unsigned.lo(), unsigned.hi(),
                Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1);
    }

    /** {@return the unsigned range [lo, hi]} (empty when lo is above hi) */
    public static Scalar unsignedRange(long lo, long hi) {
        return new Scalar(Tnum.UNKNOWN, Long.MIN_VALUE, Long.MAX_VALUE, lo, hi,
                Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1).sync();
    }

    /** {@return the signed range [lo, hi]} (empty when lo is above hi) */
    public static Scalar signedRange(long lo, long hi) {
        return new Scalar(Tnum.UNKNOWN, lo, hi, 0L, -1L,
                Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1).sync();
    }

    /**
     * {@return whether some component is an empty range, so that no value belongs} A set whose
     * components exclude each other without any of them being empty is not detected here (nor,
     * always, by {@link #sync}); an analysis then explores a path that cannot happen, which
     * costs precision, not soundness.
     */
    public boolean isEmpty() {
        return smin > smax || Long.compareUnsigned(umin, umax) > 0
                || s32min > s32max || Integer.compareUnsigned(u32min, u32max) > 0;
    }

    /** {@return whether x belongs to the set} */
    public boolean contains(long x) {
        int low = (int) x;
        return bits.contains(x)
                && smin <= x && x <= smax
                && Long.compareUnsigned(umin, x) <= 0 && Long.compareUnsigned(x, umax) <= 0
                && s32min <= low && low <= s32max
                && Integer.compareUnsigned(u32min, low) <= 0 && Integer.compareUnsigned(low, u32max) <= 0;
    }

    /** {@return whether the set (a normalised one) holds exactly one value} */
    public boolean isConstant() {
        return !isEmpty() && (bits.isConst() || umin == umax);
    }

    /** {@return the single value of a constant set} @throws IllegalStateException if not constant */
    public long constantValue() {
        if (!isConstant()) {
            throw new IllegalStateException("not a constant: " + this);
        }
        return bits.isConst() ? bits.value() : umin;
    }

    /** {@return the constant, or empty when the set has several values (or none)} */
    public Optional<Long> asConstant() {
        return isConstant() ? Optional.of(constantValue()) : Optional.empty();
    }

    /** {@return the same set with every component tightened against the others, see {@link Normalizer}} */
    public Scalar sync() {
        return Normalizer.sync(this);
    }

    /** {@return a set holding every value of this and of o (the hull of each component)} */
    public Scalar join(Scalar o) {
        if (equals(o)) {
            return this; // already normalised: joins of unchanged registers are the common case
        }
        return hull(o).sync();
    }

    /** {@return the join, not normalised} */
    Scalar hull(Scalar o) {
        if (isEmpty()) {
            return o;
        }
        if (o.isEmpty()) {
            return this;
        }
        return new Scalar(bits.join(o.bits),
                Math.min(smin, o.smin), Math.max(smax, o.smax),
                Intervals.minUnsigned(umin, o.umin), Intervals.maxUnsigned(umax, o.umax),
                Math.min(s32min, o.s32min), Math.max(s32max, o.s32max),
                Intervals.minUnsigned(u32min, o.u32min), Intervals.maxUnsigned(u32max, o.u32max));
    }

    /** {@return the values in both this and o} (exact for each component; normalised) */
    public Scalar meet(Scalar o) {
        Optional<Tnum> both = bits.intersect(o.bits);
        if (both.isEmpty()) {
            return EMPTY;
        }
        return new Scalar(both.get(),
                Math.max(smin, o.smin), Math.min(smax, o.smax),
                Intervals.maxUnsigned(umin, o.umin), Intervals.minUnsigned(umax, o.umax),
                Math.max(s32min, o.s32min), Math.min(s32max, o.s32max),
                Intervals.maxUnsigned(u32min, o.u32min), Intervals.minUnsigned(u32max, o.u32max))
                .sync();
    }

    /**
     * {@return the values of this whose low 32 bits are the low 32 bits of some value of low}
     * Used to carry what a 32-bit comparison learnt back into the full register.
     */
    Scalar meetLowHalf(Scalar low) {
        Optional<Tnum> lowBits = bits.subreg().intersect(low.bits.subreg());
        if (lowBits.isEmpty() || low.isEmpty()) {
            return EMPTY;
        }
        return new Scalar(bits.withSubreg(lowBits.get()), smin, smax, umin, umax,
                Math.max(s32min, low.s32min), Math.min(s32max, low.s32max),
                Intervals.maxUnsigned(u32min, low.u32min), Intervals.minUnsigned(u32max, low.u32max))
                .sync();
    }

    /**
     * {@return the values of this whose low 32 bits are the low 32 bits of some value of low}
     * (public for the verifier's linked registers, which carry a 32-bit comparison's lesson
     * through a 32-bit copy)
     */
    public Scalar meetLowHalfOf(Scalar low) {
        return meetLowHalf(low);
    }

    /**
     * How many low known bits (alignment) a widening keeps when known bits are lost: enough for
     * the 8-byte alignment of stack and map offsets.
     */
    static final int WIDENED_KNOWN_LOW_BITS = 3;

    /**
     * {@return a set holding this and next, for a loop head, such that any chain of widenings
     * stabilises after a few steps} This is the previous state, next the newly arrived one.
     * Every range end that next pushes outward jumps to the end of its type (at most eight
     * jumps). The known bits give up faster than a plain join, which could lose one bit per
     * iteration for 64 iterations: once a bit is lost, only the lowest known bits survive, at
     * most {@link #WIDENED_KNOWN_LOW_BITS} of them, so they can shrink only a few more times.
     * (Normalisation may then derive upper known bits back from ranges that did not grow; those
     * are lost again only when a range end jumps.)
     */
    public Scalar widen(Scalar next) {
        if (isEmpty()) {
            return next.sync();
        }
        if (next.isEmpty() || next.isSubsetOf(this)) {
            return sync();
        }
        return new Scalar(widenBits(bits, next.bits),
                next.smin < smin ? Long.MIN_VALUE : smin,
                next.smax > smax ? Long.MAX_VALUE : smax,
                Long.compareUnsigned(next.umin, umin) < 0 ? 0L : umin,
                Long.compareUnsigned(next.umax, umax) > 0 ? -1L : umax,
                next.s32min < s32min ? Integer.MIN_VALUE : s32min,
                next.s32max > s32max ? Integer.MAX_VALUE : s32max,
                Integer.compareUnsigned(next.u32min, u32min) < 0 ? 0 : u32min,
                Integer.compareUnsigned(next.u32max, u32max) > 0 ? -1 : u32max)
                .sync();
    }

    private static Tnum widenBits(Tnum old, Tnum next) {
        Tnum joined = old.join(next);
        if (joined.equals(old)) {
            return old;
        }
        int known = Math.min(Long.numberOfTrailingZeros(joined.mask()), WIDENED_KNOWN_LOW_BITS);
        long low = (1L << known) - 1;
        return new Tnum(joined.value() & low, ~low);
    }

    /**
     * {@return whether every value of this is in o, judged component by component} A true
     * answer is always right; a false one may miss an inclusion that only the combination of
     * o's components proves (rare between normalised sets).
     */
    public boolean isSubsetOf(Scalar o) {
        if (isEmpty()) {
            return true;
        }
        if (o.isEmpty()) {
            return false;
        }
        return bits.isSubsetOf(o.bits)
                && o.smin <= smin && smax <= o.smax
                && Long.compareUnsigned(o.umin, umin) <= 0 && Long.compareUnsigned(umax, o.umax) <= 0
                && o.s32min <= s32min && s32max <= o.s32max
                && Integer.compareUnsigned(o.u32min, u32min) <= 0
                && Integer.compareUnsigned(u32max, o.u32max) <= 0;
    }

    /**
     * {@return the set of low {@code width} bits of the values, zero-extended}: what a narrow
     * store and reload, a 32-bit move or a {@code le} swap leave in a register.
     *
     * @param width 8, 16, 32 (64 returns the set unchanged)
     */
    public Scalar zeroExtendLow(int width) {
        if (width == 64) {
            return sync();
        }
        Intervals.Low low = lowBits(width);
        if (low == null) {
            return EMPTY;
        }
        // Below 32 bits the zero-extended value is its own low half; at 32 the low half read
        // signed is the signed interval of the low bits.
        int s32lo = (int) (width == 32 ? low.smin() : low.umin());
        int s32hi = (int) (width == 32 ? low.smax() : low.umax());
        return new Scalar(bits.zeroExtend(width), low.umin(), low.umax(), low.umin(), low.umax(),
                s32lo, s32hi, (int) low.umin(), (int) low.umax()).sync();
    }

    /**
     * {@return the set of low {@code width} bits of the values, sign-extended to 64}: what
     * {@code movsx} and sign-extending loads produce.
     *
     * @param width 8, 16, 32 (64 returns the set unchanged)
     */
    public Scalar signExtendLow(int width) {
        if (width == 64) {
            return sync();
        }
        Intervals.Low low = lowBits(width);
        if (low == null) {
            return EMPTY;
        }
        // A value sign-extended from at most 32 bits has the same signed value in its low half;
        // at 32 its low half is also the original low half, read unsigned.
        int u32lo = width == 32 ? (int) low.umin() : 0;
        int u32hi = width == 32 ? (int) low.umax() : -1;
        return new Scalar(bits.signExtend(width), low.smin(), low.smax(), 0L, -1L,
                (int) low.smin(), (int) low.smax(), u32lo, u32hi).sync();
    }

    /**
     * {@return the intervals of the low width bits}, from every range component (each a run of
     * consecutive values whose low bits form a run too), or null when the set is empty
     */
    private Intervals.Low lowBits(int width) {
        if (width != 8 && width != 16 && width != 32) {
            throw new IllegalArgumentException("low bits width " + width + " is not 8, 16, 32 or 64");
        }
        if (isEmpty()) {
            return null;
        }
        Intervals.Low low = Intervals.lowBits(umin, umax, width)
                .meet(Intervals.lowBits(smin, smax, width))
                .meet(Intervals.lowBits(u32min & 0xffff_ffffL, u32max & 0xffff_ffffL, width))
                .meet(Intervals.lowBits(s32min, s32max, width));
        return low.isEmpty() ? null : low;
    }

    /** {@return a compact description: the constant, or the components that say something} */
    @Override
    public String toString() {
        if (isEmpty()) {
            return "empty";
        }
        if (isConstant()) {
            return Long.toString(constantValue());
        }
        List<String> parts = new ArrayList<>();
        if (smin != Long.MIN_VALUE || smax != Long.MAX_VALUE) {
            parts.add("smin=" + smin + ",smax=" + smax);
        }
        if (umin != 0 || umax != -1L) {
            parts.add("umin=" + Long.toUnsignedString(umin) + ",umax=" + Long.toUnsignedString(umax));
        }
        if (s32min != Integer.MIN_VALUE || s32max != Integer.MAX_VALUE) {
            parts.add("s32min=" + s32min + ",s32max=" + s32max);
        }
        if (u32min != 0 || u32max != -1) {
            parts.add("u32min=" + Integer.toUnsignedString(u32min) + ",u32max="
                    + Integer.toUnsignedString(u32max));
        }
        if (!bits.equals(Tnum.UNKNOWN)) {
            parts.add("var_off=" + bits);
        }
        return parts.isEmpty() ? "scalar" : "scalar(" + String.join(",", parts) + ")";
    }
}
