package dev.prism.csd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Interpreter;
import dev.prism.target.RunResult;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Firmware builds against the interpreter: csd chunks and raw runs, on each arch. */
class FirmwareTest {
    /**
     * Copies the 8-byte records of the chunk whose first u32 is at least param0 to out; reads
     * param1's 8 namespace bytes with prism_csd_read into the last record slot when there is
     * room; returns the bytes written, -7 (E2BIG) when out is full.
     */
    static final String FILTER = """
            mov %r6, %r1
            ldxdw %r7, [%r6+16]
            mov %r9, 0
            ldxdw %r8, [%r6+0]
            mov %r2, 0
            loop:
            ldxdw %r3, [%r6+0]
            add %r3, %r2
            mov %r4, %r3
            add %r4, 8
            ldxdw %r5, [%r6+8]
            jgt %r4, %r5, tail
            ldxw %r4, [%r3+0]
            ldxdw %r5, [%r6+40]
            jlt %r4, %r5, next
            jgt %r9, 4088, full
            ldxdw %r4, [%r6+16]
            add %r4, %r9
            mov %r5, %r4
            add %r5, 8
            ldxdw %r0, [%r6+24]
            jgt %r5, %r0, full
            ldxdw %r0, [%r3+0]
            stxdw [%r4+0], %r0
            add %r9, 8
            next:
            add %r2, 8
            jlt %r2, 4096, loop
            tail:
            jgt %r9, 4088, done
            ldxdw %r2, [%r6+16]
            add %r2, %r9
            mov %r3, %r2
            add %r3, 8
            ldxdw %r4, [%r6+24]
            jgt %r3, %r4, done
            ldxdw %r1, [%r6+48]
            mov %r3, 8
            call 65537
            jne %r0, 0, done
            add %r9, 8
            done:
            mov %r0, %r9
            exit
            full:
            mov %r0, -7
            exit
            """;

    /** RFC 9669 corners in one raw program: its result mixes them all. */
    static final String CORNERS = """
            lddw %r1, 0x8000000000000000
            mov %r2, -1
            sdiv %r1, %r2
            mov %r3, 0x80000000
            sdiv32 %r3, -1
            mov %r4, 77
            div %r4, 0
            mov %r5, 77
            mod32 %r5, 0
            lddw %r6, 0xfedcba9876543210
            arsh %r6, 67
            mov32 %r7, -8
            arsh32 %r7, 33
            lddw %r8, 0x1122334455667788
            be32 %r8
            mov %r9, 0
            stdw [%r10-8], -2
            ldxsb %r9, [%r10-8]
            movsx1664 %r2, %r9
            xor %r9, %r2
            mov %r0, 5
            smod %r0, -3
            lsh %r0, 4
            xor %r0, %r1
            xor %r0, %r3
            xor %r0, %r4
            xor %r0, %r5
            xor %r0, %r6
            lsh %r7, 8
            xor %r0, %r7
            xor %r0, %r8
            xor %r0, %r9
            stdw [%r10-16], 5
            mov %r1, 3
            lock fetch add [%r10-16], %r1
            xor %r0, %r1
            mov %r1, %r0
            mov %r0, 8
            mov %r2, 9
            lock cmpxchg [%r10-16], %r2
            ldxdw %r2, [%r10-16]
            add %r0, %r2
            add %r0, %r1
            exit
            """;

    private static VerifiedProgram verify(ProgramType type, String source) {
        return Verifier.verify(Program.builder("t", type, Assembler.assemble(source)).build(), Profile.RFC9669);
    }

    private static void requireArch(FirmwareArch arch) {
        String why = arch.unavailable();
        Host.require(arch.host() ? "csd" : "csd-" + arch.id(), why == null, why);
    }

    @ParameterizedTest
    @EnumSource(FirmwareArch.class)
    void rfcCornersMatchTheInterpreter(FirmwareArch arch) {
        requireArch(arch);
        VerifiedProgram v = verify(ProgramType.RAW, CORNERS);
        long want = new Interpreter().runRaw(v.program(), new byte[0]).r0();
        try (FirmwareKernel k = Firmware.load(v, arch)) {
            RunResult r = k.runRaw(new byte[0]);
            assertEquals(want, r.r0(), arch.id());
        }
    }

    @ParameterizedTest
    @EnumSource(FirmwareArch.class)
    void filterChunksMatchTheInterpreter(FirmwareArch arch) {
        requireArch(arch);
        VerifiedProgram v = verify(ProgramType.CSD, FILTER);
        Random rnd = new Random(42);
        try (Arena arena = Arena.ofShared();
             FirmwareKernel k = Firmware.load(v, arch);
             InterpreterChunkKernel ref = InterpreterChunkKernel.of(v)) {
            MemorySegment ns = arena.allocate(1 << 16, 8);
            for (long i = 0; i < ns.byteSize(); i += 8) {
                ns.set(ValueLayout.JAVA_LONG, i, rnd.nextLong());
            }
            for (int t = 0; t < 40; t++) {
                long off = rnd.nextInt(1 << 15);
                long len = rnd.nextInt(4200);
                int outLen = rnd.nextInt(4) == 0 ? rnd.nextInt(64) : 4096;
                long p0 = rnd.nextInt() & 0xffff_ffffL;
                long p1 = rnd.nextInt(8) == 0 ? (1 << 16) - 4 : rnd.nextInt(1 << 16);
                MemorySegment o1 = arena.allocate(outLen + 1, 8).asSlice(0, outLen);
                MemorySegment o2 = arena.allocate(outLen + 1, 8).asSlice(0, outLen);
                long want = ref.run(ns, off, len, o1, p0, p1);
                long got = k.run(ns, off, len, o2, p0, p1);
                String where = arch.id() + " chunk " + off + "+" + len + " out " + outLen + " p0 " + p0 + " p1 " + p1;
                assertEquals(want, got, where);
                assertArrayEquals(o1.toArray(ValueLayout.JAVA_BYTE), o2.toArray(ValueLayout.JAVA_BYTE), where);
            }
        }
    }

    /**
     * Adds every byte of the chunk into an array map with an atomic add: chunks on several
     * threads share it (x86-64 in parallel, the cross builds one after another in the harness);
     * user space's value set first is the starting point and the total comes back.
     */
    @ParameterizedTest
    @EnumSource(FirmwareArch.class)
    void chunksOnSeveralThreadsShareTheMaps(FirmwareArch arch) throws Exception {
        requireArch(arch);
        VerifiedProgram v = Verifier.verify(InterpreterChunkKernelTest.sumProgram(), Profile.RFC9669);
        int chunk = 4096;
        int chunks = arch.host() ? 64 : 16;
        try (Arena arena = Arena.ofShared();
             FirmwareKernel k = Firmware.load(v, arch);
             ExecutorService pool = Executors.newFixedThreadPool(4)) {
            MemorySegment ns = arena.allocate((long) chunk * chunks, 8);
            long want = 1000;
            k.maps().update("sum", new byte[4], ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000).array(), 0);
            for (int i = 0; i < chunk * chunks; i++) {
                byte b = (byte) (i * 131 + (i >> 9));
                ns.set(ValueLayout.JAVA_BYTE, i, b);
                want += b & 0xff;
            }
            List<Future<Long>> done = new ArrayList<>();
            for (int c = 0; c < chunks; c++) {
                long off = (long) c * chunk;
                done.add(pool.submit(() -> k.run(ns, off, chunk, arena.allocate(16), 0, 0)));
            }
            for (Future<Long> f : done) {
                assertEquals(0, f.get());
            }
            byte[] value = k.maps().lookup("sum", new byte[4]);
            assertEquals(want, ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getLong());
        }
    }

    @ParameterizedTest
    @EnumSource(FirmwareArch.class)
    void codeImagesArePositionIndependentAndFreestanding(FirmwareArch arch) {
        requireArch(arch);
        FirmwareBuild b = FirmwareBuild.of(FirmwareC.lower(verify(ProgramType.CSD, FILTER)), arch);
        assertTrue(b.image().length > 0 && b.entry() >= 0 && b.entry() < b.image().length, b.toString());
        assertEquals(arch.host(), b.shared().length > 0);
        assertEquals(64, b.imageSha256().length());
    }
}
