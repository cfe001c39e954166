package dev.prism.p4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import dev.prism.verifier.ProgramGenerator;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Generated-program fuzz of the p4 target: the verifier's random XDP programs (packet bounds
 * checks, variable offsets, spills, loops, map lookups, calls), those the verifier accepts and
 * {@link P4Target#check} accepts are lowered, compiled by p4c-bm2-ss and run on BMv2 with a
 * batch of {@value #PACKETS} random packets after a random map write, against the interpreter:
 * r0 of every packet, the packet after wherever the switch shows it, and the map at the end
 * must be identical. p4test checks every {@value #P4TEST_EVERY}th program too (p4c-bm2-ss runs
 * the same front and mid end on all of them). p4c-bm2-ss and a switch start cost about 10 s a
 * program on this shared 2-core machine (measured: 10 programs in 103 s), so {@code make test}
 * runs {@value #PROGRAMS_DEFAULT} programs and nightly 1,000 ({@code -Dprism.p4.fuzz=N} for
 * another count).
 */
class P4FuzzTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS_DEFAULT = 10;
    private static final int PROGRAMS = Integer.getInteger("prism.p4.fuzz", NIGHTLY ? 1_000 : PROGRAMS_DEFAULT);
    private static final int PACKETS = 6;
    private static final int P4TEST_EVERY = 10;

    @Test
    void acceptedProgramsComputeTheSameOnBmv2AndTheInterpreter() {
        P4Target checked = new P4Target(true);
        P4Target fast = new P4Target(false);
        Host.require("p4", checked.availability().available(), checked.availability().reason());
        ProgramGenerator gen = new ProgramGenerator(Long.getLong("prism.p4.fuzz.seed", 17_2026L));
        Random rnd = new Random(5);
        int accepted = 0;
        int refused = 0;
        long generated = 0;
        long t0 = System.nanoTime();
        while (accepted < PROGRAMS && generated < 200L * PROGRAMS) {
            generated++;
            String text = gen.next();
            List<MapDef> maps = List.of(MapDef.of("counts", generated % 2 == 0 ? MapType.ARRAY : MapType.HASH, 4, 16, 4, 0));
            Program p = Program.builder("fuzz" + generated, ProgramType.XDP, Assembler.assemble(text)).maps(maps).build();
            VerifiedProgram vp;
            try {
                vp = Verifier.verify(p, Profile.RFC9669);
            } catch (VerificationException e) {
                continue;
            }
            if (ProgramGenerator.leaksAnAddress(vp) || !checked.check(vp).ok()) {
                refused++;
                continue;
            }
            accepted++;
            P4Target t = accepted % P4TEST_EVERY == 0 ? checked : fast;
            String where = "program " + generated + " (" + maps.getFirst().type().id() + ")\n" + text;
            try (Executable want = new InterpreterTarget(Environment.deterministic(0, 1)).load(List.of(p));
                 Executable got = t.compile(vp).load()) {
                byte[] key = {(byte) rnd.nextInt(4), 0, 0, 0};
                byte[] value = new byte[16];
                rnd.nextBytes(value);
                want.maps().update("counts", key, value, 0);
                got.maps().update("counts", key, value, 0);
                List<RunInput> inputs = new ArrayList<>();
                for (int i = 0; i < PACKETS; i++) {
                    byte[] packet = new byte[14 + rnd.nextInt(120)];
                    rnd.nextBytes(packet);
                    inputs.add(RunInput.ofPacket(packet));
                }
                List<RunResult> g = got.run(inputs);
                for (int i = 0; i < PACKETS; i++) {
                    RunResult w = want.run(inputs.get(i));
                    String run = ", packet " + i + " " + HexFormat.of().formatHex(inputs.get(i).packet()) + ", " + where;
                    assertEquals(w.r0(), g.get(i).r0(), "r0 differs" + run);
                    if (g.get(i).packetAfter() != null) {
                        assertArrayEquals(w.packetAfter(), g.get(i).packetAfter(), "packet after differs" + run);
                    }
                }
                assertEquals(want.maps().keys("counts").size(), got.maps().keys("counts").size(), "key count differs, " + where);
                for (int k = 0; k < 4; k++) {
                    byte[] idx = {(byte) k, 0, 0, 0};
                    assertArrayEquals(want.maps().lookup("counts", idx), got.maps().lookup("counts", idx),
                            "counts[" + k + "] differs, " + where);
                }
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("p4 fuzz: %d programs generated, %d accepted by the verifier and p4 check and run on BMv2 (%d packets each),"
                + " %d refused by check or address-dependent; %.1f s (%.2f s a program)%n", generated, accepted, PACKETS, refused, s,
                s / Math.max(1, accepted));
        assertTrue(accepted == PROGRAMS, "only " + accepted + " programs accepted");
    }
}
