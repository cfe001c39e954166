package dev.prism.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code prism compile --target nfp}: the legalized object, the listing of rewrites, every refusal with the driver's words. */
class NfpCliTest {
    @TempDir
    Path tmp;

    private static final String PACKET = "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 64\njgt %r4, %r3, out\n";

    private Path write(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void legalizesListsAndWritesTheObject() throws IOException {
        Path src = write("m.s", PACKET + "ldxb %r0, [%r2+13]\nmod %r0, 3\nexit\nout:\nmov %r0, 1\nexit\n");
        CliTest.Result r = CliTest.prism("compile", "--target", "nfp", "--type", "xdp", "--listing", src.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("; lifted: 6: opcode: [nfp] instruction 0x97 not supported"), r.out());
        assertTrue(r.out().contains("mod %r0, 3") && r.out().contains("becomes:") && r.out().contains(": div %r"), r.out());

        Path out = tmp.resolve("m.o");
        r = CliTest.prism("compile", "--target", "nfp", "--type", "xdp", "-o", out.toString(), src.toString());
        assertEquals(0, r.exit(), r.err());
        byte[] elf = Files.readAllBytes(out);
        assertArrayEquals(new byte[] {0x7f, 'E', 'L', 'F'}, Arrays.copyOf(elf, 4));
    }

    @Test
    void everyRefusalWithTheDriversMessage() throws IOException {
        Path src = write("k.s", "call 5\nmov %r6, 0\nstxdw [%r10-8], %r6\nmov %r1, 1\nlock fetch add [%r10-8], %r1\nmov %r0, 2\nexit\n");
        CliTest.Result r = CliTest.prism("compile", "--target", "nfp", "--type", "xdp", src.toString());
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.err().contains("prism: refused by nfp: 0: helper: [nfp] unsupported function id: 5"), r.err());
        assertTrue(r.err().contains("prism: refused by nfp: 4: atomic: [nfp] atomic op not implemented: 1"), r.err());
    }

    @Test
    void theFirmwareProfileComesFromTheOption() throws IOException {
        Path src = write("r.s", "call 7\nmov %r0, 2\nexit\n");
        assertEquals(0, CliTest.prism("compile", "--target", "nfp", "--type", "xdp", src.toString()).exit());
        Path profile = write("fw.json", "{\"name\": \"no-random\", \"helpers\": [1, 2, 3]}");
        CliTest.Result r = CliTest.prism("compile", "--target", "nfp", "--type", "xdp", "--nfp-profile", profile.toString(),
                src.toString());
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.err().contains("[nfp] bpf_get_prandom_u32(): FW doesn't support random number generation"), r.err());
        assertNull(System.getProperty("prism.nfp.profile"), "the option does not outlive the command");

        Path bad = write("bad.json", "{\"stackBytes\": \"big\"}");
        r = CliTest.prism("compile", "--target", "nfp", "--type", "xdp", "--nfp-profile", bad.toString(), src.toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("'stackBytes' must be an integer"), r.err());
    }
}
