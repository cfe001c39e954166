package dev.prism.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.conformance.linux.LinuxTarget;
import dev.prism.error.TargetException;
import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Executable;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Prism's verifier suite (suite/verifier): each case's verdict under both profiles, the
 * diagnostic reason and pc of rejections, and, as a differential test, the running kernel's
 * verdict, which must match the case's (-- kernel marks the deliberate differences).
 */
class VerifierSuiteTest {
    private static final List<VerifierCase> CASES = VerifierCase.readSuite(Suites.verifier());
    private static final AtomicInteger KERNEL_RUNS = new AtomicInteger();
    private static final AtomicInteger LINUX_PROFILE_AGREES = new AtomicInteger();
    /** Cases calling a helper the running kernel lacks: not asked of it, listed at the end. */
    private static final List<String> NOT_COMPARED = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    @TestFactory
    Stream<DynamicTest> verdicts() {
        assertTrue(CASES.size() >= 300, "at least 300 verifier cases: " + CASES.size());
        return CASES.stream().flatMap(c -> Stream.of(
                DynamicTest.dynamicTest(c.name() + " [rfc9669]", () -> check(c, Profile.RFC9669, c.accept())),
                DynamicTest.dynamicTest(c.name() + " [linux profile]", () -> check(c, Profile.LINUX, c.acceptLinux())),
                DynamicTest.dynamicTest(c.name() + " [kernel]", () -> kernel(c))));
    }

    private static void check(VerifierCase c, Profile profile, boolean accept) {
        try {
            Verifier.verify(c.program(), profile);
            if (!accept) {
                fail(c.name() + ": accepted, expected a rejection (" + c.diagnostic() + ")");
            }
        } catch (VerificationException e) {
            if (accept) {
                fail(c.name() + ": rejected, expected acceptance: " + e.getMessage());
            }
            if (c.diagnostic() != null) {
                String d = e.getMessage();
                assertTrue(d.contains(": " + c.diagnostic()), c.name() + ": expected '" + c.diagnostic() + "', got " + d);
                if (c.diagnosticPc() >= 0) {
                    assertTrue(d.startsWith(c.diagnosticPc() + ": "), c.name() + ": expected at pc " + c.diagnosticPc() + ", got " + d);
                }
            }
        }
    }

    /** The kernel's verdict (raw cases load as XDP programs: they use neither r1 nor r2). */
    private static void kernel(VerifierCase c) {
        Host.requireLinuxBpf();
        Program p = c.program().type() == ProgramType.RAW ? c.program().withType(ProgramType.XDP) : c.program();
        java.util.Set<Integer> missing = dev.prism.conformance.linux.KernelProbe.missingHelpers(List.of(p));
        if (!missing.isEmpty()) {
            // this kernel refuses the call by name: its verdict says nothing of the case
            NOT_COMPARED.add(c.name() + " (" + dev.prism.conformance.linux.KernelProbe.lacking(missing) + ")");
            return;
        }
        boolean accepted;
        String log = "";
        try (Executable e = new LinuxTarget().load(List.of(p))) {
            accepted = true;
        } catch (TargetException e) {
            accepted = false;
            log = e.getMessage();
        }
        KERNEL_RUNS.incrementAndGet();
        boolean prism;
        try {
            Verifier.verify(c.program(), Profile.LINUX);
            prism = true;
        } catch (VerificationException e) {
            prism = false;
        }
        if (prism == accepted) {
            LINUX_PROFILE_AGREES.incrementAndGet();
        }
        assertEquals(c.kernelAccepts(), accepted, c.name() + ": the kernel " + (accepted ? "accepts" : "rejects")
                + " it, the case says otherwise" + (log.isEmpty() ? "" : ": " + log.lines().limit(3).toList()));
    }

    @AfterAll
    static void report() {
        if (KERNEL_RUNS.get() > 0) {
            System.out.printf("verifier suite: %d cases; Prism's linux profile agrees with the kernel on %d of %d (%.1f%%)%n",
                    CASES.size(), LINUX_PROFILE_AGREES.get(), KERNEL_RUNS.get(), 100.0 * LINUX_PROFILE_AGREES.get() / KERNEL_RUNS.get());
        }
        NOT_COMPARED.forEach(n -> System.out.println("verifier suite: not asked of the kernel: " + n));
    }
}
