package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.testing.Host;
import dev.prism.verifier.TcDifferentialFuzz;
import org.junit.jupiter.api.Test;

/**
 * tc programs (random __sk_buff accesses, packet accesses, skb helpers) on x86-64 against the
 * interpreter: r0, packet and skb fields identical ({@link TcDifferentialFuzz}). 1,000 accepted
 * programs in {@code make test}, 100,000 nightly.
 */
class X86TcFuzzTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS = NIGHTLY ? 100_000 : 1_000;

    @Test
    void tcProgramsComputeTheSameOnX86AndTheInterpreter() {
        X86Target x86 = new X86Target(Environment.deterministic(0, 1));
        Host.require("x86-64", x86.availability().available(), x86.availability().reason());
        int n = TcDifferentialFuzz.run(Long.getLong("prism.fuzz.seed", 1919L), PROGRAMS,
                new InterpreterTarget(Environment.deterministic(0, 1)), x86, m -> fail(m));
        assertEquals(PROGRAMS, n);
        System.out.printf("x86-64 tc differential: %d accepted programs, 3 runs each, identical%n", n);
    }
}
