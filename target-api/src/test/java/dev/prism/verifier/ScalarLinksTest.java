package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertThrows;
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

/** Linked registers ({@link ScalarLinks}): a check on one copy bounds the others, and only while they are copies. */
class ScalarLinksTest {
    private static final String LOOKUP = """
            stw [%r10-4], 0
            lddw %r1, map_idx 0
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, out
            mov %r6, %r0
            call 5
            """;
    private static final String TAIL = """
            add %r6, %r1
            ldxb %r0, [%r6-10]
            exit
            out:
            mov %r0, 2
            exit
            """;

    private static VerifiedProgram verify(String body, List<String> log) {
        Program p = Program.builder("t", ProgramType.XDP, Assembler.assemble(LOOKUP + body + TAIL))
                .maps(List.of(MapDef.of("vals", MapType.ARRAY, 4, 236, 1, 0))).build();
        return Verifier.verify(p, Profile.LINUX, log::add);
    }

    @Test
    void checkOnACopyOfACopyBoundsTheOriginal() {
        List<String> log = new ArrayList<>();
        try {
            verify("""
                    mov %r1, %r0
                    mov %r7, %r0
                    mov %r2, %r7
                    sub %r2, 10
                    jgt %r2, 235, out
                    """, log);
        } catch (VerificationException e) {
            throw new AssertionError(e.getMessage() + "\n" + String.join("\n", log), e);
        }
    }

    @Test
    void aCopyOverwrittenBeforeTheCheckIsNotBounded() {
        VerificationException e = assertThrows(VerificationException.class, () -> verify("""
                mov %r1, %r0
                mov %r8, %r1
                call 7
                mov %r1, %r0
                sub %r8, 10
                jgt %r8, 235, out
                """, new ArrayList<>()));
        assertTrue(e.getMessage().contains("unbounded offset") || e.getMessage().contains("invalid map value access"), e.getMessage());
    }

    @Test
    void aLinkDoesNotSurviveAJoin() {
        // r2 = r1 - 10 on one path, r2 = another number on the other: after they meet, the
        // check on r2 says nothing of r1
        VerificationException e = assertThrows(VerificationException.class, () -> verify("""
                mov %r1, %r0
                mov %r2, %r1
                sub %r2, 10
                jeq %r0, 7, other
                ja check
                other:
                mov %r2, 3
                check:
                jgt %r2, 235, out
                """, new ArrayList<>()));
        assertTrue(e.getMessage().contains("unbounded offset") || e.getMessage().contains("invalid map value access"), e.getMessage());
    }
}
