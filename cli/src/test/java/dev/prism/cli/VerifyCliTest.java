package dev.prism.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyCliTest {
    @TempDir
    Path tmp;

    private static final String CHECKED = """
            ldxw %r2, [%r1+0]
            ldxw %r3, [%r1+4]
            mov %r4, %r2
            add %r4, 16
            jgt %r4, %r3, out
            ldxw %r0, [%r2+12]
            out:
            mov %r0, 2
            exit
            """;

    private Path write(String text) throws IOException {
        Path p = tmp.resolve("p.s");
        Files.writeString(p, text);
        return p;
    }

    @Test
    void acceptedProgramsExitZeroWithASummary() throws IOException {
        CliTest.Result r = CliTest.prism("verify", "--type", "xdp", write(CHECKED).toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("accepted: p (rfc9669), 8 instructions, "), r.out());
    }

    @Test
    void rejectionsNameThePcAndReasonAndExitOne() throws IOException {
        CliTest.Result r = CliTest.prism("verify", "--type", "xdp", write(CHECKED.replace("add %r4, 16", "add %r4, 15")).toString());
        assertEquals(1, r.exit());
        assertEquals("prism: rejected: 5: invalid packet access (off=12 size=4 (proven range 0..15))\n", r.err());
    }

    @Test
    void profilesDiffer() throws IOException {
        Path p = write("mov %r0, 1\nlsh %r0, 65\nmov %r0, 2\nexit\n");
        assertEquals(0, CliTest.prism("verify", "--type", "xdp", p.toString()).exit(), "RFC 9669 masks the shift");
        CliTest.Result linux = CliTest.prism("verify", "--type", "xdp", "--profile", "linux", p.toString());
        assertEquals(1, linux.exit());
        assertTrue(linux.err().contains("1: invalid shift"), linux.err());
    }

    @Test
    void logShowsTheStatePerInstruction() throws IOException {
        CliTest.Result r = CliTest.prism("verify", "--type", "xdp", "--log", write(CHECKED).toString());
        assertTrue(r.out().contains("   4: jgt %r4, %r3, +1                     ; r2=pkt r3=pkt_end r4=pkt+16"), r.out());
        assertTrue(r.out().contains("ranges={0=16}"), r.out());
    }

    @Test
    void badInputExitsTwo() throws IOException {
        CliTest.Result r = CliTest.prism("verify", "--profile", "bsd", write(CHECKED).toString());
        assertEquals(2, r.exit());
        r.assertOneLineError();
    }
}
