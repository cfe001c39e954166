package dev.prism.verifier;

import java.util.List;

/**
 * Sees every state the verifier processes, instruction by instruction and path by path, before
 * the instruction runs: what a kernel offload driver's per-instruction verifier hook sees (the
 * nfp driver's {@code nfp_verify_insn}). {@link VerifiedProgram#facts} joins the same states over
 * every path; an observer can tell the paths apart (one pointer type per instruction on all
 * paths, a constant offset on each path). States the verifier prunes as covered by one it has
 * already seen are not shown again.
 */
@FunctionalInterface
public interface PathObserver {
    /**
     * @param pc   the instruction about to be processed
     * @param regs r0..r10 on this path, as {@link Facts.Register}s (pointer offsets are the
     *             offset on this path: a constant when the path knows it)
     */
    void visit(int pc, List<Facts.Register> regs);
}
