package dev.prism.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.arm64.emu.A64Machine;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.testing.Host;
import dev.prism.verifier.TcDifferentialFuzz;
import org.junit.jupiter.api.Test;

/**
 * tc programs (random __sk_buff accesses, packet accesses, skb helpers) on arm64 (emulated
 * here, native on arm64 hosts) against the interpreter: r0, packet and skb fields identical
 * ({@link TcDifferentialFuzz}). 300 accepted programs in {@code make test}, 30,000 nightly.
 */
class A64TcFuzzTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS = NIGHTLY ? 30_000 : 300;

    @Test
    void tcProgramsComputeTheSameOnArm64AndTheInterpreter() {
        Host.require("arm64", Unicorn.availability().available(), Unicorn.availability().reason());
        A64Target arm64 = new A64Target(new A64Jit.Options(true), Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET);
        int n = TcDifferentialFuzz.run(Long.getLong("prism.fuzz.seed", 1920L), PROGRAMS,
                new InterpreterTarget(Environment.deterministic(0, 1)), arm64, m -> fail(m));
        assertEquals(PROGRAMS, n);
        System.out.printf("arm64 tc differential: %d accepted programs, 3 runs each, identical%n", n);
    }
}
