package dev.prism.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.plan.Calibration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** prism plan's forms and exit codes, prism bench --calibrate, and --batch on run. */
class PlanCliTest {
    @TempDir
    Path tmp;

    private static final String XDP = "ldxw %r2, [%r1+0]\nmov %r0, 2\nexit\n";

    private Path write(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void textJsonAndHtml() throws IOException {
        Path src = write("p.s", XDP);
        Path none = tmp.resolve("none.json");
        CliTest.Result r = CliTest.prism("plan", "--type", "xdp", "--targets", "interpreter,x86-64", "--calibration",
                write("cal.json", new Calibration(null, "h", "t", java.util.Map.of()).toJson()).toString(), src.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("plan for p, 3 instructions\n"), r.out());
        assertTrue(r.out().contains("costs: calibrated (" + tmp.resolve("cal.json")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("x86-64") && l.contains(" ok ") && l.contains("B machine code")), r.out());
        assertTrue(r.out().contains("* uncalibrated estimate"), "the file has no model for these targets: " + r.out());

        r = CliTest.prism("plan", "--type", "xdp", "--targets", "x86-64", "--json", src.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("{\n  \"program\": \"p\""), r.out());
        assertTrue(r.out().contains("\"target\": \"x86-64\", \"available\": true"), r.out());

        Path html = tmp.resolve("plan.html");
        r = CliTest.prism("plan", "--type", "xdp", "--targets", "interpreter,x86-64", "--html", "-o", html.toString(), src.toString());
        assertEquals(0, r.exit(), r.err());
        String page = Files.readString(html);
        assertTrue(page.contains("<img alt=\"estimated cost of p\" src=\"data:image/svg+xml;base64,"), page);
        assertTrue(!Files.exists(none));
    }

    @Test
    void exitOneWhenOnlyTheInterpreterOrNoTargetTakesIt() throws IOException {
        Path tc = write("t.s", "mov %r0, 0\nexit\n");
        // a socket filter: no target here runs one (tc runs on the JITs now)
        CliTest.Result r = CliTest.prism("plan", "--type", "socket", "--targets", "interpreter,x86-64,arm64", tc.toString());
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("    -: program-type: program type socket (the target runs raw, xdp, tc)"), r.out());
        r = CliTest.prism("plan", "--type", "xdp", "--targets", "interpreter", write("i.s", XDP).toString());
        assertEquals(1, r.exit(), "the interpreter alone does not count: " + r.out());
    }

    @Test
    void badInputIsExitTwo() throws IOException {
        Path src = write("p.s", XDP);
        assertEquals(2, CliTest.prism("plan", tmp.resolve("missing.o").toString()).exit());
        assertEquals(2, CliTest.prism("plan", "--json", "--html", src.toString()).exit());
        assertEquals(2, CliTest.prism("plan", "--targets", "nonesuch", src.toString()).exit());
        CliTest.Result r = CliTest.prism("plan", "--calibration", write("bad.json", "{").toString(), src.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("not a calibration file"), r.err());
    }

    @Test
    void calibrateThenPlanNamesTheFile() throws IOException {
        Path cal = tmp.resolve("c/cal.json");
        CliTest.Result r = CliTest.prism("bench", "--calibrate", "--targets", "interpreter", "--warmup", "100", "--batch-ms", "5",
                "--calibration", cal.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("calibration written to " + cal), r.out());
        Calibration c = Calibration.read(cal);
        assertTrue(c.models().get("interpreter").perRunNs() > 0, c.toJson());
        r = CliTest.prism("plan", "--type", "xdp", "--targets", "interpreter", "--calibration", cal.toString(),
                write("p.s", XDP).toString());
        assertTrue(r.out().contains("costs: calibrated (" + cal), r.out());
        assertTrue(!r.out().contains("* uncalibrated"), r.out());
    }

    @Test
    void runTakesABatch() throws IOException {
        Path src = write("p.s", XDP);
        String frame = "00".repeat(12) + "0800" + "00".repeat(50);
        CliTest.Result r = CliTest.prism("run", "--type", "xdp", "--batch", "4", "--repeat", "8", "--packet", frame, src.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("r0 = 0x2 (2) XDP_PASS"), r.out());
        assertEquals(2, CliTest.prism("run", "--type", "xdp", "--batch", "0", "--packet", frame, src.toString()).exit());
    }
}
