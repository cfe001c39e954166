package dev.prism.arm64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.arm64.emu.A64Machine;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.asm.Assembler;
import dev.prism.error.VerificationException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.ProgramGenerator;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Differential fuzzing of whole XDP programs, as X86FuzzDifferentialTest does for x86-64: the
 * verifier's random-program generator (packet bounds checks, variable offsets, stack spills,
 * map lookups, loops, BPF-to-BPF calls) feeds the interpreter and arm64; every program the
 * verifier accepts runs on both with the same random packets and map contents, and r0, the
 * packet after the run and every map value must be identical. The generator's map is an ARRAY
 * (lookups inlined) for half the programs and a HASH (lookups in generated code, A64MapCode)
 * for the others; the code shape rotates through LSE atomics (cpu model max), LL/SC atomics
 * (Cortex-A57) and every conditional branch in its far form. Programs whose results depend on
 * where memory lies ({@link ProgramGenerator#leaksAnAddress}) are left out and counted. {@code make test}: 2,000 accepted
 * programs; nightly (PRISM_NIGHTLY=1): 100,000; {@code -Dprism.fuzz.programs=N},
 * {@code -Dprism.fuzz.seed=N} override.
 */
class A64FuzzDifferentialTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS = Integer.getInteger("prism.fuzz.programs", NIGHTLY ? 100_000 : 2_000);
    private static final int RUNS_PER_PROGRAM = 3;
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void acceptedProgramsComputeTheSameOnArm64AndTheInterpreter() {
        Host.require("arm64", Unicorn.availability().available(), Unicorn.availability().reason());
        List<A64Target> shapes = List.of(
                new A64Target(new A64Jit.Options(true), Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET),
                new A64Target(new A64Jit.Options(false), Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET),
                new A64Target(new A64Jit.Options(true, 16), Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET));
        InterpreterTarget interpreter = new InterpreterTarget(Environment.deterministic(0, 1));
        ProgramGenerator gen = new ProgramGenerator(Long.getLong("prism.fuzz.seed", 5_2026_1125L));
        Random rnd = new Random(13);
        List<MapDef> array = List.of(MapDef.of("counts", MapType.ARRAY, 4, 16, 4, 0));
        List<MapDef> hash = List.of(MapDef.of("counts", MapType.HASH, 4, 16, 4, 0));
        int accepted = 0;
        int addressDependent = 0;
        long generated = 0;
        while (accepted < PROGRAMS) {
            generated++;
            String text = gen.next();
            List<MapDef> maps = generated % 2 == 0 ? array : hash;
            Program p = Program.builder("fuzz" + generated, ProgramType.XDP, Assembler.assemble(text)).maps(maps).build();
            VerifiedProgram verified;
            try {
                verified = Verifier.verify(p, Profile.RFC9669);
            } catch (VerificationException e) {
                continue;
            }
            if (ProgramGenerator.leaksAnAddress(verified)) {
                addressDependent++;
                continue;
            }
            accepted++;
            A64Target arm64 = shapes.get(accepted % shapes.size());
            try (Executable want = interpreter.load(List.of(p)); Executable got = arm64.load(List.of(p))) {
                for (int run = 0; run < RUNS_PER_PROGRAM; run++) {
                    byte[] packet = new byte[14 + rnd.nextInt(120)];
                    rnd.nextBytes(packet);
                    byte[] key = {(byte) rnd.nextInt(4), 0, 0, 0};
                    byte[] value = new byte[16];
                    rnd.nextBytes(value);
                    want.maps().update("counts", key, value, 0);
                    got.maps().update("counts", key, value, 0);
                    RunResult w = want.run(RunInput.ofPacket(packet));
                    RunResult g = got.run(RunInput.ofPacket(packet));
                    String where = "program " + generated + " on " + arm64.description() + ", run " + run + ", packet "
                            + HEX.formatHex(packet) + "\n" + text;
                    assertEquals(w.r0(), g.r0(), () -> "r0 differs: " + where);
                    assertArrayEquals(w.packetAfter(), g.packetAfter(), () -> "packet differs: " + where);
                    assertEquals(want.maps().keys("counts").size(), got.maps().keys("counts").size(), () -> "key count differs: " + where);
                    for (int k = 0; k < 4; k++) {
                        byte[] idx = {(byte) k, 0, 0, 0};
                        int kk = k;
                        assertArrayEquals(want.maps().lookup("counts", idx), got.maps().lookup("counts", idx),
                                () -> "counts[" + kk + "] differs: " + where);
                    }
                }
            } catch (RuntimeException e) {
                fail("program " + generated + " failed on one side: " + e + "\n" + text, e);
            }
        }
        System.out.printf("arm64 differential: %d programs generated, %d accepted (%d more left out: their results depend on "
                + "addresses), each run %d times on both targets%n", generated, accepted, addressDependent, RUNS_PER_PROGRAM);
        assertEquals(PROGRAMS, accepted);
    }
}
