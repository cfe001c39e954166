package dev.prism.conformance;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.target.Target;
import dev.prism.target.Targets;
import dev.prism.testing.Host;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Prism's built-in suites as JUnit dynamic tests: one test per case and target, named
 * {@code file.data:line [target]} ({@code maps/file.data:line [target]} for the map suite), so a
 * failure points at the exact line to open. Suites: RFC 9669 (suite/rfc9669) and map semantics
 * (suite/maps). Targets: the reference interpreter, the Linux kernel, x86-64, arm64, and the others below.
 */
class RfcSuiteTest {
    private static final List<ConformanceCase> CASES = DataFileReader.readSuite(Suites.rfc9669());
    private static final List<ConformanceCase> MAP_CASES = DataFileReader.readSuite(Suites.maps());
    private static final ConformanceRunner RUNNER = new ConformanceRunner(Suites.knownDifferences());

    @TestFactory
    Stream<DynamicTest> interpreter() {
        return tests(CASES, "", Targets.byId("interpreter"));
    }

    @TestFactory
    Stream<DynamicTest> linux() {
        return tests(CASES, "", Targets.byId("linux"));
    }

    /** The suite on the x86-64 JIT: programs are verified first; one the verifier refuses is refused at load. */
    @TestFactory
    Stream<DynamicTest> x86() {
        return tests(CASES, "", Targets.byId("x86-64"));
    }

    /** The suite on the arm64 JIT, emulated: programs are verified first, as for x86-64. */
    @TestFactory
    Stream<DynamicTest> arm64() {
        return tests(CASES, "", Targets.byId("arm64"));
    }

    /**
     * The suites on the p4 target (P4 on BMv2): every case its check accepts runs on the switch
     * and must match the interpreter's expectations; a refusal is a skip with check's reason.
     * The cases go through BMv2 in bundles ({@link ConformanceRunner#prepare}: one p4c-bm2-ss
     * and one switch for up to 40 programs), yet p4c is still about half a second a program here,
     * so {@code make test} runs every {@value #P4_SAMPLE}th case and nightly all of them
     * ({@code -Dprism.p4.sample=1} too).
     */
    @TestFactory
    Stream<DynamicTest> p4() {
        return preparedTests(p4Sample(CASES), "", Targets.byId("p4"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnP4() {
        return preparedTests(p4Sample(MAP_CASES), "maps/", Targets.byId("p4"));
    }

    private static final int P4_SAMPLE = 4;

    private static List<ConformanceCase> p4Sample(List<ConformanceCase> cases) {
        return sample(cases, "prism.p4.sample", P4_SAMPLE);
    }

    /** The cases on a batch-loading target: prepared together when the first of them runs. */
    static Stream<DynamicTest> preparedTests(List<ConformanceCase> cases, String prefix, Target target) {
        boolean[] prepared = {false};
        return tests(cases, prefix, target).map(t -> DynamicTest.dynamicTest(t.getDisplayName(), () -> {
            synchronized (prepared) {
                if (!prepared[0]) {
                    prepared[0] = true;
                    RUNNER.prepare(cases, target);
                }
            }
            t.getExecutable().execute();
        }));
    }

    /**
     * The suites on OpenCL (PoCL's CPU device here): each case a batch of one; cases its check
     * refuses are skipped with the reason. PoCL builds a kernel in about a second (cached per
     * source in the JVM and in target/pocl-cache), so {@code make test} runs every
     * {@value #OPENCL_SAMPLE}th case and nightly all ({@code -Dprism.opencl.sample=1} too).
     */
    @TestFactory
    Stream<DynamicTest> opencl() {
        return tests(sample(CASES, "prism.opencl.sample", OPENCL_SAMPLE), "", Targets.byId("opencl"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnOpencl() {
        return tests(sample(MAP_CASES, "prism.opencl.sample", OPENCL_SAMPLE), "maps/", Targets.byId("opencl"));
    }

    private static final int OPENCL_SAMPLE = 4;

    /**
     * The suites on ptx (a CUDA device; requirement {@code ptx}, not covered by
     * PRISM_REQUIRE=all: scripts/gpu-check names it), every case: a module loads in milliseconds.
     */
    @TestFactory
    Stream<DynamicTest> ptx() {
        return tests(CASES, "", Targets.byId("ptx"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnPtx() {
        return tests(MAP_CASES, "maps/", Targets.byId("ptx"));
    }

    private static List<ConformanceCase> sample(List<ConformanceCase> cases, String property, int every) {
        boolean nightly = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
        int n = Integer.getInteger(property, nightly ? 1 : every);
        return java.util.stream.IntStream.range(0, cases.size()).filter(i -> i % n == 0).mapToObj(cases::get).toList();
    }

    /**
     * The suites on the csd targets: the firmware C built with gcc. {@code csd} (x86-64, loaded
     * in-process) runs every case; its check refuses what the firmware lacks (legacy packet
     * loads, callx, tail calls, callbacks, kfuncs, most helpers), skipped with the reason. The
     * cross builds run under qemu-user: {@code make test} every {@value #CSD_CROSS_SAMPLE}th
     * case, nightly all ({@code -Dprism.csd.sample=1} too); their maps are ARRAYs only.
     */
    @TestFactory
    Stream<DynamicTest> csd() {
        return tests(CASES, "", Targets.byId("csd"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnCsd() {
        return tests(MAP_CASES, "maps/", Targets.byId("csd"));
    }

    @TestFactory
    Stream<DynamicTest> csdAarch64() {
        return tests(sample(CASES, "prism.csd.sample", CSD_CROSS_SAMPLE), "", Targets.byId("csd-aarch64"));
    }

    @TestFactory
    Stream<DynamicTest> csdRiscv64() {
        return tests(sample(CASES, "prism.csd.sample", CSD_CROSS_SAMPLE), "", Targets.byId("csd-riscv64"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnCsdAarch64() {
        return tests(sample(MAP_CASES, "prism.csd.sample", CSD_CROSS_SAMPLE), "maps/", Targets.byId("csd-aarch64"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnCsdRiscv64() {
        return tests(sample(MAP_CASES, "prism.csd.sample", CSD_CROSS_SAMPLE), "maps/", Targets.byId("csd-riscv64"));
    }

    private static final int CSD_CROSS_SAMPLE = 8;

    @TestFactory
    Stream<DynamicTest> mapsOnInterpreter() {
        return tests(MAP_CASES, "maps/", Targets.byId("interpreter"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnX86() {
        return tests(MAP_CASES, "maps/", Targets.byId("x86-64"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnArm64() {
        return tests(MAP_CASES, "maps/", Targets.byId("arm64"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnLinux() {
        return tests(MAP_CASES, "maps/", Targets.byId("linux"));
    }

    /**
     * The suites on the nfp model: each program checked against the nfp driver's rules (raw
     * programs as XDP programs whose memory is the packet), legalized, and the legalized program
     * run on the interpreter; one the model refuses is skipped with the driver's reason.
     */
    @TestFactory
    Stream<DynamicTest> nfp() {
        return tests(CASES, "", new dev.prism.nfp.NfpTarget(null, dev.prism.nfp.NfpChecker.Options.RAW_AS_PACKET, "interpreter"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnNfp() {
        return tests(MAP_CASES, "maps/", new dev.prism.nfp.NfpTarget(null, dev.prism.nfp.NfpChecker.Options.RAW_AS_PACKET,
                "interpreter"));
    }

    /** The same, the legalized programs run in the running kernel (root). */
    @TestFactory
    Stream<DynamicTest> nfpOnLinux() {
        return tests(CASES, "", new dev.prism.nfp.NfpTarget(null, dev.prism.nfp.NfpChecker.Options.RAW_AS_PACKET, "linux"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnNfpOnLinux() {
        return tests(MAP_CASES, "maps/", new dev.prism.nfp.NfpTarget(null, dev.prism.nfp.NfpChecker.Options.RAW_AS_PACKET,
                "linux"));
    }

    private static Stream<DynamicTest> tests(List<ConformanceCase> cases, String prefix, Target target) {
        assertFalse(cases.isEmpty(), "the built-in suite has cases");
        // No file URI as test source: Surefire drops dynamic tests whose source is not a class
        // or method, so the name alone carries "file.data:line [target]".
        return cases.stream().map(c -> DynamicTest.dynamicTest(prefix + c.name() + " [" + target.id() + "]", () -> check(c, target)));
    }

    private static void check(ConformanceCase c, Target target) {
        CaseResult r = RUNNER.runOne(c, target);
        switch (r.status()) {
            case PASS -> {
            }
            case SKIP -> {
                if (r.message().startsWith("unavailable: ")) {
                    Host.require(target.id(), false, r.message().substring("unavailable: ".length()));
                }
                if (r.message().equals(ElfCompiler.MISSING)) {
                    // -- elf cases: skipped without the compiler, failed when PRISM_REQUIRE names "clang"
                    Host.require("clang", false, r.message());
                }
                Assumptions.abort(r.message());
            }
            case FAIL, ERROR -> fail(c.name() + " [" + target.id() + "]: " + r.message()
                    + "\n  expected: " + r.expected() + "\n  actual:   " + r.actual());
        }
    }
}
