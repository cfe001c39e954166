package dev.prism.arm64;

import dev.prism.asm.Disassembler;
import dev.prism.error.TargetException;
import dev.prism.isa.Insn;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Listings of compiled code: each BPF instruction followed by the AArch64 instructions it
 * became, either as instruction words in hex or disassembled by {@code llvm-mc-19 --disassemble}
 * (Debian package llvm-19), which decodes bare bytes without an object file around them. Every
 * AArch64 instruction is one 4-byte word, so the i-th decoded instruction is at offset 4 i.
 */
public final class A64Listing {
    /** The disassembler, run with {@code -triple=aarch64 -mattr=+lse} so LSE atomics decode too. */
    public static final String TOOL = "llvm-mc-19";

    private A64Listing() {
    }

    /** One native instruction: its offset, its word, its text (empty in a hex listing). */
    record Line(int offset, int word, String text) {
    }

    /** {@return the listing with instruction words in hex} */
    static String hex(A64Jit.Compiled c) {
        int[] words = words(c.code());
        List<Line> lines = new ArrayList<>(words.length);
        for (int i = 0; i < words.length; i++) {
            lines.add(new Line(4 * i, words[i], ""));
        }
        return render(c, lines);
    }

    /**
     * {@return the listing with each instruction disassembled by llvm-mc-19}
     *
     * @throws TargetException when llvm-mc-19 is missing or fails
     */
    public static String disassembled(A64Jit.Compiled c) {
        int[] words = words(c.code());
        List<String> texts = llvmMc(c.code());
        if (texts.size() != words.length) {
            throw new TargetException(TOOL + " decoded " + texts.size() + " instructions from " + words.length + " words");
        }
        List<Line> lines = new ArrayList<>(words.length);
        for (int i = 0; i < words.length; i++) {
            lines.add(new Line(4 * i, words[i], texts.get(i)));
        }
        return render(c, lines);
    }

    private static String render(A64Jit.Compiled c, List<Line> all) {
        StringBuilder sb = new StringBuilder();
        int[] start = c.insnStart();
        int[] end = c.insnEnd();
        int first = 0;
        while (first < start.length && start[first] < 0) {
            first++;
        }
        section(sb, "prologue", all, 0, first < start.length ? start[first] : 0);
        int last = 0;
        for (int pc = 0; pc < start.length; pc++) {
            Insn insn = c.program().at(pc);
            if (insn == null || start[pc] < 0) {
                continue;
            }
            sb.append(String.format("%6d: %s%n", pc, Disassembler.format(insn)));
            lines(sb, all, start[pc], end[pc]);
            last = Math.max(last, end[pc]);
        }
        if (last < c.stubsEnd()) {
            section(sb, "call stubs", all, last, c.stubsEnd());
        }
        if (c.stubsEnd() < c.leavesEnd()) {
            section(sb, "map lookups", all, c.stubsEnd(), c.leavesEnd());
        }
        if (c.leavesEnd() < c.code().length) {
            section(sb, "exits and traps", all, Math.max(last, c.leavesEnd()), c.code().length);
        }
        int count = Math.max(1, c.instructions());
        sb.append(String.format("%d bytes of arm64 for %d BPF instructions (%.1f bytes each), %d passes%n",
                c.code().length, c.instructions(), c.code().length / (double) count, c.passes()));
        return sb.toString();
    }

    private static void section(StringBuilder sb, String name, List<Line> all, int from, int to) {
        sb.append(String.format("%6s  ; %s%n", "", name));
        lines(sb, all, from, to);
    }

    private static void lines(StringBuilder sb, List<Line> all, int from, int to) {
        for (int at = from; at < to; at += 4) {
            Line l = all.get(at / 4);
            sb.append(String.format("  %04x  %08x  %s", l.offset(), l.word(), l.text()).stripTrailing()).append('\n');
        }
    }

    private static int[] words(byte[] code) {
        int[] w = new int[code.length / 4];
        for (int i = 0; i < w.length; i++) {
            int at = 4 * i;
            w[i] = (code[at] & 0xff) | (code[at + 1] & 0xff) << 8 | (code[at + 2] & 0xff) << 16 | (code[at + 3] & 0xff) << 24;
        }
        return w;
    }

    private static final Pattern ENCODED = Pattern.compile("^\\s+(\\S.*?)\\s*//\\s*encoding:.*$");

    /** {@return llvm-mc's text of each instruction of {@code code}, in order} */
    static List<String> llvmMc(byte[] code) {
        StringBuilder in = new StringBuilder(code.length * 5);
        for (byte b : code) {
            in.append(String.format("0x%02x ", b & 0xff));
        }
        try {
            Process p = new ProcessBuilder(TOOL, "--disassemble", "-triple=aarch64", "-mattr=+lse", "--show-encoding")
                    .redirectErrorStream(true).start();
            // llvm-mc reads all its input before it writes, so writing first cannot deadlock on a full pipe
            try (var stdin = p.getOutputStream()) {
                stdin.write(in.toString().getBytes(StandardCharsets.US_ASCII));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new TargetException(TOOL + " failed: " + out.strip());
            }
            List<String> texts = new ArrayList<>();
            for (String line : out.split("\n")) {
                Matcher m = ENCODED.matcher(line);
                if (m.matches()) {
                    texts.add(m.group(1).replaceAll("\\s+", " "));
                } else if (line.contains("invalid instruction encoding")) {
                    texts.add("(invalid encoding)");
                }
            }
            return texts;
        } catch (IOException e) {
            throw new TargetException(TOOL + " is needed for a disassembled listing (Debian package llvm-19): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TargetException("interrupted while running " + TOOL);
        }
    }
}
