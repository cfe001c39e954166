package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.VerificationException;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** bpf_for_each_map_elem's callback converges like a loop, whatever it accumulates behind ctx. */
class ForEachVerifierTest {
    @Test
    void callbackAccumulatingIntoCtxConverges() {
        String text = """
                stdw [%r10-8], 0
                lddw %r1, map_idx 0
                lddw %r2, code cb
                mov %r3, %r10
                add %r3, -8
                mov %r4, 0
                call 164
                mov %r0, 2
                exit
                cb:
                ldxw %r1, [%r2+0]
                ldxdw %r0, [%r3+0]
                add %r0, %r1
                ldxdw %r5, [%r4+0]
                add %r5, %r0
                stxdw [%r4+0], %r5
                mov %r0, 0
                exit
                """;
        Program p = Program.builder("t", ProgramType.XDP, Assembler.assemble(text))
                .maps(List.of(MapDef.of("vals", MapType.ARRAY, 4, 8, 4, 0))).build();
        List<String> log = new ArrayList<>();
        VerifiedProgram v;
        try {
            v = Verifier.verify(p, Profile.LINUX, log::add);
        } catch (VerificationException e) {
            throw new AssertionError(e.getMessage() + "\n" + String.join("\n", log.subList(0, Math.min(80, log.size()))), e);
        }
        assertTrue(v.stats().processed() < 10_000, "processed " + v.stats().processed());
    }
}
