package dev.prism.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    @Test
    void helpExplainsTheSubcommands() {
        CliTest.Result r = CliTest.prism("csd", "--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("keygen") && r.out().contains("sign") && r.out().contains("verify"), r.out());
    }
}
