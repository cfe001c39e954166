package dev.prism.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TrapException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Interpreter behaviour beyond arithmetic (the arithmetic itself is the conformance suite's
 * job): the calling convention, frames, traps and the budget.
 */
class InterpreterTest {

    private static Program asm(String text) {
        return Assembler.assemble("t", ProgramType.RAW, text);
    }

    private static long run(String text, byte[] mem) {
        return new Interpreter().runRaw(asm(text), mem).r0();
    }

    private static TrapException trap(String text, byte[] mem) {
        return assertThrows(TrapException.class, () -> new Interpreter().runRaw(asm(text), mem));
    }

    @Test
    void rawCallingConvention() {
        assertEquals(0, run("mov %r0, %r1\nexit", null), "r1 = 0 without memory");
        assertEquals(5, run("mov %r0, %r2\nexit", new byte[5]), "r2 = length");
        assertEquals(Interpreter.MEM_BASE, run("mov %r0, %r1\nexit", new byte[1]));
        assertEquals(Interpreter.STACK_TOP, run("mov %r0, %r10\nexit", null));
    }

    @Test
    void memoryWritesComeBack() {
        var r = new Interpreter().runRaw(asm("stb [%r1+1], 0x7f\nsth [%r1+2], -1\nmov %r0, 0\nexit"), new byte[4]);
        assertArrayEquals(HexFormat.of().parseHex("007fffff"), r.memAfter());
    }

    @Test
    void outOfBoundsAccessesTrapWithPcAddressSizeAndRegions() {
        TrapException e = trap("mov %r0, 0\nldxw %r0, [%r1+2]\nexit", new byte[4]);
        assertEquals(1, e.pc());
        assertEquals(String.format("pc 1: invalid load of 4 bytes at 0x%x: outside every region (stack [0x%x, 0x%x), mem [0x%x, 0x%x))",
                Interpreter.MEM_BASE + 2, Interpreter.STACK_TOP - 512, Interpreter.STACK_TOP, Interpreter.MEM_BASE, Interpreter.MEM_BASE + 4),
                e.getMessage());
        assertTrue(trap("stdw [%r10-520], 1\nexit", null).getMessage().contains("invalid store of 8 bytes"));
        assertTrue(trap("stb [%r10+0], 1\nexit", null).getMessage().contains("invalid store of 1 bytes"), "r10 is one past the frame");
        assertTrue(trap("ldxdw %r0, [%r1+0]\nexit", null).getMessage().contains("invalid load of 8 bytes at 0x0"), "null pointer");
        // address arithmetic that wraps around 2^64 stays a trap, not an exception
        assertTrue(trap("lddw %r1, 0xfffffffffffffffc\nldxdw %r0, [%r1+0]\nexit", null).getMessage().contains("invalid load"));
    }

    @Test
    void eachCallGetsAFreshFrameAndR6ToR9AreRestored() {
        long r = run("""
                mov %r6, 6
                stdw [%r10-8], 100
                call local f
                ldxdw %r0, [%r10-8]      # caller's slot untouched by the callee's store
                add %r0, %r6             # r6 restored: 106
                exit
                f:
                mov %r6, 99
                stdw [%r10-8], 7         # the callee's own frame
                mov %r0, %r10
                exit
                """, null);
        assertEquals(106, r);
        assertEquals(Interpreter.STACK_TOP - 512, run("call local f\nexit\nf:\nmov %r0, %r10\nexit", null));
    }

    @Test
    void callerFramesAreReachableThroughPointersButDeeperOnesAreNot() {
        assertEquals(42, run("""
                stdw [%r10-8], 41
                mov %r1, %r10
                add %r1, -8
                call local inc
                ldxdw %r0, [%r10-8]
                exit
                inc:
                ldxdw %r2, [%r1+0]
                add %r2, 1
                stxdw [%r1+0], %r2
                exit
                """, null));
        assertTrue(trap("ldxdw %r0, [%r10-520]\nexit", null).getMessage().contains("invalid load"));
    }

    @Test
    void callDepthIsLimitedToEightFrames() {
        // main + 7 nested calls is allowed
        StringBuilder ok = new StringBuilder("mov %r0, 0\ncall local f1\nexit\n");
        for (int i = 1; i <= 7; i++) {
            ok.append("f").append(i).append(":\nadd %r0, 1\n").append(i < 7 ? "call local f" + (i + 1) + "\n" : "").append("exit\n");
        }
        assertEquals(7, run(ok.toString(), null));
        TrapException e = trap("f:\ncall local f\nexit", null);
        assertEquals("pc 0: call depth exceeds 8 frames", e.getMessage());
    }

    @Test
    void budgetStopsInfiniteLoops() {
        Interpreter small = new Interpreter(HelperTable.standard(), 1000);
        TrapException e = assertThrows(TrapException.class, () -> small.runRaw(asm("l:\nja l\nexit"), null));
        assertEquals("pc 0: instruction budget of 1000 exhausted", e.getMessage());
        assertEquals(400, small.runRaw(asm("mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, 400, l\nexit"), null).r0(), "802 instructions fit in 1000");
    }

    /** callx: a code address calls the function, a number below 2^31 the helper with that id (conformance/README.md, "callx"). */
    @Test
    void callxReachesCodeAddressesAndHelperIds() {
        assertEquals(9, run("lddw %r2, code f\ncallx %r2\nexit\nf:\nmov %r0, 9\nexit", null));
        assertEquals("pc 1: not supported: helper #9999", trap("mov %r2, 9999\ncallx %r2\nexit", null).getMessage());
        assertTrue(trap("lddw %r2, 0x80000000\ncallx %r2\nexit", null).getMessage().contains("callx target 0x80000000 is not a code address"));
    }

    @Test
    void misalignedAtomicsAndUnknownHelpersTrap() {
        assertTrue(trap("stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r1, 1\nlock add [%r10-12], %r1\nexit", null)
                .getMessage().contains("misaligned atomic of 8 bytes"));
        assertEquals("pc 0: not supported: helper #9999", trap("call 9999\nexit", null).getMessage());
        assertEquals("pc 0: not supported: bpf_fib_lookup#69", trap("call 69\nexit", null).getMessage());
        assertTrue(trap("call btf 5\nexit", null).getMessage().contains("not supported: call btf 5"));
        assertTrue(trap("lddw %r1, map_fd 3\nexit", null).getMessage().contains("not supported: lddw map_fd"));
    }

    @Test
    void legacyPacketLoadsAreBigEndianAndEndTheProgramOutOfBounds() {
        byte[] pkt = HexFormat.of().parseHex("0102030405");
        assertEquals(0x02030405L, run("ldabsw 1\nexit", pkt));
        assertEquals(0x0304L, run("mov %r3, 1\nldindh %r3, 1\nexit", pkt));
        assertEquals(0, run("mov %r0, 7\nldabsw 2\nmov %r0, 7\nexit", pkt), "out of bounds ends with r0 = 0");
        assertEquals(0, run("mov %r0, 7\nmov %r3, -1\nldindb %r3, 0\nexit", pkt), "negative offset");
    }

    @Test
    void csumDiffMatchesLinuxDefinition() {
        // seed + to-words + ~from-words in one's complement, folded to 16 bits (Linux 6.18 x86-64)
        assertEquals(0x1234, run("mov %r1, 0\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0x1234\ncall 28\nexit", null));
        long r = run("""
                stw [%r10-8], -1
                stw [%r10-4], 2
                mov %r1, 0
                mov %r2, 0
                mov %r3, %r10
                add %r3, -8
                mov %r4, 8
                mov %r5, 0
                call 28
                exit
                """, null);
        assertEquals(2, r, "0xffffffff + 2 = 0x1_00000001 -> fold -> 2");
        assertEquals(0x69ac, run("mov %r1, 0\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\nlddw %r5, 0x12345778\ncall 28\nexit", null),
                "the kernel folds the seed to 16 bits too: 0x1234 + 0x5778");
        assertEquals(-22, run("mov %r1, 0\nmov %r2, 3\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 28\nexit", null), "-EINVAL");
    }
}
