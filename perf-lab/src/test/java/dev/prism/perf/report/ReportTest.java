package dev.prism.perf.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.prism.perf.BenchResult;
import dev.prism.perf.Stats;
import dev.prism.perf.Synthetic;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

class ReportTest {
    private final BenchResult result = Synthetic.result();

    @Test
    void markdownHasATablePerPacketAndTheSummaries() {
        String md = MarkdownReport.render(result);
        assertTrue(md.startsWith("# prism bench\n"), md);
        assertTrue(md.contains("## Time per run, 64 B"), md);
        assertTrue(md.contains("## Geometric mean of floor-corrected ratios vs linux"), md);
        assertTrue(md.contains("## Floors"), md);
        assertTrue(md.contains("3 measured rounds that interleave the targets: a round is one batch of every program "
                + "and packet of every target, the targets' order rotated from round to round"), md);
        assertTrue(md.contains("## Compile time"), md);
        assertTrue(md.contains("arm64 (unavailable: no libunicorn)"), "unavailable targets are named once: " + md);
        assertTrue(md.contains("| a | interpreter | XDP_PASS | 3,000 | ±0.5% |  | 1,000 | 2,000 | 100× |  |"), md);
        assertTrue(md.contains("| a | x86-64 | XDP_PASS | 30.0 | ±0.5% |  | 20.0 | 10.0 | 0.50× |  |"), md);
        assertTrue(md.contains("| interpreter | 100× (2) |"), md);
        assertTrue(md.contains("not supported: helper 1 \\| map lookup"), "a '|' in a message is escaped: " + md);
        assertTrue(md.contains("| a | 10 | 55.0 µs | 2.00 µs (verify 1.00 µs) | not supported: xdp |"), md);
        assertFalse(md.lines().anyMatch(l -> l.startsWith("| a | arm64")), "no rows for a target that did not run");
    }

    /**
     * A run on the CPU clock with both clocks measured, linux's kernel duration and fixed cost,
     * and the machine's conditions: the text says which clock the ratios use and shows the other,
     * the Linux clocks table has the kernel's duration, the JSON carries all of it.
     */
    @Test
    void reportsBothClocksTheKernelsDurationAndTheConditions() throws Exception {
        BenchResult.Settings s = result.settings();
        Stats cpu = Stats.of(29.0, 30.0, 31.0);
        Stats wall = Stats.of(40.0, 41.0, 42.0);
        BenchResult.Measurement linux = BenchResult.Measurement.ok("XDP_PASS", 100, cpu, wall, cpu,
                new BenchResult.KernelClocks(Stats.of(29.0, 30.0, 31.0), Stats.of(1_500.0, 1_600.0, 1_700.0), null));
        List<BenchResult.ProgramResult> programs = new java.util.ArrayList<>(result.programs());
        BenchResult.ProgramResult a = programs.getFirst();
        List<BenchResult.Run> runs = new java.util.ArrayList<>(a.runs());
        runs.set(0, BenchResult.Run.of("linux", "64 B", linux));
        programs.set(0, new BenchResult.ProgramResult(a.name(), a.instructions(), a.programs(), runs, a.compile()));
        BenchResult.Conditions conditions = new BenchResult.Conditions("performance (2 CPUs)", "1", true, 1, "0",
                "0.50 0.40 0.30", "0.60 0.40 0.30", "2/100", List.of("linux: timed around the system call"));
        BenchResult r = dev.prism.perf.Comparison.derive(new BenchResult(result.host(),
                new BenchResult.Settings(s.repeat(), s.batchMillis(), s.batches(), s.warmupMillis(), s.compileRepeat(),
                        s.baseline(), s.epsilonNs(), s.floorProgram(), "cpu"),
                result.targets(), result.packets(), result.floors(), programs, List.of(), conditions));
        String md = MarkdownReport.render(r);
        assertTrue(md.contains("| program | target | action | ns/run (cpu) | spread | wall | floor |"), md);
        assertTrue(md.contains("| a | linux | XDP_PASS | 30.0 | ±1.7% | 41.0 | 10.0 | 20.0 | 1.00× |  |"), md);
        assertTrue(md.contains("## Linux clocks"), md);
        assertTrue(md.contains("| a | 64 B | 41.0 | 30.0 | 30.0 | 1.60 µs |  |"), md);
        assertTrue(md.contains("Conditions: CPU governor performance (2 CPUs); measuring thread pinned to CPU 1 (--pin 1); "
                + "kernel.bpf_stats_enabled 0; load average 0.50 0.40 0.30 at the start (runnable/total 2/100), "
                + "0.60 0.40 0.30 at the end"), md);
        assertTrue(md.contains("Timing: linux: timed around the system call."), md);
        JsonNode doc = new ObjectMapper().readTree(JsonReport.render(r));
        assertEquals("cpu", doc.get("settings").get("clock").asText());
        assertEquals("performance (2 CPUs)", doc.get("conditions").get("governors").asText());
        assertTrue(doc.get("conditions").get("pinned").asBoolean());
        JsonNode m = doc.get("programs").get(0).get("runs").get(0).get("measurement");
        assertEquals(41.0, m.get("wallNs").get("median").asDouble());
        assertEquals(30.0, m.get("cpuNs").get("median").asDouble());
        assertEquals(30.0, m.get("linux").get("kernelNs").get("median").asDouble());
        assertEquals(1_600.0, m.get("linux").get("fixedWallNs").get("median").asDouble());
    }

    @Test
    void withoutABaselineThereIsNoRatioColumn() {
        BenchResult.Settings s = result.settings();
        BenchResult other = dev.prism.perf.Comparison.derive(new BenchResult(result.host(),
                new BenchResult.Settings(s.repeat(), s.batchMillis(), s.batches(), s.warmupMillis(), s.compileRepeat(),
                        "arm64", s.epsilonNs(), s.floorProgram()),
                result.targets(), result.packets(), result.floors(), result.programs(), List.of()));
        String md = MarkdownReport.render(other);
        assertTrue(md.contains("| program | target | action | ns/run (wall) | spread | cpu | floor | corrected | note |"), md);
        assertFalse(md.contains("Geometric mean"), md);
        assertTrue(md.contains("| a | interpreter | XDP_PASS | 3,000 | ±0.5% |  | 1,000 | 2,000 |  |"), md);
    }

    @Test
    void everyMarkdownTableRowHasTheHeadersColumnCount() {
        int columns = -1;
        for (String line : MarkdownReport.render(result).lines().toList()) {
            if (!line.startsWith("|")) {
                columns = -1;
                continue;
            }
            int cells = line.replace("\\|", "").split("\\|", -1).length - 2;
            if (columns < 0) {
                columns = cells;
            }
            assertEquals(columns, cells, line);
        }
    }

    @Test
    void jsonIsOneDocumentOfTheResult() throws Exception {
        JsonNode doc = new ObjectMapper().readTree(JsonReport.render(result));
        assertEquals("linux", doc.get("settings").get("baseline").asText());
        assertEquals(4, doc.get("targets").size());
        JsonNode b = doc.get("programs").get(1);
        assertEquals("b", b.get("name").asText());
        JsonNode x86 = b.get("runs").get(2);
        assertEquals("x86-64", x86.get("target").asText());
        assertEquals("not-supported", x86.get("measurement").get("status").asText());
        assertFalse(x86.has("ratio"), "absent values are left out, not null");
        JsonNode interp = doc.get("programs").get(0).get("runs").get(1);
        assertEquals(100.0, interp.get("ratio").asDouble(), 1e-9);
        assertEquals(100.0, interp.get("pairedRatio").asDouble(), 1e-9, "each round (3000 - 1000) / (30 - 10), scaled alike");
        assertEquals(3, interp.get("measurement").get("ns").get("samples").size());
        assertTrue(doc.get("geomeans").isArray());
        assertEquals("BPF_PROG_LOAD", doc.get("programs").get(0).get("compile").get(0).get("what").asText());
    }

    @Test
    void htmlIsBalancedAndEmbedsAnSvgChartPerProgram() throws Exception {
        String html = HtmlReport.render(result);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertBalanced(html);
        List<byte[]> images = images(html, "image/svg+xml");
        assertEquals(1 + result.programs().size(), images.size(), "the geometric means and one per program");
        for (byte[] svg : images) {
            Document d = xml(svg);
            assertEquals("svg", d.getDocumentElement().getLocalName());
        }
        assertTrue(html.contains("not supported: helper 1 | map lookup"), "HTML needs no '|' escape");
        assertFalse(html.contains("<script"), "self-contained and inert");
    }

    @Test
    void htmlChartsCanBePng() throws Exception {
        String html = HtmlReport.render(result, Charts.Format.PNG);
        List<byte[]> images = images(html, "image/png");
        assertEquals(1 + result.programs().size(), images.size());
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(images.getFirst()));
        assertNotNull(img, "a PNG");
        assertEquals(Charts.WIDTH, img.getWidth());
        assertEquals(Charts.HEIGHT, img.getHeight());
    }

    @Test
    void aProgramChartHasABarSeriesPerTargetThatRan() {
        var chart = Charts.program(result, result.programs().getFirst()).orElseThrow();
        assertEquals(Set.of("linux", "interpreter", "x86-64"), chart.getSeriesMap().keySet());
    }

    /** {@return the decoded data: URIs of {@code <img>} elements of {@code mime}} */
    private static List<byte[]> images(String html, String mime) {
        Matcher m = Pattern.compile("<img [^>]*src=\"data:" + Pattern.quote(mime) + ";base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        List<byte[]> out = new ArrayList<>();
        while (m.find()) {
            out.add(Base64.getDecoder().decode(m.group(1)));
        }
        return out;
    }

    private static Document xml(byte[] bytes) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        // the SVG names its DTD by URL: never fetch it
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(bytes));
    }

    /** Every element the report opens (but void ones) is closed in order. */
    private static void assertBalanced(String html) {
        Set<String> voids = Set.of("meta", "img", "br", "hr", "link", "!doctype");
        Matcher m = Pattern.compile("<(/?)([a-zA-Z!][a-zA-Z0-9]*)[^>]*>").matcher(html);
        Deque<String> open = new ArrayDeque<>();
        while (m.find()) {
            String name = m.group(2).toLowerCase(java.util.Locale.ROOT);
            if (voids.contains(name)) {
                continue;
            }
            if (m.group(1).isEmpty()) {
                open.push(name);
            } else {
                assertEquals(open.isEmpty() ? "(none)" : open.peek(), name, "closing tag at " + m.start());
                open.pop();
            }
        }
        assertTrue(open.isEmpty(), "unclosed: " + open);
    }
}
