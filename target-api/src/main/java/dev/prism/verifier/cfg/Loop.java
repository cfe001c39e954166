package dev.prism.verifier.cfg;

import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A natural loop: all back edges to one head merged (a back edge is an edge u -> h where h
 * dominates u). Everything is named by block: first slots of blocks of the same function.
 *
 * @param head            the loop header block; it dominates every block of the body
 * @param backEdgeSources the blocks that jump (or fall) back to the head, ascending; the
 *                        instruction that does it is each one's {@link Block#last()}
 * @param body            the blocks of the loop, head and sources included: every block that
 *                        reaches a back-edge source without passing through the head
 */
public record Loop(int head, List<Integer> backEdgeSources, Set<Integer> body) {

    public Loop {
        backEdgeSources = List.copyOf(backEdgeSources);
        body = body instanceof SlotSet ? body : Collections.unmodifiableSortedSet(new TreeSet<>(body));
    }

    @Override
    public String toString() {
        return "loop " + head + " (back edges from " + backEdgeSources + ", body " + body + ")";
    }
}
