package dev.prism.x86;

import dev.prism.testing.Host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@code llvm-mc-19 -triple=x86_64 -show-encoding} once over a batch of Intel-syntax
 * instructions and returns each one's encoding, in order. Skips (or fails, when required)
 * through {@link Host#require} under the name "llvm" when llvm-mc-19 is missing.
 */
final class LlvmMc {
    static final String TOOL = "llvm-mc-19";
    private static final Pattern ENCODING = Pattern.compile("encoding: \\[([^\\]]*)\\]");

    private LlvmMc() {
    }

    static final String OBJCOPY = "llvm-objcopy-19";

    static void require() {
        Host.require("llvm", onPath(TOOL), TOOL + " not found on PATH");
    }

    static void requireObjcopy() {
        Host.require("llvm", onPath(OBJCOPY), OBJCOPY + " not found on PATH");
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** The encodings of {@code lines} (one instruction each), as lower-case hex strings. */
    static List<String> encode(List<String> lines) throws IOException, InterruptedException {
        StringBuilder in = new StringBuilder(".intel_syntax noprefix\n");
        for (String line : lines) {
            in.append(line).append('\n');
        }
        Path input = Files.createTempFile("prism-x86-", ".s");
        try {
            Files.writeString(input, in);
            Process p = new ProcessBuilder(TOOL, "-triple=x86_64", "-show-encoding", input.toString())
                    .redirectErrorStream(false)
                    .start();
            // Drain stderr concurrently so a full pipe cannot block the tool.
            StringBuilder err = new StringBuilder();
            Thread drain = Thread.ofVirtual().start(() -> {
                try {
                    err.append(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    err.append(e);
                }
            });
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(TOOL + " timed out");
            }
            drain.join();
            if (p.exitValue() != 0 || !err.isEmpty()) {
                throw new IOException(TOOL + " exited " + p.exitValue() + ":\n" + err);
            }
            List<String> result = new ArrayList<>();
            Matcher m = ENCODING.matcher(out);
            while (m.find()) {
                StringBuilder hex = new StringBuilder();
                for (String b : m.group(1).split(",")) {
                    String t = b.trim();
                    if (!t.startsWith("0x")) {
                        throw new IOException("unresolved fixup in encoding [" + m.group(1) + "]");
                    }
                    hex.append(String.format("%02x", Integer.parseInt(t.substring(2), 16)));
                }
                result.add(hex.toString());
            }
            if (result.size() != lines.size()) {
                throw new IOException(TOOL + " gave " + result.size() + " encodings for "
                        + lines.size() + " instructions");
            }
            return result;
        } finally {
            Files.deleteIfExists(input);
        }
    }

    /**
     * Assembles {@code text} (Intel syntax, labels allowed) into an object file and returns
     * its .text bytes, with every jump resolved and relaxed by llvm-mc.
     */
    static byte[] assemble(String text) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("prism-x86-");
        Path src = dir.resolve("a.s");
        Path obj = dir.resolve("a.o");
        Path bin = dir.resolve("a.bin");
        try {
            Files.writeString(src, ".intel_syntax noprefix\n" + text);
            run(TOOL, "-triple=x86_64", "-filetype=obj", "-o", obj.toString(), src.toString());
            run(OBJCOPY, "-O", "binary", "--only-section=.text", obj.toString(), bin.toString());
            return Files.readAllBytes(bin);
        } finally {
            for (Path f : new Path[] {src, obj, bin}) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(command[0] + " timed out");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ":\n" + out);
        }
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
