package dev.prism.conformance.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.csd.InterpreterChunkKernel;
import dev.prism.elf.ElfObject;
import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.ChunkRunner;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import dev.prism.x86.X86Target;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * csd programs on the x86-64 JIT ({@link ChunkRunner}, the executable of {@code X86Target.load})
 * against the reference interpreter ({@link InterpreterChunkKernel}): the three examples of
 * examples/csd over random namespaces chunk by chunk (r0, the output buffer, the maps after every
 * chunk), and prism_csd_read inside and outside the namespace, into the stack and into out.
 */
class X86CsdTest {
    private static final int RECORD = 32;

    private static boolean x86() {
        return new X86Target().availability().available();
    }

    private static Program example(String name) {
        Host.require("clang", Host.onPath("clang-19"), "clang-19 is not on PATH (make setup installs it)");
        return ElfObject.load(Examples.object("csd", name)).program();
    }

    /** A namespace of records whose kind is 0..3 and amount 0..999, the rest random; a cut record at the end. */
    private static byte[] records(Random rnd, int bytes) {
        byte[] b = new byte[bytes];
        rnd.nextBytes(b);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r + RECORD <= bytes; r += RECORD) {
            bb.putInt(r + 8, rnd.nextInt(4));
            bb.putInt(r + 12, rnd.nextInt(1000));
        }
        return b;
    }

    /** Bytes over a small alphabet, so that short patterns match often. */
    private static byte[] text(Random rnd, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) ('a' + rnd.nextInt(3));
        }
        return b;
    }

    @ParameterizedTest
    @ValueSource(strings = {"csd_filter", "csd_aggregate", "csd_search"})
    void examplesMatchTheInterpreterChunkByChunk(String name) {
        Host.require("x86-64", x86(), "the host is not x86-64 Linux");
        Program p = example(name);
        Random rnd = new Random(name.hashCode());
        boolean search = name.equals("csd_search");
        for (int round = 0; round < 3; round++) {
            int chunk = search ? 512 + rnd.nextInt(4096) : RECORD * (16 + rnd.nextInt(400));
            int size = chunk * 3 + (round == 0 ? 0 : 1 + rnd.nextInt(chunk - 1));
            byte[] nsBytes = search ? text(rnd, size) : records(rnd, size);
            long param0 = search ? (round == 2 ? 0x6261L : 0x616263L) : rnd.nextInt(round == 0 ? 1 : 4);
            long param1 = search ? (round == 2 ? 2 : 3) : rnd.nextInt(1000);
            if (name.equals("csd_aggregate") && round == 0) {
                param0 = -1; // every record, as the example documents a kind of all ones
            }
            try (Arena arena = Arena.ofConfined();
                 InterpreterChunkKernel ref = InterpreterChunkKernel.of(Verifier.verify(p, Profile.RFC9669, -1, null));
                 Executable exe = new X86Target().load(List.of(p))) {
                ChunkRunner jit = assertInstanceOf(ChunkRunner.class, exe);
                MemorySegment ns = arena.allocate(size, 8);
                MemorySegment.copy(nsBytes, 0, ns, ValueLayout.JAVA_BYTE, 0, size);
                int outSize = round == 1 ? 64 : chunk; // a small buffer: the filter's -ENOSPC
                for (long off = 0; off < size; off += chunk) {
                    long len = Math.min(chunk, size - off);
                    MemorySegment outRef = arena.allocate(outSize, 8);
                    MemorySegment outJit = arena.allocate(outSize, 8);
                    long want = ref.run(ns, off, len, outRef, param0, param1);
                    long got = jit.runChunk(ns, off, len, outJit, param0, param1);
                    String where = name + " round " + round + " chunk at " + off + " (+" + len + ")";
                    assertEquals(want, got, where + ": r0");
                    assertArrayEquals(outRef.toArray(ValueLayout.JAVA_BYTE), outJit.toArray(ValueLayout.JAVA_BYTE), where + ": out");
                    assertMapsEqual(ref.maps(), exe.maps(), where);
                }
            }
        }
    }

    private static void assertMapsEqual(MapAccess want, MapAccess got, String where) {
        HexFormat hex = HexFormat.of();
        for (MapDef d : want.defs()) {
            for (byte[] key : want.keys(d.name())) {
                assertEquals(hex.formatHex(want.lookup(d.name(), key)), hex.formatHex(got.lookup(d.name(), key)),
                        where + ": map " + d.name() + " key " + hex.formatHex(key));
            }
            assertEquals(want.keys(d.name()).size(), got.keys(d.name()).size(), where + ": keys of map " + d.name());
        }
    }

    /**
     * prism_csd_read of 8 bytes at param0 into the stack, and when out has 8 bytes, of 8 bytes at
     * param1 into out; r0 = the first value + 3 * the first status + 5 * the second status.
     */
    static final String READ = """
            mov %r6, %r1
            mov %r9, 0
            ldxdw %r1, [%r6+40]
            mov %r2, %r10
            add %r2, -8
            mov %r3, 8
            call 65537
            mov %r7, %r0
            ldxdw %r8, [%r10-8]
            ldxdw %r2, [%r6+16]
            mov %r3, %r2
            add %r3, 8
            ldxdw %r4, [%r6+24]
            jgt %r3, %r4, done
            ldxdw %r1, [%r6+48]
            mov %r3, 8
            call 65537
            mov %r9, %r0
            done:
            mov %r0, %r7
            mul %r0, 3
            add %r0, %r8
            mul %r9, 5
            add %r0, %r9
            exit
            """;

    @Test
    void csdReadInsideAndOutsideTheNamespace() {
        Host.require("x86-64", x86(), "the host is not x86-64 Linux");
        Program p = Program.builder("read", ProgramType.CSD, Assembler.assemble(READ)).build();
        int size = 1000;
        byte[] nsBytes = new byte[size];
        new Random(7).nextBytes(nsBytes);
        long[] offsets = {0, 8, size - 8, size - 7, size, size + 1, -1, Long.MIN_VALUE, 0xffff_ffffL};
        try (Arena arena = Arena.ofConfined();
             InterpreterChunkKernel ref = InterpreterChunkKernel.of(Verifier.verify(p, Profile.RFC9669, -1, null));
             Executable exe = new X86Target().load(List.of(p))) {
            ChunkRunner jit = (ChunkRunner) exe;
            MemorySegment ns = arena.allocate(size, 8);
            MemorySegment.copy(nsBytes, 0, ns, ValueLayout.JAVA_BYTE, 0, size);
            int einval = 0;
            for (long a : offsets) {
                for (long b : offsets) {
                    MemorySegment outRef = arena.allocate(16, 8);
                    MemorySegment outJit = arena.allocate(16, 8);
                    outRef.fill((byte) 0x5a);
                    outJit.fill((byte) 0x5a);
                    long want = ref.run(ns, 100, 200, outRef, a, b);
                    long got = jit.runChunk(ns, 100, 200, outJit, a, b);
                    assertEquals(want, got, "r0 at offsets " + a + ", " + b);
                    assertArrayEquals(outRef.toArray(ValueLayout.JAVA_BYTE), outJit.toArray(ValueLayout.JAVA_BYTE),
                            "out at offsets " + a + ", " + b);
                    if (outJit.get(ValueLayout.JAVA_LONG, 0) == 0 && b > size - 8) {
                        einval++;
                    }
                }
            }
            assertTrue(einval > 0, "some reads were outside the namespace and zeroed their destination");
            // in bounds: the bytes themselves
            MemorySegment out = arena.allocate(8, 8);
            jit.runChunk(ns, 0, 8, out, 0, size - 8);
            assertArrayEquals(java.util.Arrays.copyOfRange(nsBytes, size - 8, size), out.toArray(ValueLayout.JAVA_BYTE));
            // Executable.run: the memory is the namespace and its one chunk, out as long, zeroed
            RunResult r = exe.run(RunInput.ofMem(nsBytes));
            assertEquals(ByteBuffer.wrap(nsBytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0), r.r0());
            assertEquals(size, r.memAfter().length);
            assertArrayEquals(java.util.Arrays.copyOfRange(nsBytes, 0, 8), java.util.Arrays.copyOf(r.memAfter(), 8));
            // a heap namespace and out work as native ones
            byte[] heapOut = new byte[8];
            jit.runChunk(MemorySegment.ofArray(nsBytes), 0, 8, MemorySegment.ofArray(heapOut), 0, 16);
            assertArrayEquals(java.util.Arrays.copyOfRange(nsBytes, 16, 24), heapOut);
            assertThrows(TargetException.class, () -> jit.runChunk(ns, size - 4, 8, out, 0, 0));
        }
    }

    @Test
    void negativeR0KeepsAllSixtyFourBits() {
        Host.require("x86-64", x86(), "the host is not x86-64 Linux");
        Program p = Program.builder("neg", ProgramType.CSD, Assembler.assemble("mov %r0, -28\nexit")).build();
        try (Executable exe = new X86Target().load(List.of(p))) {
            assertEquals(-28, exe.run(RunInput.ofMem(new byte[4])).r0());
            assertNotEquals(0, ((ChunkRunner) exe).runChunk(MemorySegment.ofArray(new byte[4]), 0, 4,
                    MemorySegment.ofArray(new byte[0]), 0, 0));
        }
    }
}
