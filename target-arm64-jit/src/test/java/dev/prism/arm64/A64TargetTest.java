package dev.prism.arm64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.arm64.emu.Unicorn;
import dev.prism.asm.Assembler;
import dev.prism.error.TargetException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Artifact;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The arm64 target through the SPI: availability, verified compile, load of unverified programs. */
class A64TargetTest {
    private static final Program SUM = Assembler.assemble("sum", ProgramType.RAW, """
            ldxb %r0, [%r1]
            ldxb %r3, [%r1+1]
            add %r0, %r3
            stxb [%r1+2], %r0
            exit
            """);

    private static void requireEmulator(A64Target t) {
        Host.require("arm64", t.availability().available(), t.availability().reason());
    }

    @Test
    void describesItself() {
        A64Target t = new A64Target();
        assertEquals("arm64", t.id());
        assertTrue(t.description().contains("LSE"), t.description());
        assertTrue(new A64Target(new A64Jit.Options(false)).description().contains("LL/SC"));
        if (t.availability().available()) {
            assertTrue(t.availability().reason().startsWith("emulated (libunicorn 2."), t.availability().reason());
            assertTrue(new A64Target(new A64Jit.Options(false)).availability().reason().endsWith("cpu model cortex-a57)"));
        } else {
            assertTrue(t.availability().reason().contains("libunicorn"), t.availability().reason());
        }
    }

    @Test
    void runsAVerifiedProgram() {
        A64Target t = new A64Target();
        requireEmulator(t);
        Artifact a = t.compile(Verifier.verify(SUM, Profile.RFC9669, 3, null));
        assertTrue(a.listing().contains("prologue"), a.listing());
        try (Executable e = a.load()) {
            RunResult r = e.run(RunInput.ofMem(new byte[] {20, 22, 0}));
            assertEquals(42, r.r0());
            assertArrayEquals(new byte[] {20, 22, 42}, r.memAfter());
            TargetException wrongSize = assertThrows(TargetException.class, () -> e.run(RunInput.ofMem(new byte[4])));
            assertEquals("the program was verified for 3 bytes of memory; this run has 4", wrongSize.getMessage());
        }
    }

    @Test
    void loadsUnverifiedProgramsPerMemorySize() {
        A64Target t = new A64Target(new A64Jit.Options(false));
        requireEmulator(t);
        try (Executable e = t.load(List.of(SUM))) {
            assertEquals(3, e.run(RunInput.ofMem(new byte[] {1, 2, 0})).r0());
            assertEquals(7, e.run(RunInput.ofMem(new byte[] {3, 4, 0, 0})).r0());
            assertThrows(TargetException.class, () -> e.run(RunInput.ofPacket(new byte[64])));
        }
    }
}
