package dev.prism.verifier.cfg;

import dev.prism.isa.Insn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The control-flow graph of one function: its slots, basic blocks, reverse postorder,
 * dominator tree and natural loops. Calls are not followed: a call is an ordinary
 * instruction of its block, and the callee is another {@code FunctionCfg}.
 *
 * <p>Blocks are named by their first slot. Every instruction of the function lies in exactly
 * one block, every block is reachable from the function's start, and every successor of a
 * block is the first slot of a block of the same function.
 */
public final class FunctionCfg {
    private final int start;
    private final SlotSet slots;
    private final List<Integer> exits;
    private final List<CallEdge> callees;
    private final boolean recursive;

    private final int[] firsts;
    private final List<Block> blocks;
    private final int[][] successors;
    private final int[][] predecessors;
    private final int[] rpo;
    private final int[] idom;
    private final int[] domEnter;
    private final int[] domLeave;
    private final List<Loop> loops;
    private final SlotSet widenPoints;
    private final List<Diagnostic> irreducible = new ArrayList<>();

    /**
     * @param reach   the slots reachable from {@code start} (as {@link Flow#reach})
     * @param scratch an all-zero array of the program's length, left all zero
     */
    FunctionCfg(int start, BitSet reach, Flow flow, List<CallEdge> callees, boolean recursive, int[] scratch) {
        this.start = start;
        this.slots = new SlotSet(reach);
        this.callees = List.copyOf(callees);
        this.recursive = recursive;

        List<Integer> exitList = new ArrayList<>();
        BitSet leaders = leaders(start, reach, flow, scratch);
        this.firsts = new int[leaders.cardinality()];
        for (int i = 0, pc = leaders.nextSetBit(0); pc >= 0; pc = leaders.nextSetBit(pc + 1)) {
            firsts[i++] = pc; // as leaders.stream().toArray(), which costs more than the rest of the block split
        }
        int n = firsts.length;
        Block[] bs = new Block[n];
        this.successors = new int[n][];
        for (int i = 0; i < n; i++) {
            int pc = firsts[i];
            while (!flow.endsBlock(pc)) {
                int[] s = flow.successors(pc);
                if (s.length != 1 || leaders.get(s[0])) {
                    break;
                }
                pc = s[0];
            }
            int[] s = flow.successors(pc);
            successors[i] = new int[s.length];
            List<Integer> boxed = new ArrayList<>(s.length);
            for (int k = 0; k < s.length; k++) {
                successors[i][k] = index(s[k]);
                boxed.add(s[k]);
            }
            bs[i] = new Block(firsts[i], pc, boxed);
        }
        for (int pc = reach.nextSetBit(0); pc >= 0; pc = reach.nextSetBit(pc + 1)) {
            if (flow.slots[pc] instanceof Insn.Exit) {
                exitList.add(pc);
            }
        }
        this.exits = List.copyOf(exitList);
        this.blocks = List.of(bs);
        this.predecessors = invert(successors);

        int entry = index(start);
        List<int[]> retreating = new ArrayList<>();
        this.rpo = reversePostorder(entry, successors, retreating);
        this.idom = dominators(entry, rpo, predecessors);
        this.domEnter = new int[n];
        this.domLeave = new int[n];
        numberDominatorTree(entry, idom, domEnter, domLeave);

        BitSet widen = new BitSet();
        TreeMap<Integer, List<Integer>> backEdges = new TreeMap<>();
        for (int[] e : retreating) {
            int u = e[0];
            int h = e[1];
            widen.set(firsts[h]);
            if (dominatesBlock(h, u)) {
                backEdges.computeIfAbsent(h, k -> new ArrayList<>()).add(u);
            } else {
                int site = bs[u].last();
                irreducible.add(new Diagnostic(site,
                        Cfg.IRREDUCIBLE_LOOP + " (between " + firsts[h] + " and " + site + ")"));
            }
        }
        this.widenPoints = new SlotSet(widen);
        List<Loop> loopList = new ArrayList<>();
        int[] stack = new int[n];
        int[] mark = new int[n];
        for (Map.Entry<Integer, List<Integer>> e : backEdges.entrySet()) {
            loopList.add(naturalLoop(e.getKey(), e.getValue(), stack, mark, loopList.size() + 1));
        }
        this.loops = List.copyOf(loopList);
    }

    /**
     * Block leaders: the start, every jump target, every fall-through of a conditional jump and
     * every instruction with more than one predecessor. An instruction that is none of these has
     * exactly one predecessor, the instruction before it, which continues into it.
     */
    private static BitSet leaders(int start, BitSet reach, Flow flow, int[] predCount) {
        BitSet leaders = new BitSet();
        leaders.set(start);
        for (int q = reach.nextSetBit(0); q >= 0; q = reach.nextSetBit(q + 1)) {
            if (flow.isInsn(q)) {
                boolean jump = flow.isJump(q);
                for (int s : flow.successors(q)) {
                    if (++predCount[s] > 1 || jump) {
                        leaders.set(s);
                    }
                }
            }
        }
        for (int q = reach.nextSetBit(0); q >= 0; q = reach.nextSetBit(q + 1)) {
            if (flow.isInsn(q)) {
                for (int s : flow.successors(q)) {
                    predCount[s] = 0;
                }
            }
        }
        return leaders;
    }

    private int index(int first) {
        return Arrays.binarySearch(firsts, first);
    }

    private static int[][] invert(int[][] succ) {
        int n = succ.length;
        int[] count = new int[n];
        for (int[] s : succ) {
            for (int v : s) {
                count[v]++;
            }
        }
        int[][] pred = new int[n][];
        for (int i = 0; i < n; i++) {
            pred[i] = new int[count[i]];
            count[i] = 0;
        }
        for (int u = 0; u < n; u++) {
            for (int v : succ[u]) {
                pred[v][count[v]++] = u;
            }
        }
        return pred;
    }

    /**
     * Iterative depth-first search (a recursive one overflows the Java stack on long programs);
     * successors in order, so the fall-through is explored first.
     *
     * @param retreating receives each edge {u, v} to a block still on the search stack
     * @return the blocks in reverse postorder, entry first
     */
    private static int[] reversePostorder(int entry, int[][] succ, List<int[]> retreating) {
        int n = succ.length;
        byte[] state = new byte[n]; // 0 unseen, 1 on the stack, 2 finished
        int[] stack = new int[n];
        int[] next = new int[n];
        int[] order = new int[n];
        int done = n;
        int sp = 0;
        stack[sp++] = entry;
        state[entry] = 1;
        while (sp > 0) {
            int u = stack[sp - 1];
            if (next[sp - 1] < succ[u].length) {
                int v = succ[u][next[sp - 1]++];
                if (state[v] == 0) {
                    state[v] = 1;
                    next[sp] = 0;
                    stack[sp++] = v;
                } else if (state[v] == 1) {
                    retreating.add(new int[] {u, v});
                }
            } else {
                state[u] = 2;
                order[--done] = u;
                sp--;
            }
        }
        // done is 0: every block is reachable from the entry, as blocks cover the reachable slots
        return order;
    }

    /**
     * Immediate dominators by Cooper, Harvey and Kennedy, "A Simple, Fast Dominance
     * Algorithm" (2001): iterate over reverse postorder until nothing changes.
     *
     * @return per block its immediate dominator; the entry is its own
     */
    private static int[] dominators(int entry, int[] rpo, int[][] pred) {
        int n = pred.length;
        int[] number = new int[n];
        for (int i = 0; i < rpo.length; i++) {
            number[rpo[i]] = i;
        }
        int[] idom = new int[n];
        Arrays.fill(idom, -1);
        idom[entry] = entry;
        for (boolean changed = true; changed; ) {
            changed = false;
            for (int i = 1; i < rpo.length; i++) {
                int b = rpo[i];
                int d = -1;
                for (int p : pred[b]) {
                    if (idom[p] >= 0) {
                        d = d < 0 ? p : intersect(p, d, idom, number);
                    }
                }
                if (d != idom[b]) {
                    idom[b] = d;
                    changed = true;
                }
            }
        }
        return idom;
    }

    private static int intersect(int a, int b, int[] idom, int[] number) {
        while (a != b) {
            while (number[a] > number[b]) {
                a = idom[a];
            }
            while (number[b] > number[a]) {
                b = idom[b];
            }
        }
        return a;
    }

    /** Numbers the dominator tree in preorder and postorder, so dominance is two comparisons. */
    private static void numberDominatorTree(int entry, int[] idom, int[] enter, int[] leave) {
        int[][] children = new int[idom.length][];
        int[] count = new int[idom.length];
        for (int b = 0; b < idom.length; b++) {
            if (b != entry) {
                count[idom[b]]++;
            }
        }
        for (int b = 0; b < idom.length; b++) {
            children[b] = new int[count[b]];
            count[b] = 0;
        }
        for (int b = 0; b < idom.length; b++) {
            if (b != entry) {
                children[idom[b]][count[idom[b]]++] = b;
            }
        }
        int[] stack = new int[idom.length];
        int[] next = new int[idom.length];
        int clock = 0;
        int sp = 0;
        stack[sp++] = entry;
        enter[entry] = clock++;
        while (sp > 0) {
            int u = stack[sp - 1];
            if (next[sp - 1] < children[u].length) {
                int v = children[u][next[sp - 1]++];
                enter[v] = clock++;
                next[sp] = 0;
                stack[sp++] = v;
            } else {
                leave[u] = clock++;
                sp--;
            }
        }
    }

    private boolean dominatesBlock(int a, int b) {
        return domEnter[a] <= domEnter[b] && domLeave[b] <= domLeave[a];
    }

    /**
     * The blocks that reach a source without passing through the head, plus the head.
     *
     * @param stack room for every block (each is pushed at most once)
     * @param mark  per block the stamp of the last loop that took it; {@code stamp} is new
     */
    private Loop naturalLoop(int head, List<Integer> sources, int[] stack, int[] mark, int stamp) {
        int[] body = new int[Math.min(firsts.length, 16)];
        int count = 0;
        body[count++] = firsts[head];
        mark[head] = stamp;
        int sp = 0;
        List<Integer> sourceFirsts = new ArrayList<>();
        for (int u : sources) {
            sourceFirsts.add(firsts[u]);
            if (mark[u] != stamp) {
                mark[u] = stamp;
                stack[sp++] = u;
            }
        }
        while (sp > 0) {
            int x = stack[--sp];
            if (count == body.length) {
                body = Arrays.copyOf(body, Math.min(firsts.length, 2 * count));
            }
            body[count++] = firsts[x];
            for (int p : predecessors[x]) {
                if (mark[p] != stamp) {
                    mark[p] = stamp;
                    stack[sp++] = p;
                }
            }
        }
        sourceFirsts.sort(null);
        return new Loop(firsts[head], sourceFirsts, SlotSet.of(body, count));
    }

    /** {@return the first slot of the function} */
    public int start() {
        return start;
    }

    /** {@return every slot of the function, both slots of each lddw included} */
    public Set<Integer> slots() {
        return slots;
    }

    /** {@return whether slot {@code pc} belongs to the function} */
    public boolean contains(int pc) {
        return slots.has(pc);
    }

    /** {@return the slots of its exit instructions, ascending} */
    public List<Integer> exits() {
        return exits;
    }

    /** {@return its call graph edges, by call site} */
    public List<CallEdge> callees() {
        return callees;
    }

    /** {@return whether the function lies on a cycle of the call graph} */
    public boolean recursive() {
        return recursive;
    }

    /** {@return its basic blocks, by first slot; the first one need not be the entry block} */
    public List<Block> blocks() {
        return blocks;
    }

    /** {@return the block that starts at {@code first}} @throws IllegalArgumentException if none does */
    public Block block(int first) {
        return blocks.get(blockIndex(first));
    }

    /** {@return the block holding slot {@code pc} (either slot of an lddw), if the function has it} */
    public Optional<Block> blockContaining(int pc) {
        if (!slots.has(pc)) {
            return Optional.empty();
        }
        int i = Arrays.binarySearch(firsts, pc);
        return Optional.of(blocks.get(i >= 0 ? i : -i - 2));
    }

    /** {@return the blocks in reverse postorder (entry first): each block before its successors, except along back edges} */
    public List<Integer> reversePostorder() {
        return Arrays.stream(rpo).map(b -> firsts[b]).boxed().toList();
    }

    /** {@return the blocks with an edge to block {@code first}, ascending} */
    public List<Integer> predecessors(int first) {
        return Arrays.stream(predecessors[blockIndex(first)]).map(b -> firsts[b]).boxed().toList();
    }

    /** {@return the immediate dominator of block {@code first}; -1 for the entry block} */
    public int idom(int first) {
        int b = blockIndex(first);
        return firsts[b] == start ? -1 : firsts[idom[b]];
    }

    /**
     * {@return whether every path from the start to the instruction at {@code b} passes through
     * the one at {@code a}} (an instruction dominates itself). False if either is not in the
     * function.
     */
    public boolean dominates(int a, int b) {
        if (!slots.has(a) || !slots.has(b)) {
            return false;
        }
        Block ba = blockContaining(a).orElseThrow();
        Block bb = blockContaining(b).orElseThrow();
        if (ba == bb) {
            return a <= b;
        }
        return dominatesBlock(index(ba.first()), index(bb.first()));
    }

    /** {@return its natural loops, by head} */
    public List<Loop> loops() {
        return loops;
    }

    /**
     * {@return blocks that cut every cycle of the function: the targets of retreating edges of
     * a depth-first search. For a reducible function these are exactly the loop heads; a fixpoint
     * iteration that widens here terminates on irreducible code as well}
     */
    public Set<Integer> widenPoints() {
        return widenPoints;
    }

    List<Diagnostic> irreducible() {
        return irreducible;
    }

    private int blockIndex(int first) {
        int i = index(first);
        if (i < 0) {
            throw new IllegalArgumentException("no block of the function at " + start + " starts at " + first);
        }
        return i;
    }

    /** Appends this function to a {@link Cfg#describe()} text. */
    void describe(StringBuilder sb) {
        sb.append("function ").append(start);
        if (recursive) {
            sb.append(" (recursive)");
        }
        sb.append(": slots ").append(slots.ranges()).append('\n');
        sb.append("  exits ").append(exits).append('\n');
        for (CallEdge c : callees) {
            sb.append("  call ").append(c).append('\n');
        }
        for (Block b : blocks) {
            sb.append("  block ").append(b.first()).append("..").append(b.last());
            if (b.first() != start) {
                sb.append(" idom ").append(idom(b.first()));
            }
            sb.append(" -> ").append(b.successors().isEmpty() ? "(none)" : b.successors().toString()).append('\n');
        }
        for (Loop l : loops) {
            sb.append("  loop ").append(l.head()).append(": back edges from ").append(l.backEdgeSources())
                    .append(", body ").append(l.body()).append('\n');
        }
        sb.append("  rpo ").append(reversePostorder()).append('\n');
    }

    @Override
    public String toString() {
        return "function " + start + " (" + blocks.size() + " blocks, " + loops.size() + " loops)";
    }
}
