package dev.prism.verifier.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.isa.AluOp;
import dev.prism.isa.JumpOp;
import dev.prism.isa.Semantics;
import dev.prism.isa.Width;
import dev.prism.verifier.domain.Samples.Sampled;
import dev.prism.verifier.domain.ScalarBranch.Refined;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Conditional jumps: a decided comparison agrees with {@link Semantics#condition} on every
 * sampled pair, and each edge's refined operands keep every sampled pair that takes the edge
 * (and never grow). Then precision: what each comparison should teach.
 */
class ScalarBranchTest {
    /**
     * Checks decide and both refinements of one comparison on the given members.
     * {@return the number of member pairs checked}
     */
    static long checkPairs(JumpOp op, Width width, Scalar a, Scalar b, long[] as, long[] bs) {
        Optional<Boolean> decided = ScalarBranch.decide(op, width, a, b);
        Refined taken = ScalarBranch.refine(op, width, a, b, true);
        Refined notTaken = ScalarBranch.refine(op, width, a, b, false);
        for (Refined r : new Refined[] {taken, notTaken}) {
            if (!r.a().isSubsetOf(a) || !r.b().isSubsetOf(b)) {
                fail(String.format("%s%s refinement grew: %s, %s -> %s", op.mnemonic(), width.suffix(), a, b, r));
            }
        }
        long checks = 0;
        for (long x : as) {
            for (long y : bs) {
                boolean jumps = Semantics.condition(op, width, x, y);
                if (decided.isPresent() && decided.get() != jumps) {
                    fail(String.format("%s%s decided %s but %d, %d %s%n  A = %s%n  B = %s", op.mnemonic(),
                            width.suffix(), decided.get(), x, y, jumps ? "jumps" : "falls through", a, b));
                }
                Refined edge = jumps ? taken : notTaken;
                if (!edge.a().contains(x) || !edge.b().contains(y)) {
                    fail(String.format("%s%s %s edge lost %d, %d: %s%n  A = %s%n  B = %s", op.mnemonic(),
                            width.suffix(), jumps ? "taken" : "fall-through", x, y, edge, a, b));
                }
                checks++;
            }
        }
        return checks;
    }

    @TestFactory
    Stream<DynamicTest> soundness() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JumpOp op : JumpOp.values()) {
            for (Width w : Width.values()) {
                tests.add(DynamicTest.dynamicTest(op.mnemonic() + w.suffix(), () -> {
                    Samples samples = new Samples(ScalarAluSoundnessTest.seed(op.name() + w));
                    long checks = 0;
                    for (int pairs = 0; checks < ScalarAluSoundnessTest.CHECKS
                            || pairs < ScalarAluSoundnessTest.PAIRS / 2; pairs++) {
                        Sampled a = samples.any();
                        // Comparisons with a constant are the common case; a second sample near
                        // a's members makes the comparison go both ways.
                        Sampled b = switch (samples.random().nextInt(3)) {
                            case 0 -> samples.any();
                            case 1 -> {
                                long c = a.members()[samples.random().nextInt(a.members().length)]
                                        + samples.random().nextInt(5) - 2;
                                yield samples.withMembers(Scalar.constant(c), new long[] {c});
                            }
                            default -> samples.withMembers(Scalar.constant(samples.value()), new long[0]);
                        };
                        checks += checkPairs(op, w, a.set(), b.set(), a.members(), b.members());
                    }
                }));
            }
        }
        return tests.stream();
    }

    private static final Scalar TOP = Scalar.top();

    private static Scalar c(long v) {
        return Scalar.constant(v);
    }

    @Test
    void unsignedComparisonWithAConstantBoundsTheRange() {
        Refined notTaken = ScalarBranch.refine(JumpOp.JGT, Width.W64, TOP, c(10), false);
        assertEquals(10, notTaken.a().umax());
        assertEquals(0, notTaken.a().umin());
        assertEquals(Scalar.unsignedRange(0, 10), notTaken.a());
        Refined taken = ScalarBranch.refine(JumpOp.JGT, Width.W64, TOP, c(10), true);
        assertEquals(11, taken.a().umin());
        assertEquals(Scalar.unsignedRange(11, -1L), taken.a());
        assertEquals(Scalar.unsignedRange(5, 9),
                ScalarBranch.refine(JumpOp.JLT, Width.W64, Scalar.unsignedRange(5, 100), c(10), true).a());
        assertEquals(Scalar.unsignedRange(10, 100),
                ScalarBranch.refine(JumpOp.JGE, Width.W64, Scalar.unsignedRange(5, 100), c(10), true).a());
    }

    @Test
    void signedComparisonsBoundTheSignedRange() {
        Refined nonNegative = ScalarBranch.refine(JumpOp.JSGT, Width.W64, TOP, c(-1), true);
        assertEquals(0, nonNegative.a().smin());
        assertEquals(Long.MAX_VALUE, nonNegative.a().umax(), "non-negative: the sign bit is 0");
        assertEquals(0, nonNegative.a().bits().value() >>> 63);
        assertEquals(0, nonNegative.a().bits().mask() >>> 63);
        Scalar small = ScalarBranch.refine(JumpOp.JSLE, Width.W64,
                ScalarBranch.refine(JumpOp.JSGE, Width.W64, TOP, c(-5), true).a(), c(5), true).a();
        assertEquals(Scalar.signedRange(-5, 5), small);
    }

    @Test
    void equalityAndItsNegation() {
        Scalar range = Scalar.unsignedRange(0, 100);
        assertEquals(c(42), ScalarBranch.refine(JumpOp.JEQ, Width.W64, range, c(42), true).a());
        assertEquals(c(42), ScalarBranch.refine(JumpOp.JNE, Width.W64, range, c(42), false).a());
        assertEquals(Scalar.unsignedRange(1, 100), ScalarBranch.refine(JumpOp.JNE, Width.W64, range, c(0), true).a());
        assertEquals(Scalar.unsignedRange(0, 99), ScalarBranch.refine(JumpOp.JEQ, Width.W64, range, c(100), false).a());
        assertTrue(ScalarBranch.refine(JumpOp.JEQ, Width.W64, range, c(200), true).isEmpty(), "dead edge");
        assertTrue(ScalarBranch.refine(JumpOp.JEQ, Width.W64, c(5), c(5), false).isEmpty(), "dead edge");
    }

    @Test
    void jsetTeachesBits() {
        Refined clear = ScalarBranch.refine(JumpOp.JSET, Width.W64, TOP, c(4), false);
        assertEquals(0, clear.a().bits().mask() & 4, "bit 2 known");
        assertEquals(0, clear.a().bits().value() & 4, "bit 2 is 0");
        Refined set = ScalarBranch.refine(JumpOp.JSET, Width.W64, TOP, c(4), true);
        assertEquals(4, set.a().bits().value() & 4, "bit 2 is 1");
        assertEquals(4, set.a().umin());
        Refined any = ScalarBranch.refine(JumpOp.JSET, Width.W64, Scalar.unsignedRange(0, 7), c(6), true);
        assertEquals(2, any.a().umin(), "some bit of 6 set: at least 2");
        assertTrue(ScalarBranch.refine(JumpOp.JSET, Width.W64, c(8), c(7), true).isEmpty());
    }

    @Test
    void thirtyTwoBitComparisonsConstrainTheLowHalf() {
        Refined r = ScalarBranch.refine(JumpOp.JGT, Width.W32, TOP, c(10), false);
        assertEquals(10, r.a().u32max());
        assertEquals(0, r.a().u32min());
        assertEquals(0xffff_ffff_0000_000aL, r.a().umax(), "the upper half is unknown: the largest value with low half 10");
        assertEquals(0xfL, r.a().bits().mask() & 0xffff_ffffL, "low half: 4 unknown bits, the rest 0");
        assertEquals(0L, r.a().bits().value() & 0xffff_ffffL);
        // A zero-extended value: the low half is the value, so the 64-bit range follows.
        Scalar byteValue = ScalarAlu.load(1, false);
        assertEquals(Scalar.unsignedRange(0, 15),
                ScalarBranch.refine(JumpOp.JLT, Width.W32, byteValue, c(16), true).a());
        // Signed 32-bit: the low half read signed is negative.
        Refined negative = ScalarBranch.refine(JumpOp.JSLT, Width.W32, TOP, c(0), true);
        assertEquals(-1, negative.a().s32max());
        assertEquals(0x8000_0000L, negative.a().bits().value() & 0xffff_ffffL, "bit 31 is 1");
        // jeq32 with a constant fixes the low half only.
        Refined low = ScalarBranch.refine(JumpOp.JEQ, Width.W32, TOP, c(0x1234), true);
        assertEquals(new Tnum(0x1234, 0xffff_ffff_0000_0000L), low.a().bits());
    }

    @Test
    void decideUsesTheRanges() {
        Scalar small = Scalar.unsignedRange(0, 10);
        assertEquals(Optional.of(false), ScalarBranch.decide(JumpOp.JGT, Width.W64, small, c(20)));
        assertEquals(Optional.of(true), ScalarBranch.decide(JumpOp.JLE, Width.W64, small, c(10)));
        assertEquals(Optional.empty(), ScalarBranch.decide(JumpOp.JGT, Width.W64, small, c(5)));
        assertEquals(Optional.of(true), ScalarBranch.decide(JumpOp.JGT, Width.W64, Scalar.unsignedRange(30, 40), c(20)));
        assertEquals(Optional.of(false), ScalarBranch.decide(JumpOp.JEQ, Width.W64, small, c(11)));
        assertEquals(Optional.of(true), ScalarBranch.decide(JumpOp.JNE, Width.W64, small, c(11)));
        assertEquals(Optional.of(true), ScalarBranch.decide(JumpOp.JEQ, Width.W64, c(3), c(3)));
        assertEquals(Optional.of(true), ScalarBranch.decide(JumpOp.JSLT, Width.W64, c(-1), small));
        assertEquals(Optional.of(false), ScalarBranch.decide(JumpOp.JLT, Width.W64, c(-1), small), "-1 is the largest unsigned");
        // Known bits decide equality and jset.
        Scalar even = ScalarAlu.alu(AluOp.LSH, Width.W64, TOP, c(1));
        assertEquals(Optional.of(false), ScalarBranch.decide(JumpOp.JEQ, Width.W64, even, c(7)));
        assertEquals(Optional.of(false), ScalarBranch.decide(JumpOp.JSET, Width.W64, even, c(1)));
        assertEquals(Optional.of(true), ScalarBranch.decide(JumpOp.JSET, Width.W64, Scalar.of(new Tnum(2, ~2L)), c(3)));
        // 32-bit: the low half of 2^32 + 5 is 5.
        assertEquals(Optional.of(true), ScalarBranch.decide(JumpOp.JEQ, Width.W32, c((1L << 32) + 5), c(5)));
        assertEquals(Optional.of(false), ScalarBranch.decide(JumpOp.JGT, Width.W32, c((1L << 32) + 5), c(6)));
        assertFalse(ScalarBranch.decide(JumpOp.JGT, Width.W64, TOP, TOP).isPresent());
    }
}
