package dev.prism.conformance.examples;

import dev.prism.testing.Host;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The example programs of examples/: their sources, built with the flags of examples/Makefile
 * into a content-addressed cache (so a test run never uses a stale object), and their crafted
 * packet files.
 */
public final class Examples {
    private Examples() {
    }

    /** {@return the repository root: PRISM_ROOT (set by the build) or the nearest parent holding examples/} */
    public static Path root() {
        String env = System.getenv("PRISM_ROOT");
        if (env != null && Files.isDirectory(Path.of(env, "examples"))) {
            return Path.of(env);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("examples/Makefile"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root (examples/Makefile)");
    }

    /** {@return the example sources, by name} */
    public static List<String> names() {
        return names("");
    }

    /**
     * {@return the sources in {@code examples/DIR} by name (DIR "" for examples/ itself)}; the
     * programs of {@code examples/verifier/} exercise the verifier (issue 18) and are kept apart
     * from the user-facing examples
     */
    public static List<String> names(String dir) {
        try (Stream<Path> s = Files.list(root().resolve("examples").resolve(dir))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".c"))
                    .map(n -> n.substring(0, n.length() - 2)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@return the object for example {@code name}, compiled with clang-19 when not cached} */
    public static Path object(String name) {
        return object("", name);
    }

    /** {@return the object for {@code examples/DIR/NAME.c}, compiled with clang-19 when not cached} */
    public static Path object(String dir, String name) {
        Path examples = root().resolve("examples").resolve(dir);
        Path include = root().resolve("examples/include");
        try {
            byte[] source = Files.readAllBytes(examples.resolve(name + ".c"));
            byte[] header = Files.readAllBytes(include.resolve("prism_bpf.h"));
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(source);
            sha.update(header);
            String key = HexFormat.of().formatHex(sha.digest()).substring(0, 16);
            Path out = root().resolve("conformance/target/example-objects/" + (dir.isEmpty() ? "" : dir + "-") + name + "-" + key + ".o");
            if (Files.exists(out)) {
                return out;
            }
            Files.createDirectories(out.getParent());
            Path tmp = Files.createTempFile(out.getParent(), name, ".o.tmp");
            Process p = new ProcessBuilder("clang-19", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", include.toString(),
                    "-Wall", "-Werror", "-c", name + ".c", "-o", tmp.toString())
                    .directory(examples.toFile()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("clang-19 failed on examples/" + name + ".c:\n" + log);
            }
            Files.move(tmp, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return out;
        } catch (IOException e) {
            Host.require("clang", false, "clang-19 could not be run: " + e.getMessage());
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A map write from a packet file's setup line {@code #! map NAME update key HEX value HEX}. */
    public record MapInit(String map, byte[] key, byte[] value) {
    }

    /** A packet file: setup lines and packets, each with its comment. */
    public record PacketFile(List<MapInit> setup, List<byte[]> packets, List<String> comments) {
    }

    /** {@return examples/packets/NAME.txt parsed} */
    public static PacketFile packets(String name) {
        return packets("", name);
    }

    /** {@return examples/DIR/packets/NAME.txt parsed} */
    public static PacketFile packets(String dir, String name) {
        Path f = root().resolve("examples").resolve(dir).resolve("packets/" + name + ".txt");
        List<MapInit> setup = new ArrayList<>();
        List<byte[]> packets = new ArrayList<>();
        List<String> comments = new ArrayList<>();
        String comment = "";
        try {
            for (String line : Files.readAllLines(f)) {
                String s = line.strip();
                if (s.startsWith("#!")) {
                    // #! map NAME update key HEX... value HEX... (hex may be split into fields)
                    String[] w = s.substring(2).strip().split("\\s+");
                    int value = List.of(w).indexOf("value");
                    if (w.length < 7 || !w[0].equals("map") || !w[2].equals("update") || !w[3].equals("key") || value < 5) {
                        throw new IllegalArgumentException(f + ": bad setup line: " + s);
                    }
                    String key = String.join("", List.of(w).subList(4, value));
                    String val = String.join("", List.of(w).subList(value + 1, w.length));
                    setup.add(new MapInit(w[1], HexFormat.of().parseHex(key), HexFormat.of().parseHex(val)));
                } else if (s.startsWith("#")) {
                    comment = s.substring(1).strip();
                } else if (!s.isEmpty()) {
                    packets.add(HexFormat.of().parseHex(s.replace(" ", "")));
                    comments.add(comment);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new PacketFile(setup, packets, comments);
    }
}
