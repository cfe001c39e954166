package dev.prism.verifier.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.isa.AluOp;
import dev.prism.isa.Width;
import dev.prism.verifier.domain.Samples.Sampled;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The lattice of {@link Scalar}: normalisation, join, meet, widening, inclusion. */
class ScalarTest {
    private static final int ROUNDS = Samples.nightly() ? 500_000 : 20_000;

    @Test
    void basics() {
        assertTrue(Scalar.EMPTY.isEmpty());
        assertFalse(Scalar.EMPTY.contains(0));
        assertTrue(Scalar.top().contains(Long.MIN_VALUE) && Scalar.top().contains(-1));
        Scalar c = Scalar.constant(-5);
        assertTrue(c.isConstant());
        assertEquals(-5, c.constantValue());
        assertEquals(c, c.sync());
        assertTrue(c.contains(-5));
        assertFalse(c.contains(5));
        assertThrows(IllegalStateException.class, () -> Scalar.top().constantValue());
        assertEquals("-5", c.toString());
        assertEquals("empty", Scalar.EMPTY.toString());
        assertEquals("scalar", Scalar.top().toString());
        assertEquals("scalar(smin=0,smax=255,umin=0,umax=255,s32min=0,s32max=255,u32min=0,u32max=255,var_off=(0x0; 0xff))",
                Scalar.unsignedRange(0, 255).toString());
        assertEquals(Scalar.EMPTY, Scalar.unsignedRange(3, 2));
        assertEquals(Scalar.EMPTY, Scalar.signedRange(3, 2));
    }

    @Test
    void syncKeepsEveryMemberAndOnlyTightens() {
        Samples samples = new Samples(ScalarAluSoundnessTest.seed("sync"));
        Random rnd = samples.random();
        for (int i = 0; i < ROUNDS; i++) {
            Sampled base = samples.any();
            Scalar raw = loosen(hullOf(base.members()), rnd);
            Scalar synced = raw.sync();
            for (long x : base.members()) {
                assertTrue(synced.contains(x), () -> "sync(" + raw + ") = " + synced + " lost " + x);
            }
            assertTrue(synced.isSubsetOf(raw), () -> "sync(" + raw + ") = " + synced + " grew");
            assertEquals(synced, synced.sync(), () -> "sync is not idempotent on " + raw);
        }
    }

    @Test
    void syncOfArbitraryTuplesKeepsTheirMembers() {
        Samples samples = new Samples(ScalarAluSoundnessTest.seed("sync tuples"));
        Random rnd = samples.random();
        int members = 0;
        for (int i = 0; i < ROUNDS * 5; i++) {
            // Components drawn independently around one value v, so that the tuple holds v and
            // usually other values that only some components exclude.
            long v = samples.value();
            long mask = rnd.nextLong() & rnd.nextLong();
            Scalar raw = new Scalar(new Tnum(v & ~mask, mask),
                    below(v, slack(rnd), true), above(v, slack(rnd), true),
                    below(v, slack(rnd), false), above(v, slack(rnd), false),
                    (int) Math.max((int) v - slack(rnd), Integer.MIN_VALUE),
                    (int) Math.min((int) v + slack(rnd), Integer.MAX_VALUE),
                    (int) Math.max((v & 0xffff_ffffL) - slack(rnd), 0),
                    (int) Math.min((v & 0xffff_ffffL) + slack(rnd), 0xffff_ffffL));
            assertTrue(raw.contains(v), () -> raw + " should hold " + v);
            Scalar synced = raw.sync();
            for (int j = 0; j < 16; j++) {
                long x = j == 0 ? v : samples.candidate(raw);
                if (raw.contains(x)) {
                    members++;
                    assertTrue(synced.contains(x), () -> "sync(" + raw + ") = " + synced + " lost " + x);
                }
            }
            assertTrue(synced.isSubsetOf(raw), () -> "sync(" + raw + ") = " + synced + " grew");
        }
        assertTrue(members > ROUNDS * 5 * 2, "too few members found: " + members);
    }

    /** {@return v - d, or the least value of the order if that wraps} */
    private static long below(long v, long d, boolean signed) {
        long r = v - d;
        boolean wrapped = signed ? r > v : Long.compareUnsigned(r, v) > 0;
        return wrapped ? (signed ? Long.MIN_VALUE : 0) : r;
    }

    /** {@return v + d, or the greatest value of the order if that wraps} */
    private static long above(long v, long d, boolean signed) {
        long r = v + d;
        boolean wrapped = signed ? r < v : Long.compareUnsigned(r, v) < 0;
        return wrapped ? (signed ? Long.MAX_VALUE : -1L) : r;
    }

    /** {@return a random distance, small or large, but below 2^62 so that v +- it does not wrap twice} */
    private static long slack(Random rnd) {
        return (rnd.nextLong() >>> 2) >>> rnd.nextInt(62);
    }

    /** {@return the tightest tuple of each component around the values (not normalised)} */
    private static Scalar hullOf(long[] values) {
        Scalar s = Scalar.EMPTY;
        for (long v : values) {
            s = s.isEmpty() ? Scalar.constant(v) : new Scalar(s.bits().join(Tnum.of(v)),
                    Math.min(s.smin(), v), Math.max(s.smax(), v),
                    Intervals.minUnsigned(s.umin(), v), Intervals.maxUnsigned(s.umax(), v),
                    Math.min(s.s32min(), (int) v), Math.max(s.s32max(), (int) v),
                    Intervals.minUnsigned(s.u32min(), (int) v), Intervals.maxUnsigned(s.u32max(), (int) v));
        }
        return s;
    }

    /** {@return s with some components moved outward at random or made unknown} */
    private static Scalar loosen(Scalar s, Random rnd) {
        Tnum bits = rnd.nextBoolean() ? s.bits() : s.bits().join(new Tnum(0, rnd.nextLong() & rnd.nextLong()));
        long smin = rnd.nextBoolean() ? s.smin() : Math.min(s.smin(), s.smin() - (rnd.nextLong() >>> rnd.nextInt(64)));
        long smax = rnd.nextBoolean() ? s.smax() : Long.MAX_VALUE;
        long umin = rnd.nextBoolean() ? s.umin() : 0;
        long umax = rnd.nextBoolean() ? s.umax() : Intervals.maxUnsigned(s.umax(), s.umax() + rnd.nextInt(1000));
        int s32min = rnd.nextBoolean() ? s.s32min() : Integer.MIN_VALUE;
        int s32max = rnd.nextBoolean() ? s.s32max() : Math.max(s.s32max(), s.s32max() + rnd.nextInt(1000));
        int u32min = rnd.nextBoolean() ? s.u32min() : 0;
        int u32max = rnd.nextBoolean() ? s.u32max() : -1;
        return new Scalar(bits, smin, smax, umin, umax, s32min, s32max, u32min, u32max);
    }

    @Test
    void joinMeetAndInclusion() {
        Samples samples = new Samples(ScalarAluSoundnessTest.seed("lattice"));
        for (int i = 0; i < ROUNDS; i++) {
            Sampled a = samples.any();
            Sampled b = samples.any();
            Scalar join = a.set().join(b.set());
            Scalar meet = a.set().meet(b.set());
            assertTrue(a.set().isSubsetOf(join) && b.set().isSubsetOf(join), () -> a + " join " + b + " = " + join);
            assertTrue(meet.isSubsetOf(a.set()) && meet.isSubsetOf(b.set()), () -> a + " meet " + b + " = " + meet);
            for (Sampled s : new Sampled[] {a, b}) {
                Sampled other = s == a ? b : a;
                for (long x : s.members()) {
                    assertTrue(join.contains(x), () -> a + " join " + b + " = " + join + " lost " + x);
                    if (other.set().contains(x)) {
                        assertTrue(meet.contains(x), () -> a + " meet " + b + " = " + meet + " lost " + x);
                    }
                    if (s.set().isSubsetOf(other.set())) {
                        assertTrue(other.set().contains(x), () -> s + " is not a subset of " + other);
                    }
                }
            }
        }
        assertEquals(Scalar.EMPTY, Scalar.constant(1).meet(Scalar.constant(2)));
        assertEquals(Scalar.constant(3), Scalar.EMPTY.join(Scalar.constant(3)));
    }

    @Test
    void joinOfConstantsKeepsAlignment() {
        Scalar s = Scalar.constant(0).join(Scalar.constant(8)).join(Scalar.constant(16));
        assertEquals(0, s.umin());
        assertEquals(16, s.umax());
        assertEquals(0, s.bits().value() & 7);
        assertEquals(0, s.bits().mask() & 7, "multiples of 8 stay multiples of 8: " + s);
    }

    @Test
    void widenContainsTheJoin() {
        Samples samples = new Samples(ScalarAluSoundnessTest.seed("widen"));
        for (int i = 0; i < ROUNDS; i++) {
            Sampled a = samples.any();
            Sampled b = samples.any();
            Scalar w = a.set().widen(b.set());
            Scalar join = a.set().join(b.set());
            assertTrue(join.isSubsetOf(w), () -> "widen(" + a + ", " + b + ") = " + w + " misses the join " + join);
            for (Sampled s : new Sampled[] {a, b}) {
                for (long x : s.members()) {
                    assertTrue(w.contains(x), () -> "widen(" + a + ", " + b + ") = " + w + " lost " + x);
                }
            }
            assertEquals(a.set(), a.set().widen(a.set()), "widening by itself changes nothing");
        }
    }

    /**
     * A loop head: x := widen(x, body(x)) until nothing changes, for random arithmetic bodies.
     * Each step that changes x moves a range end to the end of its type (eight ends) or loses
     * known bits (once, then at most three times one of the kept low bits), so no chain should
     * be longer than 12 steps; in practice they take up to 5.
     */
    @Test
    void wideningChainsStabiliseQuickly() {
        Samples samples = new Samples(ScalarAluSoundnessTest.seed("chains"));
        Random rnd = samples.random();
        AluOp[] ops = {AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.LSH, AluOp.RSH, AluOp.ARSH,
            AluOp.OR, AluOp.AND, AluOp.XOR, AluOp.DIV, AluOp.MOD, AluOp.SDIV};
        int longest = 0;
        for (int i = 0; i < ROUNDS / 4; i++) {
            Scalar x = rnd.nextBoolean() ? Scalar.constant(rnd.nextInt(100)) : samples.any().set();
            int n = 1 + rnd.nextInt(3);
            AluOp[] body = new AluOp[n];
            Width[] widths = new Width[n];
            Scalar[] operands = new Scalar[n];
            for (int k = 0; k < n; k++) {
                body[k] = ops[rnd.nextInt(ops.length)];
                widths[k] = rnd.nextInt(4) == 0 ? Width.W32 : Width.W64;
                operands[k] = rnd.nextBoolean() ? Scalar.constant(rnd.nextInt(9) - 1) : samples.any().set();
            }
            int steps = 0;
            while (true) {
                Scalar next = x;
                for (int k = 0; k < n; k++) {
                    next = ScalarAlu.alu(body[k], widths[k], next, operands[k]);
                }
                Scalar w = x.widen(next);
                assertTrue(x.isSubsetOf(w) && next.isSubsetOf(w));
                if (w.equals(x)) {
                    break;
                }
                x = w;
                steps++;
                if (steps > 12) {
                    fail("no fixpoint after " + steps + " widenings; at " + x);
                }
            }
            longest = Math.max(longest, steps);
        }
        assertTrue(longest >= 2, "the chains should not all be trivial");
    }

    @Test
    void wideningDoesNotLoseOneKnownBitPerIteration() {
        // x = 2^63; loop: x >>= 1. A plain join would lose one bit per iteration.
        Scalar x = Scalar.constant(Long.MIN_VALUE);
        Scalar one = Scalar.constant(1);
        int steps = 0;
        for (Scalar w; !(w = x.widen(ScalarAlu.alu(AluOp.RSH, Width.W64, x, one))).equals(x); x = w) {
            steps++;
        }
        assertTrue(steps <= 6, "steps " + steps);
        assertTrue(x.contains(1) && x.contains(Long.MIN_VALUE));
        // Alignment survives: x = 0; loop: x += 4.
        Scalar y = Scalar.constant(0);
        Scalar four = Scalar.constant(4);
        for (Scalar w; !(w = y.widen(ScalarAlu.alu(AluOp.ADD, Width.W64, y, four))).equals(y); y = w) {
            assertTrue(++steps < 10);
        }
        assertEquals(0, y.bits().value() & 3);
        assertEquals(0, y.bits().mask() & 3, "multiples of 4: " + y);
    }

    @Test
    void narrowViews() {
        Scalar s = Scalar.unsignedRange(0x1_0000_00f0L, 0x1_0000_0110L);
        assertEquals(Scalar.unsignedRange(0xf0, 0x110), s.zeroExtendLow(32));
        assertEquals(Scalar.top().zeroExtendLow(8), s.zeroExtendLow(8), "0xf0..0x110 wraps in 8 bits");
        Scalar small = Scalar.signedRange(-3, 3);
        assertEquals(Scalar.signedRange(-3, 3), small.signExtendLow(8));
        Scalar low8 = small.zeroExtendLow(8); // {253, 254, 255, 0, 1, 2, 3}: wraps, so 0..255
        assertEquals(0, low8.umin());
        assertEquals(255, low8.umax());
        assertEquals(Scalar.signedRange(-3, 3), Scalar.unsignedRange(0xfffd, 0x1_0003).signExtendLow(16));
    }
}
