package dev.prism.perf.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.prism.perf.BenchResult;
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
        assertTrue(md.contains("## Compile time"), md);
        assertTrue(md.contains("arm64 (unavailable: no libunicorn)"), "unavailable targets are named once: " + md);
        assertTrue(md.contains("| a | interpreter | XDP_PASS | 3,000 | ±0.5% | 1,000 | 2,000 | 100× |  |"), md);
        assertTrue(md.contains("| a | x86-64 | XDP_PASS | 30.0 | ±0.5% | 20.0 | 10.0 | 0.50× |  |"), md);
        assertTrue(md.contains("| interpreter | 100× (2) |"), md);
        assertTrue(md.contains("not supported: helper 1 \\| map lookup"), "a '|' in a message is escaped: " + md);
        assertTrue(md.contains("| a | 10 | 55.0 µs | 2.00 µs (verify 1.00 µs) | not supported: xdp |"), md);
        assertFalse(md.lines().anyMatch(l -> l.startsWith("| a | arm64")), "no rows for a target that did not run");
    }

    @Test
    void withoutABaselineThereIsNoRatioColumn() {
        BenchResult.Settings s = result.settings();
        BenchResult other = dev.prism.perf.Comparison.derive(new BenchResult(result.host(),
                new BenchResult.Settings(s.repeat(), s.batchMillis(), s.batches(), s.warmupMillis(), s.compileRepeat(),
                        "arm64", s.epsilonNs(), s.floorProgram()),
                result.targets(), result.packets(), result.floors(), result.programs(), List.of()));
        String md = MarkdownReport.render(other);
        assertTrue(md.contains("| program | target | action | ns/run | spread | floor | corrected | note |"), md);
        assertFalse(md.contains("Geometric mean"), md);
        assertTrue(md.contains("| a | interpreter | XDP_PASS | 3,000 | ±0.5% | 1,000 | 2,000 |  |"), md);
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
