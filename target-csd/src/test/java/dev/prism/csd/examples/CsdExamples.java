package dev.prism.csd.examples;

import dev.prism.elf.ElfObject;
import dev.prism.program.Program;
import dev.prism.testing.Host;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * The csd examples of examples/csd/, compiled with examples/Makefile's flags into a cache keyed by
 * the source and both headers (so a run never uses a stale object).
 */
public final class CsdExamples {
    private CsdExamples() {
    }

    /** {@return the repository root: PRISM_ROOT (set by the build) or the nearest parent holding examples/Makefile} */
    public static Path root() {
        String env = System.getenv("PRISM_ROOT");
        if (env != null && Files.isRegularFile(Path.of(env, "examples/Makefile"))) {
            return Path.of(env);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("examples/Makefile"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root (examples/Makefile)");
    }

    /** {@return the program of examples/csd/NAME.c}; skips (or fails under PRISM_REQUIRE) without clang-19 */
    public static Program program(String name) {
        Host.require("clang", Host.onPath("clang-19"), "clang-19 is not on PATH (make setup installs it)");
        Path examples = root().resolve("examples");
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Files.readAllBytes(examples.resolve("csd/" + name + ".c")));
            sha.update(Files.readAllBytes(examples.resolve("include/prism_bpf.h")));
            sha.update(Files.readAllBytes(examples.resolve("include/prism_csd.h")));
            Path out = root().resolve("target-csd/target/example-objects/" + name + "-"
                    + HexFormat.of().formatHex(sha.digest()).substring(0, 16) + ".o");
            if (!Files.exists(out)) {
                Files.createDirectories(out.getParent());
                Path tmp = Files.createTempFile(out.getParent(), name, ".o.tmp");
                Process p = new ProcessBuilder("clang-19", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I",
                        examples.resolve("include").toString(), "-Wall", "-Werror", "-c",
                        examples.resolve("csd/" + name + ".c").toString(), "-o", tmp.toString())
                        .redirectErrorStream(true).start();
                String log = new String(p.getInputStream().readAllBytes());
                if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("clang-19 failed on " + name + ".c:\n" + log);
                }
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            return ElfObject.load(out).program();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
