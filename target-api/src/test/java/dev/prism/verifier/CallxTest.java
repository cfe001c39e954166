package dev.prism.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.error.TrapException;
import dev.prism.error.VerificationException;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.Interpreter;
import org.junit.jupiter.api.Test;

/**
 * callx's two readings (conformance/README.md, "callx"): a helper id in the register calls
 * that helper under profile rfc9669 (bpf_conformance's callx.data), a code address calls that
 * function (Linux's callx); profile linux refuses both, as Linux 6.18 does.
 */
class CallxTest {
    /** bpf_csum_diff(NULL, 0, NULL, 0, 0x12345678) folds the seed: 0x1234 + 0x5678 = 0x68ac (Linux 6.18, x86-64). */
    private static final String CSUM_BY_ID = """
            mov %r7, 28
            mov %r1, 0
            mov %r2, 0
            mov %r3, 0
            mov %r4, 0
            mov %r5, 0x12345678
            callx %r7
            exit
            """;

    private static Program asm(String text) {
        return Assembler.assemble("t", ProgramType.RAW, text);
    }

    @Test
    void aHelperIdIsCheckedAsThatHelperAndBecomesAPlainCall() {
        Program p = asm(CSUM_BY_ID);
        VerifiedProgram v = Verifier.verify(p, Profile.RFC9669);
        assertEquals(new Insn.Call(CallKind.HELPER, 28), v.normalized().at(6), "backends see call 28");
        assertInstanceOf(Insn.CallX.class, v.program().at(6), "the program as written keeps its callx");
        assertTrue(v.requires().helpers().contains(28), "the helper is among the program's requirements");
        VerificationException linux = assertThrows(VerificationException.class, () -> Verifier.verify(p, Profile.LINUX));
        assertTrue(linux.getMessage().startsWith("6: invalid call target"), linux.getMessage());
    }

    @Test
    void theInterpreterCallsTheHelperOrTheFunctionByTheValue() {
        assertEquals(0x68ac, new Interpreter().runRaw(asm(CSUM_BY_ID), null).r0());
        assertEquals(41, new Interpreter().runRaw(asm("""
                lddw %r2, code fn
                callx %r2
                exit
                fn:
                mov %r0, 41
                exit
                """), null).r0());
        TrapException bad = assertThrows(TrapException.class, () -> new Interpreter().runRaw(asm("""
                mov %r2, -8
                callx %r2
                exit
                """), null));
        assertTrue(bad.getMessage().contains("callx target 0xfffffffffffffff8 is not a code address"), bad.getMessage());
    }

    /** A function address stays a callx: only proven helper ids are rewritten. */
    @Test
    void aFunctionAddressStaysACallx() {
        Program p = asm("lddw %r2, code fn\ncallx %r2\nexit\nfn:\nmov %r0, 1\nexit\n");
        VerifiedProgram v = Verifier.verify(p, Profile.RFC9669);
        assertInstanceOf(Insn.CallX.class, v.normalized().at(2));
        assertSame(p.type(), v.normalized().type());
    }

    @Test
    void refusesWhatNoSingleHelperExplains() {
        for (String text : new String[] {
                "call 7\nmov %r2, 5\njeq %r0, 0, +1\nmov %r2, 7\ncallx %r2\nexit\n",
                "call 7\nmov %r2, %r0\ncallx %r2\nexit\n",
                "mov %r2, -1\ncallx %r2\nexit\n"}) {
            VerificationException e = assertThrows(VerificationException.class, () -> Verifier.verify(asm(text), Profile.RFC9669));
            assertTrue(e.getMessage().contains(": invalid call target"), text + " -> " + e.getMessage());
        }
        VerificationException unknown = assertThrows(VerificationException.class,
                () -> Verifier.verify(asm("mov %r2, 9999\ncallx %r2\nexit\n"), Profile.RFC9669));
        assertTrue(unknown.getMessage().startsWith("1: unknown helper"), unknown.getMessage());
    }
}
