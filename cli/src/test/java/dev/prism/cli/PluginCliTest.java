package dev.prism.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.prism.testing.Host;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code prism conformance --target 'plugin:...'} with real plugins: {@code prism plugin
 * --target interpreter|x86-64|linux}, each case a separate JVM process started from this test's
 * class path, and a deliberately wrong plugin (a script in front of the interpreter's plugin
 * that flips bit 0 of r0 whenever the program holds a {@code be} instruction, opcode 0xdc),
 * whose failures must be exactly the cases with such an instruction that expect a result.
 *
 * <p>The suite is written here, its expected values worked out by hand: byte swaps, memory,
 * division by a zero register, a trap after a {@code be16} (an error case: the wrong plugin
 * passes the error on, so it still passes), and a map case and an xdp case, which a plugin
 * cannot take (skipped with the reason).
 */
class PluginCliTest {
    @TempDir
    Path tmp;

    private static final Map<String, String> SUITE = Map.of(
            "be16.data", "-- asm\nmov %r0, 0x1122\nbe16 %r0\nexit\n-- result\n0x2211\n",
            "be32.data", "-- asm\nlddw %r0, 0x1122334455667788\nbe32 %r0\nexit\n-- result\n0x88776655\n",
            "be64.data", "-- asm\nlddw %r0, 0x1122334455667788\nbe64 %r0\nexit\n-- result\n0x8877665544332211\n",
            "le16.data", "-- asm\nlddw %r0, 0x1122334455667788\nle16 %r0\nexit\n-- result\n0x7788\n",
            "add.data", "-- asm\nmov %r0, 2\nadd %r0, 3\nexit\n-- result\n5\n",
            "mem.data", "-- asm\nldxw %r0, [%r1]\nexit\n-- mem\n11 22 33 44\n-- result\n0x44332211\n",
            "div-zero.data", "-- asm\nmov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit\n-- result\n0\n",
            "be-then-trap.data", "-- asm\nmov %r0, 1\nbe16 %r0\nldxw %r0, [%r1+0]\nexit\n-- error\ninvalid load\n",
            "maps.data", "-- maps\nm array key 4 value 8 entries 1\n-- asm\nmov %r0, 0\nexit\n-- result\n0\n",
            "xdp.data", "-- type\nxdp\n-- packet\n" + "00 ".repeat(14) + "\n-- asm\nmov %r0, 2\nexit\n-- result\n2\n");
    private static final int RAW_CASES = SUITE.size() - 2;

    private Path suite() throws IOException {
        Path dir = tmp.resolve("suite");
        Files.createDirectories(dir);
        for (var e : SUITE.entrySet()) {
            Files.writeString(dir.resolve(e.getKey()), e.getValue());
        }
        return dir;
    }

    /** {@return "plugin:JAVA ... dev.prism.cli.Main plugin --target T", quoted for the plugin's word splitting} */
    private static String prismPlugin(String target) throws IOException, URISyntaxException {
        return "plugin:" + String.join(" ", quoted(prismCommand(target)));
    }

    private static List<String> prismCommand(String target) throws IOException, URISyntaxException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "--enable-native-access=ALL-UNNAMED",
                "-cp", String.join(File.pathSeparator, classPath()), Main.class.getName(), "plugin", "--target", target));
        return cmd;
    }

    private static List<String> quoted(List<String> words) {
        return words.stream().map(w -> "'" + w + "'").toList();
    }

    private static JsonNode conformance(Path suite, String... targets) throws IOException {
        List<String> args = new ArrayList<>(List.of("conformance", "--suite", suite.toString(), "--report", "json",
                "--plugin-timeout", "60", "--plugin-jobs", "2"));
        for (String t : targets) {
            args.addAll(List.of("--target", t));
        }
        CliTest.Result r = CliTest.prism(args.toArray(String[]::new));
        assertTrue(r.exit() == 0 || r.exit() == 1, "exit " + r.exit() + ": " + r.err());
        return new ObjectMapper().readTree(r.out());
    }

    /** {@return "file status" per case of one target, sorted by file} */
    private static Map<String, String> outcomes(JsonNode doc, String target) {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode c : doc.get("cases")) {
            if (c.get("target").asText().equals(target)) {
                out.put(c.get("file").asText(), c.get("status").asText());
            }
        }
        return out;
    }

    private static Map<String, String> allPassButPluginSkips() {
        Map<String, String> want = new TreeMap<>();
        SUITE.keySet().forEach(f -> want.put(f, "pass"));
        want.put("maps.data", "skip");
        want.put("xdp.data", "skip");
        return want;
    }

    @Test
    void prismsOwnPluginsTakePartInTheMatrix() throws Exception {
        String interp = prismPlugin("interpreter");
        String x86 = prismPlugin("x86-64");
        JsonNode doc = conformance(suite(), "interpreter", interp, x86);
        assertEquals(List.of("interpreter", interp, x86), iterate(doc.get("targets").fieldNames()));
        assertEquals(RAW_CASES + 2, doc.get("targets").get("interpreter").get("passed").asInt());
        for (String plugin : List.of(interp, x86)) {
            assertEquals(allPassButPluginSkips(), outcomes(doc, plugin), plugin);
            JsonNode tally = doc.get("targets").get(plugin);
            assertEquals(RAW_CASES, tally.get("passed").asInt());
            assertEquals(2, tally.get("skipped").asInt());
        }
        for (JsonNode c : doc.get("cases")) {
            if (c.get("target").asText().equals(x86) && c.get("file").asText().equals("maps.data")) {
                assertEquals("not supported: a case with -- maps (the plugin protocol has no maps)", c.get("message").asText());
            }
        }
    }

    @Test
    void theKernelAsAPlugin() throws Exception {
        Host.requireLinuxBpf();
        String linux = prismPlugin("linux");
        JsonNode doc = conformance(suite(), linux);
        assertEquals(allPassButPluginSkips(), outcomes(doc, linux));
    }

    /** The wrong plugin's failures are exactly the be cases that expect a result, each with its wrong r0. */
    @Test
    void aWrongPluginFailsExactlyWhereItIsWrong() throws Exception {
        Path wrong = tmp.resolve("wrong-plugin.sh");
        Files.writeString(wrong, """
                #!/bin/bash
                # A deliberately wrong plugin: asks the real one ("$@"), then flips bit 0 of r0 when the
                # program has an instruction with opcode 0xdc (be16/be32/be64).
                prog=$(cat)
                out=$(printf '%s\\n' "$prog" | "$@")
                rc=$?
                if [ $rc -ne 0 ]; then printf '%s\\n' "$out"; exit $rc; fi
                i=0
                flip=0
                for b in $prog; do
                  if [ $((i % 8)) -eq 0 ] && [ "$b" = "dc" ]; then flip=1; fi
                  i=$((i + 1))
                done
                if [ $flip -eq 1 ]; then printf '%x\\n' $(( 0x$out ^ 1 )); else printf '%s\\n' "$out"; fi
                """);
        Files.setPosixFilePermissions(wrong, PosixFilePermissions.fromString("rwx------"));
        List<String> cmd = new ArrayList<>(List.of(wrong.toString()));
        cmd.addAll(prismCommand("interpreter"));
        String plugin = "plugin:" + String.join(" ", quoted(cmd));
        JsonNode doc = conformance(suite(), "interpreter", plugin);

        Map<String, String> want = allPassButPluginSkips();
        want.put("be16.data", "fail");
        want.put("be32.data", "fail");
        want.put("be64.data", "fail");
        assertEquals(want, outcomes(doc, plugin));
        Map<String, String> actual = new TreeMap<>();
        for (JsonNode c : doc.get("cases")) {
            if (c.get("target").asText().equals(plugin) && c.get("status").asText().equals("fail")) {
                actual.put(c.get("file").asText(), c.get("actual").asText());
            }
        }
        assertEquals(Map.of("be16.data", "0x2210", "be32.data", "0x88776654", "be64.data", "0x8877665544332210"), actual);
        JsonNode be16 = doc.get("targets").get(plugin).get("groups");
        assertEquals(3, be16.get("base32").get("failed").asInt() + be16.get("base64").get("failed").asInt(),
                "the per-group tallies count the three failures: " + be16);
        assertEquals(3, doc.get("targets").get(plugin).get("failed").asInt());
    }

    private static List<String> iterate(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    /** This JVM's class path, unpacked from Surefire's manifest-only jar when it uses one. */
    private static List<String> classPath() throws IOException, URISyntaxException {
        List<String> entries = new ArrayList<>(List.of(System.getProperty("java.class.path").split(File.pathSeparator)));
        if (entries.size() == 1 && entries.getFirst().endsWith(".jar")) {
            try (JarFile jar = new JarFile(entries.getFirst())) {
                Manifest m = jar.getManifest();
                String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
                if (cp != null) {
                    URI base = Path.of(entries.getFirst()).toAbsolutePath().getParent().toUri();
                    entries.clear();
                    for (String url : cp.trim().split("\\s+")) {
                        entries.add(Path.of(base.resolve(new URI(url))).toString());
                    }
                }
            }
        }
        return entries;
    }
}
