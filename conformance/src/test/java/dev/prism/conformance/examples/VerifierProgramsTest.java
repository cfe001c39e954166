package dev.prism.conformance.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.conformance.linux.ProgLoadTimer;
import dev.prism.elf.ElfObject;
import dev.prism.program.Program;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The programs of examples/verifier/ (issue 18): clang -O2 XDP programs that Linux verifies and
 * that a verifier without good pruning, variable packet offsets or packet-bounded loops refuses.
 * Each is verified under both profiles, loaded into the kernel, and run on the interpreter, the
 * kernel, x86-64 and arm64 with its crafted packets and random ones
 * ({@link ExamplesDifferentialTest#check(String, String)}). Prism's processed instructions are
 * compared with the kernel's (its verifier log at BPF_LOG_STATS): where the goal of issue 18 is
 * to process fewer, the test says so.
 */
class VerifierProgramsTest {
    private static final String DIR = "verifier";
    /** Programs on which Prism must process fewer instructions than Linux: the parser and the loops. */
    private static final List<String> FEWER_THAN_LINUX = List.of("filter", "csum1500", "chacha_xor", "nested");

    @TestFactory
    Stream<DynamicTest> everyProgramVerifies() {
        return Examples.names(DIR).stream().flatMap(name -> Stream.of(Profile.values()).map(profile ->
                DynamicTest.dynamicTest(name + ".c [" + profile.id() + "]", () -> {
                    for (Program p : ElfObject.load(Examples.object(DIR, name)).programs()) {
                        VerifiedProgram v = Verifier.verify(p, profile);
                        assertTrue(v.stats().processed() > 0);
                    }
                })));
    }

    @TestFactory
    Stream<DynamicTest> fewerInstructionsProcessedThanLinux() {
        return Examples.names(DIR).stream().map(name -> DynamicTest.dynamicTest(name + ".c [prism vs linux]", () -> {
            Host.requireLinuxBpf();
            List<Program> programs = ElfObject.load(Examples.object(DIR, name)).programs();
            ProgLoadTimer.KernelStats k = ProgLoadTimer.stats(programs).get(0);
            assertTrue(k.accepted(), name + ": the kernel refuses it: " + k.log());
            VerifiedProgram v = Verifier.verify(programs.get(0), Profile.LINUX);
            System.out.printf("verifier program %-10s prism %6d processed, %5d states stored; linux %6d processed, %5d states stored, %6.1f ms%n",
                    name, v.stats().processed(), v.stats().statesStored(), k.processed(), k.totalStates(), k.verifyMicros() / 1e3);
            if (FEWER_THAN_LINUX.contains(name)) {
                assertTrue(v.stats().processed() < k.processed(), name + ": prism processed " + v.stats().processed()
                        + " instructions, linux " + k.processed());
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> agreeWithTheKernelOnEveryTarget() {
        return Examples.names(DIR).stream().map(name -> DynamicTest.dynamicTest(name + ".c [interpreter vs linux vs x86-64 vs arm64]",
                () -> ExamplesDifferentialTest.check(DIR, name)));
    }
}
