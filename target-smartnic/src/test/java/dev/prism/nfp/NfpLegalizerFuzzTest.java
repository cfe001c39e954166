package dev.prism.nfp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.asm.Assembler;
import dev.prism.error.VerificationException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random programs through the legalizer: every program the legalizer accepts must behave like
 * the original on the interpreter (r0 with XDP actions above 3 folded to XDP_ABORTED, the packet,
 * the map), on a few random packets each. The generator aims at the rewrites: mod, sdiv and
 * smod by constants (immediate or a register holding one, negative, zero, one, large), movsx,
 * sign-extending loads, le/bswap, stores of immediates to the stack and the packet, ja32,
 * atomic adds into a map value, and returns of unbounded values. 10,000 programs per
 * {@code make test}, 200,000 nightly.
 */
class NfpLegalizerFuzzTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    static final int PROGRAMS = NIGHTLY ? 200_000 : 10_000;
    static final List<MapDef> MAPS = List.of(MapDef.of("counts", MapType.ARRAY, 4, 16, 4, 0));

    @Test
    void legalizedProgramsBehaveLikeTheOriginals() {
        int verified = 0;
        int legalized = 0;
        int rewrites = 0;
        Random pkts = new Random(7);
        for (int i = 0; i < PROGRAMS; i++) {
            String text = new Gen(i).program();
            Program p = Assembler.assemble("fuzz" + i, ProgramType.XDP, text).toBuilder().maps(MAPS).build();
            VerifiedProgram vp;
            try {
                vp = Verifier.verify(p, Profile.RFC9669);
            } catch (VerificationException e) {
                continue;
            }
            verified++;
            NfpLegalizer.Result r = NfpLegalizer.process(vp, NfpProfile.agilioCx(), NfpChecker.Options.STRICT);
            if (!r.ok()) {
                continue;
            }
            legalized++;
            rewrites += r.rewrites().size();
            try (Executable a = new InterpreterTarget().load(List.of(p));
                 Executable b = new InterpreterTarget().load(List.of(r.program()))) {
                for (int k = 0; k < 3; k++) {
                    byte[] pkt = new byte[64 + pkts.nextInt(100)];
                    pkts.nextBytes(pkt);
                    RunResult x = a.run(RunInput.ofPacket(pkt));
                    RunResult y = b.run(RunInput.ofPacket(pkt));
                    String where = "program " + i + ", packet " + HexFormat.of().formatHex(pkt) + "\n" + text
                            + "\nlegalized:\n" + NfpLegalizer.listing(p, r);
                    if (folded(x.r0()) != y.r0() || !Arrays.equals(x.packetAfter(), y.packetAfter())) {
                        fail("r0 " + x.r0() + " folded " + folded(x.r0()) + " vs " + y.r0() + ", " + where);
                    }
                    for (int key = 0; key < 4; key++) {
                        byte[] kb = {(byte) key, 0, 0, 0};
                        assertEquals(HexFormat.of().formatHex(a.maps().lookup("counts", kb)),
                                HexFormat.of().formatHex(b.maps().lookup("counts", kb)), "map, " + where);
                    }
                }
            }
        }
        System.out.printf("nfp legalizer fuzz: %d programs, %d verified, %d legalized (%d rewrites), all agree%n",
                PROGRAMS, verified, legalized, rewrites);
        assertTrue(verified > PROGRAMS / 2, "the generator makes mostly valid programs: " + verified);
        assertTrue(legalized > verified / 3, "most verified programs legalize: " + legalized + " of " + verified);
        assertTrue(rewrites > legalized, "the programs exercise the rewrites: " + rewrites);
    }

    /** {@return the action the card takes for an XDP return value: 0..3 as they are, anything else XDP_ABORTED} */
    static long folded(long r0) {
        return (r0 & 0xffff_ffffL) <= 3 ? r0 : 0;
    }

    /** One random program: r2/r3 the packet (64 bytes proven), r6 ctx, values in r0, r4, r5, r7, r8, r9. */
    static final class Gen {
        private final Random rnd;
        private final StringBuilder sb = new StringBuilder();
        private static final String[] VALS = {"%r0", "%r4", "%r5", "%r7", "%r8", "%r9"};

        Gen(long seed) {
            this.rnd = new Random(seed * 0x9E3779B97F4A7C15L + 1);
        }

        private String v() {
            return VALS[rnd.nextInt(VALS.length)];
        }

        private int constant() {
            return switch (rnd.nextInt(8)) {
                case 0 -> 0;
                case 1 -> 1;
                case 2 -> -1 - rnd.nextInt(20);
                case 3 -> rnd.nextInt();
                case 4 -> Integer.MIN_VALUE;
                default -> 2 + rnd.nextInt(1000);
            };
        }

        String program() {
            sb.append("mov %r6, %r1\n");
            bounds();
            for (String r : VALS) {
                sb.append("ldxw ").append(r).append(", [%r2+").append(4 * rnd.nextInt(15)).append("]\n");
            }
            int n = 3 + rnd.nextInt(20);
            for (int i = 0; i < n; i++) {
                op();
            }
            if (rnd.nextBoolean()) {
                sb.append("and32 %r0, ").append(rnd.nextBoolean() ? 3 : 7).append('\n');
            }
            sb.append("exit\nout:\nmov %r0, 2\nexit\n");
            return sb.toString();
        }

        private void bounds() {
            sb.append("ldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nmov %r1, %r2\nadd %r1, 64\njgt %r1, %r3, out\n");
        }

        private void op() {
            String d = v();
            String w = rnd.nextBoolean() ? "32" : "";
            switch (rnd.nextInt(16)) {
                case 0, 1 -> sb.append(pick("mod", "sdiv", "smod", "div")).append(w).append(' ').append(d).append(", ")
                        .append(constant()).append('\n');
                case 2 -> {
                    int c = constant();
                    sb.append("mov %r1, ").append(c).append('\n').append(pick("mod", "sdiv", "smod", "div")).append(w)
                            .append(' ').append(d).append(", %r1\n");
                }
                case 3 -> sb.append("mov32 ").append(d).append(", ").append(d).append('\n');
                case 4 -> sb.append(pick("movsx832", "movsx1632", "movsx864", "movsx1664", "movsx3264")).append(' ').append(d)
                        .append(", ").append(v()).append('\n');
                case 5 -> sb.append(pick("ldxsb", "ldxsh", "ldxsw", "ldxb", "ldxh")).append(' ').append(d).append(", [%r2+")
                        .append(rnd.nextInt(60)).append("]\n");
                case 6 -> sb.append(pick("le16", "le32", "le64", "be16", "be32", "bswap16", "bswap32", "bswap64")).append(' ')
                        .append(d).append('\n');
                case 7 -> {
                    int slot = 8 * (1 + rnd.nextInt(8));
                    String size = pick("b", "h", "w", "dw");
                    sb.append("st").append(size).append(" [%r10-").append(slot).append("], ").append(constant()).append('\n');
                    sb.append("ldx").append(size).append(' ').append(d).append(", [%r10-").append(slot).append("]\n");
                }
                case 8 -> sb.append("st").append(pick("b", "h", "w")).append(" [%r2+").append(rnd.nextInt(60)).append("], ")
                        .append(constant()).append('\n');
                case 9 -> sb.append("stx").append(pick("b", "h", "w")).append(" [%r2+").append(rnd.nextInt(60)).append("], ")
                        .append(d).append('\n');
                case 10 -> sb.append("jeq").append(w).append(' ').append(d).append(", ").append(constant())
                        .append(", +1\nja32 +1\nadd ").append(v()).append(", 1\n");
                case 11 -> sb.append(pick("add", "sub", "xor", "and", "or", "mul", "rsh", "lsh", "arsh")).append(w).append(' ')
                        .append(d).append(", ").append(rnd.nextInt(31) + 1).append('\n');
                case 12 -> sb.append(pick("add", "sub", "xor", "mul")).append("32 ").append(d).append(", ").append(v()).append('\n');
                case 13 -> {
                    // an atomic counter: lookup of key 0..3 in the array, add a value
                    int key = rnd.nextInt(4);
                    sb.append("mov %r1, ").append(key).append("\nstxw [%r10-4], %r1\nlddw %r1, map_idx 0\nmov %r2, %r10\n"
                            + "add %r2, -4\ncall 1\njeq %r0, 0, out\nmov32 %r1, ").append(v().equals("%r0") ? "%r4" : v())
                            .append("\nlock add").append(rnd.nextBoolean() ? "32" : "").append(" [%r0+")
                            .append(8 * rnd.nextInt(2)).append("], %r1\nmov %r0, 0\n");
                    bounds();
                }
                case 14 -> sb.append("neg").append(w).append(' ').append(d).append('\n');
                default -> sb.append("jsgt").append(w).append(' ').append(d).append(", ").append(constant()).append(", +1\n")
                        .append("mod").append(w).append(' ').append(v()).append(", ").append(2 + rnd.nextInt(50)).append('\n');
            }
        }

        private String pick(String... options) {
            return options[rnd.nextInt(options.length)];
        }
    }
}
