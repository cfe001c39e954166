package dev.prism.p4;

import dev.prism.isa.Insn;
import dev.prism.verifier.Facts;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.cfg.Block;
import dev.prism.verifier.cfg.FunctionCfg;
import dev.prism.verifier.cfg.Loop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the entry function's control-flow graph into a DAG that P4 can express: every loop is
 * unrolled by its proven trip bound. A node is a basic block together with the iteration
 * number of each loop that contains it; an edge back to a loop head increments that loop's
 * number, an edge into a loop from outside starts it at 0, leaving a loop forgets it. An edge
 * that would take a loop past its proven bound is not emitted (the verifier proved no run takes
 * it), nor is the never-taken side of a branch the IR marks decided. Every cycle of the CFG
 * passes through a back edge, so the result is acyclic.
 *
 * <p>Order: reverse postorder of a depth-first search, so every node comes after all its
 * predecessors, which is what the guard-flag lowering needs.
 */
final class P4Unroller {
    /** One block instance: the block's first slot and the iteration of each loop (by index) that holds it. */
    record Node(int id, int first, int last, int[] iterations) {
    }

    /**
     * The unrolled graph.
     *
     * @param nodes in topological order, the entry first
     * @param fall  per node id, the node control falls or jumps to unconditionally (or the
     *              branch's not-taken side); -1 when none
     * @param taken per node id, the node a conditional jump takes; -1 when none or not feasible
     * @param insns instructions in all nodes (lddw counted once)
     */
    record Dag(List<Node> nodes, int[] fall, int[] taken, long insns) {
    }

    /** Thrown when the unrolled size passes the limit. */
    static final class TooLarge extends RuntimeException {
        final int loopHead;

        TooLarge(int loopHead, String message) {
            super(message);
            this.loopHead = loopHead;
        }
    }

    private record Key(int first, List<Integer> iterations) {
    }

    private final VerifiedProgram vp;
    private final FunctionCfg f;
    private final List<Loop> loops;
    private final long[] bounds;
    private final long limit;
    private final Map<Key, Integer> ids = new HashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<int[]> succ = new ArrayList<>();
    private long insns;

    private P4Unroller(VerifiedProgram vp, FunctionCfg f, long limit) {
        this.vp = vp;
        this.f = f;
        this.loops = f.loops();
        this.bounds = new long[loops.size()];
        for (int i = 0; i < loops.size(); i++) {
            bounds[i] = vp.loopBounds().getOrDefault(loops.get(i).head(), 0L);
        }
        this.limit = limit;
    }

    /**
     * {@return the unrolled DAG of the entry function}
     *
     * @param limit the most instructions the unrolled program may have
     * @throws TooLarge when unrolling passes the limit
     */
    static Dag unroll(VerifiedProgram vp, long limit) {
        FunctionCfg f = vp.cfg().functions().getFirst();
        return new P4Unroller(vp, f, limit).run();
    }

    private Dag run() {
        Block entry = f.block(f.start());
        int root = node(entry.first(), new int[loops.size()]);
        // iterative DFS for the postorder
        int[] state = new int[0];
        List<Integer> post = new ArrayList<>();
        Deque<int[]> stack = new ArrayDeque<>();
        boolean[] seen = new boolean[16];
        stack.push(new int[] {root, 0});
        seen = mark(seen, root);
        while (!stack.isEmpty()) {
            int[] top = stack.peek();
            int[] s = successors(top[0]);
            if (top[1] < s.length) {
                int v = s[top[1]++];
                if (v >= 0 && !isMarked(seen, v)) {
                    seen = mark(seen, v);
                    stack.push(new int[] {v, 0});
                }
            } else {
                post.add(top[0]);
                stack.pop();
            }
        }
        List<Node> order = new ArrayList<>();
        for (int i = post.size() - 1; i >= 0; i--) {
            order.add(nodes.get(post.get(i)));
        }
        int[] fall = new int[nodes.size()];
        int[] taken = new int[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            int[] s = succ.get(i);
            fall[i] = s[0];
            taken[i] = s[1];
        }
        return new Dag(order, fall, taken, insns);
    }

    private static boolean[] mark(boolean[] seen, int v) {
        if (v >= seen.length) {
            seen = Arrays.copyOf(seen, Math.max(v + 1, seen.length * 2));
        }
        seen[v] = true;
        return seen;
    }

    private static boolean isMarked(boolean[] seen, int v) {
        return v < seen.length && seen[v];
    }

    /** {@return the node ids after node {@code id}: {fall, taken}, -1 for none}; computed once */
    private int[] successors(int id) {
        int[] s = succ.get(id);
        if (s != null) {
            return s;
        }
        Node n = nodes.get(id);
        int lastPc = vp.program().at(n.last()) == null ? n.last() - 1 : n.last();
        Insn last = vp.program().at(lastPc);
        int fallPc = -1;
        int takenPc = -1;
        switch (last) {
            case Insn.Exit e -> {
            }
            case Insn.Ja j -> fallPc = n.last() + 1 + j.offset();
            case Insn.Jump j -> {
                Facts facts = vp.facts(n.last());
                Boolean decided = facts == null ? null : facts.branch();
                int target = n.last() + 1 + j.offset();
                if (!Boolean.TRUE.equals(decided)) {
                    fallPc = n.last() + 1;
                }
                if (!Boolean.FALSE.equals(decided)) {
                    takenPc = target;
                }
            }
            case Insn.Alu a -> fallPc = lastPc + 1;
            case Insn.Neg a -> fallPc = lastPc + 1;
            case Insn.MovSx a -> fallPc = lastPc + 1;
            case Insn.Endian a -> fallPc = lastPc + 1;
            case Insn.LoadImm64 a -> fallPc = lastPc + 2;
            case Insn.Load a -> fallPc = lastPc + 1;
            case Insn.Store a -> fallPc = lastPc + 1;
            case Insn.Atomic a -> fallPc = lastPc + 1;
            case Insn.Call a -> fallPc = lastPc + 1;
            case Insn.CallX a -> fallPc = lastPc + 1;
            case Insn.PacketLoad a -> fallPc = lastPc + 1;
        }
        int[] out = {edge(n, fallPc), edge(n, takenPc)};
        succ.set(id, out);
        return out;
    }

    private int edge(Node from, int toPc) {
        if (toPc < 0) {
            return -1;
        }
        int[] it = new int[loops.size()];
        for (int l = 0; l < loops.size(); l++) {
            Loop loop = loops.get(l);
            boolean fromIn = loop.body().contains(from.first());
            boolean toIn = loop.body().contains(toPc);
            if (!toIn) {
                it[l] = 0;
            } else if (toPc == loop.head() && fromIn) {
                it[l] = from.iterations()[l] + 1;
                if (it[l] > bounds[l]) {
                    return -1; // past the proven trip bound: no run takes this edge
                }
            } else {
                it[l] = fromIn ? from.iterations()[l] : 0;
            }
        }
        return node(toPc, it);
    }

    private int node(int first, int[] iterations) {
        Key k = new Key(first, Arrays.stream(iterations).boxed().toList());
        Integer id = ids.get(k);
        if (id != null) {
            return id;
        }
        Block b = f.block(first);
        int n = nodes.size();
        nodes.add(new Node(n, first, b.last(), iterations));
        succ.add(null);
        ids.put(k, n);
        for (int pc = b.first(); pc <= b.last(); pc++) {
            if (vp.program().at(pc) != null) {
                insns++;
            }
        }
        if (insns > limit) {
            int head = -1;
            for (int l = 0; l < loops.size(); l++) {
                if (iterations[l] > 0) {
                    head = loops.get(l).head();
                    break;
                }
            }
            throw new TooLarge(head, "unrolling the loops gives more than " + limit + " instructions");
        }
        return n;
    }
}
