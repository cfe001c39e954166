package dev.prism.arm64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.arm64.emu.A64Machine;
import dev.prism.asm.Assembler;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Local calls of small bare leaves ({@link A64Inline}) lowered as copies of the callee's body:
 * each program runs through the SPI on the interpreter and on arm64 in three code shapes (LSE,
 * LL/SC, every conditional jump far), r0 and memory must agree with each other and with the
 * value worked out by hand, and the call sites must hold no {@code bl}. Inputs come from
 * memory: with constants the verifier decides the leaf's branches at each call, and a copy whose
 * exits fall through would still pass.
 */
class A64InlineTest {
    private static final List<A64Jit.Options> SHAPES = List.of(new A64Jit.Options(true), new A64Jit.Options(false),
            new A64Jit.Options(true, 16));
    private static final Target INTERPRETER = new InterpreterTarget(Environment.deterministic(0, 1));

    /** A leaf with a loop and three exits: x > 100 ? 3x : x == 0 ? -1 : x * y (y added x times). */
    private static final String LEAF = "leaf:\nmov %r0, 0\njgt %r1, 100, big\njeq %r1, 0, zero\n"
            + "loop:\nadd %r0, %r2\nsub %r1, 1\njne %r1, 0, loop\nexit\n"
            + "big:\nmov %r0, %r1\nmul %r0, 3\nexit\nzero:\nmov %r0, -1\nexit\n";

    @BeforeAll
    static void emulator() {
        A64Target t = new A64Target();
        Host.require("arm64", t.availability().available(), t.availability().reason());
    }

    private static Program raw(String text) {
        return Program.builder("t", ProgramType.RAW, Assembler.assemble(text)).build();
    }

    /** Runs {@code text} on {@code mem} on the interpreter and every shape; {@return r0, which all agree on} */
    private static long same(String text, byte[] mem) {
        Program p = raw(text);
        RunResult want;
        try (Executable e = INTERPRETER.load(List.of(p))) {
            want = e.run(RunInput.ofMem(mem));
        }
        for (A64Jit.Options o : SHAPES) {
            try (Executable e = new A64Target(o, Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET).load(List.of(p))) {
                RunResult got = e.run(RunInput.ofMem(mem));
                assertEquals(want.r0(), got.r0(), () -> String.format("%s: r0 0x%x, interpreter 0x%x%n%s", o, got.r0(),
                        want.r0(), compile(p, mem.length, o).listing()));
                assertArrayEquals(want.memAfter(), got.memAfter(), o + ": memory after");
            }
        }
        return want.r0();
    }

    private static A64Jit.Compiled compile(Program p, int memSize, A64Jit.Options o) {
        return A64Jit.compile(Verifier.verify(p, Profile.RFC9669, memSize, null), o);
    }

    private static byte[] longs(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    /** {@return how many AArch64 BL words (bits 31..26 = 100101) the lowering of slot {@code pc} holds} */
    private static int bls(A64Jit.Compiled c, int pc) {
        ByteBuffer code = ByteBuffer.wrap(c.code()).order(ByteOrder.LITTLE_ENDIAN);
        int k = 0;
        for (int at = c.insnStart()[pc]; at < c.insnEnd()[pc]; at += 4) {
            k += code.getInt(at) >>> 26 == 0b100101 ? 1 : 0;
        }
        return k;
    }

    /** {@return the slots of {@code p} that hold a local call} */
    private static List<Integer> localCalls(Program p) {
        return java.util.stream.IntStream.range(0, p.length())
                .filter(pc -> p.at(pc) instanceof Insn.Call c && c.kind() == CallKind.LOCAL).boxed().toList();
    }

    private static long leaf(long x, long y) {
        return Long.compareUnsigned(x, 100) > 0 ? 3 * x : x == 0 ? -1 : x * y;
    }

    @Test
    void smallBareLeavesAreInlinedWithTheirBranchesAndExits() {
        String text = "mov %r7, %r1\nmov %r6, 0\n"
                + "ldxdw %r1, [%r7+0]\nmov %r2, 7\ncall local leaf\nadd %r6, %r0\n"
                + "ldxdw %r1, [%r7+8]\nmov %r2, 7\ncall local leaf\nlsh %r6, 16\nadd %r6, %r0\n"
                + "ldxdw %r1, [%r7+16]\nmov %r2, 9\ncall local leaf\nlsh %r6, 16\nadd %r6, %r0\n"
                + "mov %r0, %r6\nexit\n" + LEAF;
        long[][] inputs = {{5, 1000, 0}, {0, 3, 101}, {100, 0, 1}, {1, 1, 1}};
        for (long[] in : inputs) {
            long want = (((leaf(in[0], 7) << 16) + leaf(in[1], 7)) << 16) + leaf(in[2], 9);
            assertEquals(want, same(text, longs(in)), () -> java.util.Arrays.toString(in));
        }
        Program p = raw(text);
        List<Integer> calls = localCalls(p);
        assertEquals(3, calls.size());
        for (A64Jit.Options o : SHAPES) {
            A64Jit.Compiled c = compile(p, 24, o);
            for (int pc : calls) {
                assertEquals(0, bls(c, pc), () -> "call at " + pc + " was not inlined (" + o + "):\n" + c.listing());
                // at least a word for each of the leaf's 11 instructions before its final exit
                assertTrue(c.insnEnd()[pc] - c.insnStart()[pc] >= 11 * 4, () -> "call at " + pc + " is too short to hold the leaf");
            }
        }
    }

    @Test
    void onlyBareLeavesOfAtMostInlineSlotsAreInlined() {
        // f: r0 = r1 + (slots - 2); with INLINE_SLOTS slots it is inlined, with one more it is called
        for (int slots : new int[] {A64Inline.INLINE_SLOTS, A64Inline.INLINE_SLOTS + 1}) {
            StringBuilder f = new StringBuilder("mov %r6, %r1\nldxdw %r1, [%r6+0]\ncall local f\nexit\nf:\nmov %r0, %r1\n");
            f.append("add %r0, 1\n".repeat(slots - 2)).append("exit\n");
            assertEquals(40 + slots - 2, same(f.toString(), longs(40)));
            A64Jit.Compiled c = compile(raw(f.toString()), 8, A64Jit.Options.DEFAULT);
            assertEquals(slots <= A64Inline.INLINE_SLOTS ? 0 : 1, bls(c, 2), () -> slots + " slots:\n" + c.listing());
        }
        // not bare: writes r6, names r10, calls a helper
        String[] callees = {"f:\nmov %r6, %r1\nmov %r0, %r6\nexit\n", "f:\nstxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit\n",
            "f:\ncall 7\nadd %r0, 1\nexit\n"};
        for (String callee : callees) {
            String text = "mov %r6, %r1\nldxdw %r1, [%r6+0]\ncall local f\nexit\n" + callee;
            same(text, longs(40));
            A64Jit.Compiled c = compile(raw(text), 8, A64Jit.Options.DEFAULT);
            assertEquals(1, bls(c, 2), () -> callee + c.listing());
        }
    }

    /**
     * A bare leaf that is also bpf_loop's callback: the call is a copy, the callback runs the
     * function's own code through its address. The loop stops after i = 3 (4 calls, summing
     * 0..3), or runs nr times; the direct call adds x and returns x >= 3.
     */
    @Test
    void aBareLeafThatIsACallbackKeepsItsCode() {
        String text = """
                mov %r7, %r1
                stdw [%r10-8], 0
                ldxb %r1, [%r7+0]
                lddw %r2, code cb
                mov %r3, %r10
                add %r3, -8
                mov %r4, 0
                call 181
                mov %r6, %r0
                ldxdw %r1, [%r7+8]
                mov %r2, %r10
                add %r2, -8
                call local cb
                lsh %r6, 8
                add %r0, %r6
                ldxdw %r1, [%r10-8]
                lsh %r1, 16
                add %r0, %r1
                exit
                cb:
                ldxdw %r3, [%r2]
                add %r3, %r1
                stxdw [%r2], %r3
                mov %r0, 0
                jlt %r1, 3, keep
                mov %r0, 1
                keep:
                exit
                """;
        for (long nr : new long[] {0, 2, 10}) {
            for (long x : new long[] {1, 5}) {
                long calls = Math.min(nr, 4);
                long word = calls * (calls - 1) / 2 + x;
                long want = (word << 16) + (calls << 8) + (x >= 3 ? 1 : 0);
                assertEquals(want, same(text, longs(nr, x)), () -> nr + " loops, x = " + x);
            }
        }
        Program p = raw(text);
        int call = localCalls(p).getFirst();
        A64Jit.Compiled c = compile(p, 16, A64Jit.Options.DEFAULT);
        assertEquals(0, bls(c, call), c::listing);
    }
}
