package dev.prism.verifier.cfg;

import java.util.Objects;

/**
 * A problem found in a program, tied to the instruction it concerns. Problems are data: the
 * verifier decides which of them refuse a program.
 *
 * @param pc     the slot of the instruction the problem is about
 * @param reason lower case, stable wording, optionally followed by {@code " (detail)"}; tests
 *               and callers match the part before the detail (see {@link #is})
 */
public record Diagnostic(int pc, String reason) implements Comparable<Diagnostic> {

    public Diagnostic {
        Objects.requireNonNull(reason);
    }

    /** {@return whether this diagnostic reads {@code reason}, with or without a detail} */
    public boolean is(String kind) {
        return reason.equals(kind) || reason.startsWith(kind + " (");
    }

    /** {@return the reason without its detail} */
    public String kind() {
        int open = reason.indexOf(" (");
        return open < 0 ? reason : reason.substring(0, open);
    }

    @Override
    public int compareTo(Diagnostic o) {
        int c = Integer.compare(pc, o.pc);
        return c != 0 ? c : reason.compareTo(o.reason);
    }

    /** {@return {@code pc: reason (detail)}, the form every Prism diagnostic is printed in} */
    @Override
    public String toString() {
        return pc + ": " + reason;
    }
}
