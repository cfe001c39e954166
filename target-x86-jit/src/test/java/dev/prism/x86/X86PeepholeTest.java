package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.prism.asm.Assembler;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Shorter forms x86-64 picks from the IR's facts and the operands: be16/le16 without the
 * zero-extension a 16-bit value does not need, comparisons with 0 as test, multiplication by
 * an immediate as three-operand imul, constants by their shortest mov. Each against the
 * interpreter.
 */
class X86PeepholeTest {
    private static final X86Target X86 = new X86Target();
    private static final Target INTERPRETER = new InterpreterTarget();

    @BeforeAll
    static void host() {
        Host.require("x86-64", X86.availability().available(), X86.availability().reason());
    }

    private static RunResult run(Target t, Program p, byte[] mem) {
        try (Executable e = t.load(List.of(p))) {
            return e.run(RunInput.ofMem(mem));
        }
    }

    private static void same(String text, byte[] mem) {
        Program p = Assembler.assemble("t", ProgramType.RAW, text);
        RunResult want = run(INTERPRETER, p, mem);
        RunResult got = run(X86, p, mem);
        assertEquals(want.r0(), got.r0(), () -> "r0 of\n" + text + "\n" + X86.compile(Verifier.verify(p, Profile.RFC9669,
                mem == null ? 0 : mem.length, null)).listing());
        assertArrayEquals(want.memAfter(), got.memAfter(), "memory after");
    }

    @Test
    void byteSwapsOfSixteenBitValuesWithAndWithoutKnownUpperBits() {
        byte[] mem = {(byte) 0x12, (byte) 0xf4, (byte) 0x56, (byte) 0x78, (byte) 0x9a, (byte) 0xbc, (byte) 0xde, (byte) 0xf0};
        for (String op : new String[] {"be16", "le16"}) {
            same("ldxh %r0, [%r1+0]\n" + op + " %r0\nexit", mem);           // a 16-bit load: bits 16..63 known zero
            same("ldxw %r0, [%r1+0]\n" + op + " %r0\nexit", mem);           // 32 bits: the upper half must be cleared
            same("ldxdw %r0, [%r1+0]\n" + op + " %r0\nexit", mem);
            same("ldxb %r0, [%r1+1]\nlsh %r0, 8\n" + op + " %r0\nexit", mem); // at most 0xff00
        }
    }

    @Test
    void comparisonsWithZeroForEveryConditionAndWidth() {
        String[] ops = {"jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset"};
        long[] values = {0, 1, -1, 0x80000000L, 0xffffffffL, 0x100000000L, Long.MIN_VALUE};
        for (String op : ops) {
            for (String w : new String[] {"", "32"}) {
                for (long v : values) {
                    same("lddw %r3, " + v + "\nmov %r0, 1\n" + op + w + " %r3, 0, +1\nmov %r0, 2\nexit", null);
                }
            }
        }
    }

    @Test
    void multiplicationByImmediatesAndConstantMoves() {
        long[] imms = {0, 1, -1, 3, 127, -128, 128, -129, 0x7fffffffL, -0x80000000L};
        for (String op : new String[] {"mul", "mul32"}) {
            for (long imm : imms) {
                same("lddw %r4, 0xfedcba9876543211\n" + op + " %r4, " + imm + "\nmov %r0, %r4\nexit", null);
                same("lddw %r0, 0x80000001\n" + op + " %r0, " + imm + "\nexit", null);
            }
        }
        for (long imm : imms) {
            same("lddw %r5, -1\nmov %r5, " + imm + "\nmov %r0, %r5\nexit", null);
            same("lddw %r5, -1\nmov32 %r5, " + imm + "\nmov %r0, %r5\nexit", null);
        }
    }
}
