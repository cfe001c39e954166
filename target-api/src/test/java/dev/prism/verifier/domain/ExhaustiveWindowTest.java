package dev.prism.verifier.domain;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.isa.AluOp;
import dev.prism.isa.JumpOp;
import dev.prism.isa.Semantics;
import dev.prism.isa.Width;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Exhaustive checks on small sets: every abstract value of {@link Samples#windowFamily} (runs
 * and pairs of values within a window of nine consecutive values) against every other, with
 * every pair of members, for every ALU operation and comparison at both widths. The windows sit
 * where wrap-around happens: around 0 (the unsigned wrap and small divisors and shift amounts),
 * around LLONG_MIN (the signed wrap), around 2^31 and 2^32 (the 32-bit signed and unsigned
 * wraps). Because the window is an interval in signed or unsigned order, every member of a
 * family value lies in the window, so enumerating the window enumerates the members.
 */
class ExhaustiveWindowTest {
    /** Window centres for the first operand; the second comes from the same window or from 0's. */
    private static final long[] CENTRES = {0, Long.MIN_VALUE, 1L << 31, 1L << 32, -(1L << 31)};

    private record Window(long centre, List<Scalar> family, long[] values) {
        static Window at(long centre) {
            return new Window(centre, Samples.windowFamily(centre), Samples.window(centre));
        }

        @Override
        public String toString() {
            return "0x" + Long.toHexString(centre);
        }
    }

    private static List<Window[]> operandWindows() {
        List<Window[]> pairs = new ArrayList<>();
        Window zero = Window.at(0);
        for (long c : CENTRES) {
            Window w = Window.at(c);
            for (Scalar s : w.family()) {
                long[] members = Samples.membersIn(s, w.values());
                assertTrue(members.length > 0, () -> s + " has no member in window " + w);
                // All members in the window: its hull is at most nine values wide in one order.
                assertTrue(Long.compareUnsigned(s.umax() - s.umin(), 8) <= 0 || s.smax() - s.smin() <= 8,
                        () -> s + " reaches outside window " + w);
            }
            pairs.add(new Window[] {w, w});
            if (c != 0) {
                pairs.add(new Window[] {w, zero});
            }
        }
        return pairs;
    }

    @TestFactory
    Stream<DynamicTest> aluOperations() {
        List<DynamicTest> tests = new ArrayList<>();
        List<Window[]> windows = operandWindows();
        for (AluOp op : AluOp.values()) {
            tests.add(DynamicTest.dynamicTest(op.mnemonic(), () -> {
                long checks = 0;
                for (Window[] w : windows) {
                    for (Width width : Width.values()) {
                        checks += checkAlu(op, width, w[0], w[1]);
                    }
                }
                assertTrue(checks > 800_000, "checks " + checks);
            }));
        }
        return tests.stream();
    }

    private static long checkAlu(AluOp op, Width width, Window wa, Window wb) {
        long checks = 0;
        for (Scalar a : wa.family()) {
            long[] as = Samples.membersIn(a, wa.values());
            for (Scalar b : wb.family()) {
                long[] bs = Samples.membersIn(b, wb.values());
                Scalar r = ScalarAlu.alu(op, width, a, b);
                for (long x : as) {
                    for (long y : bs) {
                        long z = Semantics.alu(op, width, x, y);
                        if (!r.contains(z)) {
                            fail(String.format("%s%s: %d op %d = %d not in %s%n  A = %s%n  B = %s",
                                    op.mnemonic(), width.suffix(), x, y, z, r, a, b));
                        }
                        checks++;
                    }
                }
            }
        }
        return checks;
    }

    @TestFactory
    Stream<DynamicTest> comparisons() {
        List<DynamicTest> tests = new ArrayList<>();
        List<Window[]> windows = operandWindows();
        for (JumpOp op : JumpOp.values()) {
            tests.add(DynamicTest.dynamicTest(op.mnemonic(), () -> {
                long checks = 0;
                for (Window[] w : windows) {
                    for (Width width : Width.values()) {
                        checks += checkComparison(op, width, w[0], w[1]);
                    }
                }
                assertTrue(checks > 800_000, "checks " + checks);
            }));
        }
        return tests.stream();
    }

    private static long checkComparison(JumpOp op, Width width, Window wa, Window wb) {
        long checks = 0;
        for (Scalar a : wa.family()) {
            long[] as = Samples.membersIn(a, wa.values());
            for (Scalar b : wb.family()) {
                long[] bs = Samples.membersIn(b, wb.values());
                checks += ScalarBranchTest.checkPairs(op, width, a, b, as, bs);
            }
        }
        return checks;
    }
}
