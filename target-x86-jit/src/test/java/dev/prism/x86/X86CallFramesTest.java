package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

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
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Lean bpf-to-bpf frames ({@link X86Frames}): each callee saves only the r6-r9 it writes and
 * opens a frame of its own depth. Results are compared with the interpreter.
 */
class X86CallFramesTest {
    private static final X86Target X86 = new X86Target();
    private static final Target INTERPRETER = new InterpreterTarget();

    @BeforeAll
    static void host() {
        Host.require("x86-64", X86.availability().available(), X86.availability().reason());
    }

    private static Program asm(String text) {
        return Assembler.assemble("t", ProgramType.RAW, text);
    }

    private static RunResult run(Target t, Program p, byte[] mem) {
        try (Executable e = t.load(List.of(p))) {
            return e.run(RunInput.ofMem(mem));
        }
    }

    private static void same(String text, byte[] mem) {
        Program p = asm(text);
        RunResult want = run(INTERPRETER, p, mem);
        RunResult got = run(X86, p, mem);
        assertEquals(want.r0(), got.r0(), () -> "r0 of\n" + text + "\n" + X86.compile(Verifier.verify(p, Profile.RFC9669,
                mem == null ? 0 : mem.length, null)).listing());
        assertArrayEquals(want.memAfter(), got.memAfter(), "memory after");
    }

    private static Map<Integer, X86Frames.Frame> frames(String text) {
        Program p = asm(text);
        return X86Frames.lean(Verifier.verify(p, Profile.RFC9669), p, false);
    }

    /**
     * A callee writing the first {@code k} of r6-r9 with a stack of {@code depth} bytes, which
     * calls a helper through Java (the upcall needs rsp 16-byte aligned) and a leaf.
     */
    private static String calleeWriting(int k, int depth) {
        StringBuilder sb = new StringBuilder();
        sb.append("mov %r6, 11\nmov %r7, 22\nmov %r8, 33\nmov %r9, 44\n");
        sb.append("stxdw [%r10-8], %r9\nstxdw [%r10-256], %r8\n");
        sb.append("mov %r1, 5\ncall local f\n");
        sb.append("ldxdw %r1, [%r10-8]\nadd %r0, %r1\nldxdw %r1, [%r10-256]\nadd %r0, %r1\n");
        sb.append("mul %r6, 3\nadd %r0, %r6\nmul %r7, 5\nadd %r0, %r7\nmul %r8, 7\nadd %r0, %r8\nmul %r9, 11\nadd %r0, %r9\n");
        sb.append("exit\nf:\n");
        for (int r = 6; r < 6 + k; r++) {
            sb.append("mov %r").append(r).append(", %r1\nadd %r").append(r).append(", ").append(r * 100).append('\n');
        }
        if (depth > 0) {
            sb.append("stxdw [%r10-").append(depth).append("], %r1\n");
        }
        sb.append("call 8\n");
        sb.append("call local leaf\n");
        if (depth > 0) {
            sb.append("ldxdw %r1, [%r10-").append(depth).append("]\nadd %r0, %r1\n");
        }
        for (int r = 6; r < 6 + k; r++) {
            sb.append("add %r0, %r").append(r).append('\n');
        }
        sb.append("exit\nleaf:\nmov %r0, 1000\nstxdw [%r10-16], %r0\nldxdw %r0, [%r10-16]\nexit\n");
        return sb.toString();
    }

    @Test
    void calleesKeepTheCallersRegistersAndStackWhateverTheyWriteAndTheirDepth() {
        for (int k = 0; k <= 4; k++) {
            for (int depth : new int[] {0, 8, 16, 24, 40, 200, 232}) {
                same(calleeWriting(k, depth), null);
            }
        }
    }

    @Test
    void framesAreSizedToTheDepthAndKeepRspAligned() {
        // f writes r6 and r7 (two saves + rbp + return address: 32 bytes), uses 24 bytes
        Map<Integer, X86Frames.Frame> f = frames("call local f\nexit\nf:\nmov %r6, 1\nmov %r7, 2\n"
                + "stxdw [%r10-24], %r6\nmov %r0, 0\nexit");
        assertNotNull(f);
        X86Frames.Frame callee = f.values().iterator().next();
        assertEquals(List.of(X86Reg.RBX, X86Reg.R13), callee.saved());
        assertEquals(32, callee.size());
        // one save + rbp + return address: 24 bytes, so 8 more than the 16 the depth takes
        callee = frames("call local f\nexit\nf:\nmov %r9, 1\nstxdw [%r10-16], %r9\nmov %r0, 0\nexit").values().iterator().next();
        assertEquals(List.of(X86Reg.R15), callee.saved());
        assertEquals(24, callee.size());
        // a fetch atomic writes its source register
        callee = frames("call local f\nexit\nf:\nmov %r1, 0\nstxdw [%r10-8], %r1\nmov %r8, 1\n"
                + "lock fetch add [%r10-8], %r8\nmov %r0, 0\nexit").values().iterator().next();
        assertEquals(List.of(X86Reg.R14), callee.saved());
    }

    @Test
    void leavesWithoutFrameRegistersOrCallsAreEnteredDirectly() {
        String text = "mov %r6, 6\nstxdw [%r10-8], %r6\nmov %r1, 40\nmov %r2, %r10\ncall local leaf\n"
                + "ldxdw %r1, [%r10-8]\nadd %r0, %r1\nadd %r0, %r6\nexit\n"
                + "leaf:\nldxdw %r0, [%r2-8]\nmul %r0, 100\nadd %r0, %r1\nmov %r3, 7\nmov32 %r4, -1\nadd %r0, %r3\nadd %r0, %r4\nexit";
        X86Frames.Frame leaf = frames(text).values().iterator().next();
        assertEquals(true, leaf.bare());
        assertEquals(0, leaf.size());
        same(text, null);
        // naming r10, writing r6 or calling anything needs a frame
        assertEquals(false, frames("call local f\nexit\nf:\nmov %r1, %r10\nmov %r0, 0\nexit").values().iterator().next().bare());
        assertEquals(false, frames("call local f\nexit\nf:\nmov %r6, 1\nmov %r0, 0\nexit").values().iterator().next().bare());
        assertEquals(false, frames("call local f\nexit\nf:\ncall 8\nexit").values().iterator().next().bare());
        // a bare callback of bpf_loop, entered through its code address
        same("mov %r1, 6\nlddw %r2, code cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit\ncb:\nmov %r0, 0\njne %r1, 4, +1\nmov %r0, 1\nexit", null);
    }

    @Test
    void callxKeepsTheCountedFrames() {
        Program p = asm("lddw %r2, code f\ncallx %r2\nexit\nf:\nmov %r0, 3\nexit");
        assertNull(X86Frames.lean(Verifier.verify(p, Profile.RFC9669), p, false));
        same("lddw %r2, code f\ncallx %r2\nexit\nf:\nmov %r0, 3\nexit", null);
    }

    @Test
    void bpfLoopCallbacksUseLeanFrames() {
        // the callback writes r6 and keeps a running sum in the caller's stack through r2
        same("mov %r6, 7\nmov %r1, 0\nstxdw [%r10-8], %r1\nmov %r1, 10\nlddw %r2, code cb\nmov %r3, %r10\nadd %r3, -8\n"
                + "mov %r4, 0\ncall 181\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nadd %r0, %r6\nexit\n"
                + "cb:\nmov %r6, %r1\nstxdw [%r10-8], %r6\nldxdw %r3, [%r2+0]\nadd %r3, %r6\nstxdw [%r2+0], %r3\n"
                + "ldxdw %r6, [%r10-8]\nmov %r0, 0\njne %r6, 8, +1\nmov %r0, 1\nexit", null);
    }

    @Test
    void bpfLoopKeepsItsStateInCalleeSavedRegistersAndTheCallersToo() {
        // the caller's r6-r9 survive the loop; the callback writes all four and a nested loop
        String callback = "cb:\nmov %r6, %r1\nmov %r7, %r1\nmov %r8, 1\nmov %r9, 2\nldxdw %r3, [%r2+0]\n"
                + "add %r3, %r6\nstxdw [%r2+0], %r3\nmov %r0, 0\njne %r7, STOP, +1\nmov %r0, 1\nexit\n";
        String inner = "inner:\nmov %r6, %r1\nmov %r1, 3\nlddw %r2, code cb\nmov %r3, %r10\nadd %r3, -8\n"
                + "mov %r1, 0\nstxdw [%r10-8], %r1\nmov %r1, 3\nmov %r4, 0\ncall 181\nadd %r0, %r6\nmov %r0, 0\nexit\n";
        for (String nr : new String[] {"0", "1", "5", "9"}) {
            for (String stop : new String[] {"3", "1000"}) {
                for (String fn : new String[] {"cb", "inner"}) {
                    same("mov %r6, 6\nmov %r7, 7\nmov %r8, 8\nmov %r9, 9\nmov %r1, 0\nstxdw [%r10-8], %r1\n"
                            + "lddw %r1, " + nr + "\nlddw %r2, code " + fn + "\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0"
                            + "\ncall 181\nldxdw %r1, [%r10-8]\nlsh %r1, 8\nadd %r0, %r1\nmul %r6, 3\nadd %r0, %r6\n"
                            + "mul %r7, 5\nadd %r0, %r7\nmul %r8, 7\nadd %r0, %r8\nmul %r9, 11\nadd %r0, %r9\nexit\n"
                            + callback.replace("STOP", stop) + (fn.equals("inner") ? inner : ""), null);
                }
            }
        }
    }

    /**
     * A bare leaf with branches, a loop and three exits, called from three places with inputs
     * that take each exit: small enough to be inlined at every call, so no call is left.
     */
    @Test
    void smallBareLeavesAreInlinedWithTheirBranchesAndExits() {
        String leaf = "leaf:\nmov %r0, 0\njgt %r1, 100, big\njeq %r1, 0, zero\n"
                + "loop:\nadd %r0, %r2\nsub %r1, 1\njne %r1, 0, loop\nexit\n"
                + "big:\nmov %r0, %r1\nmul %r0, 3\nexit\nzero:\nmov %r0, -1\nexit\n";
        // the inputs come from memory, so that the verifier cannot fold the calls away
        String text = "mov %r7, %r1\nmov %r6, 0\n"
                + "ldxdw %r1, [%r7+0]\nmov %r2, 7\ncall local leaf\nadd %r6, %r0\n"
                + "ldxdw %r1, [%r7+8]\nmov %r2, 7\ncall local leaf\nlsh %r6, 16\nadd %r6, %r0\n"
                + "ldxdw %r1, [%r7+16]\nmov %r2, 9\ncall local leaf\nlsh %r6, 16\nadd %r6, %r0\n"
                + "mov %r0, %r6\nexit\n" + leaf;
        Program p = asm(text);
        assertEquals(true, X86Frames.lean(Verifier.verify(p, Profile.RFC9669, 24, null), p, false).values().iterator().next().bare());
        long[][] inputs = {{5, 1000, 0}, {0, 3, 101}, {100, 0, 1}, {1, 1, 1}};
        for (long[] in : inputs) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (long v : in) {
                b.putLong(v);
            }
            same(text, b.array());
        }
        X86Jit.Compiled c = X86Jit.compile(Verifier.verify(p, Profile.RFC9669, 24, null));
        for (int pc = 0; pc < p.length(); pc++) {
            if (p.at(pc) instanceof dev.prism.isa.Insn.Call) {
                int from = c.insnStart()[pc];
                assertEquals(false, (c.code()[from] & 0xff) == 0xE8, "call at " + pc + " was not inlined:\n" + c.listing());
                assertEquals(true, c.insnEnd()[pc] - from > 20, "call at " + pc + " is too short to hold the leaf");
            }
        }
        // a longer leaf (INLINE_SLOTS + 1 slots) stays a call
        StringBuilder big = new StringBuilder("mov %r1, 1\ncall local f\nexit\nf:\nmov %r0, %r1\n");
        for (int i = 0; i < X86Jit.INLINE_SLOTS - 1; i++) {
            big.append("add %r0, 1\n");
        }
        big.append("exit\n");
        Program q = asm(big.toString());
        X86Jit.Compiled k = X86Jit.compile(Verifier.verify(q, Profile.RFC9669));
        assertEquals(0xE8, k.code()[k.insnStart()[1]] & 0xff, "a leaf of more than INLINE_SLOTS slots is called");
        same(big.toString(), null);
    }
}
