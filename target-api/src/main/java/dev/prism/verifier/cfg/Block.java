package dev.prism.verifier.cfg;

import java.util.List;

/**
 * A basic block: straight-line code entered only at {@code first} and left only after
 * {@code last}. Calls (local, helper, tail call, callx) return, so they do not end a block;
 * {@code ja}, conditional jumps and {@code exit} do.
 *
 * @param first      the slot of its first instruction
 * @param last       the slot of its last instruction (for an lddw, its first slot: the block
 *                   then also covers {@code last + 1})
 * @param successors the first slots of the blocks control can go to next, distinct: the
 *                   fall-through first, then the jump target. Empty after {@code exit}, and
 *                   where the only way on is a problem (falls off the end, a bad target).
 */
public record Block(int first, int last, List<Integer> successors) {

    public Block {
        if (last < first) {
            throw new IllegalArgumentException("block " + first + ".." + last + " ends before it starts");
        }
        successors = List.copyOf(successors);
    }

    /** {@return whether the block holds the instruction starting at slot {@code pc}} */
    public boolean holds(int pc) {
        return pc >= first && pc <= last;
    }

    @Override
    public String toString() {
        return first + ".." + last + " -> " + successors;
    }
}
