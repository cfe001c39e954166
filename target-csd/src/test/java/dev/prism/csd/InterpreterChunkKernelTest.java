package dev.prism.csd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class InterpreterChunkKernelTest {
    /** Adds every byte of the chunk into array map "sum"[0] (an atomic add), returns 0. */
    static final String SUM = """
            mov %r6, %r1
            stw [%r10-4], 0
            lddw %r1, map_idx 0
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, done
            ldxdw %r2, [%r6+0]
            ldxdw %r3, [%r6+8]
            mov %r7, 0
            loop:
            mov %r4, %r2
            add %r4, %r7
            mov %r8, %r4
            add %r8, 1
            jgt %r8, %r3, done
            ldxb %r5, [%r4+0]
            lock add [%r0+0], %r5
            add %r7, 1
            jlt %r7, 4096, loop
            done:
            mov %r0, 0
            exit
            """;

    static Program sumProgram() {
        return Program.builder("sum", ProgramType.CSD, Assembler.assemble(SUM))
                .maps(List.of(MapDef.of("sum", MapType.ARRAY, 4, 8, 1, 0))).build();
    }

    @Test
    void chunksOnSeveralThreadsShareTheMap() throws Exception {
        int chunk = 4096;
        int chunks = 32;
        try (Arena arena = Arena.ofShared();
             InterpreterChunkKernel k = InterpreterChunkKernel.of(Verifier.verify(sumProgram(), Profile.RFC9669));
             ExecutorService pool = Executors.newFixedThreadPool(4)) {
            MemorySegment ns = arena.allocate((long) chunk * chunks, 8);
            long want = 0;
            for (int i = 0; i < chunk * chunks; i++) {
                byte b = (byte) (i * 31 + (i >> 7));
                ns.set(ValueLayout.JAVA_BYTE, i, b);
                want += b & 0xff;
            }
            List<Future<Long>> done = new java.util.ArrayList<>();
            for (int c = 0; c < chunks; c++) {
                long off = (long) c * chunk;
                done.add(pool.submit(() -> k.run(ns, off, chunk, arena.allocate(16), 0, 0)));
            }
            for (Future<Long> f : done) {
                assertEquals(0, f.get());
            }
            byte[] v = k.maps().lookup("sum", new byte[4]);
            assertEquals(want, ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong());
        }
    }

    @Test
    void anotherProgramTypeIsRefused() {
        Program raw = Program.builder("r", ProgramType.RAW, Assembler.assemble("mov %r0, 0\nexit")).build();
        assertThrows(TargetException.class, () -> InterpreterChunkKernel.of(Verifier.verify(raw, Profile.RFC9669)));
    }
}
