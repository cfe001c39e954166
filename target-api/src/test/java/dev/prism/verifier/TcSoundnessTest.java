package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.asm.Assembler;
import dev.prism.error.TrapException;
import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Environment;
import dev.prism.runtime.HelperTable;
import dev.prism.runtime.Interpreter;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Soundness fuzzing of tc programs: random accesses to {@code struct __sk_buff} (every offset
 * of the struct, every size, loads and stores, sign extension), packet accesses behind bounds
 * checks, and the skb helpers with random arguments, some followed by uses of packet pointers
 * from before the call. Every program the verifier accepts is normalized and run on the strict
 * interpreter over random packets: a trap is a verifier (or normalization) bug. 3,000 programs
 * in {@code make test}, 300,000 nightly.
 */
class TcSoundnessTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int PROGRAMS = NIGHTLY ? 300_000 : 3_000;

    @Test
    void acceptedTcProgramsNeverTrap() {
        Random rnd = new Random(Long.getLong("prism.fuzz.seed", 19L));
        Interpreter interpreter = new Interpreter(HelperTable.standard(), Verifier.MAX_PROCESSED, Environment.deterministic(0, 1))
                .strictStack();
        int accepted = 0;
        int rejected = 0;
        for (int i = 0; i < PROGRAMS; i++) {
            String text = TcProgramGenerator.program(rnd);
            Program p = Program.builder("tc" + i, ProgramType.TC, Assembler.assemble(text)).build();
            Program run;
            try {
                run = Verifier.verify(p, Profile.RFC9669).normalized();
            } catch (VerificationException e) {
                rejected++;
                continue;
            }
            accepted++;
            try (Interpreter.Instance inst = interpreter.instantiate(List.of(run))) {
                for (int r = 0; r < 3; r++) {
                    byte[] packet = TcProgramGenerator.packet(rnd);
                    try {
                        inst.run(null, packet, TcProgramGenerator.skb(rnd));
                    } catch (TrapException e) {
                        fail("verifier bug: tc program " + i + " was accepted but trapped on a " + packet.length
                                + "-byte packet: " + e.getMessage() + "\n" + text);
                    }
                }
            }
        }
        System.out.printf("tc soundness: %d programs, %d accepted and run 3 times each without a trap, %d rejected%n",
                PROGRAMS, accepted, rejected);
        assertTrue(accepted > PROGRAMS / 10, "the generator produces acceptable programs: " + accepted);
        assertTrue(rejected > PROGRAMS / 10, "and rejected ones: " + rejected);
    }
}
