package dev.prism.arm64;

import static dev.prism.arm64.A64Reg.SP;
import static dev.prism.arm64.A64Reg.X0;
import static dev.prism.arm64.A64Reg.X1;
import static dev.prism.arm64.A64Reg.X2;
import static dev.prism.arm64.A64Reg.XZR;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Range checks, labels, the logical-immediate encoder and movImm, without llvm-mc. */
class A64AssemblerTest {

    private static void throwsNaming(String fragment, Consumer<A64Assembler> emit) {
        A64Assembler a = new A64Assembler();
        Executable e = () -> emit.accept(a);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(fragment), ex.getMessage() + " should name " + fragment);
        assertEquals(0, a.position(), "nothing emitted when the check fails");
    }

    @Test
    void rangeChecksThrowNamingTheValue() {
        throwsNaming("4096", a -> a.add(64, X0, X1, 4096));
        throwsNaming("-1", a -> a.sub(32, X0, X1, -1));
        throwsNaming("16", a -> a.add(16, X0, X1, 0));
        throwsNaming("32", a -> a.add(32, X0, X1, X2, A64Shift.LSL, 32));
        throwsNaming("64", a -> a.orr(64, X0, X1, X2, A64Shift.LSL, 64));
        throwsNaming("ROR", a -> a.add(64, X0, X1, X2, A64Shift.ROR, 1));
        throwsNaming("65536", a -> a.movz(64, X0, 65536, 0));
        throwsNaming("8", a -> a.movz(64, X0, 1, 8));
        throwsNaming("32", a -> a.movk(32, X0, 1, 32));
        throwsNaming("64", a -> a.movn(64, X0, 1, 64));
        throwsNaming("32768", a -> a.ldr(64, X0, X1, 32760 + 8));
        throwsNaming("12", a -> a.ldr(64, X0, X1, 12));
        throwsNaming("-8", a -> a.ldr(64, X0, X1, -8));
        throwsNaming("8191", a -> a.ldrh(X0, X1, 8191));
        throwsNaming("256", a -> a.ldur(64, X0, X1, 256));
        throwsNaming("-257", a -> a.stur(32, X0, X1, -257));
        throwsNaming("512", a -> a.stp(64, X0, X1, SP, 512, A64Index.PRE));
        throwsNaming("-260", a -> a.ldp(32, X0, X1, SP, -260, A64Index.POST));
        throwsNaming("4", a -> a.ldp(64, X0, X1, SP, 4, A64Index.OFFSET));
        throwsNaming("32", a -> a.lsl(32, X0, X1, 32));
        throwsNaming("64", a -> a.asr(64, X0, X1, 64));
        throwsNaming("64", a -> a.tbz(X0, 64, 0));
        throwsNaming("16", a -> a.ldadd(16, A64MemOrder.PLAIN, X0, X1, X2));
    }

    @Test
    void spAndZeroRegisterAreCheckedPerSlot() {
        throwsNaming("zero register", a -> a.add(64, XZR, X1, 1));
        throwsNaming("zero register", a -> a.add(64, X0, XZR, 1));
        throwsNaming("sp", a -> a.add(64, SP, X1, X2));
        throwsNaming("sp", a -> a.subs(64, SP, X1, 1, false));
        throwsNaming("sp", a -> a.mul(64, X0, SP, X1));
        throwsNaming("zero register", a -> a.ldr(64, X0, XZR, 0));
        throwsNaming("sp", a -> a.ldr(64, SP, X1, 0));
        throwsNaming("sp", a -> a.ldr(64, X0, X1, SP, false));
        throwsNaming("sp", a -> a.and(64, X0, SP, 0xff));
        throwsNaming("sp", a -> a.ret(SP));
    }

    @Test
    void branchOffsetsAtAndPastTheLimits() {
        Map<String, Consumer<A64Assembler>> ok = Map.of(
                "b+", a -> a.b(134217724), "b-", a -> a.b(-134217728),
                "bl-", a -> a.bl(-134217728),
                "bcond+", a -> a.b(A64Cond.NE, 1048572), "cbz-", a -> a.cbz(64, X0, -1048576),
                "tbz+", a -> a.tbz(X0, 63, 32764), "tbnz-", a -> a.tbnz(X0, 0, -32768));
        ok.forEach((name, emit) -> {
            A64Assembler a = new A64Assembler();
            emit.accept(a);
            assertEquals(4, a.position(), name);
        });
        throwsNaming("134217728", a -> a.b(134217728));
        throwsNaming("-134217732", a -> a.bl(-134217732));
        throwsNaming("1048576", a -> a.b(A64Cond.EQ, 1048576));
        throwsNaming("-1048580", a -> a.cbnz(32, X0, -1048580));
        throwsNaming("32768", a -> a.tbz(X0, 1, 32768));
        throwsNaming("-32772", a -> a.tbnz(X0, 1, -32772));
        throwsNaming("multiple of 4", a -> a.b(2));
        throwsNaming("1048576", a -> a.adr(X0, 1048576));
        throwsNaming("-1048577", a -> a.adr(X0, -1048577));
    }

    /** A label-based branch must encode exactly like the offset form at the same distance. */
    private static void sameAsOffset(Consumer<A64Assembler> byOffset, int nopsBetween, boolean forward,
            java.util.function.BiConsumer<A64Assembler, A64Assembler.Label> byLabel) {
        A64Assembler a = new A64Assembler();
        A64Assembler.Label l = new A64Assembler.Label();
        if (!forward) {
            a.bind(l);
            for (int i = 0; i < nopsBetween; i++) {
                a.nop();
            }
        }
        int at = a.position();
        byLabel.accept(a, l);
        if (forward) {
            for (int i = 0; i < nopsBetween; i++) {
                a.nop();
            }
            a.bind(l);
        }
        A64Assembler expected = new A64Assembler();
        byOffset.accept(expected);
        assertEquals(Integer.toHexString(expected.words()[0]), Integer.toHexString(a.words()[at / 4]));
    }

    @Test
    void labelsPatchForwardAndBackwardBranches() {
        for (boolean forward : new boolean[] {true, false}) {
            int n = 5;
            int d = forward ? 4 * (n + 1) : -4 * n;
            sameAsOffset(a -> a.b(d), n, forward, A64Assembler::b);
            sameAsOffset(a -> a.bl(d), n, forward, A64Assembler::bl);
            sameAsOffset(a -> a.b(A64Cond.GT, d), n, forward, (a, l) -> a.b(A64Cond.GT, l));
            sameAsOffset(a -> a.cbz(64, X1, d), n, forward, (a, l) -> a.cbz(64, X1, l));
            sameAsOffset(a -> a.cbnz(32, X2, d), n, forward, (a, l) -> a.cbnz(32, X2, l));
            sameAsOffset(a -> a.tbz(X1, 40, d), n, forward, (a, l) -> a.tbz(X1, 40, l));
            sameAsOffset(a -> a.tbnz(X1, 3, d), n, forward, (a, l) -> a.tbnz(X1, 3, l));
            sameAsOffset(a -> a.adr(X2, d), n, forward, (a, l) -> a.adr(X2, l));
        }
    }

    @Test
    void severalBranchesToOneLabelAreAllPatched() {
        A64Assembler a = new A64Assembler();
        A64Assembler.Label l = new A64Assembler.Label();
        a.b(l);
        a.cbz(64, X0, l);
        a.tbnz(X0, 7, l);
        a.bind(l);
        a.b(l);
        int[] w = a.words();
        assertEquals(0x14000003, w[0]);
        assertEquals(0xB4000040, w[1]);
        assertEquals(0x37380020, w[2]);
        assertEquals(0x14000000, w[3]);
        assertThrows(IllegalStateException.class, () -> a.bind(l));
    }

    @Test
    void labelBranchesOutOfRangeThrow() {
        // tbz reaches 8191 words forward and 8192 back.
        A64Assembler fwdOk = new A64Assembler();
        A64Assembler.Label l1 = new A64Assembler.Label();
        fwdOk.tbz(X0, 0, l1);
        for (int i = 0; i < 8190; i++) {
            fwdOk.nop();
        }
        fwdOk.bind(l1);

        A64Assembler fwd = new A64Assembler();
        A64Assembler.Label l2 = new A64Assembler.Label();
        fwd.tbz(X0, 0, l2);
        for (int i = 0; i < 8191; i++) {
            fwd.nop();
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fwd.bind(l2));
        assertTrue(e.getMessage().contains("32768"), e.getMessage());

        A64Assembler back = new A64Assembler();
        A64Assembler.Label l3 = new A64Assembler.Label();
        back.bind(l3);
        for (int i = 0; i < 8192; i++) {
            back.nop();
        }
        back.tbnz(X0, 0, l3);
        back.nop();
        assertThrows(IllegalArgumentException.class, () -> back.tbnz(X0, 0, l3));

        // b.cond / cbz: 2^18 words.
        A64Assembler cond = new A64Assembler();
        A64Assembler.Label l4 = new A64Assembler.Label();
        cond.b(A64Cond.EQ, l4);
        cond.cbz(64, X0, l4);
        for (int i = 0; i < (1 << 18) - 2; i++) {
            cond.nop();
        }
        assertThrows(IllegalArgumentException.class, () -> cond.bind(l4));
    }

    @Test
    void logicalImmediateRoundTripsEveryEncodableValue() {
        for (int size : new int[] {32, 64}) {
            List<Long> all = LogicalImmediates.all(size);
            assertEquals(size == 64 ? 5334 : 1302, all.size());
            for (long v : all) {
                int f = A64Assembler.bitmask(size, v);
                Long back = LogicalImmediates.decode(size, (f >>> 22) & 1, (f >>> 16) & 0x3F, (f >>> 10) & 0x3F);
                assertEquals(v, back, "0x" + Long.toHexString(v));
            }
        }
    }

    @Test
    void valuesThatAreNotLogicalImmediatesThrow() {
        long[] bad64 = {0L, -1L, 0x1234L, 0x5555555555555554L, 0x0f0f0f0f0f0f0f0eL, 0x8000000000000005L};
        for (long v : bad64) {
            assertFalse(A64Assembler.isLogicalImmediate(64, v), Long.toHexString(v));
            throwsNaming("not a logical immediate", a -> a.and(64, X0, X1, v));
        }
        long[] bad32 = {0L, 0xffffffffL, -1L, 0x12345678L, 0x1_0000_0000L, 0x1_0000_00ffL};
        for (long v : bad32) {
            assertFalse(A64Assembler.isLogicalImmediate(32, v), Long.toHexString(v));
            throwsNaming("not a logical immediate", a -> a.orr(32, X0, X1, v));
        }
    }

    /** Runs the emitted MOVZ/MOVN/MOVK words (C6.2, move wide) to find the value they build. */
    private static long simulateMoveWide(int[] words) {
        long x = 0;
        for (int w : words) {
            int size = w < 0 ? 64 : 32;
            int shift = ((w >>> 21) & 3) * 16;
            long imm = (long) ((w >>> 5) & 0xFFFF) << shift;
            switch ((w >>> 23) & 0xFF) {
                // Bits 30:23 are opc:100101.
                case 0xA5 -> x = imm; // movz, opc=10
                case 0x25 -> x = ~imm; // movn, opc=00
                case 0xE5 -> x = (x & ~(0xFFFFL << shift)) | imm; // movk, opc=11
                default -> throw new AssertionError("not a move-wide word: " + Integer.toHexString(w));
            }
            if (size == 32) {
                x &= 0xFFFFFFFFL;
            }
        }
        return x;
    }

    @Test
    void movImmBuildsAnyConstant() {
        long[] values = {0, 1, 0xffff, 0x10000, -1, -2, 0x12345678L, 0x123456789abcdef0L, 0xffffffff00000000L,
            0x8000000000000000L, 0x7fffffffffffffffL, 0xffff1234ffff5678L, 0x0000ffff0000ffffL, -65536};
        for (long v : values) {
            A64Assembler a = new A64Assembler();
            a.movImm(64, X0, v);
            assertEquals(v, simulateMoveWide(a.words()), Long.toHexString(v));
            assertTrue(a.words().length <= 4);
        }
        for (long v : new long[] {0, 1, 0xffffffffL, -1, 0x80000000L, 0xffff0000L, 0x1234ffffL, -2}) {
            A64Assembler a = new A64Assembler();
            a.movImm(32, X0, v);
            assertEquals(v & 0xFFFFFFFFL, simulateMoveWide(a.words()), Long.toHexString(v));
            assertTrue(a.words().length <= 2);
        }
        A64Assembler a = new A64Assembler();
        a.movImm(64, X0, -1);
        assertEquals(1, a.words().length, "all-ones is one movn");
        throwsNaming("0x100000000", x -> x.movImm(32, X0, 0x1_0000_0000L));
    }

    @Test
    void bytesAreLittleEndian() {
        A64Assembler a = new A64Assembler();
        a.ret();
        assertArrayEquals(new byte[] {(byte) 0xc0, 0x03, 0x5f, (byte) 0xd6}, a.bytes());
    }
}
