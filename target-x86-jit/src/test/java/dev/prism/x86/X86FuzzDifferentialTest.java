package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
import dev.prism.verifier.Verifier;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Differential fuzzing of whole XDP programs: the verifier's random-program generator (packet
 * bounds checks, variable offsets, stack spills, map lookups, loops, BPF-to-BPF calls) feeds the
 * interpreter and x86-64; every program the verifier accepts runs on both with the same random
 * packets and map contents, and r0, the packet after the run and every map value must be
 * identical. Programs whose results depend on where memory lies (a subtraction involving a
 * pointer the verifier allows as a harmless number, {@link ProgramGenerator#leaksAnAddress})
 * are left out and counted. The generator's map is an ARRAY for half the programs and a HASH for the others.
 * {@code make test}: 10,000 accepted programs; nightly (PRISM_NIGHTLY=1): 1,000,000.
 * A JVM crash here is the worst outcome: it means native code touched memory the verifier did
 * not prove.
 */
class X86FuzzDifferentialTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS = Integer.getInteger("prism.fuzz.programs", NIGHTLY ? 1_000_000 : 10_000);
    private static final int RUNS_PER_PROGRAM = 3;
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void acceptedProgramsComputeTheSameOnX86AndTheInterpreter() {
        X86Target x86 = new X86Target(Environment.deterministic(0, 1));
        Host.require("x86-64", x86.availability().available(), x86.availability().reason());
        InterpreterTarget interpreter = new InterpreterTarget(Environment.deterministic(0, 1));
        ProgramGenerator gen = new ProgramGenerator(Long.getLong("prism.fuzz.seed", 4_2026_1125L));
        Random rnd = new Random(11);
        // The generator's map 0, as an ARRAY (lookups inlined) or a HASH (generated lookup code)
        // for alternate programs; the hash starts empty, so lookups of absent keys return null.
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
            try {
                if (ProgramGenerator.leaksAnAddress(Verifier.verify(p, Profile.RFC9669))) {
                    addressDependent++;
                    continue;
                }
            } catch (VerificationException e) {
                continue;
            }
            accepted++;
            try (Executable want = interpreter.load(List.of(p)); Executable got = x86.load(List.of(p))) {
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
                    String where = "program " + generated + ", run " + run + ", packet " + HEX.formatHex(packet) + "\n" + text;
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
        System.out.printf("x86-64 differential: %d programs generated, %d accepted, each run %d times on both targets;"
                + " %d left out as address-dependent%n", generated, accepted, RUNS_PER_PROGRAM, addressDependent);
        assertTrue(accepted == PROGRAMS);
    }
}
