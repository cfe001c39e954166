package dev.prism.cli;

import static dev.prism.cli.CliTest.parse;
import static dev.prism.cli.CliTest.prism;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.prism.cli.CliTest.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code prism bench}: its arguments, and one short run on the interpreter (no timing asserted). */
class BenchCliTest {
    @TempDir
    Path tmp;

    /** Few runs, so that the command finishes in a blink. */
    private static final String[] FAST = {"--targets", "interpreter", "--packet-size", "64", "--repeat", "10",
            "--batches", "2", "--warmup", "0", "--compile-repeat", "1"};

    private Path pass() throws IOException {
        Path p = tmp.resolve("pass.s");
        Files.writeString(p, "mov %r0, 2\nexit\n");
        return p;
    }

    private static String[] args(Path file, String... more) {
        return Stream.concat(Stream.of("bench", file.toString()), Stream.of(more)).toArray(String[]::new);
    }

    private static String[] fast(Path file, String... more) {
        return Stream.concat(Stream.of(args(file, FAST)), Stream.of(more)).toArray(String[]::new);
    }

    @Test
    void anAssemblerFileRunsAsXdpAndGivesMarkdown() throws IOException {
        Result r = prism(fast(pass()));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("# prism bench"), r.out());
        assertTrue(r.out().contains("| pass | interpreter | XDP_PASS |"), r.out());
    }

    @Test
    void jsonIsOneDocument() throws IOException {
        Result r = prism(fast(pass(), "--report", "json"));
        assertEquals(0, r.exit(), r.err());
        JsonNode doc = parse(r.out());
        assertEquals("pass", doc.get("programs").get(0).get("name").asText());
        assertEquals("ok", doc.get("programs").get(0).get("runs").get(0).get("measurement").get("status").asText());
        assertEquals(10, doc.get("settings").get("repeat").asInt());
    }

    /**
     * --pin pins the measuring thread and the report says so; the native baseline of an
     * assembler file (no C source) is "not supported" in its cells, and the run goes on.
     */
    @Test
    void pinClockAndNativeAreRecorded() throws IOException {
        Result r = prism(args(pass(), "--targets", "interpreter,native", "--packet-size", "64", "--repeat", "10",
                "--batches", "2", "--warmup", "0", "--compile-repeat", "1", "--report", "json", "--pin", "0", "--clock", "wall"));
        assertEquals(0, r.exit(), r.err());
        JsonNode doc = parse(r.out());
        assertEquals("wall", doc.get("settings").get("clock").asText());
        JsonNode c = doc.get("conditions");
        assertEquals(0, c.get("pinRequested").asInt());
        assertEquals("0", c.get("cpusAllowed").asText());
        assertTrue(c.get("pinned").asBoolean());
        assertTrue(c.has("bpfStatsEnabled") && c.has("governors") && c.has("loadBefore") && c.has("loadAfter"), c.toString());
        JsonNode nativeRun = doc.get("programs").get(0).get("runs").get(1);
        assertEquals("native", nativeRun.get("target").asText());
        String status = nativeRun.get("measurement").get("status").asText();
        assertTrue(status.equals("not-supported") || status.equals("unavailable"), nativeRun.toString());
        JsonNode interp = doc.get("programs").get(0).get("runs").get(0).get("measurement");
        assertEquals(interp.get("ns"), interp.get("wallNs"), "--clock wall: the times are the wall clock's");
        assertTrue(interp.get("cpuNs").get("median").asDouble() > 0, "and the CPU clock is beside them");
    }

    @Test
    void htmlGoesToOut() throws IOException {
        Path out = tmp.resolve("bench.html");
        Result r = prism(fast(pass(), "--report", "html", "--out", out.toString()));
        assertEquals(0, r.exit(), r.err());
        assertEquals("report written to " + out + "\n", r.out());
        String html = Files.readString(out);
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.contains("data:image/svg+xml;base64,"), html);
    }

    @Test
    void helpExplainsTheNumbers() {
        Result r = prism("bench", "--help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("Usage: prism bench"), r.out());
        for (String term : new String[] {"floor", "corrected", "geomean", "BPF_PROG_TEST_RUN", "BPF_PROG_LOAD",
                "--packet-size", "--targets", "--report", "--out", "--repeat", "--batches", "interleave the targets",
                "pairedRatio"}) {
            assertTrue(r.out().contains(term), term + " in\n" + r.out());
        }
    }

    static Stream<Arguments> badArguments() {
        return Stream.of(
                Arguments.of(new String[] {"--packet-size", "20"}, "--packet-size 20 is outside"),
                Arguments.of(new String[] {"--packet-size", "9000"}, "--packet-size 9000 is outside"),
                Arguments.of(new String[] {"--repeat", "0"}, "--repeat must be"),
                Arguments.of(new String[] {"--batches", "0"}, "--batches must be at least 1"),
                Arguments.of(new String[] {"--warmup", "-1"}, "--warmup must be at least 0 ms"),
                Arguments.of(new String[] {"--batch-ms", "0"}, "--batch-ms must be at least 1"),
                Arguments.of(new String[] {"--compile-repeat", "0"}, "--compile-repeat must be at least 1"),
                Arguments.of(new String[] {"--targets", "nowhere"}, "unknown target 'nowhere'"),
                Arguments.of(new String[] {"--targets", "interpreter", "--baseline", "linux"},
                        "--baseline linux is not among the targets"),
                Arguments.of(new String[] {"--type", "raw"}, "bench runs xdp programs"),
                Arguments.of(new String[] {"--clock", "sundial"}, "--clock takes cpu or wall, not sundial"),
                Arguments.of(new String[] {"--pin", "-1"}, "--pin takes a CPU number, not -1"),
                Arguments.of(new String[] {"--packet-file", "/nonexistent/frame.bin"}, "cannot read /nonexistent/frame.bin"));
    }

    @ParameterizedTest
    @MethodSource("badArguments")
    void badInputIsOneLineAndExit2(String[] options, String message) throws IOException {
        Result r = prism(args(pass(), options));
        assertEquals(2, r.exit(), r.err());
        r.assertOneLineError();
        assertTrue(r.err().contains(message), r.err());
    }

    @Test
    void aMissingFileIsOneLineAndExit2() {
        Result r = prism("bench", tmp.resolve("absent.o").toString());
        assertEquals(2, r.exit());
        r.assertOneLineError();
        assertTrue(r.err().contains("no such file"), r.err());
    }

    @Test
    void aShortPacketFileIsOneLineAndExit2() throws IOException {
        Path frame = tmp.resolve("short.bin");
        Files.write(frame, new byte[10]);
        Result r = prism(args(pass(), "--packet-file", frame.toString()));
        assertEquals(2, r.exit());
        r.assertOneLineError();
        assertTrue(r.err().contains("short.bin: 10 bytes"), r.err());
    }

    @Test
    void noFileIsAUsageError() {
        Result r = prism("bench");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("Missing required parameter"), r.err());
    }

    @Test
    void anUnknownReportFormatIsAUsageError() throws IOException {
        Result r = prism(args(pass(), "--report", "pdf"));
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown report format 'pdf'"), r.err());
    }

    @Test
    void aPacketFileIsAnotherInput() throws IOException {
        Path frame = tmp.resolve("frame.bin");
        Files.write(frame, new byte[60]);
        Result r = prism(args(pass(), "--targets", "interpreter", "--packet-file", frame.toString(), "--repeat", "5",
                "--batches", "1", "--warmup", "0", "--compile-repeat", "1", "--report", "json"));
        assertEquals(0, r.exit(), r.err());
        JsonNode packets = parse(r.out()).get("packets");
        assertEquals(1, packets.size(), "only the file, no built sizes");
        assertEquals("frame.bin (60 B)", packets.get(0).get("label").asText());
    }
}
