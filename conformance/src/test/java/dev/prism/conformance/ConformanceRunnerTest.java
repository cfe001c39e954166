package dev.prism.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConformanceRunnerTest {
    private static final Target INTERPRETER = Targets.byId("interpreter");

    private static ConformanceCase parse(String id, String text) {
        return DataFileReader.parse(Path.of(id), id, text);
    }

    private static final ConformanceCase GOOD = parse("a/good.data", "-- asm\nmov %r0, 3\nexit\n-- result\n3\n");
    private static final ConformanceCase WRONG = parse("a/wrong.data", "-- asm\nmov %r0, 3\nexit\n-- result\n4\n");
    private static final ConformanceCase TRAP = parse("a/trap.data", "-- asm\nldxw %r0, [%r1+0]\nexit\n-- error\ninvalid load\n");
    private static final ConformanceCase MALFORMED = parse("a/bad.data", "-- raw\nff00000000000000\n-- error\nunknown opcode 0xff\n");

    @Test
    void judgesResultsErrorsAndMalformedInput() {
        ConformanceRunner runner = new ConformanceRunner(KnownDifferences.none());
        assertEquals(Status.PASS, runner.runOne(GOOD, INTERPRETER).status());
        CaseResult wrong = runner.runOne(WRONG, INTERPRETER);
        assertEquals(Status.FAIL, wrong.status());
        assertEquals("0x3", wrong.actual());
        assertEquals(Status.PASS, runner.runOne(TRAP, INTERPRETER).status());
        assertEquals(Status.PASS, runner.runOne(MALFORMED, INTERPRETER).status());
        assertEquals("malformed", runner.runOne(MALFORMED, INTERPRETER).group());
        // an error case whose program returns normally fails
        ConformanceCase noTrap = parse("a/notrap.data", "-- asm\nmov %r0, 0\nexit\n-- error\ninvalid load\n");
        assertEquals(Status.FAIL, runner.runOne(noTrap, INTERPRETER).status());
    }

    @Test
    void knownDifferencesTurnFailuresIntoSkipsAndPassesIntoStaleEntries() {
        KnownDifferences known = new KnownDifferences(List.of(
                new KnownDifferences.Entry("interpreter", "a/wrong*.data", "test of the mechanism", 1),
                new KnownDifferences.Entry("interpreter", "a/good.data", "no longer differs", 2)));
        ConformanceRunner runner = new ConformanceRunner(known);
        CaseResult wrong = runner.runOne(WRONG, INTERPRETER);
        assertEquals(Status.SKIP, wrong.status());
        assertTrue(wrong.message().startsWith("known difference: test of the mechanism"), wrong.message());
        assertEquals(Status.PASS, runner.runOne(GOOD, INTERPRETER).status());
        assertEquals(1, runner.staleEntries().size());
        assertEquals("a/good.data", runner.staleEntries().get(0).glob());
    }

    @Test
    void selectionFiltersByGroupAndCpuVersion() {
        ConformanceCase sdiv = parse("s.data", "-- asm\nmov %r0, 6\nsdiv %r0, 2\nexit\n-- result\n3\n");
        ConformanceCase mov32 = parse("m.data", "-- asm\nmov32 %r0, 1\nexit\n-- result\n1\n");
        assertFalse(new Selection(CpuVersion.V3, EnumSet.allOf(Group.class)).includes(sdiv), "sdiv is v4");
        assertTrue(new Selection(CpuVersion.V4, EnumSet.of(Group.DIVMUL64, Group.BASE64)).includes(sdiv));
        assertFalse(new Selection(CpuVersion.V4, EnumSet.of(Group.BASE64)).includes(sdiv), "sdiv is divmul64");
        assertTrue(new Selection(CpuVersion.V1, EnumSet.of(Group.BASE32)).includes(mov32));
        assertEquals("divmul64", Selection.groupOf(sdiv));
        assertEquals("base32", Selection.groupOf(mov32));
    }

    @Test
    void mapCasesApplyMapInitAndCheckMapsAfter() {
        ConformanceRunner runner = new ConformanceRunner(KnownDifferences.none());
        String program = """
                -- asm
                lddw %r1, map_value_fd 1, 0
                ldxdw %r0, [%r1+0]
                stdw [%r1+0], 9
                exit
                -- maps
                a array key 4 value 8 entries 1
                b array key 4 value 8 entries 1
                -- map-init
                b 00000000 0500000000000000
                -- result
                5
                -- maps-after
                """;
        CaseResult good = runner.runOne(parse("m/good.data", program + "b 00000000 0900000000000000\na 00000000 0000000000000000\n"), INTERPRETER);
        assertEquals(Status.PASS, good.status(), good.message());
        CaseResult bad = runner.runOne(parse("m/bad.data", program + "b 00000000 0800000000000000\n"), INTERPRETER);
        assertEquals(Status.FAIL, bad.status());
        assertEquals("r0 is 0x5 as expected, but map b key 00000000: expected 0800000000000000, actual 0900000000000000",
                bad.message());
        CaseResult absent = runner.runOne(parse("m/absent.data", program + "a 00000000 absent\n"), INTERPRETER);
        assertEquals(Status.FAIL, absent.status());
        assertTrue(absent.message().contains("map a key 00000000: expected absent, actual 0000000000000000"), absent.message());
    }

    @Test
    void mapFdsBecomeMapIndicesInDeclarationOrder() {
        ConformanceCase c = parse("m/fd.data", """
                -- asm
                lddw %r1, map_fd 1
                lddw %r2, map_value_fd 0, 4
                lddw %r3, 7
                exit
                -- maps
                a array key 4 value 8 entries 1
                b array key 4 value 8 entries 1
                -- result
                0
                """);
        dev.prism.isa.Insn[] loaded = c.programs().getFirst().slots();
        assertEquals(new dev.prism.isa.Insn.LoadImm64(dev.prism.isa.LoadImm64Kind.MAP_BY_IDX, dev.prism.isa.Reg.R1, 1, 0), loaded[0]);
        assertEquals(new dev.prism.isa.Insn.LoadImm64(dev.prism.isa.LoadImm64Kind.MAP_VALUE_BY_IDX, dev.prism.isa.Reg.R2, 0, 4), loaded[2]);
        assertEquals(dev.prism.isa.Insn.LoadImm64.of(dev.prism.isa.Reg.R3, 7), loaded[4]);
        // coverage and selection see the program as written
        assertEquals(dev.prism.isa.LoadImm64Kind.MAP_BY_FD, ((dev.prism.isa.Insn.LoadImm64) c.slotsOrNull()[0]).kind());
        assertEquals(2, c.programs().getFirst().maps().size());
    }

    @Test
    void elfCasesSkipWithoutTheCompiler(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path data = dir.resolve("e.data");
        ConformanceCase c = DataFileReader.parse(data, "e.data",
                "-- elf\nfile: absent.c\nsection: xdp\n-- packet\n" + "00".repeat(14) + "\n-- result\n2\n");
        ConformanceRunner runner = new ConformanceRunner(KnownDifferences.none());
        // a missing source is the suite's error
        CaseResult missingSource = runner.runOne(c, INTERPRETER);
        assertEquals(Status.ERROR, missingSource.status());
        assertTrue(missingSource.message().contains("cannot read the case's C source"), missingSource.message());
        // a source that is not in the cache, and no compiler
        java.nio.file.Files.writeString(dir.resolve("absent.c"), "/* " + System.nanoTime() + " */ int x;\n");
        ElfCompiler.withCompiler("prism-no-such-clang", () -> {
            CaseResult r = runner.runOne(c, INTERPRETER);
            assertEquals(Status.SKIP, r.status(), r.message());
            assertEquals("clang-19 not installed", r.message());
            assertEquals("elf", r.group());
        });
    }

    @Test
    void jsonReportHasTheDocumentedShape() throws Exception {
        ConformanceRunner runner = new ConformanceRunner(KnownDifferences.none());
        List<CaseResult> results = new ArrayList<>(runner.run(List.of(GOOD, WRONG), List.of(INTERPRETER), r -> { }));
        Report report = new Report(List.of("interpreter"), results, runner.staleEntries());
        assertFalse(report.ok());
        JsonNode json = new ObjectMapper().readTree(report.json());
        JsonNode t = json.get("targets").get("interpreter");
        assertEquals(1, t.get("passed").asInt());
        assertEquals(1, t.get("failed").asInt());
        assertEquals(0, t.get("skipped").asInt());
        assertEquals(2, t.get("groups").get("base64").get("passed").asInt() + t.get("groups").get("base64").get("failed").asInt());
        JsonNode c = json.get("cases").get(1);
        assertEquals("a/wrong.data", c.get("file").asText());
        assertEquals(1, c.get("line").asInt());
        assertEquals("fail", c.get("status").asText());
        assertEquals("0x4", c.get("expected").asText());
        assertEquals("0x3", c.get("actual").asText());
        assertTrue(report.text().contains("a/wrong.data:1 [interpreter]"), report.text());
        assertTrue(report.junit().contains("<failure message="), report.junit());
        assertTrue(report.markdown().contains("| base64 | 1/1/0 |"), report.markdown());
    }
    /**
     * The HTML page: well-formed XHTML-compatible markup whose chart has one bar segment per
     * status present, sized by its share, for each group and target; the failures listed by case.
     */
    @Test
    void htmlReportDrawsTheMatrix() throws Exception {
        ConformanceRunner runner = new ConformanceRunner(KnownDifferences.none());
        ConformanceCase skipped = parse("a/skip.data", "-- asm\nmov %r0, 3\nexit\n-- result\n3\n");
        List<CaseResult> results = new ArrayList<>(runner.run(List.of(GOOD, WRONG, GOOD), List.of(INTERPRETER), r -> { }));
        results.add(new CaseResult(skipped, "interpreter", "base64", Status.SKIP, "0x3", "", "not supported: a reason"));
        Report report = new Report(List.of("interpreter"), results, List.of(),
                List.of(new DataFileReader.Unread(Path.of("u.data"), "u.data", "u.data:4: unknown directive '-- x'", true)));
        String html = report.html();
        // the SVG is XML: parse it on its own
        String svg = html.substring(html.indexOf("<svg"), html.indexOf("</svg>") + 6);
        org.w3c.dom.Document doc = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new java.io.ByteArrayInputStream(svg.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        org.w3c.dom.NodeList titles = doc.getElementsByTagName("title");
        List<String> cells = new ArrayList<>();
        for (int i = 0; i < titles.getLength(); i++) {
            cells.add(titles.item(i).getTextContent());
        }
        // base64: 2 passed, 1 failed, 1 skipped; unread: 1 skipped; total: 2/1/2
        assertEquals(List.of("2 passed, 1 failed, 1 skipped", "0 passed, 0 failed, 1 skipped", "2 passed, 1 failed, 2 skipped"), cells);
        org.w3c.dom.NodeList rects = doc.getElementsByTagName("rect");
        List<String> widths = new ArrayList<>();
        for (int i = 0; i < rects.getLength(); i++) {
            org.w3c.dom.Element r = (org.w3c.dom.Element) rects.item(i);
            if (!r.getAttribute("fill").equals("#f4f4f4") && !r.getAttribute("width").equals("12")) {
                widths.add(r.getAttribute("fill") + " " + r.getAttribute("width"));
            }
        }
        // a cell is 150 wide: 2/4, 1/4, 1/4 of it; then 1/1; then 2/5, 1/5, 2/5
        assertEquals(List.of("#2e9a4a 75.00", "#d0342c 37.50", "#b4b8bd 37.50", "#b4b8bd 150.00",
                "#2e9a4a 60.00", "#d0342c 30.00", "#b4b8bd 60.00"), widths);
        assertTrue(html.contains("<td class=\"l\"><code>a/wrong.data:1</code></td>"), html);
        assertTrue(html.contains("unknown directive"), html);
        assertTrue(report.text().lines().anyMatch(l -> l.matches("unread +0/0/1")), report.text());
        assertFalse(report.ok(), "the wrong case fails the run");
        assertTrue(new Report(List.of("interpreter"), results.subList(0, 1), List.of(), report.unread()).ok(),
                "a file skipped for an unknown directive does not fail the run");
    }
}
