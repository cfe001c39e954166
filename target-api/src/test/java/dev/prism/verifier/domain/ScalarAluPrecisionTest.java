package dev.prism.verifier.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.isa.AluOp;
import dev.prism.isa.EndianOp;
import dev.prism.isa.Semantics;
import dev.prism.isa.Width;
import dev.prism.verifier.domain.Samples.Sampled;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What the transfer functions must know, not only what they must not lose: a domain that
 * answered "unknown" everywhere would pass the soundness tests and fail these.
 */
class ScalarAluPrecisionTest {
    private static final Scalar TOP = Scalar.top();

    private static Scalar c(long v) {
        return Scalar.constant(v);
    }

    private static Scalar u(long lo, long hi) {
        return Scalar.unsignedRange(lo, hi);
    }

    private static Scalar s(long lo, long hi) {
        return Scalar.signedRange(lo, hi);
    }

    private static Scalar alu(AluOp op, Scalar a, Scalar b) {
        return ScalarAlu.alu(op, Width.W64, a, b);
    }

    private static Scalar alu32(AluOp op, Scalar a, Scalar b) {
        return ScalarAlu.alu(op, Width.W32, a, b);
    }

    @Test
    void constantsFoldForEveryOperation() {
        Samples samples = new Samples(5);
        for (int i = 0; i < 2_000; i++) {
            long x = samples.value();
            long y = i % 4 == 0 ? 0 : samples.value();
            for (AluOp op : AluOp.values()) {
                for (Width w : Width.values()) {
                    assertEquals(c(Semantics.alu(op, w, x, y)), ScalarAlu.alu(op, w, c(x), c(y)), op + " " + w + " " + x + ", " + y);
                }
            }
            for (Width w : Width.values()) {
                assertEquals(c(Semantics.neg(w, x)), ScalarAlu.neg(w, c(x)));
                for (int from : new int[] {8, 16, 32}) {
                    assertEquals(c(Semantics.movsx(w, from, x)), ScalarAlu.movsx(w, from, c(x)));
                }
            }
            for (EndianOp op : EndianOp.values()) {
                for (int bits : new int[] {16, 32, 64}) {
                    assertEquals(c(Semantics.endian(op, bits, x)), ScalarAlu.endian(op, bits, c(x)));
                }
            }
        }
    }

    @Test
    void andWithAMaskBoundsTheValue() {
        assertEquals(u(0, 255), alu(AluOp.AND, TOP, c(0xff)));
        assertEquals(u(0, 255), alu32(AluOp.AND, TOP, c(0xff)));
        assertEquals(new Tnum(0, 0xf0), alu(AluOp.AND, TOP, c(0xf0)).bits());
        assertEquals(u(0, 10), alu(AluOp.AND, u(0, 10), TOP), "x & y <= x");
    }

    @Test
    void additionAndSubtractionOfRanges() {
        assertEquals(u(5, 15), alu(AluOp.ADD, u(0, 10), c(5)));
        assertEquals(u(5, 15), alu32(AluOp.ADD, u(0, 10), c(5)));
        assertEquals(u(0, 10), alu(AluOp.SUB, u(5, 15), c(5)));
        assertEquals(s(-5, 5), alu(AluOp.SUB, u(0, 10), c(5)), "crosses zero: signed stays exact");
        assertEquals(s(-20, 20), alu(AluOp.ADD, s(-10, 10), s(-10, 10)));
        // 32-bit wrap: 0xfffffff0..0xffffffff + 0x10 is 0..0xf in 32 bits.
        assertEquals(u(0, 0xf), alu32(AluOp.ADD, u(0xffff_fff0L, 0xffff_ffffL), c(0x10)));
        // 64-bit wrap of both ends keeps the unsigned range.
        assertEquals(u(4, 9), alu(AluOp.ADD, u(-6L, -1L), c(10)));
        assertEquals(s(-10, -1), ScalarAlu.neg(Width.W64, u(1, 10)));
    }

    @Test
    void multiplicationAndShiftsOfRanges() {
        assertEquals(u(0, 30), alu(AluOp.MUL, u(0, 10), c(3)));
        assertEquals(s(-30, 30), alu(AluOp.MUL, s(-10, 10), c(3)));
        Scalar shifted = alu(AluOp.LSH, u(0, 255), c(2));
        assertEquals(0, shifted.umin());
        assertEquals(1020, shifted.umax());
        assertEquals(0, shifted.bits().mask() & 3, "low two bits known 0");
        assertEquals(u(0, 15), alu(AluOp.RSH, TOP, c(60)));
        assertEquals(u(0, 15), alu32(AluOp.RSH, TOP, c(28)));
        assertEquals(s(-8, 7), alu(AluOp.ARSH, ScalarAlu.load(1, true), c(4)));
        assertEquals(s(-8, 7), alu(AluOp.ARSH, TOP, c(60)));
        assertEquals(u(0, 0xf), alu(AluOp.RSH, u(0, 0xff), u(4, 7)), "an unknown amount: the union of the shifts");
        assertEquals(u(0, 0xff), alu(AluOp.RSH, u(0, 0xff), c(64)), "the amount is masked to 63: 64 is 0");
    }

    @Test
    void divisionAndRemainder() {
        assertEquals(u(0, 10), alu(AluOp.DIV, u(0, 100), c(10)));
        assertEquals(u(5, 100), alu(AluOp.DIV, u(10, 200), u(2, 2)));
        assertEquals(u(0, 100), alu(AluOp.DIV, u(0, 100), u(0, 10)), "a zero divisor adds 0");
        assertEquals(u(0, 9), alu(AluOp.MOD, u(0, 1000), c(10)));
        assertEquals(new Tnum(0, 7), alu(AluOp.MOD, TOP, c(8)).bits(), "mod 8 is & 7");
        assertEquals(u(3, 7), alu(AluOp.MOD, u(3, 7), u(8, 20)), "below every divisor: unchanged");
        assertEquals(s(-10, 10), alu(AluOp.SDIV, s(-100, 100), c(10)));
        assertEquals(s(-10, 10), alu(AluOp.SDIV, s(-100, 100), c(-10)));
        assertEquals(s(-9, 9), alu(AluOp.SMOD, s(-100, 100), c(10)));
        assertEquals(s(-9, 0), alu(AluOp.SMOD, s(-100, -1), c(-10)));
        assertEquals(c(Integer.MIN_VALUE & 0xffff_ffffL), alu32(AluOp.SDIV, c(Integer.MIN_VALUE), c(-1)));
        Scalar overflow = alu(AluOp.SDIV, s(Long.MIN_VALUE, Long.MIN_VALUE + 10), c(-1));
        assertTrue(overflow.contains(Long.MIN_VALUE) && overflow.contains(Long.MAX_VALUE));
    }

    @Test
    void bitwiseOrAndXor() {
        assertEquals(u(0x100, 0x10f), alu(AluOp.OR, u(0, 15), c(0x100)));
        assertEquals(u(0, 15), alu(AluOp.XOR, u(0, 15), u(0, 15)));
        assertEquals(new Tnum(0xff00, 0), alu(AluOp.XOR, c(0xffff), c(0xff)).bits());
    }

    @Test
    void thirtyTwoBitResultsHaveAZeroUpperHalf() {
        Samples samples = new Samples(9);
        for (int i = 0; i < 3_000; i++) {
            Sampled a = samples.any();
            Sampled b = samples.any();
            for (AluOp op : AluOp.values()) {
                Scalar r = alu32(op, a.set(), b.set());
                assertEquals(0, r.bits().value() >>> 32, () -> op + ": " + r);
                assertEquals(0, r.bits().mask() >>> 32, () -> op + ": " + r);
                assertTrue(Long.compareUnsigned(r.umax(), 0xffff_ffffL) <= 0, () -> op + ": " + r);
                assertTrue(r.smin() >= 0, () -> op + ": " + r);
            }
            Scalar n = ScalarAlu.neg(Width.W32, a.set());
            assertEquals(0, (n.bits().value() | n.bits().mask()) >>> 32);
        }
    }

    @Test
    void extensionsLoadsAndSwaps() {
        assertEquals(u(0, 255), ScalarAlu.load(1, false));
        assertEquals(u(0, 0xffff), ScalarAlu.load(2, false));
        assertEquals(u(0, 0xffff_ffffL), ScalarAlu.load(4, false));
        assertEquals(TOP, ScalarAlu.load(8, false));
        assertEquals(s(-128, 127), ScalarAlu.load(1, true));
        assertEquals(s(-32768, 32767), ScalarAlu.load(2, true));
        assertEquals(s(Integer.MIN_VALUE, Integer.MAX_VALUE), ScalarAlu.load(4, true));
        assertEquals(s(-128, 127), ScalarAlu.movsx(Width.W64, 8, u(0, 255)));
        assertEquals(u(0, 127).join(u(0xffff_ff80L, 0xffff_ffffL)), ScalarAlu.movsx(Width.W32, 8, u(0, 255)));
        assertEquals(s(-3, 3), ScalarAlu.movsx(Width.W64, 32, s(-3, 3)));
        assertEquals(Scalar.of(new Tnum(0, 0xff00)), ScalarAlu.endian(EndianOp.BE, 16, u(0, 255)));
        assertEquals(u(0, 0xff), ScalarAlu.endian(EndianOp.LE, 16, u(0, 0xff)));
        assertEquals(u(0, 0xffff), ScalarAlu.endian(EndianOp.LE, 16, TOP));
        assertEquals(Scalar.of(new Tnum(0, 0xffL << 56)), ScalarAlu.endian(EndianOp.BSWAP, 64, u(0, 255)));
    }

    @Test
    void resultsAreNormalised() {
        Samples samples = new Samples(13);
        Random rnd = samples.random();
        AluOp[] ops = AluOp.values();
        for (int i = 0; i < 5_000; i++) {
            Scalar r = ScalarAlu.alu(ops[rnd.nextInt(ops.length)], rnd.nextBoolean() ? Width.W32 : Width.W64,
                    samples.any().set(), samples.any().set());
            assertEquals(r.sync(), r, "every result is in normal form");
        }
    }
}
