package dev.prism.conformance.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.conformance.CaseResult;
import dev.prism.conformance.ConformanceCase;
import dev.prism.conformance.ConformanceRunner;
import dev.prism.conformance.DataFileReader;
import dev.prism.conformance.KnownDifferences;
import dev.prism.conformance.Report;
import dev.prism.conformance.Status;
import dev.prism.target.Target;
import dev.prism.target.Targets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin protocol from the harness's side, against small shell scripts that behave well or
 * badly: what goes to the plugin, how answers, errors, crashes, hangs and nonsense are judged,
 * and which cases never reach a plugin. (Real plugins, Prism's own {@code prism plugin} as
 * separate processes, are tested in the cli module.)
 */
class PluginTargetTest {
    @TempDir
    Path dir;

    private static ConformanceCase parse(String id, String text) {
        return DataFileReader.parse(Path.of(id), id, text);
    }

    private static final ConformanceCase RESULT_42 = parse("r42.data", "-- asm\nmov %r0, 42\nexit\n-- mem\n01 02 ff\n-- result\n0x2a\n");
    private static final ConformanceCase TRAPS = parse("trap.data", "-- asm\nldxw %r0, [%r1+0]\nexit\n-- error\ninvalid load\n");

    private Path script(String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/bash\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    private static PluginTarget plugin(Path script, String args, Duration timeout) {
        return new PluginTarget("'" + script + "'" + (args.isEmpty() ? "" : " " + args), timeout);
    }

    private static CaseResult run(ConformanceCase c, Target t) {
        return new ConformanceRunner(KnownDifferences.none()).runOne(c, t);
    }

    /** The program in hex on stdin, the memory in hex as the last argument after the plugin's own. */
    @Test
    void speaksBpfConformancesProtocol() throws IOException {
        Path log = dir.resolve("log");
        Path p = script("echo.sh", "cat > '" + log + "'; printf '%s\\n' \"$@\" >> '" + log + "'; echo 0x2A");
        CaseResult r = run(RESULT_42, plugin(p, "--flag 'two words'", Duration.ofSeconds(20)));
        assertEquals(Status.PASS, r.status(), r.message());
        assertEquals(List.of("b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00", "--flag", "two words", "01 02 ff"),
                Files.readAllLines(log));
    }

    @Test
    void judgesAnswersErrorsCrashesAndNonsense() throws IOException {
        Duration t = Duration.ofSeconds(20);
        Path wrong = script("wrong.sh", "cat > /dev/null; echo 2b");
        CaseResult w = run(RESULT_42, plugin(wrong, "", t));
        assertEquals(Status.FAIL, w.status());
        assertEquals("0x2b", w.actual());
        assertEquals("r0 is 0x2b, expected 0x2a (reference interpreter: 0x2a)", w.message());

        Path error = script("error.sh", "cat > /dev/null; echo 'out of bounds read at pc 0' >&2; exit 1");
        CaseResult e = run(TRAPS, plugin(error, "", t));
        assertEquals(Status.PASS, e.status(), "a plugin's error answers a case that expects one, whatever its words");
        CaseResult e2 = run(RESULT_42, plugin(error, "", t));
        assertEquals(Status.FAIL, e2.status());
        assertEquals("plugin failed (exit 1): out of bounds read at pc 0 (reference interpreter: 0x2a)", e2.message());

        Path crash = script("crash.sh", "cat > /dev/null; for i in $(seq 1 400); do echo \"line $i\" >&2; done; kill -SEGV $$");
        CaseResult c = run(TRAPS, plugin(crash, "", t));
        assertEquals(Status.FAIL, c.status(), "a crash is no error answer");
        assertTrue(c.message().startsWith("plugin crashed (exit 139, signal 11): ...") && c.message().contains("line 400"), c.message());
        assertFalse(c.message().contains("line 1\n"), "only the tail of stderr is kept");

        Path garbage = script("garbage.sh", "cat > /dev/null; echo 'r0 = 42'");
        CaseResult g = run(RESULT_42, plugin(garbage, "", t));
        assertEquals(Status.FAIL, g.status());
        assertTrue(g.message().startsWith("plugin exited 0 but printed 'r0 = 42', not r0 in hex"), g.message());

        CaseResult missing = run(RESULT_42, new PluginTarget(dir.resolve("nothing-here") + " x", t));
        assertEquals(Status.SKIP, missing.status());
        assertTrue(missing.message().startsWith("unavailable: plugin command ") && missing.message().endsWith(" does not exist"),
                missing.message());
    }

    /** A plugin that hangs is killed after the timeout, with what it started, and costs its case only. */
    @Test
    void aHangCostsItsCaseOnly() throws IOException {
        Path marker = dir.resolve("child.pid");
        Path hang = script("hang.sh", "echo 'waiting forever' >&2; sleep 300 & echo $! > '" + marker + "'; wait");
        PluginTarget p = plugin(hang, "", Duration.ofMillis(1500));
        long start = System.nanoTime();
        List<CaseResult> rs = new ConformanceRunner(KnownDifferences.none()).run(List.of(RESULT_42, TRAPS),
                List.of(Targets.byId("interpreter"), p), r -> { });
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(4, rs.size());
        assertEquals(List.of(Status.PASS, Status.FAIL, Status.PASS, Status.FAIL), rs.stream().map(CaseResult::status).toList());
        assertTrue(rs.get(1).message().startsWith("plugin did not answer in time and was killed: waiting forever"), rs.get(1).message());
        assertTrue(ms < 20_000, "two 1.5 s timeouts took " + ms + " ms");
        long child = Long.parseLong(Files.readString(marker).strip());
        // SIGKILL is sent before run() returns; the orphan is reaped a moment later
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
            sleep(50);
        }
        assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), "the plugin's child was killed too");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Maps, packets and ELF objects do not travel over the protocol: such cases are skipped, never sent. */
    @Test
    void skipsWhatTheProtocolCannotCarry() throws IOException {
        Path sent = dir.resolve("sent");
        PluginTarget p = plugin(script("count.sh", "cat > /dev/null; echo x >> '" + sent + "'; echo 0"), "", Duration.ofSeconds(20));
        ConformanceCase maps = parse("m.data", "-- maps\nm array key 4 value 8 entries 1\n-- asm\nmov %r0, 0\nexit\n-- result\n0\n");
        ConformanceCase xdp = parse("x.data", "-- type\nxdp\n-- packet\n" + "00 ".repeat(14) + "\n-- asm\nmov %r0, 2\nexit\n-- result\n2\n");
        CaseResult m = run(maps, p);
        CaseResult x = run(xdp, p);
        assertEquals(Status.SKIP, m.status());
        assertEquals("not supported: a case with -- maps (the plugin protocol has no maps)", m.message());
        assertEquals(Status.SKIP, x.status());
        assertEquals("not supported: an xdp program with a packet (the plugin protocol runs raw programs on memory)", x.message());
        assertFalse(Files.exists(sent), "nothing was sent to the plugin");
    }

    /** Raw bytes go as the file gives them, even those Prism's decoder refuses: the plugin must refuse them itself. */
    @Test
    void malformedProgramsReachThePlugin() throws IOException {
        Path log = dir.resolve("log");
        PluginTarget p = plugin(script("accept.sh", "cat > '" + log + "'; echo 0"), "", Duration.ofSeconds(20));
        ConformanceCase bad = parse("bad.data", "-- raw\nff00000000000000\n-- error\nunknown opcode\n");
        CaseResult r = run(bad, p);
        assertEquals(Status.FAIL, r.status());
        assertEquals("returned 0x0 instead of failing (reference interpreter: unknown opcode 0xff at 0)", r.message().replaceAll("\\(reference interpreter: .*unknown opcode 0xff.*\\)", "(reference interpreter: unknown opcode 0xff at 0)"));
        assertEquals("ff 00 00 00 00 00 00 00", Files.readString(log).strip());
    }

    /** Long plugin ids get a short column head in the text matrix and a line saying which is which. */
    @Test
    void theTextMatrixNamesPluginsShortly() {
        String id = "plugin:/some/long/path/to/a/runtime --with options";
        CaseResult r = new CaseResult(RESULT_42, id, "base64", Status.PASS, "0x2a", "0x2a", "");
        CaseResult f = new CaseResult(TRAPS, id, "base64", Status.FAIL, "error", "0x0", "returned 0x0 instead of failing");
        String text = new Report(List.of(id), List.of(r, f), List.of()).text();
        assertTrue(text.contains("plugin#1 = " + id), text);
        assertTrue(text.lines().findFirst().orElseThrow().contains("plugin#1"), text);
        assertTrue(text.contains("  trap.data:1 [plugin#1] returned 0x0 instead of failing"), text);
    }
}
