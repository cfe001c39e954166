package dev.prism.verifier.cfg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.prism.asm.Disassembler;
import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Reg;
import dev.prism.isa.Width;
import dev.prism.testing.RandomInsns;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Structural invariants of {@link Cfg} over random programs dense in jumps, calls, code
 * addresses and exits, checked against brute-force re-computations written independently of
 * the implementation (reachability, dominance by deletion, reducibility by removing back
 * edges, call graph cycles).
 */
class CfgPropertyTest {
    private static final int PROGRAMS = 5_000;

    @Test
    void randomProgramsKeepTheInvariants() {
        Random rnd = new Random(20250611);
        RandomInsns gen = new RandomInsns(rnd);
        int irreducible = 0;
        int recursive = 0;
        int shared = 0;
        int loops = 0;
        int withFunctions = 0;
        for (int i = 0; i < PROGRAMS; i++) {
            Insn[] slots = randomProgram(rnd, gen, i % 20 == 19);
            Cfg cfg;
            try {
                cfg = Cfg.build(slots);
                cfg.describe();
            } catch (RuntimeException | StackOverflowError e) {
                throw new AssertionError("program " + i + " threw\n" + listing(slots), e);
            }
            try {
                check(slots, cfg);
            } catch (AssertionError e) {
                throw new AssertionError("program " + i + ": " + e.getMessage() + "\n" + listing(slots) + "\n"
                        + cfg.describe(), e);
            }
            irreducible += has(cfg, Cfg.IRREDUCIBLE_LOOP) ? 1 : 0;
            recursive += cfg.recursion().isEmpty() ? 0 : 1;
            shared += has(cfg, Cfg.SHARED_CODE) ? 1 : 0;
            loops += cfg.functions().stream().anyMatch(f -> !f.loops().isEmpty()) ? 1 : 0;
            withFunctions += cfg.functions().size() > 1 ? 1 : 0;
        }
        // the generator must exercise every case, or the invariants above say little
        assertTrue(irreducible > 50, "irreducible " + irreducible);
        assertTrue(recursive > 50, "recursive " + recursive);
        assertTrue(shared > 50, "shared " + shared);
        assertTrue(loops > 500, "loops " + loops);
        assertTrue(withFunctions > 500, "with functions " + withFunctions);
    }

    @Test
    void aLongProgramDoesNotOverflowTheStack() {
        // 200,000 blocks in a chain, each a loop of its own, inside one loop: recursive searches
        // over blocks would overflow the Java stack
        int n = 200_000;
        Insn[] slots = new Insn[n + 2];
        for (int pc = 0; pc < n; pc++) {
            slots[pc] = new Insn.Jump(JumpOp.JEQ, Width.W64, Reg.R1, new Imm(pc), (short) -1);
        }
        slots[n] = new Insn.Ja(-(n + 1), true);
        slots[n + 1] = new Insn.Exit();
        Cfg cfg = Cfg.build(slots);
        FunctionCfg f = cfg.functions().getFirst();
        assertEquals(n + 1, f.blocks().size());
        assertEquals(n, f.loops().size());
        assertEquals(n + 1, f.loops().getFirst().body().size());
        assertEquals(List.of("200001: unreachable instruction"), cfg.problems().stream().map(Diagnostic::toString).toList());
    }

    // ---------------------------------------------------------------------------------------
    // Generation

    /**
     * A random program: instructions from {@link RandomInsns} with a third of them replaced by
     * exits, jumps, local calls and code addresses, whose targets are then chosen among the
     * instruction starts (one in 40 anywhere near the program, valid or not). With
     * {@code malformed}, one slot is then broken in a way the codec would refuse.
     */
    static Insn[] randomProgram(Random rnd, RandomInsns gen, boolean malformed) {
        int count = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 60 : 16);
        List<Insn> insns = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            int r = rnd.nextInt(100);
            insns.add(r < 14 ? new Insn.Exit()
                    : r < 34 ? new Insn.Jump(JumpOp.JNE, Width.W64, Reg.R1, new Imm(0), (short) 0)
                    : r < 42 ? new Insn.Ja(0, false)
                    : r < 48 ? new Insn.Call(CallKind.LOCAL, 0)
                    : r < 52 ? new Insn.LoadImm64(LoadImm64Kind.CODE_ADDR, Reg.R2, 0, 0)
                    : r < 55 ? new Insn.Call(CallKind.HELPER, rnd.nextBoolean() ? 12 : 181)
                    : gen.next(true));
        }
        int len = insns.stream().mapToInt(Insn::slots).sum();
        Insn[] slots = new Insn[len];
        List<Integer> starts = new ArrayList<>();
        int pc = 0;
        for (Insn insn : insns) {
            slots[pc] = insn;
            starts.add(pc);
            pc += insn.slots();
        }
        for (int at : starts) {
            int target = rnd.nextInt(40) == 0 ? rnd.nextInt(len + 6) - 3 : starts.get(rnd.nextInt(starts.size()));
            int rel = target - at - 1;
            slots[at] = switch (slots[at]) {
                case Insn.Jump j -> new Insn.Jump(j.op(), j.width(), j.dst(), j.src(), (short) rel);
                case Insn.Ja j -> new Insn.Ja(rel, j.wide());
                case Insn.Call c when c.kind() == CallKind.LOCAL -> new Insn.Call(CallKind.LOCAL, rel);
                case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR ->
                        new Insn.LoadImm64(LoadImm64Kind.CODE_ADDR, l.dst(), rel, 0);
                default -> slots[at];
            };
        }
        if (malformed && len > 1) {
            int at = rnd.nextInt(len);
            slots[at] = slots[at] == null ? new Insn.Exit() : null;
        }
        return slots;
    }

    private static String listing(Insn[] slots) {
        StringBuilder sb = new StringBuilder();
        for (int pc = 0; pc < slots.length; pc++) {
            sb.append(String.format("%4d  %s%n", pc, slots[pc] == null ? "(empty)" : Disassembler.format(slots[pc])));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------
    // The invariants

    private static void check(Insn[] slots, Cfg cfg) {
        int len = slots.length;
        List<Diagnostic> problems = cfg.problems();
        assertEquals(new ArrayList<>(new TreeSet<>(problems)), problems, "problems are sorted and distinct");

        // functions: the entry and every reference target, found from the entry
        TreeMap<Integer, BitSet> expected = functions(slots);
        assertEquals(List.copyOf(expected.keySet()), cfg.functions().stream().map(FunctionCfg::start).toList());
        BitSet reachable = new BitSet();
        for (FunctionCfg f : cfg.functions()) {
            assertEquals(bits(expected.get(f.start())), f.slots(), "slots of function " + f.start());
            reachable.or(expected.get(f.start()));
        }
        BitSet dead = new BitSet();
        dead.set(0, len);
        dead.andNot(reachable);
        assertEquals(bits(dead), cfg.unreachable());
        Set<Integer> runStarts = new TreeSet<>();
        for (int a = dead.nextSetBit(0); a >= 0; a = dead.nextSetBit(dead.nextClearBit(a))) {
            runStarts.add(a);
        }
        assertEquals(runStarts, pcsOf(cfg, Cfg.UNREACHABLE));

        // every reachable slot: one function, unless a problem says the code is shared
        for (int pc = reachable.nextSetBit(0); pc >= 0; pc = reachable.nextSetBit(pc + 1)) {
            List<FunctionCfg> in = cfg.functionsContaining(pc);
            for (FunctionCfg other : in.subList(1, in.size())) {
                String reason = Cfg.SHARED_CODE + " (functions " + in.getFirst().start() + " and " + other.start() + ")";
                int at = pc;
                assertTrue(problems.stream().anyMatch(d -> d.reason().equals(reason) && d.pc() <= at),
                        pc + " is shared without a problem saying so");
            }
        }

        for (FunctionCfg f : cfg.functions()) {
            checkFunction(slots, cfg, f);
        }
        checkInstructionEdges(slots, cfg, reachable);
        checkCallGraph(slots, cfg, expected);

        boolean anyIrreducible = false;
        for (FunctionCfg f : cfg.functions()) {
            anyIrreducible |= irreducible(f);
            if (!has(cfg, Cfg.IRREDUCIBLE_LOOP)) {
                assertEquals(f.loops().stream().map(Loop::head).collect(Collectors.toSet()),
                        f.widenPoints(), "a reducible function widens exactly at its loop heads");
            }
        }
        assertEquals(anyIrreducible, has(cfg, Cfg.IRREDUCIBLE_LOOP), "irreducible loops are reported");
    }

    private static void checkFunction(Insn[] slots, Cfg cfg, FunctionCfg f) {
        List<Block> blocks = f.blocks();
        Set<Integer> firsts = new HashSet<>();
        for (Block b : blocks) {
            firsts.add(b.first());
        }
        assertTrue(firsts.contains(f.start()), "the start begins a block");
        // blocks partition the function's slots
        int[] cover = new int[slots.length];
        for (Block b : blocks) {
            int end = b.last() + width(slots, b.last());
            for (int pc = b.first(); pc < end; pc++) {
                cover[pc]++;
                assertTrue(f.contains(pc), "block " + b + " leaves the function at " + pc);
                assertEquals(b, f.blockContaining(pc).orElseThrow());
            }
            for (int pc = b.first(); pc < b.last(); pc += width(slots, pc)) {
                assertFalse(slots[pc] instanceof Insn.Jump || slots[pc] instanceof Insn.Ja
                        || slots[pc] instanceof Insn.Exit, "a jump or exit inside block " + b);
                int next = pc + width(slots, pc);
                assertEquals(List.of(next), successors(slots, pc), "straight line in " + b);
                assertFalse(firsts.contains(next), "block " + b + " runs into another block");
            }
            assertEquals(successors(slots, b.last()), b.successors(), "successors of " + b);
            for (int s : b.successors()) {
                assertTrue(firsts.contains(s), "successor " + s + " of " + b + " starts no block");
            }
        }
        for (int pc = 0; pc < slots.length; pc++) {
            assertEquals(f.contains(pc) ? 1 : 0, cover[pc], "blocks covering slot " + pc);
        }

        // predecessors are the inverse of successors
        for (Block b : blocks) {
            List<Integer> preds = new ArrayList<>();
            for (Block p : blocks) {
                if (p.successors().contains(b.first())) {
                    preds.add(p.first());
                }
            }
            assertEquals(preds, f.predecessors(b.first()));
        }

        // reverse postorder: every block once, the entry first
        List<Integer> rpo = f.reversePostorder();
        assertEquals(f.start(), rpo.getFirst());
        assertEquals(firsts, new HashSet<>(rpo));
        assertEquals(blocks.size(), rpo.size());

        // dominance against its definition: a dominates b when b cannot be reached without a
        for (Block a : blocks) {
            for (Block b : blocks) {
                boolean dom = a == b || !reachableAvoiding(f, a.first(), b.first());
                assertEquals(dom, f.dominates(a.first(), b.first()), a.first() + " dominates " + b.first());
            }
        }
        for (Block b : blocks) {
            int d = f.idom(b.first());
            if (b.first() == f.start()) {
                assertEquals(-1, d);
                continue;
            }
            assertTrue(d != b.first() && f.dominates(d, b.first()), "idom of " + b.first());
            for (Block o : blocks) {
                if (o != b && f.dominates(o.first(), b.first())) {
                    assertTrue(f.dominates(o.first(), d), o.first() + " dominates " + b.first() + " but not its idom");
                }
            }
        }

        // loops: one per head, every back edge in one, heads dominate their bodies
        Set<List<Integer>> backEdges = new HashSet<>();
        for (Block u : blocks) {
            for (int h : u.successors()) {
                if (f.dominates(h, u.first())) {
                    backEdges.add(List.of(u.first(), h));
                }
            }
        }
        Set<List<Integer>> inLoops = new HashSet<>();
        Set<Integer> heads = new HashSet<>();
        for (Loop l : f.loops()) {
            assertTrue(heads.add(l.head()), "two loops at " + l.head());
            assertTrue(l.body().contains(l.head()));
            for (int src : l.backEdgeSources()) {
                inLoops.add(List.of(src, l.head()));
                assertTrue(l.body().contains(src));
            }
            for (int x : l.body()) {
                assertTrue(firsts.contains(x), "loop body " + x + " is not a block");
                assertTrue(f.dominates(l.head(), x), "head " + l.head() + " does not dominate " + x);
                if (x != l.head()) {
                    assertTrue(l.body().containsAll(f.predecessors(x)), "loop body is closed at " + x);
                }
            }
        }
        assertEquals(backEdges, inLoops, "back edges");

        // widen points cut every cycle: an edge that does not go forward in rpo ends at one
        Map<Integer, Integer> order = new HashMap<>();
        for (int k = 0; k < rpo.size(); k++) {
            order.put(rpo.get(k), k);
        }
        for (Block u : blocks) {
            for (int v : u.successors()) {
                if (order.get(v) <= order.get(u.first())) {
                    assertTrue(f.widenPoints().contains(v), "edge " + u.first() + " -> " + v + " is not cut");
                }
            }
        }
        assertTrue(f.widenPoints().containsAll(heads));

        List<Integer> exits = new ArrayList<>();
        for (int pc : f.slots()) {
            if (slots[pc] instanceof Insn.Exit) {
                exits.add(pc);
            }
        }
        assertEquals(exits, f.exits());
    }

    private static void checkInstructionEdges(Insn[] slots, Cfg cfg, BitSet reachable) {
        int len = slots.length;
        for (int pc = 0; pc < len; pc++) {
            boolean live = reachable.get(pc) && slots[pc] != null;
            List<Integer> succ = live ? successors(slots, pc) : List.of();
            assertEquals(succ, Arrays.stream(cfg.successors(pc)).boxed().toList(), "successors of " + pc);
            List<Integer> preds = new ArrayList<>();
            for (int q = reachable.nextSetBit(0); q >= 0; q = reachable.nextSetBit(q + 1)) {
                if (slots[q] != null && successors(slots, q).contains(pc)) {
                    preds.add(q);
                }
            }
            assertEquals(preds, Arrays.stream(cfg.predecessors(pc)).boxed().toList(), "predecessors of " + pc);
            if (!live) {
                continue;
            }
            // control that leaves the program, or goes to a bad target, is a problem at pc
            Insn insn = slots[pc];
            boolean falls = !(insn instanceof Insn.Exit || insn instanceof Insn.Ja);
            boolean bad = falls && !valid(slots, pc + width(slots, pc));
            bad |= insn instanceof Insn.LoadImm64 && width(slots, pc) != 2;
            Integer target = target(insn, pc);
            bad |= target != null && !valid(slots, target);
            int at = pc;
            assertEquals(bad, cfg.problems().stream().anyMatch(d -> d.pc() == at && !d.is(Cfg.SHARED_CODE)
                    && !d.is(Cfg.RECURSIVE_CALL) && !d.is(Cfg.IRREDUCIBLE_LOOP)), "a problem at " + pc);
        }
    }

    private static void checkCallGraph(Insn[] slots, Cfg cfg, TreeMap<Integer, BitSet> functions) {
        Map<Integer, Set<Integer>> calls = new TreeMap<>();
        for (var e : functions.entrySet()) {
            Set<Integer> callees = new TreeSet<>();
            List<CallEdge> edges = new ArrayList<>();
            BitSet r = e.getValue();
            for (int pc = r.nextSetBit(0); pc >= 0; pc = r.nextSetBit(pc + 1)) {
                Integer t = slots[pc] == null ? null : target(slots[pc], pc);
                if (t != null && !(slots[pc] instanceof Insn.Ja || slots[pc] instanceof Insn.Jump) && valid(slots, t)) {
                    callees.add(t);
                    edges.add(new CallEdge(pc, t, slots[pc] instanceof Insn.Call ? CallEdge.Kind.CALL
                            : CallEdge.Kind.CODE_ADDRESS));
                }
            }
            calls.put(e.getKey(), callees);
            assertEquals(edges, cfg.function(e.getKey()).orElseThrow().callees());
        }
        boolean anyCycle = false;
        for (int f : calls.keySet()) {
            boolean onCycle = reaches(calls, calls.get(f), f);
            anyCycle |= onCycle;
            assertEquals(onCycle, cfg.function(f).orElseThrow().recursive(), "function " + f + " recursive");
        }
        assertEquals(anyCycle, !cfg.recursion().isEmpty());
        assertEquals(anyCycle, has(cfg, Cfg.RECURSIVE_CALL));
        List<Integer> cycle = cfg.recursion();
        for (int k = 0; k < cycle.size(); k++) {
            int from = cycle.get(k);
            int to = cycle.get((k + 1) % cycle.size());
            assertTrue(calls.get(from).contains(to), "recursion " + cycle + " has no edge " + from + " -> " + to);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Brute force, written apart from the implementation

    private static boolean valid(Insn[] slots, long t) {
        return t >= 0 && t < slots.length && slots[(int) t] != null;
    }

    private static int width(Insn[] slots, int pc) {
        return slots[pc] instanceof Insn.LoadImm64 && pc + 1 < slots.length && slots[pc + 1] == null ? 2 : 1;
    }

    /** {@return the jump, call or code-address target of an instruction, null if none (or past int)} */
    private static Integer target(Insn insn, int pc) {
        long t = switch (insn) {
            case Insn.Ja j -> (long) pc + 1 + j.offset();
            case Insn.Jump j -> (long) pc + 1 + j.offset();
            case Insn.Call c when c.kind() == CallKind.LOCAL -> (long) pc + 1 + c.imm();
            case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR -> (long) pc + 1 + l.imm();
            default -> Long.MIN_VALUE;
        };
        return t == Long.MIN_VALUE ? null : t < Integer.MIN_VALUE || t > Integer.MAX_VALUE ? -1 : (int) t;
    }

    private static List<Integer> successors(Insn[] slots, int pc) {
        Insn insn = slots[pc];
        List<Integer> out = new ArrayList<>();
        if (insn instanceof Insn.LoadImm64 && width(slots, pc) != 2) {
            return out;
        }
        if (!(insn instanceof Insn.Exit || insn instanceof Insn.Ja) && valid(slots, pc + width(slots, pc))) {
            out.add(pc + width(slots, pc));
        }
        if (insn instanceof Insn.Ja || insn instanceof Insn.Jump) {
            int t = target(insn, pc);
            if (valid(slots, t) && !out.contains(t)) {
                out.add(t);
            }
        }
        return out;
    }

    private static BitSet reach(Insn[] slots, int start) {
        BitSet seen = new BitSet();
        ArrayDeque<Integer> work = new ArrayDeque<>(List.of(start));
        while (!work.isEmpty()) {
            int pc = work.pop();
            if (seen.get(pc)) {
                continue;
            }
            seen.set(pc);
            if (width(slots, pc) == 2) {
                seen.set(pc + 1);
            }
            work.addAll(successors(slots, pc));
        }
        return seen;
    }

    private static TreeMap<Integer, BitSet> functions(Insn[] slots) {
        TreeMap<Integer, BitSet> out = new TreeMap<>();
        if (!valid(slots, 0)) {
            return out;
        }
        ArrayDeque<Integer> work = new ArrayDeque<>(List.of(0));
        while (!work.isEmpty()) {
            int start = work.pop();
            if (out.containsKey(start)) {
                continue;
            }
            BitSet r = reach(slots, start);
            out.put(start, r);
            for (int pc = r.nextSetBit(0); pc >= 0; pc = r.nextSetBit(pc + 1)) {
                if (slots[pc] instanceof Insn.Call || slots[pc] instanceof Insn.LoadImm64) {
                    Integer t = target(slots[pc], pc);
                    if (t != null && valid(slots, t)) {
                        work.push(t);
                    }
                }
            }
        }
        return out;
    }

    /** {@return whether block {@code to} is reachable from the start without passing through {@code avoid}} */
    private static boolean reachableAvoiding(FunctionCfg f, int avoid, int to) {
        if (avoid == f.start()) {
            return false;
        }
        Set<Integer> seen = new HashSet<>();
        ArrayDeque<Integer> work = new ArrayDeque<>(List.of(f.start()));
        while (!work.isEmpty()) {
            int b = work.pop();
            if (b == avoid || !seen.add(b)) {
                continue;
            }
            if (b == to) {
                return true;
            }
            work.addAll(f.block(b).successors());
        }
        return false;
    }

    /** A graph is reducible exactly when it is acyclic once the back edges (u -> h, h dom u) are gone. */
    private static boolean irreducible(FunctionCfg f) {
        Map<Integer, List<Integer>> forward = new HashMap<>();
        for (Block b : f.blocks()) {
            forward.put(b.first(), b.successors().stream().filter(h -> !f.dominates(h, b.first())).toList());
        }
        // Kahn's algorithm: a cycle leaves nodes with a predecessor
        Map<Integer, Integer> indegree = new HashMap<>();
        forward.keySet().forEach(b -> indegree.put(b, 0));
        forward.values().forEach(ss -> ss.forEach(s -> indegree.merge(s, 1, Integer::sum)));
        ArrayDeque<Integer> ready = new ArrayDeque<>();
        indegree.forEach((b, d) -> {
            if (d == 0) {
                ready.add(b);
            }
        });
        int removed = 0;
        while (!ready.isEmpty()) {
            int b = ready.pop();
            removed++;
            for (int s : forward.get(b)) {
                if (indegree.merge(s, -1, Integer::sum) == 0) {
                    ready.add(s);
                }
            }
        }
        return removed != forward.size();
    }

    private static boolean reaches(Map<Integer, Set<Integer>> calls, Set<Integer> from, int target) {
        Set<Integer> seen = new HashSet<>();
        ArrayDeque<Integer> work = new ArrayDeque<>(from);
        while (!work.isEmpty()) {
            int g = work.pop();
            if (g == target) {
                return true;
            }
            if (seen.add(g)) {
                work.addAll(calls.get(g));
            }
        }
        return false;
    }

    private static boolean has(Cfg cfg, String kind) {
        return cfg.problems().stream().anyMatch(d -> d.is(kind));
    }

    private static Set<Integer> pcsOf(Cfg cfg, String kind) {
        Set<Integer> out = new TreeSet<>();
        cfg.problems().stream().filter(d -> d.is(kind)).forEach(d -> out.add(d.pc()));
        return out;
    }

    private static Set<Integer> bits(BitSet b) {
        Set<Integer> out = new TreeSet<>();
        b.stream().forEach(out::add);
        return out;
    }
}
