package dev.prism.arm64;

import dev.prism.testing.Host;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Assembles AArch64 text with llvm-mc-19 and returns each instruction's encoding word. */
final class LlvmMc {
    static final String TOOL = "llvm-mc-19";
    private static final Pattern ENCODING = Pattern.compile(
            "encoding: \\[0x([0-9a-f]{2}),0x([0-9a-f]{2}),0x([0-9a-f]{2}),0x([0-9a-f]{2})\\]");
    private static Boolean available;

    private LlvmMc() {
    }

    /** Skips (or fails, when PRISM_REQUIRE names "llvm") unless llvm-mc-19 runs. */
    static void require() {
        if (available == null) {
            available = runs();
        }
        Host.require("llvm", available, TOOL + " not installed");
    }

    private static boolean runs() {
        try {
            Process p = new ProcessBuilder(TOOL, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Assembles {@code lines} (one instruction each) in one llvm-mc run with
     * {@code -triple=aarch64 -mattr=+lse -show-encoding}; the result has one word per line.
     */
    static List<Integer> encode(List<String> lines) throws IOException, InterruptedException {
        Path source = Files.createTempFile("prism-a64-", ".s");
        try {
            Files.write(source, lines, StandardCharsets.UTF_8);
            Process p = new ProcessBuilder(TOOL, "-triple=aarch64", "-mattr=+lse", "-show-encoding",
                    source.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(TOOL + " failed:\n" + out);
            }
            if (out.contains("warning:")) {
                // A case llvm-mc accepts only with a warning is not a reference to compare against.
                throw new AssertionError(TOOL + " warned:\n" + out.lines().filter(l -> l.contains("warning:"))
                        .limit(20).reduce("", (x, y) -> x + y + "\n"));
            }
            List<Integer> words = new ArrayList<>();
            for (String line : out.split("\n")) {
                Matcher m = ENCODING.matcher(line);
                if (m.find()) {
                    words.add(Integer.parseUnsignedInt(m.group(4) + m.group(3) + m.group(2) + m.group(1), 16));
                }
            }
            if (words.size() != lines.size()) {
                throw new AssertionError(TOOL + " gave " + words.size() + " encodings for " + lines.size()
                        + " lines:\n" + out);
            }
            return words;
        } finally {
            Files.deleteIfExists(source);
        }
    }
}
