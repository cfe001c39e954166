package dev.prism.nfp;

import dev.prism.asm.Assembler;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import org.junit.jupiter.api.Test;

class NfpSmokeTest {
    @Test
    void smoke() {
        String[] progs = {
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxb %r0, [%r2+13]\nmod %r0, 3\nexit\nout:\nmov %r0, 2\nexit",
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxb %r0, [%r2+13]\nldxsb %r5, [%r2+12]\nsdiv %r0, -3\nsmod %r5, 7\nadd %r0, %r5\nstw [%r10-8], 5\nldxw %r6, [%r10-8]\nadd %r0, %r6\nexit\nout:\nmov %r0, 2\nexit",
        };
        for (String s : progs) {
            Program p = Assembler.assemble("t", ProgramType.XDP, s);
            var vp = Verifier.verify(p, Profile.RFC9669);
            var reasons = NfpChecker.check(vp, NfpProfile.agilioCx(), NfpChecker.Options.STRICT);
            reasons.forEach(System.out::println);
            var r = NfpLegalizer.legalize(vp, reasons, NfpProfile.agilioCx(), NfpChecker.Options.STRICT);
            System.out.println(NfpLegalizer.listing(p, r));
        }
    }
}
