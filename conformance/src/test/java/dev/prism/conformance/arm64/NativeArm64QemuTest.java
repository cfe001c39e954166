package dev.prism.conformance.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.prism.conformance.ConformanceCase;
import dev.prism.conformance.DataFileReader;
import dev.prism.conformance.ElfCompiler;
import dev.prism.conformance.Suites;
import dev.prism.conformance.examples.Examples;
import dev.prism.testing.Host;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The arm64 JIT's native mode on an x86-64 host: Debian's arm64 OpenJDK runs
 * {@link NativeArm64Check} under qemu-user ({@code qemu-aarch64-static -L SYSROOT}), where
 * {@code os.arch} is aarch64 and the arm64 target runs its code natively (W^X memory, FFM
 * downcalls and upcalls), and checks it against the suites, the examples and the program fuzzer,
 * and its native clock helper against System.nanoTime.
 *
 * <p>On an aarch64 host it is skipped: the arm64 target is native there, so every arm64 test
 * runs the code natively already. Elsewhere it needs qemu-aarch64-static on PATH and a sysroot
 * holding that JDK (PRISM_ARM64_SYSROOT, default {@code ~/.cache/prism/arm64-sysroot};
 * scripts/arm64-sysroot builds one), under the
 * requirement name "arm64-native": skipped without them, failed under PRISM_REQUIRE=all. The
 * host compiles what needs clang-19 (the examples, the suites' {@code -- elf} cases) and hands
 * the objects over; the child gets this JVM's test class path.
 *
 * <p>Sizes: in {@code make test} 200 fuzzed programs and 500 random packets per example, with
 * C1 only in the arm64 JVM (C2 compiling under qemu's emulation makes the suites 4x slower on a
 * 2-core host), so that the whole run stays well under its time budget (500 programs took 221 s
 * with the richer generator);
 * nightly (PRISM_NIGHTLY=1 or -Dprism.nightly=true) 20,000 programs and 10,000 packets with
 * both compilers, so the FFM call paths C2 compiles run too (about 20 minutes).
 */
class NativeArm64QemuTest {
    private static final boolean NIGHTLY = "1".equals(System.getenv("PRISM_NIGHTLY")) || Boolean.getBoolean("prism.nightly");
    private static final int FUZZ = NIGHTLY ? 20_000 : 200;
    private static final int PACKETS = NIGHTLY ? 10_000 : 500;
    private static final long TIMEOUT_S = NIGHTLY ? 60 * 60 : 15 * 60;
    private static final String QEMU = "qemu-aarch64-static";
    private static final String JAVA = "usr/lib/jvm/java-25-openjdk-arm64/bin/java";
    private static final int TAIL = 60;

    @Test
    void nativeArm64AgreesWithTheInterpreterUnderQemu() throws Exception {
        String arch = System.getProperty("os.arch", "");
        Assumptions.assumeFalse(arch.equals("aarch64") || arch.equals("arm64"),
                "this host is aarch64: every arm64 test here already runs the code natively");
        Path qemu = onPath(QEMU);
        Host.require("arm64-native", qemu != null, QEMU + " not on PATH (Debian: qemu-user-static)");
        Path sysroot = sysroot();
        Path java = sysroot.resolve(JAVA);
        Host.require("arm64-native", Files.isRegularFile(java) && Files.isExecutable(java),
                "no arm64 JDK at " + java + " (build the sysroot with scripts/arm64-sysroot " + sysroot
                        + ", or point PRISM_ARM64_SYSROOT at one)");

        List<String> cmd = new ArrayList<>(List.of(qemu.toString(), "-L", sysroot.toString(), java.toString()));
        if (!NIGHTLY) {
            cmd.add("-XX:TieredStopAtLevel=1");
        }
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-Xss4m",
                "-D" + ElfCompiler.CACHE_PROPERTY + "=" + suiteObjects(),
                "-cp", String.join(File.pathSeparator, classPath()),
                NativeArm64Check.class.getName(),
                "--fuzz", String.valueOf(FUZZ), "--packets", String.valueOf(PACKETS),
                "--deadline-s", String.valueOf(TIMEOUT_S - 30)));
        for (String name : Examples.names()) {
            cmd.addAll(List.of("--example", name + "=" + Examples.object(name).toAbsolutePath()));
        }

        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> summary = new ArrayList<>();
        Deque<String> tail = new ArrayDeque<>();
        Thread reader = Thread.ofPlatform().daemon().name("arm64-qemu output").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    System.out.println("arm64-qemu| " + line);
                    synchronized (tail) {
                        if (line.startsWith("summary: ")) {
                            summary.add(line);
                        }
                        tail.addLast(line);
                        if (tail.size() > TAIL) {
                            tail.removeFirst();
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        long start = System.nanoTime();
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            reader.join(5_000);
            fail("NativeArm64Check under qemu did not finish within " + TIMEOUT_S + " s; its output ended:\n" + lines(tail));
        }
        reader.join(30_000);
        long ms = (System.nanoTime() - start) / 1_000_000;
        synchronized (tail) {
            System.out.println("NativeArm64Check under qemu: exit " + p.exitValue() + " after " + ms + " ms");
            summary.forEach(System.out::println);
            if (p.exitValue() == 2) {
                fail("arm64 does not run natively in an arm64 JVM (under qemu): " + lines(tail));
            }
            assertEquals(0, p.exitValue(), () -> "NativeArm64Check under qemu failed (exit " + p.exitValue() + "); its output ended:\n"
                    + lines(tail));
            assertTrue(summary.stream().anyMatch(s -> s.startsWith("summary: PASS")), () -> "no PASS summary:\n" + lines(tail));
        }
    }

    /** {@return PRISM_ARM64_SYSROOT, or ~/.cache/prism/arm64-sysroot} */
    private static Path sysroot() {
        String env = System.getenv("PRISM_ARM64_SYSROOT");
        return env != null && !env.isEmpty() ? Path.of(env).toAbsolutePath()
                : Path.of(System.getProperty("user.home"), ".cache", "prism", "arm64-sysroot");
    }

    private static Path onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = dir.isEmpty() ? null : Path.of(dir, tool);
            if (p != null && Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p.toAbsolutePath();
            }
        }
        return null;
    }

    /**
     * {@return ElfCompiler's cache directory, absolute, with the objects of every {@code -- elf}
     * case of both suites in it} The arm64 JVM finds them there and never runs clang-19.
     */
    private static Path suiteObjects() {
        List<ConformanceCase> cases = new ArrayList<>(DataFileReader.readSuite(Suites.rfc9669()));
        cases.addAll(DataFileReader.readSuite(Suites.maps()));
        for (ConformanceCase c : cases) {
            if (c.source() instanceof ConformanceCase.Source.Elf elf) {
                try {
                    ElfCompiler.compile(c.file().resolveSibling(elf.file()));
                } catch (ElfCompiler.ClangMissing e) {
                    Host.require("clang", false, e.getMessage());
                }
                // a source that does not compile is the suite's error; the check reports it for the case
            }
        }
        return ElfCompiler.cacheDir().toAbsolutePath();
    }

    /**
     * {@return this JVM's test class path, entry by entry} Surefire runs tests from a
     * manifest-only booter jar and sets java.class.path to the real class path; should a
     * configuration leave the booter jar there instead, its manifest's Class-Path is read.
     */
    private static List<String> classPath() throws IOException, URISyntaxException {
        List<String> entries = new ArrayList<>(List.of(System.getProperty("java.class.path").split(File.pathSeparator)));
        if (entries.size() == 1 && entries.getFirst().endsWith(".jar")) {
            try (JarFile jar = new JarFile(entries.getFirst())) {
                Manifest m = jar.getManifest();
                String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
                if (cp != null) {
                    // entries are URIs, absolute or relative to the jar's directory
                    URI base = Path.of(entries.getFirst()).toAbsolutePath().getParent().toUri();
                    entries.clear();
                    for (String url : cp.trim().split("\\s+")) {
                        entries.add(Path.of(base.resolve(new URI(url))).toString());
                    }
                }
            }
        }
        Path self = Path.of(NativeArm64Check.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(entries.stream().anyMatch(e -> Path.of(e).toAbsolutePath().equals(self.toAbsolutePath())),
                () -> "the class path handed to the arm64 JVM lacks " + self + ": " + entries);
        return entries;
    }

    private static String lines(Deque<String> tail) {
        return String.join("\n", tail);
    }
}
