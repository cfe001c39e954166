package dev.prism.x86;

import dev.prism.asm.Disassembler;
import dev.prism.error.TargetException;
import dev.prism.isa.Insn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Listings of compiled code: each BPF instruction followed by the native instructions it became,
 * either as hex bytes or disassembled by GNU objdump (Debian binutils; Intel syntax), which
 * decodes raw bytes without an object file around them.
 */
public final class X86Listing {
    private X86Listing() {
    }

    /** One decoded native instruction. */
    record Line(int offset, String bytes, String text) {
    }

    /** {@return the listing with native code as hex bytes} */
    static String hex(X86Jit.Compiled c) {
        HexFormat hex = HexFormat.ofDelimiter(" ");
        return render(c, (from, to) -> List.of(new Line(from, hex.formatHex(c.code(), from, to), "")));
    }

    /**
     * {@return the listing with native code disassembled by objdump}
     *
     * @throws TargetException when objdump is missing or fails
     */
    public static String disassembled(X86Jit.Compiled c) {
        List<Line> all = objdump(c.code());
        return render(c, (from, to) -> all.stream().filter(l -> l.offset() >= from && l.offset() < to).toList());
    }

    private interface Range {
        List<Line> lines(int from, int to);
    }

    private static String render(X86Jit.Compiled c, Range range) {
        StringBuilder sb = new StringBuilder();
        int[] start = c.insnStart();
        int[] end = c.insnEnd();
        section(sb, "prologue", range.lines(0, start[0]));
        int last = 0;
        for (int pc = 0; pc < start.length; pc++) {
            Insn insn = c.program().at(pc);
            if (insn == null || start[pc] < 0) {
                continue;
            }
            sb.append(String.format("%6d: %s%n", pc, Disassembler.format(insn)));
            lines(sb, range.lines(start[pc], end[pc]));
            last = Math.max(last, end[pc]);
        }
        if (last < c.code().length) {
            section(sb, "call stubs, exits and traps", range.lines(last, c.code().length));
        }
        sb.append(String.format("%d bytes of x86-64 for %d BPF instructions (%.1f bytes each), %d passes%n",
                c.code().length, count(c), c.code().length / (double) Math.max(1, count(c)), c.passes()));
        return sb.toString();
    }

    private static int count(X86Jit.Compiled c) {
        int k = 0;
        for (int s : c.insnStart()) {
            k += s >= 0 ? 1 : 0;
        }
        return k;
    }

    private static void section(StringBuilder sb, String name, List<Line> lines) {
        sb.append(String.format("%6s  ; %s%n", "", name));
        lines(sb, lines);
    }

    private static void lines(StringBuilder sb, List<Line> lines) {
        for (Line l : lines) {
            sb.append(String.format("        %04x  %-32s %s%n", l.offset(), l.bytes(), l.text()).stripTrailing()).append('\n');
        }
    }

    private static final Pattern OBJDUMP_LINE = Pattern.compile("^\\s*([0-9a-f]+):\\s+((?:[0-9a-f]{2} )+)\\s*(.*)$");

    /** {@return objdump's decoding of {@code code} as x86-64, Intel syntax} */
    static List<Line> objdump(byte[] code) {
        Path bin = null;
        try {
            bin = Files.createTempFile("prism-x86-", ".bin");
            Files.write(bin, code);
            Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel", bin.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new TargetException("objdump failed: " + out.strip());
            }
            List<Line> lines = new ArrayList<>();
            Line pending = null;
            for (String s : out.split("\n")) {
                Matcher m = OBJDUMP_LINE.matcher(s);
                if (!m.matches()) {
                    continue;
                }
                int offset = Integer.parseInt(m.group(1), 16);
                String bytes = m.group(2).strip();
                String text = m.group(3).replaceAll("\\s+", " ").strip();
                if (text.isEmpty() && pending != null) {
                    // objdump continues a long instruction's bytes on the next line
                    pending = new Line(pending.offset(), pending.bytes() + " " + bytes, pending.text());
                    lines.set(lines.size() - 1, pending);
                    continue;
                }
                pending = new Line(offset, bytes, text);
                lines.add(pending);
            }
            return lines;
        } catch (IOException e) {
            throw new TargetException("objdump is needed for a disassembled listing (Debian package binutils): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TargetException("interrupted while running objdump");
        } finally {
            if (bin != null) {
                try {
                    Files.deleteIfExists(bin);
                } catch (IOException ignored) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }
}
