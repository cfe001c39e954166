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

    private static final String PACKET = "-- packet\n" + "00".repeat(14) + "\n";

    @Test
    void readsTheExtensions() {
        ConformanceCase c = parse("""
                -- type
                xdp
                -- asm
                mov %r0, 2
                exit
                -- maps
                h hash key 4 value 8 entries 16
                lpm lpm_trie key 8 value 4 entries 4 flags 0x1
                rb ringbuf key 0 value 0 entries 4096
                jmp prog_array key 4 value 4 entries 2
                pc percpu_array key 4 value 4 entries 1
                -- map-init
                h 01000000 0200000000000000   # a comment
                jmp 00000000 target
                pc 00000000 05000000
                -- packet
                00112233445566778899aabb 0800
                -- maps-after
                h 01000000 0300000000000000
                h 02000000 absent
                ringbuf rb 0102
                ringbuf rb 03
                -- packet-after
                0011
                -- result
                2
                """);
        assertEquals(dev.prism.program.ProgramType.XDP, c.type());
        assertEquals(14, c.packet().length);
        assertArrayEquals(new byte[] {0, 0x11}, c.packetAfter());
        assertEquals(5, c.maps().size());
        assertEquals(new ConformanceCase.MapDecl("lpm", dev.prism.program.MapType.LPM_TRIE, 8, 4, 4, 1), c.maps().get(1));
        assertEquals("lpm", c.mapDefs().get(1).name());
        assertEquals(3, c.mapInit().size());
        assertEquals("target", c.mapInit().get(1).value());
        assertEquals(3, c.mapsAfter().size());
        assertInstanceOf(ConformanceCase.MapCheck.Value.class, c.mapsAfter().get(0));
        assertInstanceOf(ConformanceCase.MapCheck.Absent.class, c.mapsAfter().get(1));
        ConformanceCase.MapCheck.Ring ring = assertInstanceOf(ConformanceCase.MapCheck.Ring.class, c.mapsAfter().get(2));
        assertEquals(2, ring.records().size());
        assertArrayEquals(new byte[] {3}, ring.records().get(1));
        assertEquals(5, c.program().maps().size());

        ConformanceCase elf = parse("-- elf\nfile: src/x.c\nsection: xdp\nsection: other\n" + PACKET
                + "-- map-init\njmp 00000000 other\n-- maps-after\n.bss 00000000 01000000\n-- result\n1\n");
        ConformanceCase.Source.Elf source = assertInstanceOf(ConformanceCase.Source.Elf.class, elf.source());
        assertEquals("src/x.c", source.file());
        assertEquals(java.util.List.of("xdp", "other"), source.sections());
        assertTrue(elf.isElf());
    }

    @Test
    void readsTcSkbFields() {
        ConformanceCase c = DataFileReader.parse(java.nio.file.Path.of("x.data"), "x.data", "-- type\ntc\n-- asm\nmov %r0, 0\nexit\n"
                + PACKET + "-- skb\nmark 0x10\ncb 0102030405060708090a0b0c0d0e0f1011121314\n-- result\n0\n"
                + "-- skb-after\npriority 3\ntc_classid 9\n");
        assertEquals(dev.prism.program.ProgramType.TC, c.type());
        assertEquals(new dev.prism.target.SkbFields(16, 0, java.util.HexFormat.of().parseHex("0102030405060708090a0b0c0d0e0f1011121314"),
                null), c.skb());
        assertEquals(new dev.prism.target.SkbFields(16, 3, c.skb().cb(), 9), c.skbAfter(), "unnamed fields keep their input values");
    }

    @Test
    void rejectsMalformedExtensions() {
        assertMessage("-- type\nxdp\n-- asm\nexit\n-- result\n2\n", "an xdp case needs -- packet");
        assertMessage("-- type\nxdp\n-- asm\nexit\n-- mem\n00\n" + PACKET + "-- result\n2\n", "takes -- packet, not -- mem");
        assertMessage("-- type\nbpf\n-- asm\nexit\n-- result\n2\n", "-- type is 'raw', 'xdp' or 'tc'");
        assertMessage("-- type\ntc\n-- asm\nexit\n-- result\n2\n", "a tc case needs -- packet");
        assertMessage("-- type\nxdp\n-- asm\nexit\n" + PACKET + "-- skb\nmark 1\n-- result\n2\n", "-- skb needs -- type tc");
        assertMessage("-- type\ntc\n-- asm\nexit\n" + PACKET + "-- skb\ntc_classid 1\n-- result\n2\n", "tc_classid is not an input");
        assertMessage("-- type\ntc\n-- asm\nexit\n" + PACKET + "-- skb\ncb 00\n-- result\n2\n", "cb holds 20 bytes");
        assertMessage("-- type\ntc\n-- asm\nexit\n" + PACKET + "-- skb\nflavour 1\n-- result\n2\n", "unknown skb field 'flavour'");
        assertMessage("-- asm\nexit\n" + PACKET + "-- result\n2\n", "-- packet needs -- type xdp");
        assertMessage("-- type\nxdp\n-- asm\nexit\n-- packet\n0011\n-- result\n2\n", "needs at least 14");
        assertMessage("-- type\nxdp\n-- asm\nexit\n" + PACKET + "-- result\n0x100000000\n", "an xdp program's result is a u32");
        assertMessage("-- asm\nexit\n-- maps\nh hash key 4 value 8\n-- result\n0\n", "expected 'NAME TYPE key K value V entries N");
        assertMessage("-- asm\nexit\n-- maps\nh flowmap key 4 value 8 entries 1\n-- result\n0\n", "unknown map type 'flowmap'");
        assertMessage("-- asm\nexit\n-- maps\nringbuf ringbuf key 0 value 0 entries 4096\n-- result\n0\n", "bad map name 'ringbuf'");
        assertMessage("-- asm\nexit\n-- maps\nh hash key 4 value 8 entries 1\nh array key 4 value 8 entries 1\n-- result\n0\n",
                "second map named 'h'");
        assertMessage("-- asm\nexit\n-- map-init\nh 00 00\n-- result\n0\n", "no map 'h' in -- maps (the case declares none)");
        assertMessage("-- asm\nexit\n-- maps\nh hash key 4 value 8 entries 1\n-- map-init\nh 0000 0000000000000000\n-- result\n0\n",
                "x.data:6: key of 2 bytes for map 'h', whose key size is 4");
        assertMessage("-- asm\nexit\n-- maps\nh hash key 4 value 8 entries 1\n-- map-init\nh 00000000 zz\n-- result\n0\n",
                "the value must be hex bytes");
        assertMessage("-- asm\nexit\n-- maps\nh percpu_hash key 4 value 8 entries 1\n-- map-init\nh 00000000 0000000000000000\n-- result\n0\n",
                "per-CPU hash 'h' cannot be initialized");
        assertMessage("-- asm\nexit\n-- maps\nh hash key 4 value 8 entries 1\n-- maps-after\nh 00000000 absent\n-- error\nx\n",
                "-- maps-after only goes with -- result");
        assertMessage("-- asm\nexit\n-- maps\nh hash key 4 value 8 entries 1\n-- maps-after\nringbuf h 00\n-- result\n0\n",
                "map 'h' is a hash, not a ringbuf");
        assertMessage("-- asm\nexit\n-- maps\nr ringbuf key 0 value 0 entries 4096\n-- maps-after\nringbuf r none\nringbuf r 00\n-- result\n0\n",
                "must be the only line");
        assertMessage("-- elf\nfile: x.c\nsection: xdp\n-- maps\nh hash key 4 value 8 entries 1\n-- result\n0\n",
                "-- maps does not go with -- elf");
        assertMessage("-- elf\nfile: x.c\nsection: xdp\n-- type\nxdp\n-- result\n0\n", "-- type does not go with -- elf");
        assertMessage("-- elf\nfile: ../x.c\nsection: xdp\n-- result\n0\n", "names a .c file next to the .data file");
        assertMessage("-- elf\nfile: x.c\n-- result\n0\n", "-- elf needs a 'section: S' line");
        assertMessage("-- elf\nsection: xdp\n-- result\n0\n", "-- elf needs a 'file: NAME.c' line");
        assertMessage("-- asm\nexit\n-- elf\nfile: x.c\nsection: xdp\n-- result\n0\n", "second '-- elf' section (one program per file");
    }

    /** bpf_conformance's own layout (its tests/ folder): ignored sections, asm next to raw, raw as 64-bit words. */
    @Test
    void readsUpstreamFilesAsUpstreamDoes() {
        ConformanceCase c = parse("""
                # Copyright line
                -- c
                int entry(void) { return 1; }
                -- asm
                lddw %r0, 0x1122334455667788
                exit
                -- raw
                0x5566778800000018
                0x1122334400000000
                0x0000000000000095
                -- result
                0x1122334455667788
                -- no register offset
                call instruction
                """);
        ConformanceCase.Source.Raw raw = assertInstanceOf(ConformanceCase.Source.Raw.class, c.source());
        assertArrayEquals(java.util.HexFormat.of().parseHex(
                "1800000088776655" + "0000000044332211" + "9500000000000000"), raw.bytes());
        assertEquals(7, c.line());
        assertEquals(new ConformanceCase.Expected.Result(0x1122334455667788L), c.expected());
        // raw first and asm after it: still the raw words; a word without 0x is decimal (149 = exit)
        ConformanceCase d = parse("-- raw\n0x00000001000000b7\n149\n-- asm\nexit\n-- result\n1\n");
        assertArrayEquals(java.util.HexFormat.of().parseHex("b700000001000000" + "9500000000000000"),
                assertInstanceOf(ConformanceCase.Source.Raw.class, d.source()).bytes());
        assertMessage("-- raw\n0x1 0xg\n-- result\n1\n", "x.data:1: expected one 64-bit instruction per word");
        assertMessage("-- raw\n0x11112222333344445\n-- result\n1\n", "found '0x11112222333344445'");
        // Prism's byte pairs are unchanged, and -- elf still takes no second program
        assertMessage("-- elf\nfile: a.c\nsection: xdp\n-- asm\nexit\n-- result\n1\n", "second '-- asm' section");
        assertMessage("-- asm\nexit\n-- asm\nexit\n-- result\n1\n", "second '-- asm' section");
    }

    @Test
    void anUnknownDirectiveSkipsItsFileOnlyWhenLoading(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("a.data"), "-- asm\nmov %r0, 1\nexit\n-- result\n1\n");
        java.nio.file.Files.writeString(dir.resolve("b.data"), "# x\n-- asm\nexit\n-- frobnicate\n-- result\n1\n");
        java.nio.file.Files.writeString(dir.resolve("c.data"), "-- asm\nexit\n-- mem\nzz\n-- result\n1\n");
        DataFileReader.Loaded loaded = DataFileReader.load(dir);
        assertEquals(java.util.List.of("a.data"), loaded.cases().stream().map(ConformanceCase::id).toList());
        assertEquals(2, loaded.unread().size());
        DataFileReader.Unread b = loaded.unread().get(0);
        assertEquals("b.data", b.id());
        assertTrue(b.skipped());
        assertTrue(b.message().endsWith("b.data:4: unknown directive '-- frobnicate' (known: -- asm, -- raw, -- elf, -- type, "
                + "-- mem, -- packet, -- maps, -- map-init, -- maps-after, -- packet-after, -- result, -- error, -- skb, -- skb-after; "
                + "ignored: -- no register offset, -- c)"), b.message());
        assertEquals("c.data", loaded.unread().get(1).id());
        assertTrue(!loaded.unread().get(1).skipped(), "a malformed section is an error, not a skip");
        assertThrows(UnknownDirectiveException.class, () -> DataFileReader.readSuite(dir));
    }

    private static void assertMessage(String text, String message) {
        SuiteFormatException e = assertThrows(SuiteFormatException.class, () -> parse(text));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
