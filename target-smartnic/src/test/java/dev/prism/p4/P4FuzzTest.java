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
 * {@link P4Target#check} accepts are lowered and run on BMv2 with {@value #PACKETS} random
 * packets each after a random map write, against the interpreter: r0 of every packet, the
 * packet after wherever the switch shows it, and the map at the end must be identical, program
 * by program; a failure names the program's number in the generator's sequence and the seed.
 *
 * <p>The programs go through BMv2 in bundles of {@value #BUNDLE} ({@link Bmv2Bundle}: one P4
 * program with one control per generated program, chosen by a tag in front of each packet, one
 * p4c-bm2-ss run and one switch per bundle). p4test checks the first {@value #P4TEST_PROGRAMS}
 * programs of each run as a bundle of their own (it is slow on large bundles: 173 s for 50
 * programs here); nightly the first {@value #P4TEST_PROGRAMS} of every bundle.
 * {@code make test} runs {@value #PROGRAMS_DEFAULT} programs, nightly 2,000 ({@code -Dprism.p4.fuzz=N}
 * for another count, {@code -Dprism.p4.fuzz.seed=S} for another sequence). It prints where the
 * time went: generation and check, lowering, p4test, p4c-bm2-ss, switch and packets.
 */
class P4FuzzTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS_DEFAULT = 200;
    private static final int PROGRAMS = Integer.getInteger("prism.p4.fuzz", NIGHTLY ? 2_000 : PROGRAMS_DEFAULT);
    private static final int BUNDLE = Integer.getInteger("prism.p4.fuzz.bundle", 50);
    private static final int PACKETS = 12;
    private static final int P4TEST_PROGRAMS = 4;
    private static final long SEED = Long.getLong("prism.p4.fuzz.seed", 17_2026L);

    /** One accepted program and what it gets. */
    private record Case(long number, String text, Program program, VerifiedProgram verified, byte[] key, byte[] value,
                        List<RunInput> inputs) {
        String where() {
            return "program " + number + " of seed " + SEED + " (" + program.maps().getFirst().type().id()
                    + "; -Dprism.p4.fuzz.seed=" + SEED + ")\n" + text;
        }
    }

    @Test
    void acceptedProgramsComputeTheSameOnBmv2AndTheInterpreter() {
        P4Target checked = new P4Target(true);
        Host.require("p4", checked.availability().available(), checked.availability().reason());
        ProgramGenerator gen = new ProgramGenerator(SEED);
        Random rnd = new Random(5);
        int refused = 0;
        long generated = 0;
        long t0 = System.nanoTime();
        List<Case> cases = new ArrayList<>();
        while (cases.size() < PROGRAMS && generated < 200L * PROGRAMS) {
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
            byte[] key = {(byte) rnd.nextInt(4), 0, 0, 0};
            byte[] value = new byte[16];
            rnd.nextBytes(value);
            List<RunInput> inputs = new ArrayList<>();
            for (int i = 0; i < PACKETS; i++) {
                byte[] packet = new byte[14 + rnd.nextInt(120)];
                rnd.nextBytes(packet);
                inputs.add(RunInput.ofPacket(packet));
            }
            cases.add(new Case(generated, text, p, vp, key, value, inputs));
        }
        long tGen = System.nanoTime() - t0;
        long tLower = 0;
        long tP4test = 0;
        long tP4c = 0;
        long tRun = 0;
        for (int from = 0; from < cases.size(); from += BUNDLE) {
            List<Case> part = cases.subList(from, Math.min(cases.size(), from + BUNDLE));
            long a = System.nanoTime();
            Bmv2Bundle bundle = Bmv2Bundle.of(part.stream().map(Case::verified).toList());
            long b = System.nanoTime();
            tLower += b - a;
            if (System.getProperty("prism.p4.fuzz.dump") != null) {
                try {
                    java.nio.file.Files.writeString(java.nio.file.Path.of(System.getProperty("prism.p4.fuzz.dump"), "bundle" + from + ".p4"),
                            bundle.source());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            if (from == 0 || NIGHTLY) {
                // p4test (the whole front end and its own mid end) on a few programs of the run, of every bundle nightly
                List<Case> few = part.subList(0, Math.min(part.size(), P4TEST_PROGRAMS));
                Bmv2Bundle checkedBundle = Bmv2Bundle.of(few.stream().map(Case::verified).toList());
                checkedBundle.p4test();
                tP4test += checkedBundle.p4testNanos();
            }
            bundle.compile(false);
            long c = System.nanoTime();
            tP4c += bundle.p4cNanos();
            try (bundle) {
                List<Bmv2Bundle.Slot> slots = new ArrayList<>();
                List<Executable> wants = new ArrayList<>();
                List<Bmv2Bundle.Job> jobs = new ArrayList<>();
                for (int i = 0; i < part.size(); i++) {
                    Case k = part.get(i);
                    Bmv2Bundle.Slot slot = bundle.slot(i);
                    Executable want = new InterpreterTarget(Environment.deterministic(0, 1)).load(List.of(k.program()));
                    want.maps().update("counts", k.key(), k.value(), 0);
                    slot.maps().update("counts", k.key(), k.value(), 0);
                    slots.add(slot);
                    wants.add(want);
                    jobs.add(new Bmv2Bundle.Job(slot, k.inputs()));
                }
                List<List<RunResult>> got = bundle.run(jobs);
                for (int i = 0; i < part.size(); i++) {
                    compare(part.get(i), wants.get(i), slots.get(i), got.get(i));
                    wants.get(i).close();
                    slots.get(i).close();
                }
            }
            tRun += System.nanoTime() - c;
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("p4 fuzz: %d programs generated, %d accepted by the verifier and p4 check and run on BMv2 (%d packets each,"
                + " bundles of %d), %d refused by check or address-dependent; %.1f s (%.2f s a program): generation and check %.1f s,"
                + " lowering %.1f s, p4test %.1f s, p4c-bm2-ss %.1f s, switch and packets %.1f s%n", generated,
                cases.size(), PACKETS, BUNDLE, refused, s, s / Math.max(1, cases.size()), tGen / 1e9, tLower / 1e9, tP4test / 1e9,
                tP4c / 1e9, tRun / 1e9);
        assertTrue(cases.size() == PROGRAMS, "only " + cases.size() + " programs accepted");
    }

    private static void compare(Case k, Executable want, Executable got, List<RunResult> g) {
        for (int i = 0; i < k.inputs().size(); i++) {
            RunResult w = want.run(k.inputs().get(i));
            String run = ", packet " + i + " " + HexFormat.of().formatHex(k.inputs().get(i).packet()) + ", " + k.where();
            assertEquals(w.r0(), g.get(i).r0(), "r0 differs" + run);
            if (g.get(i).packetAfter() != null) {
                assertArrayEquals(w.packetAfter(), g.get(i).packetAfter(), "packet after differs" + run);
            }
        }
        assertEquals(want.maps().keys("counts").size(), got.maps().keys("counts").size(), "key count differs, " + k.where());
        for (int j = 0; j < 4; j++) {
            byte[] idx = {(byte) j, 0, 0, 0};
            assertArrayEquals(want.maps().lookup("counts", idx), got.maps().lookup("counts", idx), "counts[" + j + "] differs, " + k.where());
        }
    }
}
