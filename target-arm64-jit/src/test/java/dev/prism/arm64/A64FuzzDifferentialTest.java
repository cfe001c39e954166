package dev.prism.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.arm64.emu.A64Machine;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.testing.Host;
import dev.prism.verifier.DifferentialFuzz;
import dev.prism.verifier.ProgramGenerator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Differential fuzzing of whole XDP programs, as X86FuzzDifferentialTest does for x86-64: the
 * verifier's random-program generator (packet bounds checks, variable offsets, stack spills,
 * map lookups, loops, BPF-to-BPF calls) feeds the interpreter and arm64; every program the
 * verifier accepts runs on both with the same random packets and map contents, and r0, the
 * packet after the run and every map value must be identical. The generator's map is an ARRAY
 * (lookups inlined) for half the programs and a HASH (lookups in generated code, A64MapCode)
 * for the others; the code shape rotates through LSE atomics (cpu model max), LL/SC atomics
 * (Cortex-A57) and every conditional branch in its far form. Programs whose results depend on
 * where memory lies ({@link ProgramGenerator#leaksAnAddress}) are left out and counted. {@code make test}: 2,000 accepted
 * programs; nightly (PRISM_NIGHTLY=1): 100,000; {@code -Dprism.fuzz.programs=N},
 * {@code -Dprism.fuzz.seed=N} override.
 */
class A64FuzzDifferentialTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS = Integer.getInteger("prism.fuzz.programs", NIGHTLY ? 100_000 : 2_000);

    @Test
    void acceptedProgramsComputeTheSameOnArm64AndTheInterpreter() {
        Host.require("arm64", Unicorn.availability().available(), Unicorn.availability().reason());
        List<A64Target> shapes = List.of(
                new A64Target(new A64Jit.Options(true), Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET),
                new A64Target(new A64Jit.Options(false), Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET),
                new A64Target(new A64Jit.Options(true, 16), Environment.deterministic(0, 1), A64Machine.DEFAULT_BUDGET));
        DifferentialFuzz.Result r = DifferentialFuzz.run(Long.getLong("prism.fuzz.seed", 5_2026_1125L), 13, PROGRAMS,
                new InterpreterTarget(Environment.deterministic(0, 1)), shapes, m -> fail(m.message(), m.cause()));
        System.out.printf("arm64 differential: %d programs generated, %d accepted (%d more left out: their results depend on "
                + "addresses), each run %d times on both targets%n", r.generated(), r.accepted(), r.addressDependent(),
                DifferentialFuzz.RUNS_PER_PROGRAM);
        assertEquals(PROGRAMS, r.accepted());
    }
}
