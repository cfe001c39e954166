package dev.prism.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.prism.arm64.A64Assembler.Label;
import dev.prism.arm64.emu.A64Machine;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.ToIntFunction;

/**
 * What the tests of the generated map lookups ({@link A64MapCode}, {@link A64LpmCode}) share:
 * a harness that checks the leaf-function contract around the lookup, and keys against pages
 * the emulator never maps.
 *
 * <p>The contract: the lookup clobbers only x0-x6, x8, x10-x15 and the flags, preserves x7, x9
 * and x16 up, sp and the stack below it, and returns with {@code ret} to an unchanged x30.
 */
final class A64LeafHarness {
    /** Never a value address (those are 8-aligned): the harness's "registers clobbered". */
    static final long CLOBBERED = 1;
    /** What the contract preserves: x7, x9 and x16 up (x29 and x30 the harness itself uses). */
    private static final A64Reg[] PRESERVED = {
        A64Reg.X7, A64Reg.X9, A64Reg.X16, A64Reg.X17, A64Reg.X18, A64Reg.X19, A64Reg.X20, A64Reg.X21, A64Reg.X22,
        A64Reg.X23, A64Reg.X24, A64Reg.X25, A64Reg.X26, A64Reg.X27, A64Reg.X28,
    };
    private static final int BELOW_SP_WORDS = 16;
    private static final long CANARY = 0x5A5A_0123_4567_89A5L;

    private A64LeafHarness() {
    }

    /**
     * Code whose entry loads the preserved registers with canaries, fills the 128 bytes below
     * sp with a canary, calls the lookup with {@code bl}, and returns {@link #CLOBBERED} instead
     * of its result when any of them, sp or x30's use as the return changed. The lookup is what
     * {@code emitLookup} emits at the assembler's position after the harness; it returns the
     * lookup's offset. The arguments (x0-x2) reach the lookup as the harness got them.
     */
    static byte[] harnessed(ToIntFunction<A64Assembler> emitLookup) {
        return harnessed(PRESERVED, emitLookup);
    }

    /**
     * {@link #harnessed(ToIntFunction)} for another contract: the code under test must preserve
     * {@code preserved} (none of x0-x7, x14, x15, x29, x30, which carry arguments or the
     * harness's own state), sp and the stack below it.
     */
    static byte[] harnessed(A64Reg[] preserved, ToIntFunction<A64Assembler> emitLookup) {
        A64Assembler a = new A64Assembler();
        Label lookup = new Label();
        Label bad = new Label();
        Label done = new Label();
        a.stp(64, A64Reg.FP, A64Reg.LR, A64Reg.SP, -16, A64Index.PRE);
        a.mov(64, A64Reg.FP, A64Reg.SP);
        for (int i = 0; i < preserved.length; i++) {
            a.movImm(64, preserved[i], CANARY + i);
        }
        a.movImm(64, A64Reg.X15, CANARY);
        for (int i = 0; i < BELOW_SP_WORDS; i++) {
            a.stur(64, A64Reg.X15, A64Reg.SP, -8 - 8 * i);
        }
        a.bl(lookup);
        for (int i = 0; i < preserved.length; i++) {
            a.movImm(64, A64Reg.X15, CANARY + i);
            a.cmp(64, preserved[i], A64Reg.X15);
            a.b(A64Cond.NE, bad);
        }
        a.movImm(64, A64Reg.X14, CANARY);
        for (int i = 0; i < BELOW_SP_WORDS; i++) {
            a.ldur(64, A64Reg.X15, A64Reg.SP, -8 - 8 * i);
            a.cmp(64, A64Reg.X15, A64Reg.X14);
            a.b(A64Cond.NE, bad);
        }
        a.mov(64, A64Reg.X15, A64Reg.SP);
        a.cmp(64, A64Reg.X15, A64Reg.FP);
        a.b(A64Cond.NE, bad);
        a.b(done);
        a.bind(bad);
        a.movImm(64, A64Reg.X0, CLOBBERED);
        a.bind(done);
        a.ldp(64, A64Reg.FP, A64Reg.LR, A64Reg.SP, 16, A64Index.POST);
        a.ret();
        a.bind(lookup);
        int at = emitLookup.applyAsInt(a);
        assertEquals(lookup.position(), at);
        return a.bytes();
    }

    /**
     * A key in the middle one of three pages of its own, of which only the middle one is mapped
     * into the emulator: a key is placed either against that page's end or at its start, so a
     * read past either end of the key faults.
     */
    static final class GuardedKey implements AutoCloseable {
        private final long page = A64Machine.PAGE;
        private final MemorySegment mapping;
        private final int size;
        /** The key's current place: {@code size} bytes at the middle page's start or end. */
        MemorySegment segment;

        GuardedKey(int size, Arena arena, A64Machine machine) {
            this.size = size;
            mapping = arena.allocate(3 * page, page);
            machine.map(mapping.address() + page, page);
            segment = mapping.asSlice(2 * page - size, size);
        }

        /** Places {@code key} against the middle page's end, or at its start. */
        void set(byte[] key, boolean atEnd) {
            segment = mapping.asSlice(atEnd ? 2 * page - size : page, size);
            MemorySegment.copy(key, 0, segment, ValueLayout.JAVA_BYTE, 0, size);
        }

        @Override
        public void close() {
            // the pages belong to the fixture's arena, the mapping to its machine
        }
    }
}
