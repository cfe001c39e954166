package dev.prism.conformance.nfp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.conformance.examples.Examples;
import dev.prism.elf.ElfObject;
import dev.prism.nfp.NfpChecker;
import dev.prism.nfp.NfpElf;
import dev.prism.nfp.NfpTarget;
import dev.prism.program.Program;
import dev.prism.testing.Host;
import dev.prism.verifier.Profile;
import dev.prism.verifier.Verifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The nfp object as {@code ip} takes it: each object is attached with
 * {@code ip -force link set dev lo xdpgeneric obj F sec S} to the loopback device of a private
 * network namespace made for this test ({@code prism-nfp-PID}, deleted afterwards; the host's own
 * devices are never touched), {@code ip link show} must then list an XDP program on it, and it is
 * detached again. xdpgeneric, not xdpoffload: there is no NFP here, and the two differ only in
 * where the kernel puts the program once libbpf inside {@code ip} has opened the object, created
 * the maps and relocated the program, which is what this checks.
 *
 * <p>Objects: {@code nfp_sampler} through the whole nfp compile (check, legalize, write); the
 * suite/nfp cases that carry maps in the forms a program can have (array, hash, per-CPU, two
 * maps at one call site, many maps, sizes and entry counts over the firmware's), written with
 * {@link NfpElf#write} from the original programs: the model refuses them, but what {@code ip}
 * checks is the object's form, not the nfp rules. Negative controls, so that the test can fail:
 * the same object in {@link NfpElf.Form#LEGACY_MAPS}, and a section name the object lacks, must
 * both be refused by {@code ip} and leave the device without a program.
 *
 * <p>Needs root and {@code ip} (iproute2 built with libbpf): requirement name "ip".
 */
class NfpObjectIpTest {
    private static final String NS = "prism-nfp-" + ProcessHandle.current().pid();
    private static Path dir;

    record Result(int rc, String out) {
    }

    @BeforeAll
    static void namespace() throws IOException {
        boolean root;
        try {
            root = ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            root = false;
        }
        Host.require("ip", root && Host.onPath("ip"), "needs root and ip (iproute2) to attach objects in a network namespace");
        dir = Files.createTempDirectory("nfp-ip");
        Result add = ip("netns", "add", NS);
        assertEquals(0, add.rc(), "ip netns add " + NS + ": " + add.out());
        Result up = ip("-n", NS, "link", "set", "lo", "up");
        assertEquals(0, up.rc(), up.out());
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (dir == null) {
            return;
        }
        ip("netns", "del", NS);
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    @Test
    void theCompiledSamplerAttaches() {
        Program original = ElfObject.load(Examples.object("nfp_sampler")).program("xdp");
        NfpTarget nfp = new NfpTarget(null, NfpChecker.Options.STRICT, "interpreter");
        byte[] bytes = nfp.compile(Verifier.verify(original, Profile.RFC9669)).bytes();
        attaches("nfp_sampler", bytes, NfpElf.sectionOf(original));
    }

    @Test
    void suiteCasesWithMapsAttach() throws IOException {
        List<String> names = List.of("map-entries.data", "map-firmware-count.data", "map-key-size.data",
                "map-type-percpu.data", "helper-different-map.data", "map-write-stx.data");
        for (String name : names) {
            NfpRulesTest.Case c = NfpRulesTest.read(NfpRulesTest.DIR.resolve(name));
            Program p = c.program();
            assertFalse(p.maps().isEmpty(), name + " carries maps");
            attaches(name, NfpElf.write(p), NfpElf.sectionOf(p));
        }
    }

    @Test
    void legacyMapsAreRefused() {
        Program original = ElfObject.load(Examples.object("nfp_sampler")).program("xdp");
        Result r = attach("legacy", NfpElf.write(original, NfpElf.Form.LEGACY_MAPS), "xdp");
        assertNotEquals(0, r.rc(), "ip takes a legacy 'maps' object: " + r.out());
        assertTrue(r.out().contains("legacy map definitions"), r.out());
        assertFalse(hasProgram(), "nothing attached");
    }

    @Test
    void aMissingSectionIsRefused() {
        Program original = ElfObject.load(Examples.object("nfp_sampler")).program("xdp");
        Result r = attach("nosec", NfpElf.write(original), "classifier");
        assertNotEquals(0, r.rc(), "ip attaches a section the object lacks: " + r.out());
        assertFalse(hasProgram(), "nothing attached");
    }

    private static void attaches(String name, byte[] bytes, String sec) {
        Result r = attach(name, bytes, sec);
        try {
            assertEquals(0, r.rc(), name + ": ip -force link set dev lo xdpgeneric obj F sec " + sec + ":\n" + r.out());
            Result show = ip("-n", NS, "link", "show", "lo");
            assertTrue(show.out().contains("xdpgeneric") && show.out().contains("prog/xdp id "), name + ": " + show.out());
        } finally {
            Result off = ip("-n", NS, "link", "set", "dev", "lo", "xdpgeneric", "off");
            assertEquals(0, off.rc(), off.out());
        }
        assertFalse(hasProgram(), name + ": detached");
    }

    private static Result attach(String name, byte[] bytes, String sec) {
        Path f = dir.resolve(name + ".o");
        try {
            Files.write(f, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ip("-n", NS, "-force", "link", "set", "dev", "lo", "xdpgeneric", "obj", f.toString(), "sec", sec);
    }

    private static boolean hasProgram() {
        return ip("-n", NS, "link", "show", "lo").out().contains("prog/xdp");
    }

    private static Result ip(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("ip");
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, String.join(" ", cmd) + ": timed out\n" + out);
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
