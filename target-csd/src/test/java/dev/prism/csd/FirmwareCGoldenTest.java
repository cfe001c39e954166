package dev.prism.csd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Assembler;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import org.junit.jupiter.api.Test;

/**
 * The firmware C of a small csd program against a reviewed golden file (golden/corners.c): a
 * sign-extending load, 32-bit signed division by -1, a bpf-to-bpf call, a masked 32-bit shift,
 * be16, a 32-bit fetch-xor, unsigned modulo, the packet bounds check. Regenerate with
 * {@code -Dprism.golden.update=true} after a deliberate change, and review the diff.
 */
class FirmwareCGoldenTest {
    @Test
    void cornersLowerAsReviewed() throws Exception {
        String src = FirmwareC.resource("/dev/prism/csd/golden/corners.s");
        Program p = Program.builder("golden", ProgramType.CSD, Assembler.assemble(src)).build();
        String c = FirmwareC.lower(Verifier.verify(p, Profile.RFC9669));
        assertTrue(c.contains(FirmwareC.runtime()), "the runtime header is pasted in");
        String functions = c.substring(c.indexOf(FirmwareC.runtime()) + FirmwareC.runtime().length());
        if (Boolean.getBoolean("prism.golden.update")) {
            java.nio.file.Files.writeString(java.nio.file.Path.of("src/test/resources/dev/prism/csd/golden/corners.c"), functions);
        }
        assertEquals(FirmwareC.resource("/dev/prism/csd/golden/corners.c"), functions);
    }
}
