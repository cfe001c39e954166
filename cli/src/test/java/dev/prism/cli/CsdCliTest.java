package dev.prism.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsdCliTest {
    @TempDir
    Path tmp;

    private Path program() throws IOException {
        Path p = tmp.resolve("p.s");
        Files.writeString(p, "mov %r0, 7\nexit\n");
        return p;
    }

    @Test
    void keygenSignVerify() throws IOException {
        Path key = tmp.resolve("k");
        CliTest.Result kg = CliTest.prism("csd", "keygen", "-o", key.toString());
        assertEquals(0, kg.exit(), kg.err());
        assertTrue(Files.readString(key).contains("PRIVATE KEY") && Files.readString(tmp.resolve("k.pub")).contains("PUBLIC KEY"));
        assertEquals(2, CliTest.prism("csd", "keygen", "-o", key.toString()).exit(), "an existing key is not overwritten");

        Path img = tmp.resolve("p.img");
        CliTest.Result sign = CliTest.prism("csd", "sign", program().toString(), "--key", key.toString(), "-o", img.toString());
        assertEquals(0, sign.exit(), sign.err());
        assertTrue(sign.out().contains("sections bpf"), sign.out());

        CliTest.Result ok = CliTest.prism("csd", "verify", img.toString(), "--key", tmp.resolve("k.pub").toString());
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("valid: signed by trusted key"), ok.out());

        Path other = tmp.resolve("other");
        assertEquals(0, CliTest.prism("csd", "keygen", "-o", other.toString()).exit());
        CliTest.Result unknown = CliTest.prism("csd", "verify", img.toString(), "--key", other + ".pub");
        assertEquals(1, unknown.exit());
        assertTrue(unknown.err().contains("refused (unknown key)"), unknown.err());

        byte[] bytes = Files.readAllBytes(img);
        bytes[bytes.length - 1] ^= 1;
        Path bad = tmp.resolve("bad.img");
        Files.write(bad, bytes);
        CliTest.Result tampered = CliTest.prism("csd", "verify", bad.toString(), "--key", key.toString());
        assertEquals(1, tampered.exit());
        assertTrue(tampered.err().contains("refused (tampered)"), tampered.err());

        Files.write(bad, java.util.Arrays.copyOf(bytes, 20));
        CliTest.Result malformed = CliTest.prism("csd", "verify", bad.toString(), "--key", key.toString());
        assertEquals(2, malformed.exit());
        assertTrue(malformed.err().contains("malformed firmware image: offset "), malformed.err());
    }

    /** Adds r0 = the chunk's length in bytes; a program that needs no clang. */
    private Path lengthProgram() throws IOException {
        Path p = tmp.resolve("len.s");
        Files.writeString(p, "ldxdw %r2, [%r1+0]\nldxdw %r3, [%r1+8]\nmov %r0, %r3\nsub %r0, %r2\nexit\n");
        return p;
    }

    @Test
    void runExecutesOverTheNamespace() throws IOException {
        Path ns = tmp.resolve("ns.bin");
        Files.write(ns, new byte[100_000]);
        // r0 would be the chunk length but out is 0 bytes long... so the program returns more than out holds
        CliTest.Result r = CliTest.prism("csd", "run", "--type", "csd", lengthProgram().toString(), "--namespace", ns.toString(),
                "--out-size", "1", "--chunk", "1000");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("program faulted") && r.err().contains("more than the 1 bytes of out"), r.err());
        assertTrue(r.out().contains("ephemeral development key"), r.out());
    }

    @Test
    void runRefusesAnImageByAnUntrustedKeyAndBadOptions() throws IOException {
        Path key = tmp.resolve("k");
        Path other = tmp.resolve("o");
        CliTest.prism("csd", "keygen", "-o", key.toString());
        CliTest.prism("csd", "keygen", "-o", other.toString());
        Path img = tmp.resolve("p.img");
        Path prog = tmp.resolve("z.s");
        Files.writeString(prog, "mov %r0, 0\nexit\n");
        assertEquals(0, CliTest.prism("csd", "sign", "--type", "csd", prog.toString(), "--key", key.toString(), "--arch", "none",
                "-o", img.toString()).exit());
        Path ns = tmp.resolve("ns.bin");
        Files.write(ns, new byte[10]);
        CliTest.Result refused = CliTest.prism("csd", "run", img.toString(), "--namespace", ns.toString(), "--key", other + ".pub");
        assertEquals(1, refused.exit());
        assertTrue(refused.err().contains("untrusted key"), refused.err());
        CliTest.Result ok = CliTest.prism("csd", "run", img.toString(), "--namespace", ns.toString(), "--key", key + ".pub");
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("r0 = 0"), ok.out());
        CliTest.Result range = CliTest.prism("csd", "run", img.toString(), "--namespace", ns.toString(), "--key", key + ".pub",
                "--ranges", "5:6");
        assertEquals(1, range.exit());
        assertTrue(range.err().contains("range outside the namespace"), range.err());
        assertEquals(2, CliTest.prism("csd", "run", img.toString(), "--namespace", ns.toString(), "--key", key + ".pub",
                "--chunk", "70000").exit());
        assertEquals(2, CliTest.prism("csd", "run", img.toString(), "--namespace", ns.toString(), "--key", key + ".pub",
                "--ranges", "x").exit());
    }

    @Test
    void benchComparesOffloadWithTheHostAndAgrees() {
        dev.prism.testing.Host.require("clang", dev.prism.testing.Host.onPath("clang-19"), "clang-19 is not on PATH");
        String why = dev.prism.csd.FirmwareArch.X86_64.unavailable();
        dev.prism.testing.Host.require("csd", why == null, why);
        CliTest.Result r = CliTest.prism("csd", "bench", "--size", "256K", "--repeat", "1", "--engines", "2",
                "--examples", CsdCliTest.examples().toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        for (String e : new String[] {"csd_filter", "csd_aggregate", "csd_search"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(e) && l.contains(" offload ") && l.trim().endsWith("yes")), r.out());
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(e) && l.contains(" host fw ") && l.contains("262144  ")), r.out());
            // the host path on the x86-64 JIT, agreeing with the device, and the JIT's code size
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(e) && l.contains(" host JIT ") && l.trim().endsWith("yes")), r.out());
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(e) && l.split("\\s+").length == 6 && l.split("\\s+")[2].matches("\\d+")),
                    r.out());
        }
        assertFalse(r.out().contains("refused"), r.out());
        assertTrue(r.out().contains("code size in bytes"), r.out());
    }

    static Path examples() {
        String env = System.getenv("PRISM_ROOT");
        Path root = env != null ? Path.of(env) : Path.of("").toAbsolutePath().getParent();
        return root.resolve("examples");
    }

    @Test
    void helpExplainsTheSubcommands() {
        CliTest.Result r = CliTest.prism("csd", "--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("keygen") && r.out().contains("sign") && r.out().contains("verify"), r.out());
    }
}
