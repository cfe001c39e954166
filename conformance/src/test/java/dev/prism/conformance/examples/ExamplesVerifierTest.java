package dev.prism.conformance.examples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.elf.ElfObject;
import dev.prism.program.Program;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every program of every example, which the Linux kernel accepts, is accepted by Prism's
 * verifier under both profiles; the loops of checksum.c are proven bounded.
 */
class ExamplesVerifierTest {

    @TestFactory
    Stream<DynamicTest> everyExampleProgramIsAccepted() {
        return Examples.names().stream().flatMap(name -> ElfObject.load(Examples.object(name)).programs().stream()
                .flatMap(p -> Stream.of(Profile.values()).map(profile -> DynamicTest.dynamicTest(
                        name + ".c " + p.name() + " [" + profile.id() + "]", () -> check(name, p, profile)))));
    }

    private static void check(String name, Program p, Profile profile) {
        VerifiedProgram v = Verifier.verify(p, profile);
        assertTrue(v.stats().processed() < Verifier.MAX_PROCESSED);
        assertFalse(v.stateAt(0).isEmpty(), "the entry's state is recorded");
        if (name.equals("checksum")) {
            assertTrue(v.requires().loops() >= 1, "checksum.c has bounded loops");
        }
    }
}
