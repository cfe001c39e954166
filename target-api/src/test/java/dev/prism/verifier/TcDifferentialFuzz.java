package dev.prism.verifier;

import dev.prism.asm.Assembler;
import dev.prism.error.PrismException;
import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Random;
import java.util.function.Consumer;

/**
 * The differential fuzz of tc programs the JIT targets share: {@link TcProgramGenerator}'s
 * programs that the verifier accepts run on the interpreter and on a candidate target, 3 times
 * each with the same random packet and skb fields; r0, the packet after the run and the skb
 * fields after it (mark, priority, cb, tc_classid) must be identical, or both sides must fail.
 */
public final class TcDifferentialFuzz {
    private static final HexFormat HEX = HexFormat.of();

    private TcDifferentialFuzz() {
    }

    /** {@return how many accepted programs ran on both sides} (generates until {@code programs} are accepted or 50x that many were tried) */
    public static int run(long seed, int programs, Target reference, Target candidate, Consumer<String> onMismatch) {
        Random rnd = new Random(seed);
        int accepted = 0;
        for (int tried = 0; accepted < programs && tried < 50 * programs; tried++) {
            String text = TcProgramGenerator.program(rnd);
            Program p = Program.builder("tc" + tried, ProgramType.TC, Assembler.assemble(text)).build();
            VerifiedProgram v;
            try {
                v = Verifier.verify(p, Profile.RFC9669);
            } catch (VerificationException e) {
                continue;
            }
            accepted++;
            try (Executable a = reference.compile(v).load(); Executable b = candidate.compile(v).load()) {
                for (int r = 0; r < 3; r++) {
                    RunInput in = RunInput.ofSkb(TcProgramGenerator.packet(rnd), TcProgramGenerator.skb(rnd));
                    String x = outcome(a, in);
                    String y = outcome(b, in);
                    if (!x.equals(y)) {
                        onMismatch.accept(candidate.id() + " differs from " + reference.id() + " on tc program " + tried
                                + ", packet " + HEX.formatHex(in.packet()) + ", " + in.skb() + ":\n  " + reference.id() + ": " + x
                                + "\n  " + candidate.id() + ": " + y + "\n" + text);
                    }
                }
            }
        }
        return accepted;
    }

    private static String outcome(Executable e, RunInput in) {
        try {
            RunResult r = e.run(in);
            return "r0=" + r.r0() + " packet=" + HEX.formatHex(Objects.requireNonNull(r.packetAfter())) + " " + r.skbAfter();
        } catch (PrismException ex) {
            return "failed";
        }
    }
}
