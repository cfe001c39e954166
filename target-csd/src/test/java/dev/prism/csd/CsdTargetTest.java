package dev.prism.csd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Artifact;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.target.Verdict;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The csd targets in the SPI: ids, check, compile, single-chunk runs against the interpreter. */
class CsdTargetTest {
    private static Program program(ProgramType type, String source, MapDef... maps) {
        return Program.builder("t", type, Assembler.assemble(source)).maps(List.of(maps)).build();
    }

    private static VerifiedProgram verify(Program p) {
        return Verifier.verify(p, Profile.RFC9669);
    }

    private static Target available(String id) {
        Target t = Targets.byId(id);
        Host.require(id, t.availability().available(), t.availability().reason());
        return t;
    }

    @Test
    void theThreeTargetsAreRegistered() {
        for (String id : List.of("csd", "csd-aarch64", "csd-riscv64")) {
            Target t = Targets.byId(id);
            assertEquals(id, t.id());
            assertTrue(t.capabilities().programTypes().contains(ProgramType.CSD), id);
        }
    }

    @Test
    void checkRefusesOtherTypesAndCallbacksAndCrossHashMaps() {
        Verdict xdp = Targets.byId("csd").check(verify(program(ProgramType.XDP, "mov %r0, 2\nexit")));
        assertFalse(xdp.ok());
        assertEquals("program-type", xdp.reasons().get(0).rule(), xdp.toString());
        VerifiedProgram withMap = verify(program(ProgramType.CSD, """
                stw [%r10-4], 0
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                call 1
                mov %r0, 0
                exit
                """, MapDef.of("m", MapType.ARRAY, 4, 8, 1, 0)));
        assertTrue(Targets.byId("csd").check(withMap).ok(), Targets.byId("csd").check(withMap).toString());
        VerifiedProgram withHash = verify(program(ProgramType.CSD, """
                stw [%r10-4], 0
                lddw %r1, map_idx 0
                mov %r2, %r10
                add %r2, -4
                call 1
                mov %r0, 0
                exit
                """, MapDef.of("m", MapType.HASH, 4, 8, 16, 0)));
        assertTrue(Targets.byId("csd").check(withHash).ok());
        for (String id : List.of("csd-aarch64", "csd-riscv64")) {
            assertTrue(Targets.byId(id).check(withMap).ok(), id + " takes ARRAY maps");
            Verdict v = Targets.byId(id).check(withHash);
            assertFalse(v.ok(), id);
            assertEquals("map-type", v.reasons().get(0).rule(), v.toString());
        }
        VerifiedProgram loop = verify(program(ProgramType.RAW, """
                mov %r1, 3
                lddw %r2, code cb
                mov %r3, 0
                mov %r4, 0
                call 181
                exit
                cb:
                mov %r0, 0
                exit
                """));
        assertFalse(Targets.byId("csd").check(loop).ok(), "bpf_loop's callback");
        TargetException e = assertThrows(TargetException.class, () -> Targets.byId("csd").compile(loop));
        assertTrue(e.isUnsupported(), e.getMessage());
    }

    /** Copies the chunk's first 8 bytes to out, reversed, and returns 8 plus the context's offset and parameters. */
    private static final String REVERSE8 = """
            ldxdw %r2, [%r1+0]
            ldxdw %r3, [%r1+8]
            ldxdw %r4, [%r1+16]
            ldxdw %r5, [%r1+24]
            mov %r6, %r2
            add %r6, 8
            jgt %r6, %r3, short
            mov %r7, %r4
            add %r7, 8
            jgt %r7, %r5, short
            ldxdw %r0, [%r2+0]
            be64 %r0
            stxdw [%r4+0], %r0
            ldxdw %r0, [%r1+32]
            ldxdw %r2, [%r1+40]
            add %r0, %r2
            ldxdw %r2, [%r1+48]
            add %r0, %r2
            add %r0, 8
            exit
            short:
            mov %r0, -22
            exit
            """;

    @ParameterizedTest
    @ValueSource(strings = {"csd", "csd-aarch64", "csd-riscv64"})
    void aCsdProgramRunsItsMemoryAsOneChunkAsTheInterpreterDoes(String id) {
        Target t = available(id);
        VerifiedProgram v = verify(program(ProgramType.CSD, REVERSE8));
        Artifact a = t.compile(v);
        assertTrue(a.listing().contains("u64 prism_entry(u64 r1, u64 r2, struct prism_rt *rt)"), a.listing());
        assertTrue(a.bytes().length > 0, "the code image");
        Random rnd = new Random(7);
        try (Executable fw = a.load(); Executable ref = Targets.byId("interpreter").load(List.of(v.program()))) {
            for (int len : new int[] {0, 3, 8, 64, 70_000}) {
                byte[] mem = new byte[len];
                rnd.nextBytes(mem);
                RunResult want = ref.run(RunInput.ofMem(mem));
                RunResult got = fw.run(RunInput.ofMem(mem));
                assertEquals(want.r0(), got.r0(), id + " " + len);
                assertArrayEquals(want.memAfter(), got.memAfter(), id + " " + len);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"csd", "csd-aarch64", "csd-riscv64"})
    void aRawProgramIsBuiltPerMemorySize(String id) {
        Target t = available(id);
        Program p = program(ProgramType.RAW, """
                mov %r0, %r2
                jlt %r2, 4, out
                ldxw %r3, [%r1+0]
                add32 %r3, 1
                stxw [%r1+0], %r3
                ldxw %r0, [%r1+0]
                out:
                exit
                """);
        try (Executable e = t.load(List.of(p))) {
            assertEquals(2, e.run(RunInput.ofMem(new byte[2])).r0());
            RunResult r = e.run(RunInput.ofMem(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 9}));
            assertEquals(0, r.r0(), "0xffffffff + 1 wraps in 32 bits");
            assertArrayEquals(new byte[] {0, 0, 0, 0, 9}, r.memAfter());
        }
    }
}
