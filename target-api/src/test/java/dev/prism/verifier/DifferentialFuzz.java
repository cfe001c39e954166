package dev.prism.verifier;

import dev.prism.asm.Assembler;
import dev.prism.error.VerificationException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * The differential fuzz the JIT targets share: {@link ProgramGenerator}'s programs that the
 * verifier accepts run on a reference target (the interpreter) and on one of the candidate
 * targets in turn (a JIT in its code shapes), {@link #RUNS_PER_PROGRAM} times each with the same
 * random packet and map write, and r0, the packet after the run and every value of the map must
 * be identical. The generator's map 0 is an ARRAY (lookups inlined) for even-numbered programs
 * and a HASH (generated lookup code) for odd ones; the hash starts empty, so lookups of absent
 * keys return null. Programs whose results depend on where memory lies
 * ({@link ProgramGenerator#leaksAnAddress}) are left out and counted.
 */
public final class DifferentialFuzz {
    /** Runs of each accepted program, each with a fresh packet and map write. */
    public static final int RUNS_PER_PROGRAM = 3;
    private static final HexFormat HEX = HexFormat.of();
    private static final List<MapDef> ARRAY = List.of(MapDef.of("counts", MapType.ARRAY, 4, 16, 4, 0));
    private static final List<MapDef> HASH = List.of(MapDef.of("counts", MapType.HASH, 4, 16, 4, 0));

    private DifferentialFuzz() {
    }

    /**
     * A program on which a candidate disagreed with the reference, or failed.
     *
     * @param message what differed, the program, candidate, run and packet, and the program text
     * @param cause   what one side threw, or null when both ran and disagreed
     */
    public record Mismatch(String message, Throwable cause) {
    }

    /**
     * @param generated        programs generated
     * @param accepted         programs run on both sides
     * @param addressDependent accepted by the verifier but left out: their results depend on addresses
     * @param perCandidate     accepted programs per candidate
     */
    public record Result(long generated, int accepted, int addressDependent, int[] perCandidate) {
    }

    /**
     * Runs {@code programs} accepted programs (or stops after {@code 100 * programs + 1000}
     * generated, so a broken generator cannot loop), the n-th accepted one on candidate
     * {@code n % candidates.size()}; each mismatch goes to {@code mismatches}, outside the run.
     *
     * @param programSeed the generator's seed
     * @param packetSeed  the seed of the packets and map writes
     */
    public static Result run(long programSeed, long packetSeed, int programs, Target reference, List<? extends Target> candidates,
                             Consumer<Mismatch> mismatches) {
        ProgramGenerator gen = new ProgramGenerator(programSeed);
        Random rnd = new Random(packetSeed);
        int[] perCandidate = new int[candidates.size()];
        int accepted = 0;
        int addressDependent = 0;
        long generated = 0;
        long cap = 100L * programs + 1000;
        while (accepted < programs && generated < cap) {
            generated++;
            String text = gen.next();
            List<MapDef> maps = generated % 2 == 0 ? ARRAY : HASH;
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
            int c = accepted % candidates.size();
            perCandidate[c]++;
            Target candidate = candidates.get(c);
            String program = "program " + generated + " (" + maps.getFirst().type().id() + ") on " + candidate.description();
            String differs = null;
            Throwable thrown = null;
            try (Executable want = reference.load(List.of(p)); Executable got = candidate.load(List.of(p))) {
                for (int run = 0; run < RUNS_PER_PROGRAM && differs == null; run++) {
                    byte[] packet = new byte[14 + rnd.nextInt(120)];
                    rnd.nextBytes(packet);
                    byte[] key = {(byte) rnd.nextInt(4), 0, 0, 0};
                    byte[] value = new byte[16];
                    rnd.nextBytes(value);
                    want.maps().update("counts", key, value, 0);
                    got.maps().update("counts", key, value, 0);
                    String d = firstDifference(want, want.run(RunInput.ofPacket(packet)), got, got.run(RunInput.ofPacket(packet)),
                            reference.id(), candidate.id());
                    if (d != null) {
                        differs = d + ": " + program + ", run " + run + ", packet " + HEX.formatHex(packet) + "\n" + text;
                    }
                }
            } catch (RuntimeException | Error e) {
                thrown = e;
            }
            if (differs != null) {
                mismatches.accept(new Mismatch(differs, null));
            } else if (thrown != null) {
                StringWriter trace = new StringWriter();
                thrown.printStackTrace(new PrintWriter(trace));
                mismatches.accept(new Mismatch(program + " failed on one side: " + thrown + "\n" + trace + text, thrown));
            }
        }
        return new Result(generated, accepted, addressDependent, perCandidate);
    }

    /** {@return the first difference between two runs of one program: r0, the packet, the map; null when none} */
    private static String firstDifference(Executable want, RunResult w, Executable got, RunResult g, String wantId, String gotId) {
        if (w.r0() != g.r0()) {
            return "r0 differs: " + wantId + " " + w.r0() + ", " + gotId + " " + g.r0();
        }
        if (!Arrays.equals(w.packetAfter(), g.packetAfter())) {
            return "packet differs:\n  " + wantId + " " + HEX.formatHex(w.packetAfter()) + "\n  " + gotId + " "
                    + HEX.formatHex(g.packetAfter());
        }
        int wantKeys = want.maps().keys("counts").size();
        int gotKeys = got.maps().keys("counts").size();
        if (wantKeys != gotKeys) {
            return "key count differs: " + wantId + " " + wantKeys + ", " + gotId + " " + gotKeys;
        }
        for (int k = 0; k < 4; k++) {
            byte[] idx = {(byte) k, 0, 0, 0};
            byte[] a = want.maps().lookup("counts", idx);
            byte[] b = got.maps().lookup("counts", idx);
            if (!Arrays.equals(a, b)) {
                return "counts[" + k + "] differs: " + wantId + " " + (a == null ? "(absent)" : HEX.formatHex(a)) + ", " + gotId + " "
                        + (b == null ? "(absent)" : HEX.formatHex(b));
            }
        }
        return null;
    }
}
