package dev.prism.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DataFileReaderTest {
    private static final Path F = Path.of("x.data");

    private static ConformanceCase parse(String text) {
        return DataFileReader.parse(F, "x.data", text);
    }

    @Test
    void readsAllSections() {
        ConformanceCase c = parse("""
                # a comment
                -- asm
                ldxb %r0, [%r1+1]
                exit
                -- mem
                00 ff
                -- result
                0xff
                """);
        assertEquals(2, c.line());
        assertInstanceOf(ConformanceCase.Source.Asm.class, c.source());
        assertArrayEquals(new byte[] {0, (byte) 0xff}, c.mem());
        assertEquals(new ConformanceCase.Expected.Result(0xff), c.expected());
        assertEquals("x.data:2", c.name());
    }

    @Test
    void readsRawDecimalAndNegativeAnd64BitResults() {
        assertEquals(new ConformanceCase.Expected.Result(-1),
                parse("-- raw\nb7 00 00 00 ff ff ff ff\n95 00 00 00 00 00 00 00\n-- result\n0xffffffffffffffff\n").expected());
        assertEquals(new ConformanceCase.Expected.Result(-1), parse("-- asm\nexit\n-- result\n18446744073709551615\n").expected());
        assertEquals(new ConformanceCase.Expected.Result(-5), parse("-- asm\nexit\n-- result\n-5\n").expected());
        assertEquals(new ConformanceCase.Expected.Error("call depth"), parse("-- asm\nexit\n-- error\ncall depth\n").expected());
    }

    @Test
    void reportsBadFilesWithFileAndLine() {
        assertMessage("-- asm\nexit\n-- frob\n-- result\n1\n", "x.data:3: unknown directive '-- frob'");
        assertMessage("-- asm\nexit\n", "no expectation");
        assertMessage("-- result\n1\n", "no program");
        assertMessage("-- asm\nexit\n-- mem\n0g\n-- result\n1\n", "x.data:3: expected hex bytes");
        assertMessage("-- asm\nexit\n-- result\n1\n-- error\nx\n", "x.data:5: second '-- error' section");
        assertMessage("-- asm\nexit\n-- result\nzero\n", "expected a 64-bit result");
        assertMessage("stray\n-- asm\nexit\n-- result\n1\n", "x.data:1: text before the first section");
    }

    private static void assertMessage(String text, String message) {
        SuiteFormatException e = assertThrows(SuiteFormatException.class, () -> parse(text));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
