package dev.prism.verifier.cfg;

/**
 * An edge of the call graph.
 *
 * @param site   the slot of the instruction that makes the edge
 * @param callee the first slot of the function it leads to
 * @param kind   how
 */
public record CallEdge(int site, int callee, Kind kind) {

    /** How a function reaches another. */
    public enum Kind {
        /** {@code call local}: a direct call that returns to {@code site + 1} */
        CALL,
        /**
         * {@code lddw code}: the callee's address is taken at {@code site}; it is called later
         * by a helper (bpf_loop, bpf_for_each_map_elem ...) or by {@code callx}, while the
         * function holding the site is still on the stack. Counted as a call, so that a
         * callback that passes itself to bpf_loop is recursive.
         */
        CODE_ADDRESS
    }

    @Override
    public String toString() {
        return site + " -> " + callee + (kind == Kind.CALL ? "" : " (code address)");
    }
}
