package dev.prism.verifier.cfg;

import dev.prism.isa.Insn;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The control-flow layer of the verifier (STYLE.md, PREVAIL's layering: the CFG first):
 * functions, the call graph, basic blocks, dominators and natural loops of a program, and the
 * problems of its shape, as data. Immutable; built by {@link #build}, which never throws for
 * any array of slots.
 *
 * <h2>Functions</h2>
 * The entry function starts at slot 0. Every valid target of a {@code call local} and of an
 * {@code lddw code} (bpf_loop callbacks, callx targets) in reachable code starts another, found
 * transitively from the entry: a call made only from dead code does not make a function, and
 * its target is dead too, as in Linux's check_cfg. A function holds every slot reachable from
 * its start by jumps and fall-throughs (calls return, so they fall through). A slot of two
 * functions is {@link #SHARED_CODE}; each of the two still gets a complete graph of its own.
 *
 * <h2>Problems</h2>
 * Reported for reachable code only: an unreachable run of slots gets one
 * {@link #UNREACHABLE} diagnostic and nothing else is said about it. A bad target (out of range,
 * the second slot of an lddw) is not an edge: the rest of the graph is built without it.
 * Wording: {@code "<what> out of range (target N)"} and
 * {@code "<what> into the middle of lddw (target N)"}, what being {@code jump}, {@code call} or
 * {@code code address}; and the constants below.
 */
public final class Cfg {
    /** The program has no instructions. */
    public static final String EMPTY_PROGRAM = "empty program";
    /** The entry slot is not an instruction (only in a hand-made slot array). */
    public static final String NO_ENTRY = "entry is not an instruction";
    /** A conditional jump in the last slot: not taken, it runs past the end. */
    public static final String FALLS_OFF_THE_END = "jump falls off the end of the program";
    /** Any other reachable instruction in the last slot but exit and ja (calls return). */
    public static final String LAST_NOT_EXIT = "last instruction is not an exit or a jump";
    /** An lddw in the last slot, or followed by an instruction (only in a hand-made slot array). */
    public static final String INCOMPLETE_LDDW = "lddw without its second slot";
    /** The first slot of a maximal run of slots that no function reaches. */
    public static final String UNREACHABLE = "unreachable instruction";
    /** A call (or a taken code address) that closes a cycle of the call graph. */
    public static final String RECURSIVE_CALL = "recursive call";
    /** The lowest slot that two functions both reach, one diagnostic per pair of functions. */
    public static final String SHARED_CODE = "code shared between functions";
    /** An edge into a cycle whose target does not dominate its source (a second loop entry). */
    public static final String IRREDUCIBLE_LOOP = "irreducible loop";

    private final Flow flow;
    private final List<FunctionCfg> functions;
    private final int[] starts;
    private final SlotSet reachable;
    private final SlotSet unreachable;
    private final List<Integer> recursion;
    private final List<Diagnostic> problems;
    /** instruction-level predecessors over reachable code, compressed: of pc, predData[predFrom[pc]..predFrom[pc+1]) */
    private final int[] predFrom;
    private final int[] predData;

    private Cfg(Flow flow) {
        this.flow = flow;
        int len = flow.length();
        TreeSet<Diagnostic> found = new TreeSet<>();
        TreeMap<Integer, BitSet> reach = discoverFunctions(flow, found);

        this.starts = new int[reach.size()];
        int k = 0;
        for (int start : reach.keySet()) {
            starts[k++] = start;
        }
        List<List<CallEdge>> edges = new ArrayList<>();
        BitSet all = new BitSet(len);
        for (BitSet r : reach.values()) {
            edges.add(callEdges(r));
            all.or(r);
        }
        this.reachable = new SlotSet(all);
        BitSet dead = new BitSet(len);
        dead.set(0, len);
        dead.andNot(all);
        this.unreachable = new SlotSet(dead);

        this.recursion = findRecursion(edges, found);
        boolean[] recursive = onCycles(edges);
        int[] scratch = new int[len];
        List<FunctionCfg> fs = new ArrayList<>();
        int i = 0;
        for (Map.Entry<Integer, BitSet> e : reach.entrySet()) {
            FunctionCfg f = new FunctionCfg(e.getKey(), e.getValue(), flow, edges.get(i), recursive[i], scratch);
            found.addAll(f.irreducible());
            fs.add(f);
            i++;
        }
        this.functions = List.copyOf(fs);

        for (int pc : flow.issuePcs()) {
            if (all.get(pc) && flow.isInsn(pc)) {
                found.addAll(flow.issues(pc));
            }
        }
        reportSharedCode(reach, found);
        for (int a = dead.nextSetBit(0); a >= 0; a = dead.nextSetBit(dead.nextClearBit(a))) {
            found.add(new Diagnostic(a, UNREACHABLE));
        }
        this.problems = List.copyOf(found);

        this.predFrom = new int[len + 1];
        for (int q = all.nextSetBit(0); q >= 0; q = all.nextSetBit(q + 1)) {
            if (flow.isInsn(q)) {
                for (int s : flow.successors(q)) {
                    predFrom[s + 1]++;
                }
            }
        }
        for (int pc = 0; pc < len; pc++) {
            predFrom[pc + 1] += predFrom[pc];
        }
        this.predData = new int[predFrom[len]];
        int[] fill = Arrays.copyOf(predFrom, len);
        for (int q = all.nextSetBit(0); q >= 0; q = all.nextSetBit(q + 1)) {
            if (flow.isInsn(q)) {
                for (int s : flow.successors(q)) {
                    predData[fill[s]++] = q;
                }
            }
        }
    }

    /**
     * {@return the control-flow graph of a program}
     *
     * @param slots one entry per 8-byte slot, null in the second slot of each lddw (as
     *              {@link dev.prism.isa.InsnCodec#decode} and the assembler return them); copied
     */
    public static Cfg build(Insn[] slots) {
        return new Cfg(Flow.of(slots.clone()));
    }

    /** Finds the functions from the entry; by start, each with the slots it reaches. */
    private static TreeMap<Integer, BitSet> discoverFunctions(Flow flow, TreeSet<Diagnostic> found) {
        TreeMap<Integer, BitSet> reach = new TreeMap<>();
        if (flow.length() == 0) {
            found.add(new Diagnostic(0, EMPTY_PROGRAM));
            return reach;
        }
        if (!flow.isInsn(0)) {
            found.add(new Diagnostic(0, NO_ENTRY));
            return reach;
        }
        ArrayDeque<Integer> work = new ArrayDeque<>();
        work.push(0);
        while (!work.isEmpty()) {
            int start = work.pop();
            if (reach.containsKey(start)) {
                continue;
            }
            BitSet r = flow.reach(start);
            reach.put(start, r);
            for (int pc = r.nextSetBit(0); pc >= 0; pc = r.nextSetBit(pc + 1)) {
                if (flow.isInsn(pc) && flow.reference(pc) >= 0) {
                    work.push(flow.reference(pc));
                }
            }
        }
        return reach;
    }

    private List<CallEdge> callEdges(BitSet r) {
        List<CallEdge> out = new ArrayList<>();
        for (int pc = r.nextSetBit(0); pc >= 0; pc = r.nextSetBit(pc + 1)) {
            if (flow.isInsn(pc) && flow.reference(pc) >= 0) {
                CallEdge.Kind kind = flow.slots[pc] instanceof Insn.Call ? CallEdge.Kind.CALL : CallEdge.Kind.CODE_ADDRESS;
                out.add(new CallEdge(pc, flow.reference(pc), kind));
            }
        }
        return out;
    }

    private int functionIndex(int start) {
        return Arrays.binarySearch(starts, start);
    }

    /**
     * Depth-first search of the call graph from the entry (every function is reachable from
     * it); each edge back to a function on the search stack closes a cycle and is reported.
     *
     * @return the first cycle found, as function starts from the one re-entered, or empty
     */
    private List<Integer> findRecursion(List<List<CallEdge>> edges, TreeSet<Diagnostic> found) {
        int n = starts.length;
        if (n == 0) {
            return List.of();
        }
        List<Integer> first = null;
        byte[] state = new byte[n];
        int[] stack = new int[n];
        int[] next = new int[n];
        int sp = 0;
        stack[sp++] = 0;
        state[0] = 1;
        while (sp > 0) {
            int u = stack[sp - 1];
            if (next[sp - 1] < edges.get(u).size()) {
                CallEdge e = edges.get(u).get(next[sp - 1]++);
                int v = functionIndex(e.callee());
                if (state[v] == 0) {
                    state[v] = 1;
                    next[sp] = 0;
                    stack[sp++] = v;
                } else if (state[v] == 1) {
                    int from = sp - 1;
                    while (stack[from] != v) {
                        from--;
                    }
                    List<Integer> cycle = new ArrayList<>();
                    StringBuilder path = new StringBuilder();
                    for (int k = from; k < sp; k++) {
                        cycle.add(starts[stack[k]]);
                        path.append(starts[stack[k]]).append(" -> ");
                    }
                    path.append(starts[v]);
                    found.add(new Diagnostic(e.site(), RECURSIVE_CALL + " (" + path + ")"));
                    if (first == null) {
                        first = List.copyOf(cycle);
                    }
                }
            } else {
                state[u] = 2;
                sp--;
            }
        }
        return first == null ? List.of() : first;
    }

    /** {@return per function whether it reaches itself through the call graph} */
    private boolean[] onCycles(List<List<CallEdge>> edges) {
        int n = starts.length;
        boolean[] out = new boolean[n];
        for (int f = 0; f < n; f++) {
            BitSet seen = new BitSet(n);
            ArrayDeque<Integer> work = new ArrayDeque<>();
            for (CallEdge e : edges.get(f)) {
                work.push(functionIndex(e.callee()));
            }
            while (!work.isEmpty() && !out[f]) {
                int g = work.pop();
                if (g == f) {
                    out[f] = true;
                } else if (!seen.get(g)) {
                    seen.set(g);
                    for (CallEdge e : edges.get(g)) {
                        work.push(functionIndex(e.callee()));
                    }
                }
            }
        }
        return out;
    }

    /** One diagnostic per pair of functions that share an instruction, at the lowest one. */
    private void reportSharedCode(TreeMap<Integer, BitSet> reach, TreeSet<Diagnostic> found) {
        int[] owner = new int[flow.length()];
        Arrays.fill(owner, -1);
        Map<List<Integer>, Integer> pairs = new LinkedHashMap<>();
        for (Map.Entry<Integer, BitSet> e : reach.entrySet()) {
            BitSet r = e.getValue();
            for (int pc = r.nextSetBit(0); pc >= 0; pc = r.nextSetBit(pc + 1)) {
                if (!flow.isInsn(pc)) {
                    continue;
                }
                if (owner[pc] < 0) {
                    owner[pc] = e.getKey();
                } else {
                    pairs.putIfAbsent(List.of(owner[pc], e.getKey()), pc);
                }
            }
        }
        pairs.forEach((pair, pc) -> found.add(new Diagnostic(pc,
                SHARED_CODE + " (functions " + pair.get(0) + " and " + pair.get(1) + ")")));
    }

    /** {@return the number of slots of the program} */
    public int length() {
        return flow.length();
    }

    /** {@return the functions by start, the entry (start 0) first; empty only for an empty program} */
    public List<FunctionCfg> functions() {
        return functions;
    }

    /** {@return the function that starts at {@code start}, if one does} */
    public Optional<FunctionCfg> function(int start) {
        int i = functionIndex(start);
        return i >= 0 ? Optional.of(functions.get(i)) : Optional.empty();
    }

    /** {@return the functions that reach slot {@code pc}: one, none if it is dead, more if shared} */
    public List<FunctionCfg> functionsContaining(int pc) {
        return functions.stream().filter(f -> f.contains(pc)).toList();
    }

    /** {@return whether some function reaches slot {@code pc}} */
    public boolean isReachable(int pc) {
        return reachable.has(pc);
    }

    /** {@return the slots no function reaches, ascending (both slots of a dead lddw)} */
    public Set<Integer> unreachable() {
        return unreachable;
    }

    /**
     * {@return the slots control can go to after the reachable instruction at {@code pc}
     * (calls fall through; nothing after exit), fall-through first; empty for any other slot}
     */
    public int[] successors(int pc) {
        return reachable.has(pc) && flow.isInsn(pc) ? flow.successors(pc).clone() : new int[0];
    }

    /** {@return the reachable instructions that can go to slot {@code pc} next, ascending} */
    public int[] predecessors(int pc) {
        if (pc < 0 || pc >= flow.length()) {
            return new int[0];
        }
        return Arrays.copyOfRange(predData, predFrom[pc], predFrom[pc + 1]);
    }

    /**
     * {@return a cycle of the call graph, as the starts of its functions in call order (one
     * element for direct recursion), or empty}. Linux refuses recursion; so should the verifier.
     */
    public List<Integer> recursion() {
        return recursion;
    }

    /** {@return every problem of the program's shape, by pc then reason} */
    public List<Diagnostic> problems() {
        return problems;
    }

    /** {@return a text dump for debugging: functions, blocks with successors, loops, problems} */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("cfg: ").append(length()).append(" slots, ").append(functions.size()).append(" functions\n");
        for (FunctionCfg f : functions) {
            f.describe(sb);
        }
        if (!unreachable.isEmpty()) {
            sb.append("unreachable: ").append(unreachable.ranges()).append('\n');
        }
        if (!recursion.isEmpty()) {
            sb.append("recursion: ").append(recursion).append('\n');
        }
        for (Diagnostic d : problems) {
            sb.append("problem ").append(d).append('\n');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "Cfg[" + length() + " slots, " + functions.size() + " functions, " + problems.size() + " problems]";
    }
}
