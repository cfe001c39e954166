package dev.prism.verifier.domain;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Random abstract values with random concrete members, for the soundness tests. Three ways to
 * make an abstract value: join a random set of concrete values; take a random range (signed or
 * unsigned, 64 or 32 bits); take a random tnum. Members come from the generating set where
 * there is one, and from random candidates shaped like the value (inside its ranges, with its
 * known bits) kept only when {@link Scalar#contains} accepts them.
 *
 * <p>Values are drawn with a bias toward the places where arithmetic goes wrong: 0, +-1, the
 * ends of the signed and unsigned ranges of both widths, powers of two, small shift amounts.
 */
final class Samples {
    /** An abstract value and some of its members (at least one; all verified members). */
    record Sampled(Scalar set, long[] members) {
        @Override
        public String toString() {
            return set + " " + Arrays.toString(Arrays.copyOf(members, Math.min(members.length, 4)));
        }
    }

    private static final long[] EDGES = {
        0, 1, 2, 3, 7, 8, 31, 32, 63, 64, 255, 256, 0xffff, 0x1_0000,
        Integer.MAX_VALUE, 0x8000_0000L, 0xffff_ffffL, 0x1_0000_0000L, 0x1_0000_0001L,
        Long.MAX_VALUE, Long.MIN_VALUE, Integer.MIN_VALUE, -1, -2, -8, -255, -256,
        0x7fff_ffff_0000_0000L, 0xffff_ffff_0000_0000L, 0x8000_0000_ffff_ffffL,
    };

    private static final int MEMBERS = 12;

    private final Random rnd;

    Samples(long seed) {
        rnd = new Random(seed);
    }

    /** {@return whether the long (nightly) runs are on: PRISM_NIGHTLY=1 or -Dprism.nightly=true} */
    static boolean nightly() {
        return "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    }

    Random random() {
        return rnd;
    }

    /** {@return a concrete value, biased toward edges} */
    long value() {
        return switch (rnd.nextInt(9)) {
            case 0 -> rnd.nextLong();
            case 1 -> rnd.nextInt(33) - 16;
            case 2 -> EDGES[rnd.nextInt(EDGES.length)] + rnd.nextInt(5) - 2;
            case 3 -> rnd.nextInt();
            case 4 -> rnd.nextInt() & 0xffff_ffffL;
            case 5 -> (rnd.nextLong() & ~0xffff_ffffL) | (EDGES[rnd.nextInt(EDGES.length)] + rnd.nextInt(3) - 1) & 0xffff_ffffL;
            case 6 -> (1L << rnd.nextInt(64)) + rnd.nextInt(3) - 1;
            case 7 -> rnd.nextInt(256);
            default -> rnd.nextInt(70);
        };
    }

    /** {@return a random width: small, medium or any} */
    private long span() {
        return switch (rnd.nextInt(5)) {
            case 0 -> rnd.nextInt(4);
            case 1 -> rnd.nextInt(300);
            case 2 -> rnd.nextInt() & 0xffff_ffffL;
            case 3 -> 1L << rnd.nextInt(64);
            default -> rnd.nextLong() >>> rnd.nextInt(64);
        };
    }

    /** {@return an abstract value made by one of the three methods, or a meet of two} */
    Sampled any() {
        return switch (rnd.nextInt(7)) {
            case 0, 1 -> fromValues();
            case 2, 3 -> fromRange();
            case 4, 5 -> fromTnum();
            default -> mixed();
        };
    }

    /** {@return the join of one to six values, scattered or clustered} */
    Sampled fromValues() {
        int n = 1 + rnd.nextInt(6);
        long[] values = new long[n];
        long base = value();
        boolean clustered = rnd.nextBoolean();
        for (int i = 0; i < n; i++) {
            values[i] = clustered ? base + (rnd.nextInt(2) == 0 ? rnd.nextInt(9) - 4 : rnd.nextInt(1 << 12)) : value();
        }
        Scalar joined = Scalar.EMPTY;
        for (long v : values) {
            joined = joined.join(Scalar.constant(v));
        }
        Scalar s = joined;
        for (long v : values) {
            assertTrue(s.contains(v), () -> "join of " + Arrays.toString(values) + " = " + s + " lost " + v);
        }
        return withMembers(s, values);
    }

    /** {@return a range of one of the four kinds (or two at once), normalised} */
    Sampled fromRange() {
        Scalar s;
        Sampled sampled;
        do {
            s = Scalar.top();
            int kinds = 1 + rnd.nextInt(3);
            for (int i = 0; i < kinds; i++) {
                long lo = value();
                long hi = lo + span();
                s = switch (rnd.nextInt(4)) {
                    case 0 -> withUnsigned(s, Intervals.minUnsigned(lo, hi), Intervals.maxUnsigned(lo, hi));
                    case 1 -> withSigned(s, Math.min(lo, hi), Math.max(lo, hi));
                    case 2 -> with32(s, (int) Math.min((int) lo, (int) hi), (int) Math.max((int) lo, (int) hi), s.u32min(), s.u32max());
                    default -> with32(s, s.s32min(), s.s32max(),
                            Intervals.minUnsigned((int) lo, (int) hi), Intervals.maxUnsigned((int) lo, (int) hi));
                };
            }
            // Ranges of different kinds can exclude every value together without the
            // normaliser seeing it (their intersection need not be an interval); then no member
            // turns up, and another range is drawn.
            s = s.sync();
            sampled = s.isEmpty() ? null : tryMembers(s, new long[0]);
        } while (sampled == null);
        return sampled;
    }

    /** {@return the values of a random tnum} */
    Sampled fromTnum() {
        long mask = switch (rnd.nextInt(6)) {
            case 0 -> rnd.nextLong();
            case 1 -> rnd.nextLong() & rnd.nextLong() & rnd.nextLong();
            case 2 -> (1L << rnd.nextInt(64)) - 1;
            case 3 -> ((1L << rnd.nextInt(64)) - 1) << rnd.nextInt(8);
            case 4 -> -1L << rnd.nextInt(64);
            default -> rnd.nextLong() & 0xffff_ffffL;
        };
        long value = value() & ~mask;
        return withMembers(Scalar.of(new Tnum(value, mask)), new long[] {value, value | mask});
    }

    /** {@return the meet of two values of different kinds, when not empty} */
    Sampled mixed() {
        for (int tries = 0; tries < 8; tries++) {
            Sampled a = rnd.nextBoolean() ? fromTnum() : fromValues();
            Sampled b = fromRange();
            Scalar m = a.set().meet(b.set());
            long[] hints = new long[a.members().length + b.members().length];
            System.arraycopy(a.members(), 0, hints, 0, a.members().length);
            System.arraycopy(b.members(), 0, hints, a.members().length, b.members().length);
            // A meet can be empty without the normaliser seeing it; then no member turns up.
            Sampled sampled = m.isEmpty() ? null : tryMembers(m, hints);
            if (sampled != null) {
                return sampled;
            }
        }
        return fromValues();
    }

    /** {@return s with members: the hints it contains, then filtered candidates} */
    Sampled withMembers(Scalar s, long[] hints) {
        Sampled sampled = tryMembers(s, hints);
        assertTrue(sampled != null, () -> "found no member of " + s);
        return sampled;
    }

    /** {@return s with members, or null when none was found} */
    Sampled tryMembers(Scalar s, long[] hints) {
        Set<Long> members = new LinkedHashSet<>();
        for (long h : hints) {
            if (s.contains(h)) {
                members.add(h);
            }
        }
        for (int tries = 0; members.size() < MEMBERS && tries < 40 * MEMBERS; tries++) {
            long c = candidate(s);
            if (s.contains(c)) {
                members.add(c);
            }
        }
        if (members.isEmpty()) {
            // Not empty, but the random candidates missed: walk the unsigned range.
            long v = s.umin();
            for (int i = 0; i < 1 << 20 && members.isEmpty(); i++, v++) {
                if (s.contains(v)) {
                    members.add(v);
                }
            }
        }
        if (members.isEmpty()) {
            return null;
        }
        return new Sampled(s, members.stream().mapToLong(Long::longValue).toArray());
    }

    /** {@return a value likely to be in s: inside one of its ranges, forced onto its known bits} */
    long candidate(Scalar s) {
        Tnum t = s.bits();
        long raw = switch (rnd.nextInt(8)) {
            case 0 -> rnd.nextLong();
            case 1 -> s.umin() + (rnd.nextLong() & spanMask(s.umax() - s.umin()));
            case 2 -> s.smin() + (rnd.nextLong() & spanMask(s.smax() - s.smin()));
            case 3 -> (rnd.nextLong() & ~0xffff_ffffL)
                    | ((s.u32min() & 0xffff_ffffL) + (rnd.nextLong() & spanMask((s.u32max() - s.u32min()) & 0xffff_ffffL)));
            case 4 -> List.of(s.umin(), s.umax(), s.smin(), s.smax()).get(rnd.nextInt(4)) + rnd.nextInt(3) - 1;
            case 5 -> (s.umax() & ~0xffff_ffffL) | (s.u32max() & 0xffff_ffffL);
            case 6 -> (s.umin() & ~0xffff_ffffL) | (s.s32min() & 0xffff_ffffL);
            default -> s.umin() + rnd.nextInt(16);
        };
        return rnd.nextInt(4) == 0 ? raw : (raw & t.mask()) | t.value();
    }

    /** {@return all ones up to the highest bit of span, so that r & it is roughly uniform below span} */
    private static long spanMask(long span) {
        return span == 0 ? 0 : -1L >>> Long.numberOfLeadingZeros(span);
    }

    static Scalar withUnsigned(Scalar s, long lo, long hi) {
        return new Scalar(s.bits(), s.smin(), s.smax(), lo, hi, s.s32min(), s.s32max(), s.u32min(), s.u32max());
    }

    static Scalar withSigned(Scalar s, long lo, long hi) {
        return new Scalar(s.bits(), lo, hi, s.umin(), s.umax(), s.s32min(), s.s32max(), s.u32min(), s.u32max());
    }

    static Scalar with32(Scalar s, int slo, int shi, int ulo, int uhi) {
        return new Scalar(s.bits(), s.smin(), s.smax(), s.umin(), s.umax(), slo, shi, ulo, uhi);
    }

    /**
     * The abstract values of the exhaustive tests: within the window {center + d : |d| <= 4},
     * every run of consecutive values and every pair, each as the join of its values, so that
     * (the window being an interval in signed or unsigned order) every member lies in the window
     * and enumerating the window enumerates the members.
     */
    static List<Scalar> windowFamily(long center) {
        Set<Scalar> family = new LinkedHashSet<>();
        for (int lo = -4; lo <= 4; lo++) {
            Scalar run = Scalar.EMPTY;
            for (int hi = lo; hi <= 4; hi++) {
                run = run.join(Scalar.constant(center + hi));
                family.add(run);
                family.add(Scalar.constant(center + lo).join(Scalar.constant(center + hi)));
            }
        }
        return List.copyOf(family);
    }

    /** {@return the window's values} */
    static long[] window(long center) {
        long[] w = new long[9];
        for (int d = -4; d <= 4; d++) {
            w[d + 4] = center + d;
        }
        return w;
    }

    /** {@return the members of s in the window} */
    static long[] membersIn(Scalar s, long[] window) {
        return Arrays.stream(window).filter(s::contains).toArray();
    }
}
