package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.VerificationException;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import org.junit.jupiter.api.Test;

/** The csd program type's context and its two packets, data (read-only) and out (CsdAccess). */
class CsdVerifierTest {
    /** r2 = data, r3 = data_end, r4 = out, r5 = out_end. */
    private static final String POINTERS = """
            ldxdw %r2, [%r1+0]
            ldxdw %r3, [%r1+8]
            ldxdw %r4, [%r1+16]
            ldxdw %r5, [%r1+24]
            """;
    private static final String CHECK_BOTH = """
            mov %r6, %r2
            add %r6, 8
            jgt %r6, %r3, fail
            mov %r7, %r4
            add %r7, 8
            jgt %r7, %r5, fail
            """;
    private static final String FAIL = """
            mov %r0, 8
            exit
            fail:
            mov %r0, -22
            exit
            """;

    static VerifiedProgram verify(ProgramType type, String source) {
        return Verifier.verify(Program.builder("t", type, Assembler.assemble(source)).build(), Profile.RFC9669);
    }

    private static String rejection(String source) {
        return assertThrows(VerificationException.class, () -> verify(ProgramType.CSD, source)).getMessage();
    }

    @Test
    void copiesEightBytesFromDataToOutAfterBothChecks() {
        verify(ProgramType.CSD, POINTERS + CHECK_BOTH + """
                ldxdw %r0, [%r2+0]
                stxdw [%r4+0], %r0
                """ + FAIL);
    }

    @Test
    void aVariableCursorOverOutIsProvenLikeAPacketCursor() {
        verify(ProgramType.CSD, POINTERS + """
                ldxdw %r8, [%r1+40]
                and %r8, 255
                add %r4, %r8
                mov %r7, %r4
                add %r7, 4
                jgt %r7, %r5, fail
                stw [%r4+0], 7
                """ + FAIL);
    }

    @Test
    void theChunkIsReadOnly() {
        String m = rejection(POINTERS + CHECK_BOTH + """
                stb [%r2+0], 1
                """ + FAIL);
        assertTrue(m.contains("write to read-only data"), m);
    }

    @Test
    void outUncheckedIsRefused() {
        String m = rejection(POINTERS + """
                stb [%r4+0], 1
                mov %r0, 0
                exit
                """);
        assertTrue(m.contains("invalid packet access"), m);
    }

    @Test
    void dataCheckedAgainstOutEndProvesNothing() {
        String m = rejection(POINTERS + """
                mov %r6, %r2
                add %r6, 8
                jgt %r6, %r5, fail
                ldxdw %r0, [%r2+0]
                """ + FAIL);
        assertTrue(m.contains("pointer comparison prohibited"), m);
    }

    @Test
    void outCheckedAgainstDataEndProvesNothing() {
        String m = rejection(POINTERS + """
                mov %r7, %r4
                add %r7, 8
                jgt %r7, %r3, fail
                stb [%r4+0], 1
                """ + FAIL);
        assertTrue(m.contains("pointer comparison prohibited"), m);
    }

    @Test
    void theContextIsReadOnlyAndPointersAreWhole() {
        assertTrue(rejection("stdw [%r1+32], 0\nmov %r0, 0\nexit").contains("write to read-only context"));
        assertTrue(rejection("ldxw %r2, [%r1+0]\nmov %r0, 0\nexit").contains("invalid context access"));
        assertTrue(rejection("ldxdw %r2, [%r1+56]\nmov %r0, 0\nexit").contains("invalid context access"));
        verify(ProgramType.CSD, "ldxw %r0, [%r1+44]\nldxb %r2, [%r1+32]\nexit");
    }

    @Test
    void csdReadWritesTheStackOrOut() {
        verify(ProgramType.CSD, """
                mov %r6, %r1
                ldxdw %r1, [%r6+40]
                mov %r2, %r10
                add %r2, -16
                mov %r3, 16
                call 65537
                ldxdw %r0, [%r10-16]
                ldxdw %r1, [%r10-8]
                add %r0, %r1
                exit
                """);
        verify(ProgramType.CSD, POINTERS + CHECK_BOTH + """
                mov %r1, 0
                mov %r2, %r4
                mov %r3, 8
                call 65537
                """ + FAIL);
    }

    @Test
    void csdReadIntoTheChunkOrTooFarIsRefused() {
        String m = rejection(POINTERS + CHECK_BOTH + """
                mov %r1, 0
                mov %r3, 8
                call 65537
                """ + FAIL);
        assertTrue(m.contains("write to read-only data"), m);
        m = rejection("""
                mov %r1, 0
                mov %r2, %r10
                add %r2, -8
                mov %r3, 16
                call 65537
                exit
                """);
        assertTrue(m.contains("invalid stack access"), m);
    }

    @Test
    void helpersAreTheTypesOwn() {
        String m = assertThrows(VerificationException.class, () -> verify(ProgramType.XDP, """
                mov %r1, 0
                mov %r2, %r10
                add %r2, -8
                mov %r3, 8
                call 65537
                exit
                """)).getMessage();
        assertTrue(m.contains("unknown helper"), m);
        m = rejection("mov %r2, 4\ncall 44\nexit");
        assertTrue(m.contains("not offered to csd programs"), m);
    }
}
