package dev.prism.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.testing.Host;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * bpf_conformance's own suite ({@code ../shared/bpf_conformance/tests}, 313 files, read in
 * place: {@link UpstreamSuite}) as vendors run it. The interpreter, x86-64 and arm64 must pass
 * every file, with no skip and no file left unread. The Linux kernel must pass every file but
 * those a known difference names by what the program does ({@link Behaviour}: upstream's file
 * names are not Prism's), and each such entry must explain at least one failure, else it is
 * stale. Without the folder the tests are skipped, or fail under PRISM_REQUIRE=all (or
 * PRISM_REQUIRE naming {@value UpstreamSuite#REQUIREMENT}).
 */
class UpstreamSuiteTest {
    /** The files at the pinned commit (README of ../shared/bpf_conformance). */
    private static final int FILES = 313;

    private static DataFileReader.Loaded load() {
        Path dir = UpstreamSuite.locate().orElse(null);
        Host.require(UpstreamSuite.REQUIREMENT, dir != null, "no upstream suite at " + UpstreamSuite.where());
        return DataFileReader.load(dir);
    }

    @Test
    void everyFileIsReadAsACase() {
        DataFileReader.Loaded loaded = load();
        assertEquals(List.of(), loaded.unread(), "files not read");
        assertEquals(FILES, loaded.cases().size());
    }

    @TestFactory
    Stream<DynamicTest> interpreter() {
        return everyCasePasses("interpreter");
    }

    @TestFactory
    Stream<DynamicTest> x86() {
        return everyCasePasses("x86-64");
    }

    @TestFactory
    Stream<DynamicTest> arm64() {
        return everyCasePasses("arm64");
    }

    /**
     * The csd firmware builds: every case passes or is one the target's check refuses (skipped
     * with the reason: legacy packet loads, callx, ...). The x86-64 build runs every file; the
     * cross builds under qemu-user every {@value #CSD_CROSS_SAMPLE}th in {@code make test}, all
     * nightly ({@code -Dprism.csd.sample=1} too).
     */
    @TestFactory
    Stream<DynamicTest> csd() {
        return acceptedCasesPass("csd", 1);
    }

    @TestFactory
    Stream<DynamicTest> csdAarch64() {
        return acceptedCasesPass("csd-aarch64", crossSample());
    }

    @TestFactory
    Stream<DynamicTest> csdRiscv64() {
        return acceptedCasesPass("csd-riscv64", crossSample());
    }

    private static final int CSD_CROSS_SAMPLE = 8;

    private static int crossSample() {
        boolean nightly = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
        return Integer.getInteger("prism.csd.sample", nightly ? 1 : CSD_CROSS_SAMPLE);
    }

    private static Stream<DynamicTest> acceptedCasesPass(String targetId, int every) {
        List<ConformanceCase> all = load().cases();
        List<ConformanceCase> cases = java.util.stream.IntStream.range(0, all.size()).filter(i -> i % every == 0)
                .mapToObj(all::get).toList();
        Target target = Targets.byId(targetId);
        Host.require(targetId, target.availability().available(), target.availability().reason());
        ConformanceRunner runner = new ConformanceRunner(KnownDifferences.none());
        return cases.stream().map(c -> DynamicTest.dynamicTest("upstream/" + c.name() + " [" + targetId + "]", () -> {
            CaseResult r = runner.runOne(c, target);
            if (r.status() == Status.SKIP && r.message().startsWith("not supported: ")) {
                org.junit.jupiter.api.Assumptions.abort(r.message());
            }
            if (r.status() != Status.PASS) {
                fail(c.name() + " [" + targetId + "] " + r.status().id() + ": " + r.message()
                        + "\n  expected: " + r.expected() + "\n  actual:   " + r.actual());
            }
        }));
    }

    private static Stream<DynamicTest> everyCasePasses(String targetId) {
        List<ConformanceCase> cases = load().cases();
        Target target = Targets.byId(targetId);
        Host.require(targetId, target.availability().available(), target.availability().reason());
        // no known differences at all: every case must pass on Prism's own targets
        ConformanceRunner runner = new ConformanceRunner(KnownDifferences.none());
        return cases.stream().map(c -> DynamicTest.dynamicTest("upstream/" + c.name() + " [" + targetId + "]", () -> {
            CaseResult r = runner.runOne(c, target);
            if (r.status() != Status.PASS) {
                fail(c.name() + " [" + targetId + "] " + r.status().id() + ": " + r.message()
                        + "\n  expected: " + r.expected() + "\n  actual:   " + r.actual());
            }
        }));
    }

    /**
     * The kernel: a case passes, or fails with a reason that a behaviour entry of the built-in
     * known differences names; the entries for linux that name a behaviour each explain at
     * least one case (the suite has shift immediates out of range and a callx).
     */
    @Test
    void linuxDiffersOnlyWhereAKnownDifferenceSaysWhy() {
        List<ConformanceCase> cases = load().cases();
        Host.requireLinuxBpf();
        Target linux = Targets.byId("linux");
        KnownDifferences known = Suites.knownDifferences().behaviours();
        ConformanceRunner runner = new ConformanceRunner(known);
        Map<String, Integer> explained = new TreeMap<>();
        StringBuilder wrong = new StringBuilder();
        int passed = 0;
        for (ConformanceCase c : cases) {
            CaseResult r = runner.runOne(c, linux);
            if (r.status() == Status.PASS) {
                passed++;
            } else if (r.status() == Status.SKIP && r.message().startsWith("known difference: ")) {
                String glob = known.find("linux", c).orElseThrow().glob();
                explained.merge(glob, 1, Integer::sum);
            } else {
                wrong.append("\n  ").append(c.name()).append(' ').append(r.status().id()).append(": ").append(r.message());
            }
        }
        assertTrue(wrong.isEmpty(), "differences from the kernel that no known difference explains:" + wrong);
        assertEquals(List.of(), runner.staleEntries(), "known differences that matched a passing case");
        for (KnownDifferences.Entry e : known.entries()) {
            if (e.target().equals("linux")) {
                assertTrue(explained.containsKey(e.glob()), "the entry " + e.glob() + " explains no upstream case: " + explained);
            }
        }
        System.out.printf("upstream suite on linux: %d passed, known differences %s%n", passed, explained);
        assertEquals(FILES, passed + explained.values().stream().mapToInt(Integer::intValue).sum());
    }
}
