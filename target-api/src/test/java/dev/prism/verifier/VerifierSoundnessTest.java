package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.asm.Assembler;
import dev.prism.error.AssemblerException;
import dev.prism.error.TrapException;
import dev.prism.error.VerificationException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.HelperTable;
import dev.prism.runtime.Interpreter;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Soundness fuzzing: every program the verifier accepts must run on the checked interpreter,
 * over random packets and map contents, without a memory trap, a read of uninitialized stack
 * (the interpreter's strict mode) or an exhausted budget (1,000,000, the verifier's bound). A trap
 * after acceptance is a verifier bug; the test prints the program in assembler syntax.
 * 10,000 programs in {@code make test}; 1,000,000 nightly (PRISM_NIGHTLY=1).
 */
class VerifierSoundnessTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS = Integer.getInteger("prism.fuzz.programs", NIGHTLY ? 1_000_000 : 10_000);
    private static final int RUNS_PER_PROGRAM = 4;

    @Test
    void acceptedProgramsNeverTrap() {
        ProgramGenerator gen = new ProgramGenerator(Long.getLong("prism.fuzz.seed", 20261125L));
        Random rnd = new Random(7);
        // strict: a read of stack bytes nobody wrote traps too; the budget is the verifier's bound
        Interpreter interpreter = new Interpreter(HelperTable.standard(), Verifier.MAX_PROCESSED, Environment.deterministic(0, 1))
                .strictStack();
        List<MapDef> maps = List.of(MapDef.of("counts", MapType.ARRAY, 4, 16, 4, 0));
        int accepted = 0;
        int rejected = 0;
        for (int i = 0; i < PROGRAMS; i++) {
            String text = gen.next();
            Program p;
            try {
                p = Program.builder("fuzz" + i, ProgramType.XDP, Assembler.assemble(text)).maps(maps).build();
            } catch (AssemblerException e) {
                fail("the generator wrote invalid assembler: " + e.getMessage() + "\n" + text);
                return;
            }
            try {
                Verifier.verify(p, Profile.RFC9669);
            } catch (VerificationException e) {
                rejected++;
                continue;
            }
            accepted++;
            try (Interpreter.Instance inst = interpreter.instantiate(List.of(p))) {
                for (int run = 0; run < RUNS_PER_PROGRAM; run++) {
                    byte[] packet = new byte[14 + rnd.nextInt(90)];
                    rnd.nextBytes(packet);
                    byte[] value = new byte[16];
                    rnd.nextBytes(value);
                    inst.map("counts").updateUser(new byte[] {(byte) rnd.nextInt(4), 0, 0, 0}, value, 0);
                    try {
                        inst.run(null, packet);
                    } catch (TrapException e) {
                        fail("verifier bug: program " + i + " was accepted but trapped on a " + packet.length
                                + "-byte packet: " + e.getMessage() + "\n" + text);
                    }
                }
            }
        }
        System.out.printf("verifier soundness: %d programs, %d accepted and run %d times each without a trap, %d rejected%n",
                PROGRAMS, accepted, RUNS_PER_PROGRAM, rejected);
        assertTrue(accepted > PROGRAMS / 10, "the generator produces acceptable programs: " + accepted);
        assertTrue(rejected > PROGRAMS / 10, "and rejected ones: " + rejected);
    }
}
