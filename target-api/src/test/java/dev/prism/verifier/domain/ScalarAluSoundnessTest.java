package dev.prism.verifier.domain;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.isa.AluOp;
import dev.prism.isa.EndianOp;
import dev.prism.isa.Semantics;
import dev.prism.isa.Width;
import dev.prism.verifier.domain.Samples.Sampled;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Soundness of the ALU transfer functions by brute force: for random abstract values A and B
 * (see {@link Samples}) and sampled members a of A and b of B, the concrete result
 * {@link Semantics#alu}(op, w, a, b) must lie in {@link ScalarAlu#alu}(op, w, A, B).
 *
 * <p>At least {@link #CHECKS} concrete checks, over at least {@link #PAIRS} pairs of abstract
 * operands, per binary operation and width, and {@link #CHECKS} per one-operand family (25 times
 * more when PRISM_NIGHTLY=1); {@code -Dprism.domain.seed=N} replays another seed.
 */
class ScalarAluSoundnessTest {
    static final int CHECKS = Samples.nightly() ? 5_000_000 : 200_000;
    /** Abstract operand pairs per binary operation and width, at least. */
    static final int PAIRS = Samples.nightly() ? 500_000 : 20_000;

    static long seed(Object salt) {
        return Long.getLong("prism.domain.seed", 0x5ca1a7L) * 31 + salt.hashCode();
    }

    @TestFactory
    Stream<DynamicTest> binaryOperations() {
        List<DynamicTest> tests = new ArrayList<>();
        for (AluOp op : AluOp.values()) {
            for (Width w : Width.values()) {
                tests.add(DynamicTest.dynamicTest(op.mnemonic() + w.suffix(), () -> checkBinary(op, w)));
            }
        }
        return tests.stream();
    }

    private static void checkBinary(AluOp op, Width w) {
        Samples samples = new Samples(seed(op.name() + w));
        long checks = 0;
        for (int pairs = 0; checks < CHECKS || pairs < PAIRS; pairs++) {
            Sampled a = samples.any();
            Sampled b = operand(samples, op);
            Scalar r = ScalarAlu.alu(op, w, a.set(), b.set());
            for (long x : a.members()) {
                for (long y : b.members()) {
                    long expected = Semantics.alu(op, w, x, y);
                    if (!r.contains(expected)) {
                        fail(String.format("%s%s unsound: %d (0x%x) op %d (0x%x) = %d (0x%x) not in%n  %s%n  A = %s%n  B = %s",
                                op.mnemonic(), w.suffix(), x, x, y, y, expected, expected, r, a.set(), b.set()));
                    }
                    checks++;
                }
            }
        }
    }

    /** {@return a second operand; for shifts and divisions, often a small or constant one} */
    private static Sampled operand(Samples samples, AluOp op) {
        boolean special = op.isDivMod() || op == AluOp.LSH || op == AluOp.RSH || op == AluOp.ARSH;
        if (special && samples.random().nextInt(3) == 0) {
            long c = samples.random().nextInt(70) - 3;
            Scalar s = Scalar.constant(c);
            if (samples.random().nextBoolean()) {
                s = s.join(Scalar.constant(c + samples.random().nextInt(6)));
            }
            return samples.withMembers(s, new long[] {c});
        }
        return samples.any();
    }

    @Test
    void neg() {
        for (Width w : Width.values()) {
            checkUnary("neg" + w.suffix(), CHECKS / 2, x -> Semantics.neg(w, x), a -> ScalarAlu.neg(w, a));
        }
    }

    @Test
    void movsx() {
        for (Width w : Width.values()) {
            for (int from : new int[] {8, 16, 32}) {
                checkUnary("movsx" + w.suffix() + " from " + from, CHECKS / 6,
                        x -> Semantics.movsx(w, from, x), a -> ScalarAlu.movsx(w, from, a));
            }
        }
    }

    @Test
    void endian() {
        for (EndianOp op : EndianOp.values()) {
            for (int bits : new int[] {16, 32, 64}) {
                checkUnary(op.mnemonic() + bits, CHECKS / 9,
                        x -> Semantics.endian(op, bits, x), a -> ScalarAlu.endian(op, bits, a));
            }
        }
    }

    @Test
    void narrowingViews() {
        for (int bits : new int[] {8, 16, 32}) {
            long mask = -1L >>> (64 - bits);
            int up = 64 - bits;
            checkUnary("zero-extend low " + bits, CHECKS / 6, x -> x & mask, a -> a.zeroExtendLow(bits));
            checkUnary("sign-extend low " + bits, CHECKS / 6, x -> (x << up) >> up, a -> a.signExtendLow(bits));
        }
    }

    @Test
    void loads() {
        Samples samples = new Samples(seed("load"));
        for (int size : new int[] {1, 2, 4, 8}) {
            for (boolean signed : new boolean[] {false, true}) {
                Scalar r = ScalarAlu.load(size, signed);
                int up = 64 - 8 * size;
                for (int i = 0; i < 20_000; i++) {
                    long memory = samples.value();
                    long loaded = signed ? (memory << up) >> up : (memory << up) >>> up;
                    assertTrue(r.contains(loaded), "load" + size + (signed ? "s " : " ") + loaded + " not in " + r);
                }
            }
        }
    }

    /** Checks a one-operand operation with the given number of concrete checks. */
    private static void checkUnary(String name, int count, LongUnaryOperator concrete, UnaryOperator<Scalar> abstractOp) {
        Samples samples = new Samples(seed(name));
        long checks = 0;
        while (checks < count) {
            Sampled a = samples.any();
            Scalar r = abstractOp.apply(a.set());
            for (long x : a.members()) {
                long expected = concrete.applyAsLong(x);
                if (!r.contains(expected)) {
                    fail(String.format("%s unsound: %d (0x%x) gives 0x%x, not in %s%n  A = %s", name, x, x, expected, r, a.set()));
                }
                checks++;
            }
        }
    }
}
