package dev.prism.x86;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.runtime.Environment;
import dev.prism.runtime.InterpreterTarget;
import dev.prism.testing.Host;
import dev.prism.verifier.DifferentialFuzz;
import dev.prism.verifier.ProgramGenerator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Differential fuzzing of whole XDP programs: the verifier's random-program generator (packet
 * bounds checks, variable offsets, stack spills, map lookups, loops, BPF-to-BPF calls) feeds the
 * interpreter and x86-64; every program the verifier accepts runs on both with the same random
 * packets and map contents, and r0, the packet after the run and every map value must be
 * identical. Programs whose results depend on where memory lies (a subtraction involving a
 * pointer the verifier allows as a harmless number, {@link ProgramGenerator#leaksAnAddress})
 * are left out and counted. The generator's map is an ARRAY for half the programs and a HASH for the others.
 * {@code make test}: 5,000 accepted programs; nightly (PRISM_NIGHTLY=1): 1,000,000.
 * A JVM crash here is the worst outcome: it means native code touched memory the verifier did
 * not prove.
 */
class X86FuzzDifferentialTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS = Integer.getInteger("prism.fuzz.programs", NIGHTLY ? 1_000_000 : 5_000);

    @Test
    void acceptedProgramsComputeTheSameOnX86AndTheInterpreter() {
        X86Target x86 = new X86Target(Environment.deterministic(0, 1));
        Host.require("x86-64", x86.availability().available(), x86.availability().reason());
        DifferentialFuzz.Result r = DifferentialFuzz.run(Long.getLong("prism.fuzz.seed", 4_2026_1125L), 11, PROGRAMS,
                new InterpreterTarget(Environment.deterministic(0, 1)), List.of(x86), m -> fail(m.message(), m.cause()));
        System.out.printf("x86-64 differential: %d programs generated, %d accepted, each run %d times on both targets;"
                + " %d left out as address-dependent%n", r.generated(), r.accepted(), DifferentialFuzz.RUNS_PER_PROGRAM,
                r.addressDependent());
        assertTrue(r.accepted() == PROGRAMS);
    }
}
