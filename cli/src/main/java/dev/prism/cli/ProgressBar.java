package dev.prism.cli;

import java.io.PrintWriter;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A one-line progress bar on a terminal, redrawn in place with carriage returns and erased when
 * closed: {@code [#####.........] 123/456 cases  4.1-arithmetic/add.data}. Redraws are limited to
 * one per 50 ms so that fast runs do not spend their time writing to the terminal.
 */
final class ProgressBar implements AutoCloseable {
    private static final int BAR = 24;
    /** Longer lines would wrap, and a wrapped line cannot be redrawn with '\r'. */
    private static final int MAX_LINE = 79;
    private static final long REDRAW_NS = 50_000_000L;

    private final PrintWriter out;
    private final int total;
    private final String unit;
    private long lastDraw;
    private int lastLength;

    ProgressBar(PrintWriter out, int total, String unit) {
        this.out = out;
        this.total = total;
        this.unit = unit;
    }

    /** {@return whether stderr is a terminal a person watches, the only place a bar belongs} */
    static boolean wanted() {
        return System.console() != null && stderrIsTerminal();
    }

    /** isatty(2) through the FFM API; the JDK only tells whether stdin and stdout are terminals. */
    @SuppressWarnings("restricted") // a libc call with an int argument: nothing to get wrong
    private static boolean stderrIsTerminal() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle isatty = linker.downcallHandle(linker.defaultLookup().find("isatty").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) isatty.invokeExact(2) == 1;
        } catch (Throwable e) {
            // no libc symbol or native access denied: no bar, which is always safe
            return false;
        }
    }

    /** Shows {@code done} of the total, working on {@code label}. */
    void update(int done, String label) {
        long now = System.nanoTime();
        if (done < total && now - lastDraw < REDRAW_NS) {
            return;
        }
        lastDraw = now;
        int filled = total == 0 ? BAR : (int) ((long) Math.min(done, total) * BAR / total);
        String line = "[" + "#".repeat(filled) + ".".repeat(BAR - filled) + "] " + done + "/" + total + " " + unit + "  ";
        int room = MAX_LINE - line.length();
        if (room > 3) {
            line += label.length() <= room ? label : "..." + label.substring(label.length() - room + 3);
        }
        draw(line);
    }

    private void draw(String line) {
        out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        out.flush();
        lastLength = line.length();
    }

    /** Erases the bar, leaving the cursor at the start of an empty line. */
    @Override
    public void close() {
        if (lastLength > 0) {
            out.print("\r" + " ".repeat(lastLength) + "\r");
            out.flush();
            lastLength = 0;
        }
    }
}
