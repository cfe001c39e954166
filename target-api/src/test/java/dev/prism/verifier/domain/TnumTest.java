package dev.prism.verifier.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.isa.Width;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.function.BinaryOperator;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Tnum soundness, exhaustively over small tnums and by sampling over 64-bit ones, and the
 * exactness of the operations that are meant to be exact (join is the least tnum, intersect
 * the exact meet, range the least tnum of a range, ceil/floor the nearest member).
 */
class TnumTest {
    /**
     * Every tnum whose bits 0..4 are anything (0, 1 or unknown) and whose upper 59 bits are all
     * known 0 or all known 1: 486 tnums of at most 32 values each, small magnitudes of both signs.
     */
    static List<Tnum> smallTnums() {
        List<Tnum> all = new ArrayList<>();
        for (long upper : new long[] {0, -32}) {
            for (int code = 0; code < 243; code++) {
                long value = upper;
                long mask = 0;
                int c = code;
                for (int bit = 0; bit < 5; bit++, c /= 3) {
                    switch (c % 3) {
                        case 1 -> value |= 1L << bit;
                        case 2 -> mask |= 1L << bit;
                        default -> { }
                    }
                }
                all.add(new Tnum(value, mask));
            }
        }
        return all;
    }

    /** {@return every value of t; t must have few unknown bits} */
    static long[] members(Tnum t) {
        int unknown = Long.bitCount(t.mask());
        long[] out = new long[1 << unknown];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.value() | Long.expand(i, t.mask());
        }
        return out;
    }

    private static final List<Tnum> SMALL = smallTnums();

    private static void exhaustive(String name, BinaryOperator<Tnum> abstractOp, LongBinaryOperator concrete) {
        long checks = 0;
        for (Tnum a : SMALL) {
            for (Tnum b : SMALL) {
                Tnum r = abstractOp.apply(a, b);
                for (long x : members(a)) {
                    for (long y : members(b)) {
                        long z = concrete.applyAsLong(x, y);
                        if (!r.contains(z)) {
                            fail(String.format("%s%s %s = %s misses %d op %d = %d", a, name, b, r, x, y, z));
                        }
                        checks++;
                    }
                }
            }
        }
        assertTrue(checks > 4_000_000, "checks " + checks);
    }

    @Test
    void arithmeticIsSoundOnSmallTnums() {
        exhaustive(" + ", Tnum::add, (x, y) -> x + y);
        exhaustive(" - ", Tnum::sub, (x, y) -> x - y);
        exhaustive(" * ", Tnum::mul, (x, y) -> x * y);
    }

    @Test
    void bitwiseIsExactOnSmallTnums() {
        exhaustive(" & ", Tnum::and, (x, y) -> x & y);
        exhaustive(" | ", Tnum::or, (x, y) -> x | y);
        exhaustive(" ^ ", Tnum::xor, (x, y) -> x ^ y);
        // and/or/xor are exact: the result is the least tnum of the concrete results.
        for (Tnum a : SMALL) {
            for (Tnum b : SMALL) {
                assertEquals(hull(a, b, (x, y) -> x & y), a.and(b), a + " & " + b);
                assertEquals(hull(a, b, (x, y) -> x | y), a.or(b), a + " | " + b);
                assertEquals(hull(a, b, (x, y) -> x ^ y), a.xor(b), a + " ^ " + b);
            }
        }
    }

    /** {@return the least tnum holding every x op y} */
    private static Tnum hull(Tnum a, Tnum b, LongBinaryOperator op) {
        long and = -1L;
        long or = 0;
        for (long x : members(a)) {
            for (long y : members(b)) {
                long z = op.applyAsLong(x, y);
                and &= z;
                or |= z;
            }
        }
        return new Tnum(and, and ^ or);
    }

    @Test
    void shiftsAndCastsAreExactOnSmallTnums() {
        for (Tnum a : SMALL) {
            for (int k = 0; k < 64; k++) {
                int s = k;
                assertEquals(hull(a, Tnum.of(0), (x, y) -> x << s), a.lshift(k));
                assertEquals(hull(a, Tnum.of(0), (x, y) -> x >>> s), a.rshift(k));
                assertEquals(hull(a, Tnum.of(0), (x, y) -> x >> s), a.arshift(k, Width.W64));
                if (k < 32) {
                    assertEquals(hull(a, Tnum.of(0), (x, y) -> ((int) x >> s) & 0xffff_ffffL), a.arshift(k, Width.W32));
                }
            }
            assertEquals(hull(a, Tnum.of(0), (x, y) -> -x), a.neg(), "neg " + a);
            assertEquals(hull(a, Tnum.of(0), (x, y) -> x & 0xffff_ffffL), a.cast32());
            assertEquals(a.cast32(), a.subreg());
            for (int bits : new int[] {2, 3, 8, 32, 64}) {
                int up = 64 - bits;
                assertEquals(hull(a, Tnum.of(0), (x, y) -> (x << up) >> up), a.signExtend(bits));
                assertEquals(hull(a, Tnum.of(0), (x, y) -> (x << up) >>> up), a.zeroExtend(bits));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Tnum.UNKNOWN.lshift(64));
        assertThrows(IllegalArgumentException.class, () -> Tnum.UNKNOWN.arshift(32, Width.W32));
    }

    @Test
    void joinIsTheLeastUpperBound() {
        for (Tnum a : SMALL) {
            for (Tnum b : SMALL) {
                Tnum j = a.join(b);
                long and = -1L;
                long or = 0;
                for (Tnum t : List.of(a, b)) {
                    for (long x : members(t)) {
                        and &= x;
                        or |= x;
                    }
                }
                assertEquals(new Tnum(and, and ^ or), j, a + " join " + b);
                assertTrue(a.isSubsetOf(j) && b.isSubsetOf(j));
            }
        }
    }

    @Test
    void intersectIsTheExactMeetAndSubsetIsExact() {
        for (Tnum a : SMALL) {
            for (Tnum b : SMALL) {
                Optional<Tnum> m = a.intersect(b);
                List<Long> both = new ArrayList<>();
                for (long x : members(a)) {
                    if (b.contains(x)) {
                        both.add(x);
                    }
                }
                if (both.isEmpty()) {
                    assertTrue(m.isEmpty(), a + " meet " + b + " should be empty");
                } else {
                    assertEquals(both.size(), members(m.orElseThrow()).length, a + " meet " + b);
                    both.forEach(x -> assertTrue(m.get().contains(x)));
                }
                boolean subset = true;
                for (long x : members(a)) {
                    subset &= b.contains(x);
                }
                assertEquals(subset, a.isSubsetOf(b), a + " subset of " + b);
            }
        }
    }

    @Test
    void rangeIsTheLeastTnumOfTheRange() {
        Random rnd = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            long lo = i < 10_000 ? rnd.nextInt(64) - 32 : rnd.nextLong();
            long hi = lo + (rnd.nextInt(4) == 0 ? rnd.nextLong() >>> rnd.nextInt(64) : rnd.nextInt(40));
            if (Long.compareUnsigned(lo, hi) > 0) {
                long t = lo;
                lo = hi;
                hi = t;
            }
            Tnum r = Tnum.range(lo, hi);
            assertTrue(r.contains(lo) && r.contains(hi), r + " misses an end of " + lo + ".." + hi);
            // Least: below the highest bit where lo and hi differ, the range holds both
            // prefix|0111.. and prefix|1000.., so all those bits must be unknown, and no others.
            long expectedMask = lo == hi ? 0 : -1L >>> Long.numberOfLeadingZeros(lo ^ hi);
            assertEquals(expectedMask, r.mask(), "range " + lo + ".." + hi);
            if (Long.compareUnsigned(hi - lo, 64) < 0) {
                for (long x = lo; ; x++) {
                    assertTrue(r.contains(x));
                    if (x == hi) {
                        break;
                    }
                }
            }
        }
        assertEquals(Tnum.UNKNOWN, Tnum.range(0, -1L));
        assertEquals(new Tnum(0, 0xff), Tnum.range(0, 255));
        assertEquals(Tnum.of(42), Tnum.range(42, 42));
        assertThrows(IllegalArgumentException.class, () -> Tnum.range(2, 1));
    }

    @Test
    void ceilAndFloorFindTheNearestMember() {
        Random rnd = new Random(11);
        for (int i = 0; i < 20_000; i++) {
            // Few unknown bits, so that the members can be listed.
            long mask = 0;
            for (int k = rnd.nextInt(9); k > 0; k--) {
                mask |= 1L << (rnd.nextInt(4) == 0 ? 60 + rnd.nextInt(4) : rnd.nextInt(64));
            }
            Tnum t = new Tnum(rnd.nextLong() & ~mask, mask);
            long[] m = members(t);
            for (int j = 0; j < 8; j++) {
                long x = switch (rnd.nextInt(3)) {
                    case 0 -> rnd.nextLong();
                    case 1 -> m[rnd.nextInt(m.length)] + rnd.nextInt(5) - 2;
                    default -> m[rnd.nextInt(m.length)] ^ (1L << rnd.nextInt(64));
                };
                OptionalLong expectCeil = OptionalLong.empty();
                OptionalLong expectFloor = OptionalLong.empty();
                for (long v : m) {
                    if (Long.compareUnsigned(v, x) >= 0
                            && (expectCeil.isEmpty() || Long.compareUnsigned(v, expectCeil.getAsLong()) < 0)) {
                        expectCeil = OptionalLong.of(v);
                    }
                    if (Long.compareUnsigned(v, x) <= 0
                            && (expectFloor.isEmpty() || Long.compareUnsigned(v, expectFloor.getAsLong()) > 0)) {
                        expectFloor = OptionalLong.of(v);
                    }
                }
                assertEquals(expectCeil, t.ceil(x), t + " ceil " + Long.toHexString(x));
                assertEquals(expectFloor, t.floor(x), t + " floor " + Long.toHexString(x));
            }
        }
        assertEquals(OptionalLong.of(0), Tnum.UNKNOWN.ceil(0));
        assertEquals(OptionalLong.empty(), Tnum.of(5).ceil(6));
        assertEquals(OptionalLong.of(0x70), new Tnum(0x30, 0x40).ceil(0x31));
    }

    @Test
    void arithmeticIsSoundOn64BitTnums() {
        Samples samples = new Samples(3);
        Random rnd = samples.random();
        long checks = 0;
        while (checks < ScalarAluSoundnessTest.CHECKS) {
            Tnum a = samples.fromTnum().set().bits();
            Tnum b = samples.fromTnum().set().bits();
            Tnum add = a.add(b);
            Tnum sub = a.sub(b);
            Tnum mul = a.mul(b);
            Tnum and = a.and(b);
            Tnum or = a.or(b);
            Tnum xor = a.xor(b);
            Tnum join = a.join(b);
            for (int i = 0; i < 16; i++) {
                long x = a.value() | (rnd.nextLong() & a.mask());
                long y = b.value() | (rnd.nextLong() & b.mask());
                int k = rnd.nextInt(64);
                boolean ok = add.contains(x + y) && sub.contains(x - y) && mul.contains(x * y)
                        && and.contains(x & y) && or.contains(x | y) && xor.contains(x ^ y)
                        && a.neg().contains(-x) && join.contains(x) && join.contains(y)
                        && a.lshift(k).contains(x << k) && a.rshift(k).contains(x >>> k)
                        && a.arshift(k, Width.W64).contains(x >> k)
                        && a.arshift(k & 31, Width.W32).contains(((int) x >> (k & 31)) & 0xffff_ffffL);
                if (!ok) {
                    fail("unsound for " + a + " (" + x + "), " + b + " (" + y + "), shift " + k);
                }
                checks++;
            }
        }
    }

    @Test
    void invariantIsChecked() {
        assertThrows(IllegalArgumentException.class, () -> new Tnum(1, 1));
        assertTrue(Tnum.of(7).isConst());
        assertFalse(Tnum.UNKNOWN.isConst());
        assertEquals("(0x10; 0xf)", new Tnum(0x10, 0xf).toString());
        assertEquals(new Tnum(0xab_0000_0001L, 0xf0), new Tnum(0xab_0000_0000L, 0xffff).withSubreg(new Tnum(1, 0xf0)));
        assertEquals(new Tnum(0, 0xffff_ffffL), Tnum.UNKNOWN.subreg());
    }
}
