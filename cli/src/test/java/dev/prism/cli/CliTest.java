package dev.prism.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class CliTest {
    @TempDir
    Path tmp;

    /** What one invocation of {@code prism} did. */
    record Result(int exit, String out, String err) {
        /** The user sees one line for bad input, never a stack trace. */
        void assertOneLineError() {
            assertEquals(1, err.lines().count(), () -> "stderr: " + err);
            assertTrue(err.startsWith("prism: "), err);
            assertFalse(err.contains("Exception") || err.contains("at dev.") || err.contains("\tat "), err);
        }
    }

    static Result prismWithStdin(String stdin, String... args) {
        return run(Main.commandLine(new Main(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)))), args);
    }

    static Result prism(String... args) {
        return prismWithStdin("", args);
    }

    private static Result run(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private Path write(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    @Test
    void asmThenDisasmRoundTrips() throws IOException {
        String text = """
                mov %r0, 0
                lddw %r1, 0x1122334455667788
                jeq %r1, 7, +1
                add32 %r0, -1
                exit
                """;
        Path src = write("prog.s", text);
        Path bin = tmp.resolve("prog.bin");

        Result asm = prism("asm", src.toString(), "-o", bin.toString());
        assertEquals(0, asm.exit(), asm.err());
        assertEquals(6 * 8, Files.size(bin), "lddw takes two slots");

        Result disasm = prism("disasm", bin.toString());
        assertEquals(0, disasm.exit(), disasm.err());
        assertEquals("""
                0: mov %r0, 0
                1: lddw %r1, 0x1122334455667788
                3: jeq %r1, 7, +1  # -> 5
                4: add32 %r0, -1
                5: exit
                """, disasm.out());

        // the hex form: one slot per line, and back through disasm --hex from stdin
        Result hex = prism("asm", src.toString());
        assertEquals(6, hex.out().lines().count());
        assertEquals("b7 00 00 00 00 00 00 00", hex.out().lines().findFirst().orElseThrow());
        Result fromHex = prismWithStdin(hex.out(), "disasm", "--hex", "-");
        assertEquals(disasm.out(), fromHex.out());
    }

    /** A tc program from assembler text: the action by its TC_ACT_ name, the skb fields it changed. */
    @Test
    void runsATcProgramAndNamesTheAction() throws IOException {
        Path src = write("tc.s", """
                ldxw %r2, [%r1+0]
                stxw [%r1+8], %r2
                mov %r0, 2
                exit
                """);
        String packet = "ffffffffffff00112233445508060001080006040001001122334455c0a80001000000000000c0a80002";
        for (String target : List.of("interpreter", "x86-64")) {
            Result r = prism("run", src.toString(), "--type", "tc", "--target", target, "--packet", packet);
            assertEquals(0, r.exit(), r.err());
            assertEquals("r0 = 0x2 (2) TC_ACT_SHOT\nskb after: mark=42 priority=0 cb=" + "00".repeat(20) + " tc_classid=0\n",
                    r.out(), target);
        }
        Result json = prism("run", src.toString(), "--type", "tc", "--packet", packet, "--json",
                "--skb", "priority=0x10,cb=" + "ab".repeat(20));
        assertEquals(0, json.exit(), json.err());
        JsonNode doc = new ObjectMapper().readTree(json.out());
        assertEquals("TC_ACT_SHOT", doc.get("action").asText());
        assertEquals(42, doc.get("mark").asInt());
        assertEquals(16, doc.get("priority").asInt());
        assertEquals("ab".repeat(20), doc.get("cb").asText());
        Result bad = prism("run", src.toString(), "--type", "tc", "--packet", packet, "--skb", "cb=00");
        assertEquals(2, bad.exit());
        bad.assertOneLineError();
        assertTrue(bad.err().contains("cb holds 20 bytes"), bad.err());
    }

    @Test
    void formsAreRecognisedByContentWhenTheNameSaysNothing() throws IOException {
        Path text = write("prog", "mov %r0, 3\nexit\n");
        Path raw = tmp.resolve("prog.raw");
        Files.write(raw, Files.readAllBytes(writeBin("seven.bin", "mov %r0, 7\nexit\n")));
        assertEquals("r0 = 0x3 (3)\n", prism("run", text.toString()).out());
        assertEquals("r0 = 0x7 (7)\n", prism("run", raw.toString()).out());
    }

    private Path writeBin(String name, String text) throws IOException {
        Path bin = tmp.resolve(name);
        assertEquals(0, prism("asm", write(name + ".s", text).toString(), "-o", bin.toString()).exit());
        return bin;
    }

    @Test
    void runPrintsR0() throws IOException {
        Result r = prism("run", write("seven.s", "mov %r0, 7\nexit\n").toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("r0 = 0x7 (7)\n", r.out());
    }

    @Test
    void runReadsMemory() throws IOException {
        Result r = prism("run", write("load.s", "ldxh %r0, [%r1]\nexit\n").toString(), "--mem", "0102");
        assertEquals(0, r.exit(), r.err());
        assertEquals("r0 = 0x201 (513)\n", r.out(), "memory is little-endian: 02 01");
    }

    @Test
    void runShowsChangedMemoryAndJson() throws IOException {
        Path store = write("store.s", "stb [%r1+1], 0xff\nmov %r0, -1\nexit\n");
        Result text = prism("run", store.toString(), "--mem", "0102");
        assertEquals("r0 = 0xffffffffffffffff (18446744073709551615, signed -1)\nmem after: 01ff\n", text.out());

        Result json = prism("run", store.toString(), "--mem", "01 02", "--json", "--repeat", "3");
        assertEquals(0, json.exit(), json.err());
        JsonNode doc = parse(json.out());
        assertEquals("18446744073709551615", doc.get("r0").bigIntegerValue().toString());
        assertEquals("0xffffffffffffffff", doc.get("r0_hex").asText());
        assertEquals("01ff", doc.get("mem_after").asText());
        assertTrue(doc.get("ns_per_run").isNumber());
    }

    /** --repeat on one input is the target's own timer (prism bench's), and the text says so. */
    @Test
    void repeatSaysWhatItTimes() throws IOException {
        Path seven = write("seven.s", "mov %r0, 7\nexit\n");
        Result r = prism("run", seven.toString(), "--repeat", "1000");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("r0 = 0x7 (7)\nns per run: "), r.out());
        assertTrue(r.out().contains("1000 runs after 1 warm-up, timed by the target's own loop on one prepared input"), r.out());
        Result batched = prism("run", seven.toString(), "--repeat", "8", "--batch", "4");
        assertTrue(batched.out().contains("including what the harness does to build each batch"), batched.out());
    }

    @Test
    void jsonOmitsWhatDidNotHappen() throws IOException {
        JsonNode doc = parse(prism("run", write("seven.s", "mov %r0, 7\nexit\n").toString(), "--json").out());
        assertEquals(7, doc.get("r0").asLong());
        assertFalse(doc.has("mem_after"));
        assertFalse(doc.has("ns_per_run"));
    }

    @Test
    void trapExitsOneWithTheTrap() throws IOException {
        Result r = prism("run", write("trap.s", "ldxw %r0, [%r1+8]\nexit\n").toString(), "--mem", "00");
        assertEquals(1, r.exit());
        r.assertOneLineError();
        assertTrue(r.err().startsWith("prism: trap: pc 0: "), r.err());
    }

    @Test
    void missingFileIsOneLine() {
        Path missing = tmp.resolve("missing.s");
        Result r = prism("run", missing.toString());
        assertEquals(2, r.exit());
        r.assertOneLineError();
        assertEquals("prism: cannot read " + missing + ": no such file\n", r.err());
    }

    @Test
    void badAssemblerNamesFileAndLine() throws IOException {
        Path bad = write("bad.s", "mov %r0, 1\nfrob %r1\nexit\n");
        Result r = prism("asm", bad.toString());
        assertEquals(2, r.exit());
        r.assertOneLineError();
        assertTrue(r.err().startsWith("prism: " + bad + ": line 2: "), r.err());
        assertEquals("", r.out());
    }

    @Test
    void malformedBytesNameTheInstruction() throws IOException {
        Path bin = tmp.resolve("short.bin");
        Files.write(bin, new byte[] {(byte) 0xb7, 0, 0, 0});
        Result r = prism("disasm", bin.toString());
        assertEquals(2, r.exit());
        r.assertOneLineError();
        assertTrue(r.err().contains("not a multiple of 8"), r.err());
    }

    @Test
    void malformedElfIsOneLine() throws IOException {
        Path elf = tmp.resolve("prog.o");
        Files.write(elf, new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        Result r = prism("disasm", elf.toString());
        assertEquals(2, r.exit());
        r.assertOneLineError();
        assertTrue(r.err().startsWith("prism: " + elf + ": "), r.err());
    }

    @Test
    void unknownTargetAndBadOptionsAreUsageErrors() throws IOException {
        Path prog = write("seven.s", "mov %r0, 7\nexit\n");
        Result target = prism("run", prog.toString(), "--target", "nonesuch");
        assertEquals(2, target.exit());
        target.assertOneLineError();
        assertTrue(target.err().contains("interpreter"), "names the known targets: " + target.err());

        Result option = prism("run", prog.toString(), "--frobnicate");
        assertEquals(2, option.exit());
        assertTrue(option.err().startsWith("prism: Unknown option: '--frobnicate'"), option.err());
        assertTrue(option.err().contains("Try 'prism run --help'"), option.err());

        Result mem = prism("run", prog.toString(), "--mem", "0g");
        assertEquals(2, mem.exit());
        assertTrue(mem.err().contains("'--mem'"), mem.err());
    }

    @Test
    void pluginSpeaksTheBpfConformanceProtocol() {
        Result r = prismWithStdin("b700000005000000 9500000000000000\n", "plugin", "--target", "interpreter");
        assertEquals(0, r.exit(), r.err());
        assertEquals("5\n", r.out());

        // ldxb r0, [r1+1]; exit, over memory given as the first argument
        Result mem = prismWithStdin("71 10 01 00 00 00 00 00\n95 00 00 00 00 00 00 00", "plugin", "aabb");
        assertEquals("bb\n", mem.out());

        Result bad = prismWithStdin("b7000000050000", "plugin");
        assertEquals(1, bad.exit());
        assertEquals("", bad.out());
        assertFalse(bad.err().isBlank());
    }

    @Test
    void targetsListsTheInterpreter() {
        Result r = prism("targets");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("interpreter ") && l.contains("available")), r.out());

        JsonNode doc = parse(prism("targets", "--json").out());
        assertEquals("interpreter", doc.get("targets").get(0).get("id").asText());
        assertTrue(doc.get("targets").get(0).get("available").asBoolean());
    }

    @Test
    void conformanceReportsPassesAndFailures() throws IOException {
        Path suite = tmp.resolve("suite");
        write("suite/ok/pass.data", """
                # r0 = 1
                -- asm
                mov %r0, 1
                exit
                -- result
                0x1
                """);
        write("suite/ok/fail.data", """
                -- asm
                mov %r0, 1
                exit
                -- result
                0x2
                """);
        Result r = prism("conformance", "--suite", suite.toString(), "--target", "interpreter", "--report", "json");
        assertEquals(1, r.exit(), "a failing case fails the run: " + r.err());
        JsonNode doc = parse(r.out());
        JsonNode interpreter = doc.get("targets").get("interpreter");
        assertEquals(1, interpreter.get("passed").asInt());
        assertEquals(1, interpreter.get("failed").asInt());
        assertEquals(2, doc.get("cases").size());
        assertEquals(1, doc.get("targets").size());

        // without the failing case, the run passes; the text report goes to --out
        Files.delete(suite.resolve("ok/fail.data"));
        Path report = tmp.resolve("report.txt");
        Result ok = prism("conformance", "--suite", suite.toString(), "--target", "interpreter",
                "--out", report.toString(), "--coverage");
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(Files.readString(report).contains("total"), Files.readString(report));
        assertTrue(ok.out().contains("registry coverage: 2/"), ok.out());
    }

    @Test
    void conformanceFiltersByCpuVersion() throws IOException {
        Path suite = tmp.resolve("suite");
        write("suite/v1.data", "-- asm\nmov %r0, 1\nexit\n-- result\n1\n");
        write("suite/v4.data", "-- asm\nmov %r0, 1\nsdiv %r0, 1\nexit\n-- result\n1\n");
        JsonNode doc = parse(prism("conformance", "--suite", suite.toString(), "--target", "interpreter",
                "--cpu", "v1", "--report", "json").out());
        assertEquals(List.of("v1.data"), doc.get("cases").findValuesAsText("file"));
    }

    /**
     * As bpf_conformance does, a file with an unknown directive is skipped with a warning naming
     * file and line, and counted; the run goes on. Any other format error is counted as a failure.
     */
    @Test
    void conformanceSkipsAFileWithAnUnknownDirective() throws IOException {
        Path suite = tmp.resolve("suite");
        write("suite/broken.data", "-- asm\nexit\n-- frobnicate\n");
        write("suite/good.data", "-- asm\nmov %r0, 1\nexit\n-- result\n1\n");
        Result r = prism("conformance", "--suite", suite.toString(), "--target", "interpreter");
        assertEquals(0, r.exit(), r.err());
        r.assertOneLineError();
        assertTrue(r.err().startsWith("prism: warning: skipping ") && r.err().contains("broken.data:3: unknown directive '-- frobnicate'"),
                r.err());
        assertTrue(r.out().contains("unread") && r.out().contains("total             1/0/1"), r.out());

        write("suite/bad-hex.data", "-- asm\nexit\n-- mem\nzz\n-- result\n0\n");
        Result bad = prism("conformance", "--suite", suite.toString(), "--target", "interpreter", "--report", "json");
        assertEquals(1, bad.exit(), "a file that does not read is a failure of the suite");
        JsonNode doc = parse(bad.out());
        assertEquals(1, doc.get("targets").get("interpreter").get("failed").asInt());
        assertEquals(1, doc.get("targets").get("interpreter").get("skipped").asInt());
        assertEquals(2, doc.get("unreadFiles").size());
    }

    static Stream<String> commands() {
        return Stream.of("targets", "asm", "disasm", "run", "conformance", "plugin");
    }

    @ParameterizedTest
    @MethodSource("commands")
    void everyCommandHasHelp(String command) {
        Result r = prism(command, "--help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("Usage: prism " + command), r.out());
    }

    @Test
    void noArgumentsPrintsUsageAndVersionWorks() {
        Result usage = prism();
        assertEquals(0, usage.exit());
        assertTrue(usage.out().startsWith("Usage: prism"), usage.out());
        assertTrue(usage.out().contains("conformance"), usage.out());

        Result version = prism("--version");
        assertEquals(0, version.exit());
        assertTrue(version.out().startsWith("prism "), version.out());
    }

    /** A defect in Prism is reported as such, in one line, with the way to see more. */
    @Test
    void unexpectedExceptionIsAnInternalError() {
        @Command(name = "broken")
        class Broken implements Callable<Integer> {
            @Override
            public Integer call() {
                throw new IllegalStateException("invariant broken");
            }
        }
        ErrorHandler handler = new ErrorHandler();
        CommandLine cl = new CommandLine(new Broken()).setExecutionExceptionHandler(handler);
        Result r = run(cl);
        assertEquals(Main.EXIT_INTERNAL, r.exit());
        if (!"1".equals(System.getenv("PRISM_DEBUG"))) {
            assertEquals("prism: internal error: java.lang.IllegalStateException: invariant broken; "
                    + "set PRISM_DEBUG=1 for the stack trace\n", r.err());
        }
    }

    @Test
    void hexParsingNamesTheProblem() {
        assertArrayEquals(new byte[] {1, 2, (byte) 0xff}, Hex.parse(" 01 02\nff "));
        assertEquals("expected hex bytes (pairs of 0-9a-f, whitespace allowed), found 'x' at character 2",
                assertThrowsIae(() -> Hex.parse("0x12")));
        assertTrue(assertThrowsIae(() -> Hex.parse("123")).contains("odd number of digits (3)"));
    }

    private static String assertThrowsIae(org.junit.jupiter.api.function.Executable e) {
        return org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    static JsonNode parse(String json) {
        try {
            return new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }
}
