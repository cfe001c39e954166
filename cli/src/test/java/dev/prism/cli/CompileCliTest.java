package dev.prism.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.testing.Host;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompileCliTest {
    @TempDir
    Path tmp;

    private Path write(String text) throws IOException {
        Path p = tmp.resolve("p.s");
        Files.writeString(p, text);
        return p;
    }

    @Test
    void summaryListingAndBytes() throws IOException {
        Path src = write("ldxw %r0, [%r1+4]\nadd %r0, 1\nexit\n");
        CliTest.Result r = CliTest.prism("compile", "--target", "x86-64", "--mem-size", "8", src.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("compiled: p for x86-64, 3 BPF instructions -> "), r.out());

        Host.require("objdump", Host.onPath("objdump"), "objdump (Debian binutils) disassembles the listing");
        r = CliTest.prism("compile", "--target", "x86-64", "--mem-size", "8", "--listing", src.toString());
        assertEquals(0, r.exit(), r.err());
        // each BPF instruction, then what it became, disassembled
        assertTrue(r.out().contains("     0: ldxw %r0, [%r1+4]\n"), r.out());
        assertTrue(r.out().contains("mov eax,DWORD PTR [rdi+0x4]"), r.out());
        assertTrue(r.out().contains("     1: add %r0, 1\n"), r.out());
        assertTrue(r.out().contains("add rax,0x1"), r.out());

        Path out = tmp.resolve("p.bin");
        r = CliTest.prism("compile", "--target", "x86-64", "--mem-size", "8", "-o", out.toString(), src.toString());
        assertEquals(0, r.exit(), r.err());
        byte[] code = Files.readAllBytes(out);
        assertTrue(code.length > 16, "machine code written");
        assertArrayEquals(new byte[] {0x55}, new byte[] {code[0]}, "the entry starts with push rbp");
    }

    @Test
    void arm64SummaryListingAndBytes() throws IOException {
        Path src = write("ldxw %r0, [%r1+4]\nadd %r0, 1\nexit\n");
        CliTest.Result r = CliTest.prism("compile", "--target", "arm64", "--mem-size", "8", src.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("compiled: p for arm64, 3 BPF instructions -> "), r.out());

        r = CliTest.prism("compile", "--target", "arm64", "--mem-size", "8", "--listing", src.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("     0: ldxw %r0, [%r1+4]\n"), r.out());
        assertTrue(r.out().contains("     1: add %r0, 1\n"), r.out());
        if (Host.onPath("llvm-mc-19")) {
            // each BPF instruction, then its words and what llvm-mc-19 decodes them to
            assertTrue(r.out().contains("b9400407  ldr w7, [x0, #4]"), r.out());
            assertTrue(r.out().contains("910004e7  add x7, x7, #1"), r.out());
        } else {
            assertTrue(r.out().startsWith("; llvm-mc-19"), "the listing says why it is hex: " + r.out());
        }

        Path out = tmp.resolve("p.a64");
        r = CliTest.prism("compile", "--target", "arm64", "--mem-size", "8", "-o", out.toString(), src.toString());
        assertEquals(0, r.exit(), r.err());
        byte[] code = Files.readAllBytes(out);
        assertEquals(0, code.length % 4, "whole AArch64 instructions");
        assertArrayEquals(new byte[] {(byte) 0xfd, 0x7b, (byte) 0xbf, (byte) 0xa9}, java.util.Arrays.copyOf(code, 4),
                "the entry starts with stp x29, x30, [sp, #-16]!");
    }

    @Test
    void theVerifierGuardsTheJit() throws IOException {
        Path src = write("ldxw %r0, [%r1+8]\nexit\n");
        CliTest.Result r = CliTest.prism("compile", "--target", "x86-64", "--mem-size", "8", src.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("prism: rejected: 0: invalid memory access"), r.err());
    }

    @Test
    void badInputExitsTwo() throws IOException {
        Path src = write("mov %r0, 2\nexit\n");
        CliTest.Result r = CliTest.prism("compile", "--target", "x86-64", "--type", "xdp", "--mem-size", "4", src.toString());
        assertEquals(2, r.exit());
        r.assertOneLineError();
        r = CliTest.prism("compile", "--target", "nonesuch", src.toString());
        assertEquals(2, r.exit());
        r.assertOneLineError();
    }
}
