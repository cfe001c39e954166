package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.prism.asm.Assembler;
import dev.prism.error.VerificationException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The verifier's answer depends on the program alone: not on what it verified before, in which
 * order, or on which threads. The scalar domain remembers recent results in tables shared by
 * every verification (Normalizer, ScalarAlu, ScalarBranch), so a hit and a miss, and two
 * threads racing on one slot, must give the same verdicts, diagnostics and IR.
 */
class VerifierDeterminismTest {
    private static final int PROGRAMS = 300;

    /** {@return everything a backend or a person can read of the verdict, as text} */
    private static String dump(Program p) {
        StringBuilder sb = new StringBuilder(p.name()).append('\n');
        try {
            VerifiedProgram v = Verifier.verify(p, Profile.RFC9669);
            for (int pc = 0; pc < p.slots().length; pc++) {
                sb.append(pc).append(' ').append(v.stateAt(pc)).append(" | ").append(v.facts(pc)).append('\n');
            }
            sb.append(new TreeMap<>(v.loopBounds())).append(new TreeMap<>(v.stackDepths())).append('\n');
            VerifiedProgram.Requires r = v.requires();
            sb.append(r.groups()).append(r.version()).append(r.helpers()).append(new TreeSet<>(r.mapTypes())).append(r.loops()).append(' ').append(r.maxPacketOff()).append(' ').append(r.stackDepth()).append('\n');
            sb.append(v.stats().processed()).append(' ').append(v.stats().statesStored()).append(' ').append(v.stats().executedBound());
        } catch (VerificationException e) {
            sb.append("rejected: ").append(e.getMessage());
        }
        return sb.toString();
    }

    private static List<Program> programs() {
        ProgramGenerator gen = new ProgramGenerator(20261201L);
        List<MapDef> maps = List.of(MapDef.of("counts", MapType.ARRAY, 4, 16, 4, 0));
        List<Program> out = new ArrayList<>();
        for (int i = 0; i < PROGRAMS; i++) {
            out.add(Program.builder("fuzz" + i, ProgramType.XDP, Assembler.assemble(gen.next())).maps(maps).build());
        }
        return out;
    }

    @Test
    void sameAnswerWhateverWasVerifiedBefore() {
        List<Program> programs = programs();
        List<String> first = new ArrayList<>();
        for (Program p : programs) {
            first.add(dump(p));
        }
        // backwards: each program now meets tables filled by the others (and by itself)
        for (int i = programs.size() - 1; i >= 0; i--) {
            assertEquals(first.get(i), dump(programs.get(i)), programs.get(i).name());
        }
    }

    @Test
    void sameAnswerOnManyThreads() throws Exception {
        List<Program> programs = programs();
        List<String> alone = new ArrayList<>();
        for (Program p : programs) {
            alone.add(dump(p));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> futures = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (Program p : programs) {
                    futures.add(pool.submit(() -> dump(p)));
                }
            }
            for (int i = 0; i < futures.size(); i++) {
                assertEquals(alone.get(i % programs.size()), futures.get(i).get(), programs.get(i % programs.size()).name());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Registers an instruction does not write are joined once, at the instruction that starts a
     * straight run, and the IR copies them down the run: the join must still be the one of every
     * path, here r6 being 1 or 2 after the branch.
     */
    @Test
    void registersCarriedDownAStraightRunKeepTheirJoin() {
        String text = """
                call 7              # 0 r0: a random number
                mov %r6, 1          # 1
                jgt %r0, 5, join    # 2
                mov %r6, 2          # 3
                join:
                mov %r7, 3          # 4 two paths meet
                mov %r8, 4          # 5 straight run: r6 unchanged
                mov %r0, %r6        # 6
                add %r0, %r7        # 7
                exit                # 8
                """;
        VerifiedProgram v = Verifier.verify(Program.of("t", ProgramType.XDP, Assembler.assemble(text)), Profile.RFC9669);
        for (int pc = 4; pc <= 6; pc++) {
            Facts.Register r6 = v.facts(pc).registers().get(6);
            assertEquals(Facts.Kind.SCALAR, r6.kind(), "pc " + pc);
            assertEquals(1, r6.value().umin(), "pc " + pc);
            assertEquals(2, r6.value().umax(), "pc " + pc);
        }
        assertEquals(v.facts(4).registers().get(6), v.facts(6).registers().get(6));
        assertEquals(3, v.facts(6).registers().get(7).value().constantValue());
        assertEquals(Facts.Kind.UNINIT, v.facts(7).registers().get(6).kind(), "dead after the move: forgotten");
    }
}
