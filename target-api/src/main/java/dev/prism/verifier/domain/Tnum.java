package dev.prism.verifier.domain;

import dev.prism.isa.Width;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A tristate number: the set of 64-bit values that agree with {@code value} on every bit where
 * {@code mask} is 0. Bit i is known when mask bit i is 0 (and then equals value bit i); it is
 * unknown when mask bit i is 1 (and then value bit i is 0). A tnum with k unknown bits stands for
 * exactly 2^k values; it cannot be empty.
 *
 * <p>Every operation over-approximates its concrete counterpart: for x in a and y in b, the
 * concrete {@code x op y} lies in {@code a.op(b)}. The algorithms are the ones Linux uses
 * (kernel/bpf/tnum.c, after Vishwanathan et al., "Sound, Precise, and Fast Abstract
 * Interpretation with Tristate Numbers", CGO 2022); the comments say why each one is sound.
 *
 * @param value the known bits (0 wherever mask is 1)
 * @param mask  the unknown bits
 */
public record Tnum(long value, long mask) {
    /** Every 64-bit value. */
    public static final Tnum UNKNOWN = new Tnum(0, -1L);

    private static final long LOW32 = 0xffff_ffffL;

    public Tnum {
        if ((value & mask) != 0) {
            throw new IllegalArgumentException(String.format(
                    "tnum value 0x%x has bits under its mask 0x%x", value, mask));
        }
    }

    // equals as a record's (component by component), written out: it runs on every comparison
    // of scalars, and the generated one (through ObjectMethods) showed as a fifth of the
    // verifier's time in a profile; hashCode stays the record's, which agrees with it
    @Override
    public boolean equals(Object o) {
        return o instanceof Tnum t && t.value == value && t.mask == mask;
    }

    /** {@return the tnum holding only v} */
    public static Tnum of(long v) {
        return new Tnum(v, 0);
    }

    /**
     * {@return the smallest tnum holding every value of the unsigned range [min, max]}: the bits
     * above the highest bit in which min and max differ are common to the whole range, the rest
     * are unknown.
     */
    public static Tnum range(long min, long max) {
        if (Long.compareUnsigned(min, max) > 0) {
            throw new IllegalArgumentException(String.format(
                    "tnum range: min 0x%x is above max 0x%x (unsigned)", min, max));
        }
        int differing = 64 - Long.numberOfLeadingZeros(min ^ max);
        if (differing == 64) {
            return UNKNOWN;
        }
        long low = (1L << differing) - 1;
        return new Tnum(min & ~low, low);
    }

    /** {@return whether exactly one value is described} */
    public boolean isConst() {
        return mask == 0;
    }

    /** {@return whether x is one of the values described} */
    public boolean contains(long x) {
        return (x & ~mask) == value;
    }

    /** {@return whether every value of this tnum is also a value of other} */
    public boolean isSubsetOf(Tnum other) {
        // Every bit unknown here must be unknown there, and every bit known there must be known
        // here with the same value.
        return (mask & ~other.mask) == 0 && (value & ~other.mask) == other.value;
    }

    /** {@return the smallest value, read unsigned} */
    public long umin() {
        return value;
    }

    /** {@return the largest value, read unsigned} */
    public long umax() {
        return value | mask;
    }

    /** {@return the smallest value, read signed: an unknown sign bit taken as 1} */
    public long smin() {
        return value | (mask & Long.MIN_VALUE);
    }

    /** {@return the largest value, read signed: an unknown sign bit taken as 0} */
    public long smax() {
        return value | (mask & Long.MAX_VALUE);
    }

    /**
     * {@return the least value of this tnum not below x (unsigned)}, or empty when every value
     * is below x. Scanning from the top bit, a value follows x while the known bits agree with
     * x's; at the first known bit that disagrees it is either already above x (the known bit is
     * 1: the rest takes its least form) or below it, and must then rise at the lowest unknown
     * bit seen so far where x has a 0.
     */
    public OptionalLong ceil(long x) {
        if (contains(x)) {
            return OptionalLong.of(x);
        }
        int raise = -1; // the lowest unknown bit so far where x has 0
        for (int i = 63; i >= 0; i--) {
            long bit = 1L << i;
            if ((mask & bit) != 0) {
                if ((x & bit) == 0) {
                    raise = i;
                }
            } else if ((value & bit) != (x & bit)) {
                if ((value & bit) != 0) {
                    return OptionalLong.of(above(x, i) | bit | (value & (bit - 1)));
                }
                if (raise < 0) {
                    return OptionalLong.empty();
                }
                long raised = 1L << raise;
                return OptionalLong.of(above(x, raise) | raised | (value & (raised - 1)));
            }
        }
        throw new AssertionError("unreachable: x agrees with every known bit");
    }

    /** {@return the greatest value not above x (unsigned)}, or empty: {@link #ceil} on the complements */
    public OptionalLong floor(long x) {
        OptionalLong c = new Tnum(~value & ~mask, mask).ceil(~x);
        return c.isPresent() ? OptionalLong.of(~c.getAsLong()) : c;
    }

    /** {@return the bits of x above bit i} */
    private static long above(long x, int i) {
        return i == 63 ? 0 : x & (-1L << (i + 1));
    }

    /**
     * {@return a tnum holding every sum x + y} The unknown bits of the result are those where
     * the two extreme sums (all unknown bits 0, all unknown bits 1) differ, plus the operands'
     * own unknown bits: a carry chain can only reach bits where those sums disagree.
     */
    public Tnum add(Tnum b) {
        long sumMasks = mask + b.mask;
        long sumValues = value + b.value;
        long carries = (sumMasks + sumValues) ^ sumValues;
        long unknown = carries | mask | b.mask;
        return new Tnum(sumValues & ~unknown, unknown);
    }

    /** {@return a tnum holding every difference x - y}: as add, with the borrows of the extremes */
    public Tnum sub(Tnum b) {
        long diff = value - b.value;
        long largest = diff + mask;
        long smallest = diff - b.mask;
        long unknown = (largest ^ smallest) | mask | b.mask;
        return new Tnum(diff & ~unknown, unknown);
    }

    /** {@return a tnum holding every -x} */
    public Tnum neg() {
        return of(0).sub(this);
    }

    /**
     * {@return a tnum holding every product x * y} Long multiplication, one bit of this at a
     * time: the product of the known parts is exact; each bit of this that is known 1 adds the
     * unknown part of b (shifted), each unknown bit adds all of b's possibly-set bits, and those
     * uncertain addends are summed as tnums with value 0, whose mask collects every bit a carry
     * may disturb.
     */
    public Tnum mul(Tnum b) {
        long exact = value * b.value;
        // the tnums of the loop held in longs: a (this, shifted right), shifted (b, shifted
        // left) and the sum of the uncertain addends, each addend added as add(new Tnum(0, m))
        long uncertainValue = 0;
        long uncertainMask = 0;
        long aValue = value;
        long aMask = mask;
        long shiftedValue = b.value;
        long shiftedMask = b.mask;
        while (aValue != 0 || aMask != 0) {
            if ((aValue & 1) != 0 || (aMask & 1) != 0) {
                long addend = (aValue & 1) != 0 ? shiftedMask : shiftedValue | shiftedMask;
                long sumMasks = uncertainMask + addend;
                long carries = (sumMasks + uncertainValue) ^ uncertainValue;
                long unknown = carries | uncertainMask | addend;
                uncertainValue &= ~unknown;
                uncertainMask = unknown;
            }
            aValue >>>= 1;
            aMask >>>= 1;
            shiftedValue <<= 1;
            shiftedMask <<= 1;
        }
        return of(exact).add(new Tnum(uncertainValue, uncertainMask));
    }

    /** {@return a tnum holding every x & y}: a bit is known where it is known 0 in either, or known in both */
    public Tnum and(Tnum b) {
        long maybeA = value | mask;
        long maybeB = b.value | b.mask;
        long v = value & b.value;
        return new Tnum(v, maybeA & maybeB & ~v);
    }

    /** {@return a tnum holding every x | y}: a bit is known where it is known 1 in either, or known in both */
    public Tnum or(Tnum b) {
        long v = value | b.value;
        return new Tnum(v, (mask | b.mask) & ~v);
    }

    /** {@return a tnum holding every x ^ y}: a bit is known where it is known in both */
    public Tnum xor(Tnum b) {
        long unknown = mask | b.mask;
        return new Tnum((value ^ b.value) & ~unknown, unknown);
    }

    /** {@return the tnum of x << shift, exact} @param shift 0..63 */
    public Tnum lshift(int shift) {
        checkShift(shift, 63);
        return new Tnum(value << shift, mask << shift);
    }

    /** {@return the tnum of x >>> shift (logical), exact} @param shift 0..63 */
    public Tnum rshift(int shift) {
        checkShift(shift, 63);
        return new Tnum(value >>> shift, mask >>> shift);
    }

    /**
     * {@return the tnum of an arithmetic right shift, exact} At W32 the low halves are shifted
     * as 32-bit values and the result is zero-extended, as a BPF ALU32 arsh does. Shifting the
     * mask arithmetically copies an unknown sign bit into every vacated position, and shifting
     * the value copies a known one.
     *
     * @param shift 0..31 at W32, 0..63 at W64
     */
    public Tnum arshift(int shift, Width width) {
        if (width == Width.W32) {
            checkShift(shift, 31);
            return new Tnum(((int) value >> shift) & LOW32, ((int) mask >> shift) & LOW32);
        }
        checkShift(shift, 63);
        return new Tnum(value >> shift, mask >> shift);
    }

    /** {@return the least tnum holding every value of this and of b (union)} */
    public Tnum join(Tnum b) {
        long unknown = mask | b.mask | (value ^ b.value);
        return new Tnum(value & b.value & ~unknown, unknown);
    }

    /**
     * {@return the values in both this and b (meet)}, or empty when a bit known in both is known
     * with different values
     */
    public Optional<Tnum> intersect(Tnum b) {
        if (((value ^ b.value) & ~mask & ~b.mask) != 0) {
            return Optional.empty();
        }
        long unknown = mask & b.mask;
        return Optional.of(new Tnum((value | b.value) & ~unknown, unknown));
    }

    /** {@return the low 32 bits, zero-extended: the tnum of a 32-bit result} */
    public Tnum cast32() {
        return new Tnum(value & LOW32, mask & LOW32);
    }

    /**
     * {@return the low half (the 32-bit subregister) as a tnum whose upper 32 bits are known 0}
     * The same set as {@link #cast32}; the name is for code that reads the 32-bit view of a
     * register rather than computing a 32-bit result.
     */
    public Tnum subreg() {
        return cast32();
    }

    /** {@return this tnum with its low 32 bits replaced by the low 32 bits of low} */
    public Tnum withSubreg(Tnum low) {
        return new Tnum((value & ~LOW32) | (low.value & LOW32), (mask & ~LOW32) | (low.mask & LOW32));
    }

    /** {@return the tnum of x sign-extended from its low {@code bits} bits} @param bits 1..64 */
    public Tnum signExtend(int bits) {
        checkShift(64 - bits, 63);
        int up = 64 - bits;
        return new Tnum((value << up) >> up, (mask << up) >> up);
    }

    /** {@return the tnum of x with everything above its low {@code bits} bits cleared} @param bits 1..64 */
    public Tnum zeroExtend(int bits) {
        checkShift(64 - bits, 63);
        long keep = -1L >>> (64 - bits);
        return new Tnum(value & keep, mask & keep);
    }

    private static void checkShift(int shift, int max) {
        if (shift < 0 || shift > max) {
            throw new IllegalArgumentException("tnum shift " + shift + " outside 0.." + max);
        }
    }

    /** {@return the kernel's notation: (value; mask) in hex} */
    @Override
    public String toString() {
        return String.format("(0x%x; 0x%x)", value, mask);
    }
}
