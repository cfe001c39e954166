package dev.prism.conformance.nfp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.asm.Assembler;
import dev.prism.conformance.Suites;
import dev.prism.elf.ElfObject;
import dev.prism.error.TargetException;
import dev.prism.nfp.NfpChecker;
import dev.prism.nfp.NfpLegalizer;
import dev.prism.nfp.NfpProfile;
import dev.prism.nfp.NfpReason;
import dev.prism.nfp.NfpRule;
import dev.prism.nfp.NfpTarget;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Verdict;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * One crafted program per nfp rule ({@code suite/nfp/*.data} in the conformance resources): each must be
 * refused with the driver's message (or Prism's own, marked "(prism)", where the driver prints
 * nothing) at the instruction the file names, under the rule id it names; {@code -- nfp-verdict}
 * says whether the legalizer lifts it. A legalized case also runs, original and legalized, on
 * the interpreter over random packets, and they must agree (r0 with actions above 3 folded to
 * XDP_ABORTED, the packet).
 *
 * <p>File format: {@code -- type} (xdp, tc, raw), {@code -- maps} (as in the conformance
 * suite), {@code -- nfp-profile} (a JSON profile, default Agilio CX), {@code -- asm},
 * {@code -- nfp-rule}, {@code -- nfp-pc} (-1 for a whole-program rule), {@code -- nfp-message}
 * (a prefix of the reason's text: the driver's message, or "(prism) ..."), {@code -- nfp-verdict}
 * (legalized or refused).
 */
class NfpRulesTest {
    static final Path DIR = Suites.builtinRoot().resolve("nfp");

    record Case(String name, ProgramType type, List<MapDef> maps, NfpProfile profile, String asm, String rule, int pc,
                String message, boolean legalized) {
        Program program() {
            return Assembler.assemble(name, type, asm).toBuilder().maps(maps).build();
        }
    }

    static List<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".data")).sorted().toList()) {
                out.add(read(f));
            }
        }
        return out;
    }

    static Case read(Path f) throws IOException {
        Map<String, StringBuilder> sec = new LinkedHashMap<>();
        StringBuilder cur = null;
        for (String line : Files.readAllLines(f)) {
            if (line.startsWith("-- ")) {
                cur = new StringBuilder();
                sec.put(line.substring(3).strip(), cur);
            } else if (!line.startsWith("#") && cur != null) {
                cur.append(line).append('\n');
            }
        }
        String name = f.getFileName().toString();
        List<MapDef> maps = new ArrayList<>();
        if (sec.containsKey("maps")) {
            for (String l : sec.get("maps").toString().strip().split("\n")) {
                String[] w = l.strip().split("\\s+");
                maps.add(MapDef.of(w[0], MapType.valueOf(w[1].toUpperCase(Locale.ROOT)), Integer.parseInt(w[3]),
                        Integer.parseInt(w[5]), Integer.parseInt(w[7]), w.length > 9 ? Integer.decode(w[9]) : 0));
            }
        }
        NfpProfile profile = sec.containsKey("nfp-profile") ? NfpProfile.parse(sec.get("nfp-profile").toString(), name)
                : NfpProfile.agilioCx();
        String verdict = sec.get("nfp-verdict").toString().strip();
        if (!verdict.equals("legalized") && !verdict.equals("refused")) {
            throw new IllegalArgumentException(name + ": nfp-verdict " + verdict);
        }
        return new Case(name, ProgramType.of(sec.get("type").toString().strip()), maps, profile, sec.get("asm").toString(),
                sec.get("nfp-rule").toString().strip(), Integer.parseInt(sec.get("nfp-pc").toString().strip()),
                sec.get("nfp-message").toString().strip(), verdict.equals("legalized"));
    }

    @TestFactory
    Stream<DynamicTest> rules() throws IOException {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    /** Every rule has a crafted case. */
    @Test
    void everyRuleHasACase() throws IOException {
        Set<String> covered = new java.util.HashSet<>();
        cases().forEach(c -> covered.add(c.rule()));
        List<String> missing = new ArrayList<>();
        for (NfpRule r : EnumSet.allOf(NfpRule.class)) {
            if (!covered.contains(r.id())) {
                missing.add(r.id());
            }
        }
        assertEquals(List.of(), missing, "rules without a crafted case");
    }

    private static void check(Case c) {
        Program p = c.program();
        VerifiedProgram vp = Verifier.verify(p, Profile.RFC9669);
        List<NfpReason> reasons = NfpChecker.check(vp, c.profile(), NfpChecker.Options.STRICT);
        List<NfpReason> all = new ArrayList<>(reasons);
        all.addAll(NfpLegalizer.legalize(vp, reasons, c.profile(), NfpChecker.Options.STRICT).remaining());
        boolean found = all.stream().anyMatch(r -> r.rule().id().equals(c.rule()) && r.pc() == c.pc()
                && r.text().startsWith(c.message()));
        if (!found) {
            fail(c.name() + ": expected " + c.pc() + ": " + c.rule() + ": " + c.message() + "\n  got:\n    "
                    + String.join("\n    ", all.stream().map(NfpReason::toString).toList()));
        }
        NfpTarget target = new NfpTarget(c.profile(), NfpChecker.Options.STRICT);
        Verdict v = target.check(vp);
        assertEquals(c.legalized(), v.ok(), c.name() + ": verdict " + v);
        if (!c.legalized()) {
            TargetException e = assertThrows(TargetException.class, () -> target.compile(vp));
            assertTrue(e.isUnsupported());
            assertEquals(v, e.verdict(), "compile refuses exactly what check reports");
            assertTrue(v.reasons().stream().anyMatch(r -> r.rule().equals(c.rule()) && r.pc() == c.pc()
                    && r.sentence().startsWith(c.message())), c.name() + ": the verdict carries the reason: " + v);
            return;
        }
        NfpTarget.NfpArtifact art = target.compile(vp);
        assertTrue(reasons.stream().allMatch(NfpReason::legalizable));
        assertTrue(art.listing().contains("becomes:"), art.listing());
        if (p.type() == ProgramType.XDP) {
            ElfObject back = ElfObject.parse(c.name() + ".o", art.bytes());
            assertEquals(art.legalized().slots().length, back.programs().get(0).length());
            sameBehaviour(c.name(), p, art, 300);
        }
    }

    /** The legalized program on the interpreter does what the original does, as the card would run it. */
    static void sameBehaviour(String name, Program original, NfpTarget.NfpArtifact art, int packets) {
        Random rnd = new Random(name.hashCode());
        try (Executable a = new InterpreterTarget().load(List.of(original)); Executable b = art.load()) {
            for (int i = 0; i < packets; i++) {
                byte[] pkt = new byte[14 + rnd.nextInt(120)];
                rnd.nextBytes(pkt);
                RunResult x = a.run(RunInput.ofPacket(pkt));
                RunResult y = b.run(RunInput.ofPacket(pkt));
                assertEquals(folded(x.r0()), y.r0(), name + " packet " + i);
                assertArrayEquals(x.packetAfter(), y.packetAfter(), name + " packet " + i);
            }
        }
        assertNotNull(art.legalized());
    }

    /** {@return the action the card takes for an XDP return value: 0..3 as they are, anything else XDP_ABORTED} */
    static long folded(long r0) {
        long u32 = r0 & 0xffff_ffffL;
        return u32 <= 3 ? r0 : 0;
    }
}
