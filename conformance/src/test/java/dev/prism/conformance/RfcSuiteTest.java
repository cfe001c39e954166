package dev.prism.conformance;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.error.TargetException;
import dev.prism.program.Program;
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
 * (suite/maps). Targets: the reference interpreter, the Linux kernel and, for RFC 9669, x86-64.
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

    /**
     * The suite on the x86-64 JIT. Cases that expect a run-time trap other than the call depth
     * limit are skipped unless the JIT refuses them at compile time: native code does not check
     * memory accesses (the verifier will), so running them could fault the JVM.
     */
    @TestFactory
    Stream<DynamicTest> x86() {
        Target x86 = Targets.byId("x86-64");
        return CASES.stream().map(c -> DynamicTest.dynamicTest(c.name() + " [" + x86.id() + "]", () -> {
            String unsafe = nativelyUnsafe(c, x86);
            if (unsafe != null) {
                Assumptions.abort(unsafe);
            }
            check(c, x86);
        }));
    }

    /** {@return why a case must not run as native code, or null when it may} */
    private static String nativelyUnsafe(ConformanceCase c, Target target) {
        if (!(c.expected() instanceof ConformanceCase.Expected.Error error) || error.substring().contains("call depth")) {
            return null;
        }
        List<Program> programs;
        try {
            programs = c.programs();
        } catch (RuntimeException e) {
            return null; // the runner judges what does not decode or load
        }
        try {
            programs.forEach(target::compile);
        } catch (TargetException e) {
            return null; // refused at compile time: the runner judges the refusal
        }
        return "expects a run-time trap (" + error.substring() + "), which native code on " + target.id()
                + " does not check until the verifier guards it";
    }

    @TestFactory
    Stream<DynamicTest> mapsOnInterpreter() {
        return tests(MAP_CASES, "maps/", Targets.byId("interpreter"));
    }

    @TestFactory
    Stream<DynamicTest> mapsOnLinux() {
        return tests(MAP_CASES, "maps/", Targets.byId("linux"));
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
