package dev.prism.conformance.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.conformance.ConformanceCase;
import dev.prism.conformance.DataFileReader;
import dev.prism.conformance.Suites;
import dev.prism.conformance.examples.Examples;
import dev.prism.elf.ElfObject;
import dev.prism.gpu.PtxTarget;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Verdict;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every program the ptx target's check accepts, lowered to PTX and assembled by
 * {@code ptxas -arch=sm_90} (CUDA 13; requirement {@code ptxas}): Prism's RFC 9669 and map
 * suites, the upstream suite ({@code ../shared/bpf_conformance/tests}) and every program of
 * every example. Every program it refuses has a reason. ptxas takes {@value #BATCH} modules per
 * call (their function names prefixed so they link side by side); a batch it refuses is
 * assembled module by module to name the program. Nothing runs here (no GPU): scripts/gpu-check
 * runs the programs on a CUDA device.
 */
class PtxAssemblesTest {
    private static final PtxTarget PTX = new PtxTarget();
    private static final int BATCH = 40;

    /** Programs to lower into one module (the entry and its tail-call targets), named for messages. */
    private record Unit(String name, List<VerifiedProgram> programs) {
        Unit(String name, VerifiedProgram verified) {
            this(name, List.of(verified));
        }

        VerifiedProgram verified() {
            return programs.getFirst();
        }
    }

    @TestFactory
    Stream<DynamicTest> suitesAndExamplesAssemble() {
        return Stream.of(
                DynamicTest.dynamicTest("rfc9669 [ptx]", () -> assemble("rfc9669", cases(Suites.rfc9669()), 250)),
                DynamicTest.dynamicTest("maps [ptx]", () -> assemble("maps", cases(Suites.maps()), 20)),
                DynamicTest.dynamicTest("upstream [ptx]", () -> {
                    Path dir = upstream();
                    Host.require("bpf_conformance", dir != null, "no ../shared/bpf_conformance/tests");
                    assemble("upstream", cases(dir), 150);
                }),
                DynamicTest.dynamicTest("examples [ptx]", () -> assemble("examples", examples(), 1)));
    }

    private static Path upstream() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("shared/bpf_conformance/tests");
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        return null;
    }

    private static List<Unit> cases(Path suite) {
        List<Unit> out = new ArrayList<>();
        for (ConformanceCase c : DataFileReader.readSuite(suite)) {
            if (c.isElf()) {
                continue;
            }
            try {
                Program p = c.program();
                out.add(new Unit(c.name(), Verifier.verify(p, Profile.RFC9669, p.type() == ProgramType.RAW ? c.mem().length : -1, null)));
            } catch (dev.prism.error.PrismException e) {
                // not verified: nothing to lower (the suites hold cases the verifier rejects)
            }
        }
        return out;
    }

    private static List<Unit> examples() {
        List<Unit> out = new ArrayList<>();
        for (String name : Examples.names()) {
            List<VerifiedProgram> all = new ArrayList<>();
            for (Program p : ElfObject.load(Examples.object(name)).programs()) {
                try {
                    VerifiedProgram v = Verifier.verify(p, Profile.RFC9669);
                    out.add(new Unit(name + ".c:" + p.section(), v));
                    all.add(v);
                } catch (dev.prism.error.PrismException e) {
                    // a program of an example object the verifier rejects alone (a tail-call target, say)
                }
            }
            // an object whose programs tail-call each other: all of one type in one module
            if (all.size() > 1 && all.stream().allMatch(v -> v.program().type() == all.getFirst().program().type()
                    && v.program().maps().equals(all.getFirst().program().maps()))) {
                out.add(new Unit(name + ".c (all " + all.size() + " programs)", all));
            }
        }
        return out;
    }

    /** Lowers every unit ptx accepts and assembles them; at least {@code least} must be accepted. */
    private static void assemble(String suite, List<Unit> units, int least) throws IOException, InterruptedException {
        Host.require("ptxas", Host.onPath("ptxas"), "ptxas (CUDA 13) is not on PATH");
        List<Unit> accepted = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        int refused = 0;
        for (Unit u : units) {
            Verdict verdict = Verdict.OK;
            for (VerifiedProgram v : u.programs()) {
                verdict = verdict.and(PTX.check(v));
            }
            if (!verdict.ok()) {
                assertFalse(verdict.reasons().isEmpty(), u.name() + ": a refusal without reasons");
                verdict.reasons().forEach(r -> assertFalse(r.sentence().isBlank(), u.name() + ": a refusal without a sentence"));
                refused++;
                continue;
            }
            String ptx = u.programs().size() == 1 ? PTX.compile(u.verified()).listing() : PTX.listingWithTargets(u.programs());
            assertTrue(ptx.contains(".target sm_90") && ptx.contains(".address_size 64"), u.name());
            accepted.add(u);
            texts.add(ptx);
        }
        for (int from = 0; from < texts.size(); from += BATCH) {
            int to = Math.min(texts.size(), from + BATCH);
            List<String> batch = new ArrayList<>();
            for (int i = from; i < to; i++) {
                batch.add(prefixed(texts.get(i), "m" + (i - from) + "_"));
            }
            if (ptxas(batch) != null) {
                for (int i = from; i < to; i++) {
                    String log = ptxas(List.of(texts.get(i)));
                    if (log != null) {
                        fail("ptxas refused the PTX of " + accepted.get(i).name() + ":\n" + log + "\n" + texts.get(i));
                    }
                }
                fail("ptxas refused a batch whose modules each assemble:\n" + ptxas(batch));
            }
        }
        System.out.printf("ptx %-8s %d programs: %d assembled by ptxas, %d refused by check with reasons%n", suite, units.size(),
                accepted.size(), refused);
        assertTrue(accepted.size() >= least, suite + ": only " + accepted.size() + " programs accepted");
    }

    private static final Pattern NAMES = Pattern.compile("(?:\\.func \\(\\.param \\.b64 rv\\) |\\.entry )(\\w+)");

    /** {@return {@code ptx} with every function name it defines prefixed, so that modules link together} */
    static String prefixed(String ptx, String prefix) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = NAMES.matcher(ptx);
        while (m.find()) {
            names.add(m.group(1));
        }
        Pattern any = Pattern.compile("(?<![\\w%.$])(" + String.join("|", names) + ")(?!\\w)");
        return any.matcher(ptx).replaceAll(prefix + "$1");
    }

    /** {@return null when ptxas assembles {@code modules} (linked together), else its log} */
    private static String ptxas(List<String> modules) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("prism-ptx");
        try {
            List<String> cmd = new ArrayList<>(List.of("ptxas", "-arch=sm_90", "-o", dir.resolve("k.cubin").toString()));
            for (int i = 0; i < modules.size(); i++) {
                Path src = dir.resolve("k" + i + ".ptx");
                Files.writeString(src, modules.get(i), StandardCharsets.US_ASCII);
                cmd.add(src.toString());
            }
            Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(proc.waitFor(120, TimeUnit.SECONDS), "ptxas timed out");
            return proc.exitValue() == 0 ? null : log;
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    @TestFactory
    Stream<DynamicTest> prefixingRenamesDefinitionsAndCallsOnly() {
        return Stream.of(DynamicTest.dynamicTest("prefixed", () -> {
            String src = ".func (.param .b64 rv) hkey (.param .b64 M);\n.visible .entry prism(.param .u64 pM)\n"
                    + "\tcall.uni (cr), hkey, (c0);\nLOOP:\n\t// hkey_x prism\n";
            String want = ".func (.param .b64 rv) m1_hkey (.param .b64 M);\n.visible .entry m1_prism(.param .u64 pM)\n"
                    + "\tcall.uni (cr), m1_hkey, (c0);\nLOOP:\n\t// hkey_x m1_prism\n";
            assertEquals(want, prefixed(src, "m1_"));
        }));
    }
}
