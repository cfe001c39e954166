package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.testing.Host;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Focused programs on x86-64, each compared with the interpreter. */
class X86JitTest {
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
        try (Executable e = t.load(java.util.List.of(p))) {
            return e.run(RunInput.ofMem(mem));
        }
    }

    private static void same(String text, byte[] mem) {
        Program p = asm(text);
        RunResult want = run(INTERPRETER, p, mem);
        RunResult got = run(X86, p, mem);
        assertEquals(want.r0(), got.r0(), () -> String.format("r0 0x%x, interpreter 0x%x%n%s", got.r0(), want.r0(), listing(p, mem)));
        assertArrayEquals(want.memAfter(), got.memAfter(), "memory after");
    }

    private static String listing(Program p, byte[] mem) {
        return X86.compile(dev.prism.verifier.Verifier.verify(p, dev.prism.verifier.Profile.RFC9669,
                mem == null ? 0 : mem.length, null)).listing();
    }

    @Test
    void divisionEdgeCases() {
        same("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit", null);
        same("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit", null);
        same("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit", null);
        same("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit", null);
        same("lddw %r0, 0xffffffff80000000\nsdiv32 %r0, -1\nexit", null);
        same("lddw %r0, 0x1234567800000007\nmov %r3, 0xffffffff\nmod32 %r0, %r3\nexit", null);
        same("mov %r3, -7\nmov %r0, 2\nsmod %r3, %r0\nmov %r0, %r3\nexit", null);
    }

    @Test
    void divisorsKnownAtCompileTime() {
        // powers of two become shifts and masks; other constants skip the checks they cannot need
        for (String op : new String[] {"div", "mod", "div32", "mod32", "sdiv", "smod", "sdiv32", "smod32"}) {
            for (long d : new long[] {1, 2, 8, 1L << 31, -2147483648L, 7, -1, -8}) {
                same("lddw %r0, 0xfedcba9876543210\n" + op + " %r0, " + d + "\nexit", null);
                same("lddw %r0, 0x8000000000000000\nlddw %r3, " + d + "\n" + op + " %r0, %r3\nexit", null);
            }
            same("lddw %r0, 0x123456789\nlddw %r3, 0x100000000\n" + op + " %r0, %r3\nexit", null);
        }
    }

    @Test
    void csumDiffInline() {
        byte[] mem = new byte[64];
        new java.util.Random(5).nextBytes(mem);
        String[] calls = {
            "mov %r2, 0\nmov %r4, 20\nmov %r5, 0",        // sum of to only (checksum.c's use)
            "mov %r2, 8\nmov %r4, 0\nmov %r5, 0x1234",     // complement of from, with a seed
            "mov %r2, 16\nmov %r4, 16\nlddw %r5, 0xffffffffffff", // the seed's low 32 bits only
            "mov %r2, 6\nmov %r4, 4\nmov %r5, 0",          // not a multiple of 4: -EINVAL
            "mov %r2, 0\nmov %r4, 0\nmov %r5, 0x12345",    // nothing: the seed folded
            // sizes the IR does not know: the loop, not the unrolled sum
            "ldxb %r2, [%r1+0]\nand %r2, 12\nldxb %r4, [%r1+1]\nand %r4, 28\nmov %r5, 7",
            "ldxb %r2, [%r1+2]\nand %r2, 14\nmov %r4, 4\nmov %r5, 0",   // maybe not a multiple of 4
        };
        for (String c : calls) {
            same("mov %r3, %r1\nadd %r3, 32\n" + c + "\ncall 28\nexit", mem);
        }
        for (int seed = 0; seed < 32; seed++) {
            new java.util.Random(seed).nextBytes(mem); // the unknown sizes take other values
            same("mov %r3, %r1\nadd %r3, 32\n" + calls[5] + "\ncall 28\nexit", mem);
            same("mov %r3, %r1\nadd %r3, 32\n" + calls[6] + "\ncall 28\nexit", mem);
        }
    }

    @Test
    void ktimeReadsTheHostClockNatively() {
        // with the host's environment bpf_ktime_get_ns is native code reading System.nanoTime's clock
        try (Executable e = X86.load(java.util.List.of(asm("call 5\nexit")))) {
            long before = System.nanoTime();
            long t = e.run(RunInput.ofMem(null)).r0();
            long after = System.nanoTime();
            assertTrue(before <= t && t <= after, before + " <= " + t + " <= " + after);
        }
        // a deterministic environment is honoured: its clock, through Java
        X86Target fixed = new X86Target(dev.prism.runtime.Environment.deterministic(5_000, 1));
        try (Executable e = fixed.load(java.util.List.of(asm("call 5\nexit")))) {
            assertEquals(6_000, e.run(RunInput.ofMem(null)).r0());
        }
    }

    @Test
    void instancesAreFreedWhenClosedOrUnreachable() throws InterruptedException {
        int before = dev.prism.runtime.jit.NativeInstance.live();
        Executable closed = X86.load(java.util.List.of(asm("call 7\nexit")));
        closed.run(RunInput.ofMem(null));
        assertEquals(before + 1, dev.prism.runtime.jit.NativeInstance.live());
        closed.close();
        assertEquals(before, dev.prism.runtime.jit.NativeInstance.live());
        for (int i = 0; i < 20; i++) {
            // dropped without close: the helper's upcall stub must not keep them alive
            X86.load(java.util.List.of(asm("call 7\nexit"))).run(RunInput.ofMem(null));
        }
        for (int k = 0; k < 100 && dev.prism.runtime.jit.NativeInstance.live() > before; k++) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(before, dev.prism.runtime.jit.NativeInstance.live(), "the cleaner freed every dropped instance");
    }

    @Test
    void shiftsThroughRcx() {
        same("mov %r4, 3\nmov %r0, 1\nlsh %r0, %r4\nexit", null);
        same("mov %r4, 3\nmov %r2, 65\nlsh %r4, %r2\nmov %r0, %r4\nexit", null);
        same("mov %r4, -1\nmov %r2, 33\nrsh32 %r4, %r2\nmov %r0, %r4\nexit", null);
        same("mov %r4, -16\narsh %r4, %r4\nmov %r0, %r4\nexit", null);
    }

    @Test
    void memoryAndAtomics() {
        byte[] mem = new byte[16];
        mem[0] = (byte) 0x80;
        same("ldxb %r0, [%r1]\nexit", mem);
        same("ldxsb %r0, [%r1]\nexit", mem);
        same("mov %r2, 5\nstxdw [%r1+8], %r2\nmov %r0, 3\nlock fetch add [%r1+8], %r0\nexit", mem);
        same("mov %r2, 6\nstxw [%r1+4], %r2\nmov %r0, 6\nmov %r3, 9\nlock cmpxchg32 [%r1+4], %r3\nexit", mem);
        same("mov %r0, 12\nstxdw [%r10-8], %r0\nmov %r2, 10\nlock fetch or [%r10-8], %r2\nldxdw %r0, [%r10-8]\nadd %r0, %r2\nexit", mem);
    }

    @Test
    void localCallsAndDepth() {
        same("mov %r6, 5\ncall local f\nadd %r0, %r6\nexit\nf:\nmov %r6, 100\nmov %r0, 1\nstxdw [%r10-8], %r6\nexit", null);
        StringBuilder deep = new StringBuilder("call local f1\nexit\n");
        for (int i = 1; i < 8; i++) {
            deep.append("f").append(i).append(":\ncall local f").append(i + 1).append("\nadd %r0, 1\nexit\n");
        }
        deep.append("f8:\nmov %r0, 1\nexit\n");
        // The interpreter traps at run time; x86-64 runs only what the verifier proved, which
        // counts the frames statically.
        TrapException want = assertThrows(TrapException.class, () -> run(INTERPRETER, asm(deep.toString()), null));
        assertTrue(want.getMessage().contains("call depth exceeds 8 frames"), want.getMessage());
        TargetException e = assertThrows(TargetException.class, () -> run(X86, asm(deep.toString()), null));
        assertTrue(e.getMessage().contains("call stack too deep (more than 8 frames)"), e.getMessage());
    }

    @Test
    void whatTheVerifierRefusesIsRefusedAtLoadWithItsDiagnostic() {
        TargetException e = assertThrows(TargetException.class, () -> run(X86, asm("call 69\nexit"), null));
        assertEquals("rejected by the verifier: 0: unknown helper (bpf_fib_lookup#69)", e.getMessage());
        e = assertThrows(TargetException.class, () -> run(X86, asm("ldxw %r0, [%r1+2]\nexit"), new byte[4]));
        assertTrue(e.getMessage().startsWith("rejected by the verifier: 0: invalid memory access"), e.getMessage());
    }

    @Test
    void sizingConvergesAndIsDeterministic() {
        StringBuilder sb = new StringBuilder("mov %r0, 0\nstart:\n");
        for (int i = 0; i < 40; i++) {
            sb.append("add %r0, 1\n");
        }
        sb.append("jlt %r0, 200, start\njgt %r0, 1000, end\n");
        for (int i = 0; i < 5; i++) {
            sb.append("add %r0, 1\n");
        }
        sb.append("end:\nexit\n");
        Program p = asm(sb.toString());
        X86Jit.Compiled a = X86Jit.compile(dev.prism.verifier.Verifier.verify(p, dev.prism.verifier.Profile.RFC9669));
        X86Jit.Compiled b = X86Jit.compile(dev.prism.verifier.Verifier.verify(p, dev.prism.verifier.Profile.RFC9669));
        assertArrayEquals(a.code(), b.code());
        assertTrue(a.passes() >= 2);
        same(sb.toString(), null);
    }
}
