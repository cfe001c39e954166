package dev.prism.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TrapException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The interpreter runs csd programs over one chunk (Interpreter.Instance#runCsd). */
class CsdInterpreterTest {
    private static final String COPY8 = """
            ldxdw %r2, [%r1+0]
            ldxdw %r3, [%r1+8]
            ldxdw %r4, [%r1+16]
            ldxdw %r5, [%r1+24]
            mov %r6, %r2
            add %r6, 8
            jgt %r6, %r3, fail
            mov %r7, %r4
            add %r7, 8
            jgt %r7, %r5, fail
            ldxdw %r0, [%r2+0]
            stxdw [%r4+0], %r0
            mov %r0, 8
            exit
            fail:
            mov %r0, -22
            exit
            """;

    private static Interpreter.Instance instance(String source) {
        return new Interpreter().instantiate(List.of(Program.builder("t", ProgramType.CSD, Assembler.assemble(source)).build()));
    }

    private static MemorySegment namespace(Arena arena, int size) {
        MemorySegment ns = arena.allocate(size, 8);
        for (int i = 0; i < size; i++) {
            ns.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + 3));
        }
        return ns;
    }

    @Test
    void copiesTheChunkIntoOut() {
        try (Arena arena = Arena.ofConfined(); Interpreter.Instance in = instance(COPY8)) {
            MemorySegment ns = namespace(arena, 100);
            MemorySegment out = arena.allocate(16, 8);
            assertEquals(8, in.runCsd(ns, 16, 8, out, 0, 0).r0());
            byte[] want = Arrays.copyOfRange(ns.toArray(ValueLayout.JAVA_BYTE), 16, 24);
            assertArrayEquals(want, out.asSlice(0, 8).toArray(ValueLayout.JAVA_BYTE));
            assertEquals(-22, in.runCsd(ns, 16, 7, out, 0, 0).r0(), "a chunk of 7 bytes fails the check");
            assertEquals(-22, in.runCsd(ns, 16, 8, out.asSlice(0, 4), 0, 0).r0(), "an out of 4 bytes fails the check");
        }
    }

    @Test
    void contextScalarsAreTheChunkOffsetAndTheParameters() {
        try (Arena arena = Arena.ofConfined(); Interpreter.Instance in = instance("""
                ldxdw %r0, [%r1+32]
                ldxdw %r2, [%r1+40]
                ldxdw %r3, [%r1+48]
                lsh %r2, 8
                lsh %r3, 16
                add %r0, %r2
                add %r0, %r3
                exit
                """)) {
            assertEquals(5 + (3 << 8) + (9 << 16), in.runCsd(namespace(arena, 64), 5, 10, arena.allocate(8), 3, 9).r0());
        }
    }

    @Test
    void csdReadReadsTheNamespaceOrZeroesAndFails() {
        String read = """
                mov %r6, %r1
                ldxdw %r1, [%r6+40]
                mov %r2, %r10
                add %r2, -8
                stdw [%r10-8], -1
                mov %r3, 8
                call 65537
                ldxdw %r1, [%r10-8]
                stxdw [%r10-16], %r1
                lsh %r0, 32
                ldxw %r1, [%r10-16]
                or %r0, %r1
                exit
                """;
        try (Arena arena = Arena.ofConfined(); Interpreter.Instance in = instance(read)) {
            MemorySegment ns = namespace(arena, 64);
            long ok = in.runCsd(ns, 0, 8, arena.allocate(8), 40, 0).r0();
            assertEquals(0, ok >> 32, "status");
            assertEquals(ns.get(ValueLayout.JAVA_INT_UNALIGNED, 40) & 0xffff_ffffL, ok & 0xffff_ffffL);
            long bad = in.runCsd(ns, 0, 8, arena.allocate(8), 57, 0).r0();
            assertEquals(-22L << 32, bad, "-EINVAL, and the buffer zeroed");
        }
    }

    @Test
    void aChunkOutsideTheNamespaceOrTooLongIsRefused() {
        try (Arena arena = Arena.ofConfined(); Interpreter.Instance in = instance(COPY8)) {
            assertThrows(IllegalArgumentException.class, () -> in.runCsd(namespace(arena, 64), 60, 8, arena.allocate(8), 0, 0));
            assertThrows(IllegalArgumentException.class, () -> in.runCsd(arena.allocate(70_000), 0, 70_000, arena.allocate(8), 0, 0));
        }
    }

    @Test
    void anUnverifiedStoreIntoTheChunkTraps() {
        try (Arena arena = Arena.ofConfined(); Interpreter.Instance in = instance("ldxdw %r2, [%r1+0]\nstb [%r2+0], 1\nmov %r0, 0\nexit")) {
            TrapException e = assertThrows(TrapException.class, () -> in.runCsd(namespace(arena, 64), 0, 8, arena.allocate(8), 0, 0));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        }
    }
}
