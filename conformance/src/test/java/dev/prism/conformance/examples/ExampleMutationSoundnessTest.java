package dev.prism.conformance.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.asm.Disassembler;
import dev.prism.elf.ElfObject;
import dev.prism.error.MalformedProgramException;
import dev.prism.error.TrapException;
import dev.prism.error.VerificationException;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.InsnCodec;
import dev.prism.isa.JumpOp;
import dev.prism.program.Program;
import dev.prism.runtime.Environment;
import dev.prism.runtime.HelperTable;
import dev.prism.runtime.Interpreter;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Soundness fuzzing on real programs: the examples, mutated one or two instructions at a time
 * (memory offsets and sizes shifted, comparison constants and operators changed, null and
 * bounds checks turned into no-ops). Every mutant the verifier accepts runs on the strict
 * interpreter over the crafted and random packets; a trap is a verifier bug, reported with the
 * mutated program's listing. 2,000 mutants per test run, 100,000 nightly.
 */
class ExampleMutationSoundnessTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int MUTANTS = NIGHTLY ? 100_000 : 2_000;

    @Test
    void acceptedMutantsOfTheExamplesNeverTrap() {
        List<Program> originals = Examples.names().stream()
                .flatMap(n -> ElfObject.load(Examples.object(n)).programs().stream()).toList();
        Random rnd = new Random(Long.getLong("prism.fuzz.seed", 11L));
        PacketGenerator packets = new PacketGenerator(5);
        Interpreter interpreter = new Interpreter(HelperTable.standard(), Verifier.MAX_PROCESSED, Environment.deterministic(0, 3))
                .strictStack();
        int accepted = 0;
        int tried = 0;
        for (int i = 0; i < MUTANTS; i++) {
            Program original = originals.get(rnd.nextInt(originals.size()));
            Insn[] slots = original.slots();
            int edits = 1 + rnd.nextInt(2);
            for (int e = 0; e < edits; e++) {
                int pc = rnd.nextInt(slots.length);
                if (slots[pc] != null) {
                    slots[pc] = mutate(slots[pc], rnd);
                }
            }
            Program mutant;
            try {
                mutant = Program.builder(original.name(), original.type(), InsnCodec.decode(InsnCodec.encode(slots)))
                        .maps(original.maps()).functions(original.functions()).build();
            } catch (MalformedProgramException e) {
                continue; // a jump moved outside the program: not a program
            }
            tried++;
            Program verified;
            try {
                // tc programs run as the verifier normalized them (struct __sk_buff in the host layout)
                var proof = Verifier.verify(mutant, Profile.RFC9669);
                verified = mutant.type() == dev.prism.program.ProgramType.TC ? proof.normalized() : mutant;
            } catch (VerificationException e) {
                continue;
            }
            accepted++;
            try (Interpreter.Instance inst = interpreter.instantiate(List.of(verified))) {
                for (int run = 0; run < 6; run++) {
                    byte[] p = packets.next();
                    try {
                        inst.run(null, p);
                    } catch (IllegalArgumentException refused) {
                        // a packet the program type's test run refuses (an skb needs a whole IP header)
                    } catch (TrapException t) {
                        fail("verifier bug: a mutant of " + original.name() + " was accepted but trapped: " + t.getMessage()
                                + "\n" + Disassembler.listing(mutant));
                    }
                }
            }
        }
        System.out.printf("example mutants: %d tried, %d accepted and run 6 times each without a trap%n", tried, accepted);
        assertTrue(accepted > tried / 20, "some mutants are accepted: " + accepted + " of " + tried);
    }

    /** One small change that keeps the instruction's shape. */
    static Insn mutate(Insn insn, Random rnd) {
        short delta = (short) (rnd.nextBoolean() ? rnd.nextInt(9) - 4 : (rnd.nextBoolean() ? 8 : -8));
        return switch (insn) {
            case Insn.Load l -> rnd.nextBoolean() ? new Insn.Load(l.size(), l.signExtend(), l.dst(), l.src(), (short) (l.offset() + delta))
                    : new Insn.Load(dev.prism.isa.Size.values()[rnd.nextInt(4)], false, l.dst(), l.src(), l.offset());
            case Insn.Store s -> new Insn.Store(s.size(), s.dst(), (short) (s.offset() + delta), s.src());
            case Insn.Jump j -> switch (rnd.nextInt(3)) {
                case 0 -> new Insn.Ja(0, false); // the check becomes a no-op: both paths fall through
                case 1 -> j.src() instanceof Imm imm ? new Insn.Jump(j.op(), j.width(), j.dst(), new Imm(imm.value() + delta), j.offset()) : j;
                default -> j.op() == JumpOp.JSET ? j : new Insn.Jump(j.op().negate(), j.width(), j.dst(), j.src(), j.offset());
            };
            case Insn.Alu a when a.src() instanceof Imm imm -> new Insn.Alu(a.op(), a.width(), a.dst(), new Imm(imm.value() + delta));
            default -> insn;
        };
    }
}
