package dev.prism.p4;

import java.util.ArrayList;
import java.util.List;

/**
 * P4 source text with, for every line, the BPF instruction it came from (-1 for scaffolding:
 * declarations, the parser, the final XDP action dispatch). The lowering sets {@link #pc}
 * before it writes an instruction's statements.
 */
final class P4Writer {
    private final StringBuilder text = new StringBuilder();
    private final List<Integer> pcs = new ArrayList<>();
    private int indent;
    /** The instruction being lowered, recorded for each line written; -1 outside instructions. */
    int pc = -1;

    /** Writes one line at the current indentation. */
    P4Writer line(String s) {
        text.append("    ".repeat(indent)).append(s).append('\n');
        pcs.add(pc);
        return this;
    }

    /** Writes a line and indents the following ones (the line opens a block). */
    P4Writer open(String s) {
        line(s);
        indent++;
        return this;
    }

    /** Outdents and writes a closing line. */
    P4Writer close(String s) {
        indent--;
        return line(s);
    }

    /** Writes a line between two blocks ("} else {"): outdented, the following lines indented again. */
    P4Writer mid(String s) {
        indent--;
        line(s);
        indent++;
        return this;
    }

    P4Writer blank() {
        text.append('\n');
        pcs.add(-1);
        return this;
    }

    /** Appends another writer's lines at the current indentation. */
    P4Writer append(P4Writer other) {
        String[] lines = other.text.toString().split("\n", -1);
        for (int i = 0; i < other.pcs.size(); i++) {
            text.append(lines[i].isEmpty() ? "" : "    ".repeat(indent)).append(lines[i]).append('\n');
            pcs.add(other.pcs.get(i));
        }
        return this;
    }

    String text() {
        return text.toString();
    }

    /** {@return per line (0-based) the BPF pc it came from, -1 for none} */
    List<Integer> linePcs() {
        return List.copyOf(pcs);
    }

    int lines() {
        return pcs.size();
    }
}
