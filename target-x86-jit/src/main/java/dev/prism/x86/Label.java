package dev.prism.x86;

import java.util.ArrayList;
import java.util.List;

/**
 * A position in an {@link X86Assembler}'s code. Jumps to an unbound label record a patch
 * site; {@link X86Assembler#bind} writes every recorded displacement and checks that each
 * fits its width. A label belongs to one assembler and is bound at most once.
 */
public final class Label {
    /** Offset of the labelled instruction, or -1 while unbound. */
    int position = -1;

    /**
     * Pending displacements: the offset of the displacement field, its width in bytes (1 or 4)
     * and the offset of the end of the jump, which the displacement is relative to.
     */
    final List<Patch> patches = new ArrayList<>();

    record Patch(int site, int width, int end) {
    }

    /** Whether {@link X86Assembler#bind} has been called with this label. */
    public boolean isBound() {
        return position >= 0;
    }

    /** The bound offset. @throws IllegalStateException when unbound */
    public int position() {
        if (position < 0) {
            throw new IllegalStateException("label is not bound");
        }
        return position;
    }
}
