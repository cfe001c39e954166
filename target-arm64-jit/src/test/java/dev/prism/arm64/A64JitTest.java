package dev.prism.arm64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.arm64.emu.A64Emulator;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Interpreter;
import dev.prism.target.RunResult;
import dev.prism.testing.Host;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Focused programs per instruction family, each run on the reference interpreter and on arm64
 * in three code shapes: LSE atomics (cpu model max), LL/SC atomics (Cortex-A57, ARMv8.0), and
 * LSE with every conditional jump in its far form. r0 and the memory must agree, and r0 must be
 * the value worked out by hand, so a shared mistake cannot pass.
 */
class A64JitTest {
    private static final A64Jit.Options LSE = new A64Jit.Options(true);
    private static final A64Jit.Options LLSC = new A64Jit.Options(false);
    private static final A64Jit.Options FAR = new A64Jit.Options(true, 16);
    private static final List<A64Jit.Options> MODES = List.of(LSE, LLSC, FAR);

    private static void requireEmulator() {
        Host.require("arm64", Unicorn.availability().available(), Unicorn.availability().reason());
    }

    private static Program asm(String text) {
        return Assembler.assemble("t", ProgramType.RAW, text);
    }

    private static RunResult run(Program p, A64Jit.Options o, byte[] mem) {
        try (A64Emulator e = new A64Emulator(A64Jit.compile(p, o))) {
            return e.run(mem);
        }
    }

    /** Runs {@code text} everywhere; {@return r0, which every mode and the interpreter agree on} */
    private static long same(String text, byte[] mem) {
        requireEmulator();
        byte[] input = mem == null ? new byte[0] : mem;
        Program p = asm(text);
        Interpreter.Result want = new Interpreter().runRaw(p, input);
        for (A64Jit.Options o : MODES) {
            RunResult got = run(p, o, input);
            assertEquals(want.r0(), got.r0(), () -> String.format("%s: r0 0x%x, interpreter 0x%x%n%s", o, got.r0(),
                    want.r0(), A64Jit.compile(p, o).listing()));
            assertArrayEquals(want.memAfter(), got.memAfter(), () -> o + ": memory after");
        }
        return want.r0();
    }

    private static byte[] longs(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    @Test
    void aluWithImmediatesOfEveryShape() {
        assertEquals(4096 + 4095, same("mov %r0, 4096\nadd %r0, 4095\nexit", null));
        assertEquals(-4096L * 5, same("mov %r0, 0\nsub %r0, 0x5000\nexit", null));
        assertEquals(0x12345678L + 0x7fffffffL, same("mov %r0, 0x12345678\nadd %r0, 0x7fffffff\nexit", null));
        assertEquals(0xffffffffL, same("mov32 %r0, -1\nexit", null));
        assertEquals(-1L, same("mov %r0, -1\nexit", null));
        assertEquals(0x0000_0000_8000_0000L, same("lddw %r0, 0xffffffff7fffffff\nadd32 %r0, 1\nexit", null));
        assertEquals(0xfffL, same("lddw %r0, 0x123456789abcdfff\nand %r0, 0xfff\nexit", null));
        assertEquals(0x9abcdef0L & 0x12345678L, same("lddw %r0, 0x123456789abcdef0\nand32 %r0, 0x12345678\nexit", null));
        assertEquals(~0x55L, same("mov %r0, 0x55\nxor %r0, -1\nexit", null));
        assertEquals(0xffffffaaL, same("mov %r0, 0x55\nxor32 %r0, -1\nexit", null));
        assertEquals(0L, same("mov %r0, 0x55\nand %r0, 0\nexit", null));
        assertEquals(-1L, same("mov %r0, 0x55\nor %r0, -1\nexit", null));
        assertEquals(0x1234L, same("lddw %r0, 0xffffffff00001234\nor32 %r0, 0\nexit", null));
        assertEquals(0x1234L, same("lddw %r0, 0xffffffff00001234\nadd32 %r0, 0\nexit", null));
        assertEquals(0x1234L, same("lddw %r0, 0xffffffff00001234\nlsh32 %r0, 32\nexit", null));
        assertEquals(-21L * 0x10001, same("mov %r0, -21\nmul %r0, 0x10001\nexit", null));
        assertEquals(0xfffffffbL, same("mov %r0, 5\nneg32 %r0\nexit", null));
        assertEquals(-5L, same("mov %r0, 5\nneg %r0\nexit", null));
        assertEquals(0x123456789abcdef0L, same("lddw %r0, 0x123456789abcdef0\nexit", null));
        assertEquals(0xffff0000ffff0000L, same("lddw %r0, 0xffff0000ffff0000\nexit", null));
    }

    @Test
    void divisionEdgeCases() {
        assertEquals(0, same("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit", null));
        assertEquals(7, same("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit", null));
        assertEquals(0, same("mov %r0, 7\ndiv %r0, 0\nexit", null));
        assertEquals(7, same("mov %r0, 7\nmod %r0, 0\nexit", null));
        assertEquals(0, same("mov %r0, 7\nsdiv %r0, 0\nexit", null));
        assertEquals(-7, same("mov %r0, -7\nsmod %r0, 0\nexit", null));
        assertEquals(Long.MIN_VALUE, same("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit", null));
        assertEquals(0, same("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit", null));
        assertEquals(0x80000000L, same("lddw %r0, 0xffffffff80000000\nsdiv32 %r0, -1\nexit", null));
        assertEquals(0, same("lddw %r0, 0xffffffff80000000\nsmod32 %r0, -1\nexit", null));
        assertEquals(7, same("lddw %r0, 0x1234567800000007\nmov %r3, 0xffffffff\nmod32 %r0, %r3\nexit", null));
        assertEquals(7, same("lddw %r0, 0x1234567800000007\nmov %r3, 0\nmod32 %r0, %r3\nexit", null));
        assertEquals(0, same("lddw %r0, 0x1234567800000007\ndiv32 %r0, 0\nexit", null));
        assertEquals(-1, same("mov %r3, -7\nmov %r0, 2\nsmod %r3, %r0\nmov %r0, %r3\nexit", null));
        assertEquals(-3, same("mov %r3, -7\nsdiv %r3, 2\nmov %r0, %r3\nexit", null));
        assertEquals(0xffffffffL / 3, same("mov32 %r0, -1\ndiv32 %r0, 3\nexit", null));
        assertEquals(Long.divideUnsigned(-1L, 10), same("mov %r0, -1\ndiv %r0, 10\nexit", null));
        assertEquals(1, same("mov %r2, 9\nmod %r2, %r2\nadd %r2, 1\nmov %r0, %r2\nexit", null));
    }

    @Test
    void shiftsMaskTheirCount() {
        assertEquals(Long.MIN_VALUE, same("mov %r0, 1\nlsh %r0, 63\nexit", null));
        assertEquals(1, same("mov %r0, 1\nmov %r1, 64\nlsh %r0, %r1\nexit", null));
        assertEquals(2, same("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1\nexit", null));
        assertEquals(1, same("mov %r0, -1\nrsh %r0, 63\nexit", null));
        assertEquals(-1, same("mov %r0, -1\nmov %r4, 127\narsh %r0, %r4\nexit", null));
        assertEquals(0x7fffffffL, same("mov %r4, -1\nmov %r2, 33\nrsh32 %r4, %r2\nmov %r0, %r4\nexit", null));
        assertEquals(0xffffffffL, same("mov %r4, -1\nmov %r2, 32\narsh32 %r4, %r2\nmov %r0, %r4\nexit", null));
        assertEquals(0x80000000L, same("mov %r0, 1\nlsh32 %r0, 31\nexit", null));
        assertEquals(-1, same("mov %r4, -16\narsh %r4, %r4\nmov %r0, %r4\nexit", null));
    }

    @Test
    void signExtensionAndByteSwaps() {
        assertEquals(-128, same("mov %r1, 0x180\nmovsx864 %r0, %r1\nexit", null));
        assertEquals(0xffffff80L, same("mov %r1, 0x180\nmovsx832 %r0, %r1\nexit", null));
        assertEquals(0xffff8000L, same("mov %r1, 0x18000\nmovsx1632 %r0, %r1\nexit", null));
        assertEquals(-0x8000L, same("mov %r1, 0x18000\nmovsx1664 %r0, %r1\nexit", null));
        assertEquals(Integer.MIN_VALUE, same("lddw %r1, 0x180000000\nmovsx3264 %r0, %r1\nexit", null));
        assertEquals(0x3412, same("lddw %r0, 0x1122334455661234\nbe16 %r0\nexit", null));
        assertEquals(0x78563412L, same("lddw %r0, 0x1122334412345678\nbswap32 %r0\nexit", null));
        assertEquals(0x8877665544332211L, same("lddw %r0, 0x1122334455667788\nbe64 %r0\nexit", null));
        assertEquals(0x1234, same("lddw %r0, 0x1122334455661234\nle16 %r0\nexit", null));
        assertEquals(0x55661234L, same("lddw %r0, 0x1122334455661234\nle32 %r0\nexit", null));
        assertEquals(0x1122334455661234L, same("lddw %r0, 0x1122334455661234\nle64 %r0\nexit", null));
    }

    @Test
    void loadsAndStoresAtEveryOffsetForm() {
        byte[] mem = new byte[40_000];
        mem[0] = (byte) 0x80;
        mem[3] = (byte) 0xfe;
        mem[32_767] = (byte) 0x99;
        assertEquals(0x80, same("ldxb %r0, [%r1]\nexit", mem));
        assertEquals(-128, same("ldxsb %r0, [%r1]\nexit", mem));
        assertEquals(0xffff_ffff_ffff_fe00L, same("ldxsh %r0, [%r1+2]\nexit", mem));
        assertEquals(0xfe000080L, same("ldxw %r0, [%r1]\nexit", mem));
        assertEquals(0xffff_ffff_fe00_0080L, same("ldxsw %r0, [%r1]\nexit", mem));
        assertEquals(0xfe, same("ldxb %r0, [%r1+3]\nexit", mem));
        assertEquals(0x99, same("ldxb %r0, [%r1+32767]\nexit", mem));
        assertEquals(0xfe000080L, same("mov %r2, %r1\nadd %r2, 20000\nldxw %r0, [%r2-20000]\nexit", mem));
        assertEquals(-1, same("stdw [%r1+32760], -1\nldxdw %r0, [%r1+32760]\nexit", mem));
        assertEquals(0xffffffffL, same("stw [%r1+4095], -1\nldxw %r0, [%r1+4095]\nexit", mem));
        assertEquals(0x5678, same("sth [%r1+8190], 0x12345678\nldxh %r0, [%r1+8190]\nexit", mem));
        assertEquals(0, same("stdw [%r1+16], 0\nldxdw %r0, [%r1+16]\nexit", mem));
        assertEquals(0x34, same("stb [%r1+255], 0x1234\nldxb %r0, [%r1+255]\nexit", mem));
        assertEquals(0x77, same("mov %r3, 0x77\nstxb [%r10-1], %r3\nldxb %r0, [%r10-1]\nexit", mem));
        assertEquals(0x1122334455667788L, same("lddw %r3, 0x1122334455667788\nstxdw [%r10-512], %r3\n"
                + "ldxdw %r0, [%r10-512]\nexit", mem));
        assertEquals(0x55667788L, same("lddw %r3, 0x1122334455667788\nstxdw [%r10-261], %r3\n"
                + "ldxw %r0, [%r10-261]\nexit", mem));
        assertEquals(0, same("ldxdw %r0, [%r10-8]\nexit", mem)); // the stack starts zeroed on both
    }

    @Test
    void atomicsOfEveryKind() {
        byte[] mem = longs(5, 0x0f0f, 0xff00, 0x1234_5678_0000_0006L);
        assertEquals(5, same("mov %r0, 3\nlock fetch add [%r1], %r0\nexit", mem));
        assertEquals(8, same("mov %r2, 3\nlock add [%r1], %r2\nldxdw %r0, [%r1]\nexit", mem));
        assertEquals(0x0f0f | 0xf0, same("mov %r2, 0xf0\nlock or [%r1+8], %r2\nldxdw %r0, [%r1+8]\nexit", mem));
        assertEquals(0x0f0f & 0xff, same("mov %r2, 0xff\nlock and [%r1+8], %r2\nldxdw %r0, [%r1+8]\nexit", mem));
        assertEquals(0xff00 ^ 0xffff, same("mov %r2, 0xffff\nlock xor [%r1+16], %r2\nldxdw %r0, [%r1+16]\nexit", mem));
        assertEquals(0x0f0f + (0x0f0f & 0xff), same("mov %r2, 0xff\nlock fetch and [%r1+8], %r2\nldxdw %r0, [%r1+8]\n"
                + "add %r0, %r2\nexit", mem));
        assertEquals(0xff00 + (0xff00 | 1), same("mov %r2, 1\nlock fetch or [%r1+16], %r2\nldxdw %r0, [%r1+16]\n"
                + "add %r0, %r2\nexit", mem));
        assertEquals(0xff00 + (0xff00 ^ 0xf00), same("mov %r2, 0xf00\nlock fetch xor [%r1+16], %r2\nldxdw %r0, [%r1+16]\n"
                + "add %r0, %r2\nexit", mem));
        assertEquals(5 + 9, same("mov %r2, 9\nlock xchg [%r1], %r2\nldxdw %r0, [%r1]\nadd %r0, %r2\nexit", mem));
        // 32-bit: the fetched value is zero-extended, the upper word of memory untouched.
        assertEquals(6, same("lddw %r2, 0xffffffff00000001\nlock fetch add32 [%r1+24], %r2\nmov %r0, %r2\nexit", mem));
        assertEquals(0x1234_5678_0000_0007L, same("mov %r2, 1\nlock add32 [%r1+24], %r2\nldxdw %r0, [%r1+24]\nexit", mem));
        assertEquals(0x78_0000_0006L, same("mov %r2, 0xff\nlock and32 [%r1+28], %r2\nldxdw %r0, [%r1+24]\nexit", mem));
        // Base register also the fetch destination, and an atomic with an offset on the stack.
        assertEquals(2 * 0x0f0f + 8, same("""
                mov %r2, %r1
                add %r2, 8
                lock fetch add [%r2+0], %r2
                ldxdw %r3, [%r1+8]
                sub %r3, %r1
                mov %r4, %r1
                add %r4, 8
                neg %r4
                lock add [%r1+8], %r4
                mov %r0, %r2
                add %r0, %r3
                exit
                """, mem));
        assertEquals((12 | 10) + 12, same("mov %r0, 12\nstxdw [%r10-8], %r0\nmov %r2, 10\nlock fetch or [%r10-8], %r2\n"
                + "ldxdw %r0, [%r10-8]\nadd %r0, %r2\nexit", mem));
    }

    @Test
    void cmpxchgComparesWithR0AndZeroExtendsIt() {
        byte[] mem = longs(6, 0x1234_5678_0000_0006L);
        // Success: memory becomes src, r0 gets the old value.
        assertEquals(6 + 9, same("mov %r0, 6\nmov %r3, 9\nlock cmpxchg [%r1], %r3\nldxdw %r4, [%r1]\nadd %r0, %r4\nexit", mem));
        // Failure: memory unchanged, r0 gets it.
        assertEquals(6 + 6, same("mov %r0, 7\nmov %r3, 9\nlock cmpxchg [%r1], %r3\nldxdw %r4, [%r1]\nadd %r0, %r4\nexit", mem));
        // 32-bit success with garbage in r0's upper half: only the low halves compare, r0 is zero-extended.
        assertEquals(6, same("lddw %r0, 0xffffffff00000006\nmov %r3, 9\nlock cmpxchg32 [%r1+8], %r3\nexit", mem));
        assertEquals(0x1234_5678_0000_0009L, same("lddw %r0, 0xffffffff00000006\nmov %r3, 9\nlock cmpxchg32 [%r1+8], %r3\n"
                + "ldxdw %r0, [%r1+8]\nexit", mem));
        // 32-bit failure: r0 is the old low word, zero-extended.
        assertEquals(6, same("lddw %r0, 0x100000007\nmov %r3, 9\nlock cmpxchg32 [%r1+8], %r3\nexit", mem));
        // src is r0 itself, and the base is r0 (the address must not be overwritten first).
        assertEquals(6, same("mov %r0, 6\nlock cmpxchg [%r1], %r0\nexit", mem));
        assertEquals(6, same("mov %r0, %r1\nlock cmpxchg [%r0+0], %r0\nexit", mem));
    }

    @Test
    void jumpsAtBothWidths() {
        assertEquals(1, same("mov %r0, 0\nmov %r1, -1\njgt %r1, 5, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(0, same("mov %r0, 0\nmov %r1, -1\njsgt %r1, 5, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(1, same("mov %r0, 0\nlddw %r1, 0x1ffffffff\njeq32 %r1, -1, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(0, same("mov %r0, 0\nlddw %r1, 0x1ffffffff\njeq %r1, -1, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(1, same("mov %r0, 0\nmov %r1, 0x1000\njset %r1, 0x1800, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(0, same("mov %r0, 0\nmov %r1, 0x1000\njset %r1, 0, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(1, same("mov %r0, 0\nmov %r1, 0x1000\njset %r1, 0x13345, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(1, same("mov %r0, 0\nmov %r1, -4096\njeq %r1, -4096, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(1, same("mov %r0, 0\nmov %r1, 0x5000\njge %r1, 0x5000, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(1, same("mov %r0, 0\nmov %r1, -0x5000\njsle %r1, -0x5000, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(1, same("mov %r0, 0\nmov32 %r1, -1\njslt32 %r1, 0, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(1, same("mov %r0, 0\nmov %r1, 3\nmov %r2, 3\njle %r1, %r2, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(1, same("mov %r0, 0\nmov %r1, -3\nmov %r2, 3\njslt32 %r1, %r2, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(1, same("mov %r0, 0\nmov %r1, 4\njne %r1, 0x7fffffff, +1\nexit\nmov %r0, 1\nexit", null));
        assertEquals(6, same("mov %r0, 6\nja32 +1\nmov %r0, 1\nexit", null));
        assertEquals(200, same("mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 200, loop\nexit", null));
    }

    @Test
    void localCallsKeepR6ToR9AndR10() {
        assertEquals(6, same("mov %r6, 5\ncall local f\nadd %r0, %r6\nexit\nf:\nmov %r6, 100\nmov %r0, 1\n"
                + "stxdw [%r10-8], %r6\nexit", null));
        // Each frame is its own 512 bytes: the caller's slot survives the callee's store to the same offset.
        assertEquals(7 + 100, same("mov %r1, 7\nstxdw [%r10-8], %r1\ncall local f\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit\n"
                + "f:\nmov %r1, 100\nstxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit", null));
        // r1-r5 pass arguments.
        assertEquals(3 + 4 + 5, same("mov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall local f\nexit\n"
                + "f:\nmov %r0, %r3\nadd %r0, %r4\nadd %r0, %r5\nexit", null));
    }

    @Test
    void recursionIntoTheEntryFunction() {
        // The entry function also runs as a callee: its exit returns to the caller there.
        byte[] mem = new byte[8];
        assertEquals(4 + 3 + 2 + 1, same("""
                start:
                ldxdw %r6, [%r1]
                add %r6, 1
                stxdw [%r1], %r6
                jge %r6, 4, done
                call local start
                add %r0, %r6
                exit
                done:
                mov %r0, %r6
                exit
                """, mem));
    }

    @Test
    void theNinthFrameTraps() {
        requireEmulator();
        StringBuilder deep = new StringBuilder("call local f1\nexit\n");
        for (int i = 1; i < 8; i++) {
            deep.append("f").append(i).append(":\ncall local f").append(i + 1).append("\nadd %r0, 1\nexit\n");
        }
        deep.append("f8:\nmov %r0, 1\nexit\n");
        Program p = asm(deep.toString());
        TrapException want = assertThrows(TrapException.class, () -> new Interpreter().runRaw(p, new byte[0]));
        for (A64Jit.Options o : MODES) {
            TrapException e = assertThrows(TrapException.class, () -> run(p, o, new byte[0]));
            assertEquals("pc 20: call depth exceeds 8 frames", e.getMessage());
            assertEquals(want.getMessage(), e.getMessage());
        }
        // Seven callees are allowed.
        assertEquals(6 + 1, same(deep.toString().replace("f7:\ncall local f8", "f7:\nmov %r0, 0"), null));
    }

    @Test
    void faultsAndHangsTrapAtTheirPc() {
        requireEmulator();
        TrapException nul = assertThrows(TrapException.class,
                () -> run(asm("mov %r0, 1\nldxdw %r0, [%r1+16]\nexit"), LSE, new byte[0]));
        assertEquals("pc 1: invalid read of 8 bytes at 0x10 (unmapped in the arm64 emulator)", nul.getMessage());
        TrapException past = assertThrows(TrapException.class,
                () -> run(asm("mov %r0, 1\nmov %r2, 0\nstxdw [%r1+16], %r2\nexit"), LLSC, new byte[16]));
        assertEquals(2, past.pc());
        assertTrue(past.getMessage().contains("invalid write of 8 bytes"), past.getMessage());
        TrapException atomic = assertThrows(TrapException.class,
                () -> run(asm("mov %r0, 1\nmov %r2, 0\nmov %r2, 0\nlock fetch add [%r1+16], %r2\nexit"), LLSC, new byte[16]));
        assertEquals(3, atomic.pc(), atomic.getMessage());
        try (A64Emulator e = new A64Emulator(A64Jit.compile(asm("mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit")), 10_000)) {
            TrapException hang = assertThrows(TrapException.class, () -> e.run(new byte[0]));
            assertTrue(hang.pc() == 1 || hang.pc() == 2, hang.getMessage());
            assertTrue(hang.getMessage().endsWith("instruction budget of 10000 native instructions exhausted"), hang.getMessage());
            // The engine is reusable after a trap.
            assertThrows(TrapException.class, () -> e.run(new byte[0]));
        }
    }

    @Test
    void lseNeedsACpuThatHasIt() {
        requireEmulator();
        Program p = asm("mov %r0, 1\nmov %r2, 1\nlock add [%r10-8], %r2\nexit");
        try (A64Emulator e = new A64Emulator(A64Jit.compile(p, LSE), A64Emulator.DEFAULT_BUDGET, Unicorn.CpuModel.CORTEX_A57)) {
            TrapException t = assertThrows(TrapException.class, () -> e.run(new byte[0]));
            assertEquals(2, t.pc(), t.getMessage());
            assertTrue(t.getMessage().endsWith("at instruction 0xf8e1014b on the cortex-a57 cpu model"), t.getMessage());
        }
        try (A64Emulator e = new A64Emulator(A64Jit.compile(p, LLSC), A64Emulator.DEFAULT_BUDGET, Unicorn.CpuModel.CORTEX_A57)) {
            assertEquals(1, e.run(new byte[0]).r0());
        }
    }

    @Test
    void refusesWhatIsNotLowered() {
        record Case(String text, ProgramType type, String message) {
        }
        for (Case c : List.of(
                new Case("call 999\nexit", ProgramType.RAW, "0: not supported: helper #999 on arm64"),
                new Case("call btf 5\nexit", ProgramType.RAW, "0: not supported: call btf 5 (kernel functions) on arm64"),
                new Case("mov %r0, 0\ncall 12\nexit", ProgramType.RAW,
                        "1: not supported: bpf_tail_call through a map the verifier did not pin to one PROG_ARRAY"),
                new Case("lddw %r1, map_fd 3\nexit", ProgramType.RAW, "0: not supported: lddw map_fd on arm64 (maps by index are)"),
                new Case("mov %r0, 0\nexit", ProgramType.SOCKET, "not supported: program type socket on arm64 (raw, xdp and tc are)"),
                new Case("mov %r10, 0\nexit", ProgramType.RAW, "0: r10 is read-only"),
                new Case("mov %r0, 0", ProgramType.RAW, "0: falls off the end of the program"))) {
            Program p = Assembler.assemble("t", c.type(), c.text());
            TargetException e = assertThrows(TargetException.class, () -> A64Jit.compile(p));
            assertEquals(c.message(), e.getMessage());
        }
    }

    @Test
    void sizingConvergesAndIsDeterministic() {
        StringBuilder sb = new StringBuilder("mov %r0, 0\nstart:\n");
        for (int i = 0; i < 40; i++) {
            sb.append("add %r0, 1\n");
        }
        sb.append("jlt %r0, 200, start\nja end\n");
        for (int i = 0; i < 5; i++) {
            sb.append("add %r0, 1\n");
        }
        sb.append("end:\nexit\n");
        Program p = asm(sb.toString());
        A64Jit.Compiled a = A64Jit.compile(p);
        A64Jit.Compiled b = A64Jit.compile(p);
        assertArrayEquals(a.code(), b.code());
        assertEquals(3, a.passes()); // all far, then near, then the check
        int jlt = 41;
        assertEquals(8, a.insnEnd()[jlt] - a.insnStart()[jlt], "cmp + b.lo");
        A64Jit.Compiled far = A64Jit.compile(p, FAR);
        assertEquals(12, far.insnEnd()[jlt] - far.insnStart()[jlt], "cmp + b.hs over b");
        assertTrue(a.listing().contains("    41: jlt %r0, 200, -41"), a.listing());
        assertEquals(200, same(sb.toString(), null));
    }

    /**
     * Conditional jumps across more than b.cond's 1 MiB, forwards and backwards: the filler is
     * bpf_csum_diff calls, inlined as a loop of about 30 instructions; 10,000 of them are over
     * 1 MiB. The filler never runs.
     */
    @Test
    void conditionalJumpsBeyondOneMebibyte() {
        int filler = 10_000;
        String csumDiff = "call 28\n";
        StringBuilder sb = new StringBuilder("start:\nmov %r0, 0\nja32 back\n");
        sb.append(csumDiff.repeat(filler));
        sb.append("target:\nadd %r0, 10\njeq %r0, 11, forward\nexit\n");
        sb.append(csumDiff.repeat(filler));
        sb.append("back:\nadd %r0, 1\njlt %r0, 5, target\nexit\nforward:\nadd %r0, 100\nexit\ncall local start\nexit\n");
        Program p = asm(sb.toString());
        A64Jit.Compiled c = A64Jit.compile(p);
        assertTrue(c.code().length > A64Jit.COND_BRANCH_RANGE, "code of " + c.code().length + " bytes");
        int target = 2 + filler;
        int jlt = target + 3 + filler + 1;
        assertEquals(12, c.insnEnd()[target + 1] - c.insnStart()[target + 1], "forward: cmp, b.ne over b");
        assertEquals(12, c.insnEnd()[jlt] - c.insnStart()[jlt], "backward: cmp, b.hs over b");
        assertEquals(1 + 10 + 100, same(sb.toString(), null));
    }

    @Test
    void listingShowsEachInstructionWithItsWords() {
        A64Jit.Compiled c = A64Jit.compile(asm("mov %r0, 1\ncall local f\nexit\nf:\nlddw %r0, 0x123456789\nexit"));
        String l = c.listing();
        assertTrue(l.contains("prologue"), l);
        assertTrue(l.contains("     0: mov %r0, 1\n  " + String.format("%04x", c.insnStart()[0]) + "  d2800027"), l);
        assertTrue(l.contains("call stubs"), l);
        assertTrue(l.contains("exits and traps"), l);
        assertEquals(-1, c.insnStart()[4], "lddw's second slot");
        assertEquals(3, c.pcAt(c.stubStart()[3]), "a stub maps to its callee");
        assertEquals(0, c.pcAt(0), "the prologue maps to the first instruction");
        assertEquals(1, c.callPcAt(c.insnEnd()[1]));
    }
}
