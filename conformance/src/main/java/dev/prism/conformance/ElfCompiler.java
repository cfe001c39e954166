package dev.prism.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Compiles the C sources of {@code -- elf} cases with
 * {@code clang-19 -O2 -g -target bpf -mcpu=v3 -c} into a cache directory, keyed by a SHA-256
 * of the compiler command and the source text, so repeated runs do not recompile. The cache is
 * {@code target/prism-suite-objects/} under the working directory, or the directory named by
 * the system property {@value #CACHE_PROPERTY}.
 *
 * <p>Sources are compiled from a copy in the cache (the suite may live inside a jar), so they
 * must be self-contained: no {@code #include} of files next to them.
 */
public final class ElfCompiler {
    /** The compiler; other versions emit other code, and the expected values do not depend on it, but the objects would. */
    public static final String CLANG = "clang-19";
    /** The flags, after {@link #CLANG}; the source and output follow. */
    public static final List<String> FLAGS = List.of("-O2", "-g", "-target", "bpf", "-mcpu=v3", "-c");
    /** The system property that moves the cache. */
    public static final String CACHE_PROPERTY = "prism.suite.objects";
    /** The skip reason when {@link #CLANG} cannot be run. */
    public static final String MISSING = CLANG + " not installed";

    private static volatile Boolean clangPresent;
    /** The command run as {@link #CLANG}; tests point it at a missing one. */
    private static volatile String command = CLANG;

    private ElfCompiler() {
    }

    /** {@link #CLANG} cannot be run on this host: the case is skipped, not failed. */
    public static final class ClangMissing extends RuntimeException {
        ClangMissing() {
            super(MISSING);
        }
    }

    /** The C source does not compile: the case is broken (an error, not a target's failure). */
    public static final class CompileFailed extends RuntimeException {
        CompileFailed(String message) {
            super(message);
        }
    }

    /** {@return whether {@link #CLANG} runs on this host (asked once)} */
    public static boolean available() {
        Boolean present = clangPresent;
        if (present == null) {
            try {
                Process p = new ProcessBuilder(command, "--version").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                present = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException e) {
                present = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                present = false;
            }
            clangPresent = present;
        }
        return present;
    }

    /**
     * Runs {@code body} with {@code compiler} in place of {@link #CLANG} and the presence check
     * redone, then restores both (for tests of the missing-compiler path; not thread-safe).
     */
    static void withCompiler(String compiler, Runnable body) {
        String saved = command;
        Boolean present = clangPresent;
        command = compiler;
        clangPresent = null;
        try {
            body.run();
        } finally {
            command = saved;
            clangPresent = present;
        }
    }

    /** {@return the cache directory} */
    public static Path cacheDir() {
        return Path.of(System.getProperty(CACHE_PROPERTY, "target/prism-suite-objects"));
    }

    /**
     * {@return the object file compiled from {@code source}, from the cache when it is there}
     *
     * @throws ClangMissing   when {@link #CLANG} is not installed
     * @throws CompileFailed  when the source is missing or does not compile (with clang's output)
     */
    public static Path compile(Path source) {
        String text;
        try {
            text = Files.readString(source, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CompileFailed("cannot read the case's C source " + source + ": " + e.getMessage());
        }
        String name = String.valueOf(source.getFileName()).replaceAll("\\.c$", "");
        Path dir = cacheDir();
        Path object = dir.resolve(name + "-" + key(text) + ".o");
        if (Files.isRegularFile(object)) {
            return object;
        }
        if (!available()) {
            throw new ClangMissing();
        }
        try {
            Files.createDirectories(dir);
            // Compile under a unique name and move into place, so concurrent runs never see a
            // half-written object.
            Path src = Files.createTempFile(dir, name + "-", ".c");
            Path tmp = Files.createTempFile(dir, name + "-", ".o.tmp");
            try {
                Files.writeString(src, text, StandardCharsets.UTF_8);
                List<String> cmd = new ArrayList<>();
                cmd.add(command);
                cmd.addAll(FLAGS);
                cmd.add(src.toString());
                cmd.add("-o");
                cmd.add(tmp.toString());
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new CompileFailed(CLANG + " did not finish compiling " + source + " within 120 s");
                }
                if (p.exitValue() != 0) {
                    throw new CompileFailed(CLANG + " failed on " + source + " (exit " + p.exitValue() + "):\n"
                            + out.replace(src.toString(), String.valueOf(source.getFileName())).strip());
                }
                try {
                    Files.move(tmp, object, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, object, StandardCopyOption.REPLACE_EXISTING);
                }
                return object;
            } finally {
                Files.deleteIfExists(src);
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot compile " + source + " into " + dir, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompileFailed("interrupted while compiling " + source);
        }
    }

    /** The cache key: what the object depends on, the command and the source. */
    private static String key(String text) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((CLANG + " " + String.join(" ", FLAGS) + "\n").getBytes(StandardCharsets.UTF_8));
            sha.update(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
