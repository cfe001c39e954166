package dev.prism.verifier;

import dev.prism.error.VerificationException;
import dev.prism.isa.AluOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.JumpOp;
import dev.prism.isa.Operand;
import dev.prism.isa.Reg;
import dev.prism.isa.Size;
import dev.prism.isa.Width;
import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.HelperProto;
import dev.prism.runtime.Helpers;
import dev.prism.verifier.cfg.Cfg;
import dev.prism.verifier.cfg.FunctionCfg;
import dev.prism.verifier.cfg.Loop;
import dev.prism.verifier.domain.Scalar;
import dev.prism.verifier.domain.ScalarAlu;
import dev.prism.verifier.domain.ScalarBranch;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * Proves a program safe, or says at which instruction and why not (DESIGN.md, "The IR").
 *
 * <p>Layers, as in PREVAIL: the control-flow graph first ({@link Cfg}: functions, loops,
 * unreachable code, recursion), then a path-sensitive abstract interpretation over registers,
 * stack frames, packet ranges and references, with the scalar domain of
 * {@link dev.prism.verifier.domain}. Branches are followed separately (a null check or a
 * packet bounds check refines each side); a path that arrives at a point where an explored
 * state already covers it is pruned. At loop heads states are joined and, after a few visits,
 * widened, so the cost does not grow with the trip count; each loop is then proven to terminate
 * by an induction variable ({@link LoopBounds}).
 *
 * <p>The first error ends verification, as in Linux, with a diagnostic reading
 * {@code pc: reason (detail)} and the source line when the program carries BTF line info. The
 * reasons are the stable vocabulary of conformance/VERIFIER-DIAGNOSTICS.md.
 */
public final class Verifier {
    /** Instructions processed before a program is "too complex" (Linux's BPF_COMPLEXITY_LIMIT_INSNS). */
    public static final int MAX_PROCESSED = 1_000_000;
    /**
     * Visits of a loop head joined before its state is widened. Joining keeps a pointer that
     * advances with a short loop's counter bounded (intervals cannot relate the two); loops
     * longer than this are widened, so the cost of a loop is bounded whatever its trip count.
     */
    static final int WIDEN_AFTER = 256;
    /**
     * Arrivals at a loop head (per call context) followed path by path, as Linux does, before
     * the head switches to joining: short loops stay precise (a pointer advancing with the loop
     * counter keeps its bound), long ones cost at most this much before they are summarised.
     */
    static final int UNROLL = 2048;
    /**
     * The arrivals at a loop head followed path by path before joining, by attempt. A first
     * attempt joins early, so a long loop costs a few widened visits instead of one walk per
     * iteration; joining forgets relations a path keeps (a pointer checked in one iteration and
     * read in the next, the identities of packet pointers with variable offsets), so when an
     * attempt that joined somewhere refuses the program, the next one follows loops as far as
     * the verifier always has. Each attempt is sound on its own, so accepting on any of them is
     * sound; the last one's refusal is the verdict.
     */
    static final int[] UNROLL_BY_ATTEMPT = {16, UNROLL};
    /** This attempt's arrivals at a loop head before joining (one of {@link #UNROLL_BY_ATTEMPT}). */
    private int unroll = UNROLL;
    /** Joined visits of a loop head before widening: few in the first attempt (thresholds keep it precise). */
    private int widenAfter = WIDEN_AFTER;
    /** Per loop head, its widening thresholds ({@link #thresholds}). */
    private final Map<Integer, long[]> thresholdsByHead = new HashMap<>();

    /**
     * {@return the constants the conditional jumps of the loops headed at {@code head} compare
     * with, with their neighbours (a bound, one below and one above it), as 64-bit and as
     * unsigned 32-bit values, ascending and non-negative}: the thresholds of widening
     * ({@link PointerJoin})
     */
    private long[] thresholds(int head) {
        return thresholdsByHead.computeIfAbsent(head, h -> {
            java.util.TreeSet<Long> t = new java.util.TreeSet<>();
            for (FunctionCfg f : cfg.functions()) {
                for (Loop l : f.loops()) {
                    if (l.head() != h) {
                        continue;
                    }
                    for (int start : l.body()) {
                        var b = f.block(start);
                        for (int pc = b.first(); pc <= b.last(); pc++) {
                            if (code[pc] instanceof Insn.Jump j && j.src() instanceof Imm imm) {
                                long c = j.width() == Width.W32 ? imm.value() & 0xffff_ffffL : imm.value();
                                for (long d = -1; d <= 1; d++) {
                                    if (c + d >= 0) {
                                        t.add(c + d);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return t.stream().mapToLong(Long::longValue).toArray();
        });
    }

    /** Whether this attempt joined at some loop head: only then can a later attempt answer differently. */
    private boolean joined;
    /** Largest variable offset Linux accepts on a pointer (BPF_MAX_VAR_OFF). */
    static final long MAX_VAR_OFF = 1 << 29;
    /** Largest packet offset (MAX_PACKET_OFF). */
    static final long MAX_PACKET_OFF = 0xffff;
    static final int MAX_FRAMES = 8;

    private final Program program;
    private final Profile profile;
    private final Insn[] code;
    private final Cfg cfg;
    /** The program's maps, then the inner map template of each map-in-map ({@link #innerOf}). */
    private final List<MapDef> maps;
    /** Per program map: the index in {@link #maps} of its inner map template, -1 for other maps. */
    private final int[] innerOf;
    /** Loop heads by pc (bpf_loop callbacks join them as they are found). */
    private final boolean[] loopHead;
    /** Instructions after which a path may meet others (a pruning point follows): jumps, exits, calls. */
    private final boolean[] branchy;
    private final Liveness liveness;
    /** Explored states by pc, then call context ({@link #contextId}). */
    private final Explored[] explored;
    /** Call contexts ({@link State#context}) by number. */
    private final Map<String, Integer> contexts = new HashMap<>();
    // Keyed "pc@context": loopState joins the entries of a head in this map's iteration order.
    private final Map<String, State> loopAcc = new HashMap<>();
    private final Map<String, State> loopEntry = new HashMap<>();
    /** The states explored at one pc in one call context; the next context's, or null. */
    private static final class Explored {
        final int context;
        final Explored next;
        final List<State> states = new ArrayList<>();
        /** At a loop head: the key of loopAcc and loopEntry, made once, and the arrivals counted. */
        String loopKey;
        int visits;

        Explored(int context, Explored next) {
            this.context = context;
            this.next = next;
        }
    }

    /**
     * What the IR keeps of the states that reached each instruction: the registers joined over
     * every path (call contexts included), in the order the paths arrive, and the deepest total
     * stack use. Only registers, so recording them costs little per instruction processed.
     */
    private final Value[][] seenRegs;
    private final int[] seenStack;
    /** Per pc and register: 0 not yet known, 1 when the scalar in seenRegs is a fixpoint of normalisation, 2 when not. */
    private final byte[] seenNormal;
    /**
     * Per pc, the registers whose joined value there is the one at {@link #inheritFrom}, the
     * instruction before it, so that they are joined there only and copied when the IR is made:
     * a pc whose only way in is falling through from a straight-line instruction (no jump or
     * call lands there, it is no loop head) is reached exactly by the states processed at that
     * instruction, one for one and in the same order, each carrying on the registers that
     * instruction does not write; among those, the live ones arrive unchanged (the dead ones
     * are forgotten on arrival, and joined as usual).
     */
    private final short[] inherited;
    private final int[] inheritFrom;
    private final Set<Integer> helpersUsed = new HashSet<>();
    private final Facts.Access[] accesses;
    private final Map<Integer, Long> divisors = new HashMap<>();
    /** The identity pointers joined for the IR's facts get ({@link #see}); the facts keep none. */
    private static final int FACTS_JOIN_ID = Integer.MAX_VALUE;
    /** Map lookups whose 4-byte key was the same constant on every path so far, by pc. */
    private final Map<Integer, Long> lookupKeys = new HashMap<>();
    private final java.util.Set<Integer> nonConstantKey = new java.util.HashSet<>();
    /** Map lookups, updates and deletes: the maps ({@link #maps} indices, templates included) r1 named on some path, by pc. */
    private final Map<Integer, java.util.BitSet> callMaps = new HashMap<>();
    private final Set<Integer> nonConstantDivisor = new HashSet<>();
    private final byte[] branches; // bit 1: taken seen, bit 2: fallthrough seen
    private final Value[] immediates;
    private final byte[] kinds;
    private final Object[] containing;
    private final Map<Integer, Long> tripCounts = new TreeMap<>();
    private final Map<Integer, Integer> frameDepth = new TreeMap<>();
    private int nextId = 1;
    private long processed;
    private long statesStored;
    private long maxPacketOffset;

    private Verifier(Program program, Profile profile) {
        this.program = program;
        this.profile = profile;
        this.code = program.slots();
        this.cfg = Cfg.build(code);
        this.innerOf = new int[program.maps().size()];
        this.maps = withTemplates(program.maps(), innerOf);
        int[][] successors = new int[code.length][];
        int[] predecessors = new int[code.length]; // how many, then (when one) which
        int[] onlyPredecessor = new int[code.length];
        for (int pc = 0; pc < code.length; pc++) {
            if (code[pc] != null && cfg.isReachable(pc)) {
                successors[pc] = cfg.successors(pc);
                for (int t : successors[pc]) {
                    predecessors[t]++;
                    onlyPredecessor[t] = pc;
                }
            }
        }
        this.liveness = Liveness.of(code, successors);
        this.loopHead = new boolean[code.length];
        this.branchy = new boolean[code.length];
        this.explored = new Explored[code.length];
        this.seenRegs = new Value[code.length][];
        this.seenStack = new int[code.length];
        this.seenNormal = new byte[code.length * 11];
        this.accesses = new Facts.Access[code.length];
        this.branches = new byte[code.length];
        this.immediates = new Value[code.length];
        this.kinds = new byte[code.length];
        for (int pc = 0; pc < code.length; pc++) {
            kinds[pc] = kindOf(code[pc]);
        }
        this.containing = new Object[code.length];
        for (FunctionCfg f : cfg.functions()) {
            for (Loop l : f.loops()) {
                loopHead[l.head()] = true;
            }
        }
        for (int pc = 0; pc < code.length; pc++) {
            // pruning points: jump targets and fallthroughs, returns, and the instruction after a
            // call (as Linux's: a helper's result is often what the paths differ in)
            branchy[pc] = code[pc] instanceof Insn.Jump || code[pc] instanceof Insn.Ja || code[pc] instanceof Insn.Exit
                    || code[pc] instanceof Insn.Call;
        }
        this.inherited = new short[code.length];
        this.inheritFrom = onlyPredecessor; // read only where inherited is set: one predecessor
        boolean[] functionStart = new boolean[code.length];
        for (FunctionCfg f : cfg.functions()) {
            functionStart[f.start()] = true;
        }
        for (int pc = 1; pc < code.length; pc++) {
            if (code[pc] == null || loopHead[pc] || functionStart[pc] || predecessors[pc] != 1) {
                continue;
            }
            int q = onlyPredecessor[pc];
            int written = writtenBy(q);
            if (written < 0 || q + (code[q] instanceof Insn.LoadImm64 ? 2 : 1) != pc) {
                continue;
            }
            inherited[pc] = (short) (liveness.liveSet(pc) & ~written & 0x7ff);
        }
    }

    /**
     * {@return the registers the step of a straight-line instruction ({@link #straight}) may
     * write, or -1 for any other instruction}
     */
    private int writtenBy(int pc) {
        Insn insn = code[pc];
        return switch (kinds[pc]) {
            case ALU -> 1 << ((Insn.Alu) insn).dst().n();
            case NEG -> 1 << ((Insn.Neg) insn).dst().n();
            case MOVSX -> 1 << ((Insn.MovSx) insn).dst().n();
            case ENDIAN -> 1 << ((Insn.Endian) insn).dst().n();
            case LDDW -> 1 << ((Insn.LoadImm64) insn).dst().n();
            case LOAD -> 1 << ((Insn.Load) insn).dst().n();
            case STORE -> 0;
            case ATOMIC -> 1 | 1 << ((Insn.Atomic) insn).src().n();
            default -> -1;
        };
    }

    /**
     * Verifies {@code program} under {@code profile}.
     *
     * @return the verified program: the IR every backend consumes
     * @throws VerificationException naming the first instruction that cannot be proven safe
     */
    public static VerifiedProgram verify(Program program, Profile profile) {
        return verify(program, profile, null);
    }

    /**
     * Verifies with a log: one line per instruction processed, {@code pc: instruction ; state},
     * for a person debugging a rejection ({@code prism verify --log}).
     */
    public static VerifiedProgram verify(Program program, Profile profile, java.util.function.Consumer<String> log) {
        return verify(program, profile, -1, log);
    }

    /**
     * Verifies a {@code raw} program for input memory of exactly {@code memSize} bytes: r1 is a
     * pointer to it (0 when {@code memSize} is 0) and r2 its length, so accesses through r1 are
     * proven against that size. A backend that runs the result must be given memory of that
     * size. With {@code memSize} -1 (the other overloads) r1 and r2 are unknown numbers.
     */
    public static VerifiedProgram verify(Program program, Profile profile, int memSize, java.util.function.Consumer<String> log) {
        return verify(program, profile, memSize, log, null);
    }

    /**
     * {@link #verify(Program, Profile, int, java.util.function.Consumer)} that also shows every
     * processed state to {@code observer} (null for none), as an offload driver's verifier hook
     * sees them.
     */
    public static VerifiedProgram verify(Program program, Profile profile, int memSize, java.util.function.Consumer<String> log,
                                         PathObserver observer) {
        if (memSize >= 0 && program.type() != ProgramType.RAW) {
            throw new IllegalArgumentException("a memory size is for raw programs; this one is " + program.type().id());
        }
        long start = System.nanoTime();
        long processed = 0;
        for (int attempt = 0; ; attempt++) {
            Verifier v = new Verifier(program, profile);
            v.memSize = memSize;
            v.log = log;
            // an attempt that is refused and retried has shown the observer its states too: they
            // over-approximate the final attempt's, so an observer's union stays conservative
            v.observer = observer;
            v.unroll = UNROLL_BY_ATTEMPT[attempt];
            v.widenAfter = attempt == 0 ? 2 : WIDEN_AFTER;
            try {
                v.run();
                v.processed += processed;
                return v.result(System.nanoTime() - start);
            } catch (VerificationException e) {
                // Termination and the budget are judged on the loop entries and on the cost, which
                // following loops further does not improve: only a refused access, a register or
                // a reference can come out differently.
                String m = e.getMessage();
                if (!v.joined || attempt == UNROLL_BY_ATTEMPT.length - 1 || m.contains(": unbounded loop") || m.contains(": program too complex")) {
                    throw e;
                }
                processed += v.processed;
                if (log != null) {
                    log.accept("; refused after joining at a loop head (" + e.getMessage() + "): verifying again, following loops "
                            + (UNROLL_BY_ATTEMPT[attempt + 1] == Integer.MAX_VALUE ? "path by path" : "further"));
                }
            }
        }
    }

    private java.util.function.Consumer<String> log;
    private PathObserver observer;
    /** Raw programs: the input memory's size, or -1 when unknown. */
    private int memSize = -1;

    // ---------------------------------------------------------------------------------------
    // Errors

    /** A refusal at one instruction; caught by {@link #run} and turned into the exception. */
    private static final class Reject extends RuntimeException {
        final int pc;
        final String reason;
        final String detail;

        Reject(int pc, String reason, String detail) {
            super(reason, null, false, false);
            this.pc = pc;
            this.reason = reason;
            this.detail = detail;
        }
    }

    private Reject reject(int pc, String reason, String detail) {
        return new Reject(pc, reason, detail);
    }

    private String describe(Reject r) {
        String where = program.sourceLine(r.pc).map(l -> " at " + l).orElse("");
        return r.pc + ": " + r.reason + (r.detail == null || r.detail.isEmpty() ? "" : " (" + r.detail + ")") + where;
    }

    // ---------------------------------------------------------------------------------------
    // Exploration

    private record Path(int pc, State state, int from) {
    }

    private void run() {
        try {
            loopsWithoutExit();
            List<String> problems = new ArrayList<>();
            for (var d : cfg.problems()) {
                problems.add(controlFlowProblem(d));
            }
            if (!problems.isEmpty()) {
                throw new VerificationException(problems);
            }
            explore();
            Map<Loop, Long> trips = new HashMap<>();
            for (FunctionCfg f : cfg.functions()) {
                for (Loop l : f.loops()) {
                    long t = LoopBounds.prove(this, f, l);
                    trips.put(l, t);
                    tripCounts.merge(l.head(), t, Math::max);
                }
            }
            long executed = InstructionBound.of(cfg, trips, maxLoopIterations);
            if (executed > MAX_PROCESSED) {
                throw reject(0, "program too complex", "up to " + executed + " instructions may execute, more than "
                        + MAX_PROCESSED + " (Linux's budget, and the interpreter's)");
            }
            executedBound = executed;
        } catch (Reject r) {
            throw new VerificationException(List.of(describe(r)));
        }
    }

    /** The largest nr_loops seen at a bpf_loop call (2^23 when unknown). */
    private long maxLoopIterations;
    private long executedBound;

    void sawLoopIterations(long nr) {
        maxLoopIterations = Math.max(maxLoopIterations, nr);
    }

    /** A loop no edge leaves never ends: refused before anything else about it. */
    private void loopsWithoutExit() {
        for (FunctionCfg f : cfg.functions()) {
            for (Loop l : f.loops()) {
                boolean exits = false;
                for (int start : l.body()) {
                    var b = f.block(start);
                    if (code[b.last()] instanceof Insn.Exit || (code[b.last()] instanceof Insn.Jump && b.last() + 1 == code.length)) {
                        exits = true; // an exit, or a conditional jump that falls off the end (refused as such below)
                    }
                    for (int succ : b.successors()) {
                        exits |= !l.body().contains(succ);
                    }
                }
                if (!exits) {
                    throw reject(l.head(), "unbounded loop", "head " + l.head() + ", back edge "
                            + f.block(l.backEdgeSources().get(0)).last() + ": no edge leaves the loop");
                }
            }
        }
    }

    /** Control-flow problems in the verifier's vocabulary (conformance/VERIFIER-DIAGNOSTICS.md). */
    private String controlFlowProblem(dev.prism.verifier.cfg.Diagnostic d) {
        String text = d.toString();
        if (d.is(Cfg.FALLS_OFF_THE_END)) {
            return d.pc() + ": " + Cfg.LAST_NOT_EXIT + " (a conditional jump in the last slot falls through past the end)";
        }
        if (d.is(Cfg.SHARED_CODE) && d.pc() > 0 && !(code[d.pc() - 1] instanceof Insn.Exit || code[d.pc() - 1] instanceof Insn.Ja)
                && cfg.function(d.pc()).isPresent()) {
            return (d.pc() - 1) + ": " + Cfg.LAST_NOT_EXIT + " (the function before " + d.pc() + " falls into it)";
        }
        return program.sourceLine(d.pc()).map(l -> text + " at " + l).orElse(text);
    }

    private State initial() {
        State s = new State();
        java.util.Arrays.fill(s.regs, Value.UNINIT);
        s.pushFrame(new Frame());
        s.regs[10] = stackPtr(0, 0);
        switch (program.type()) {
            case XDP, TC, SOCKET, CSD -> s.regs[1] = new Value.Ptr(Value.Kind.CTX, 0, Scalar.constant(0), 0, 0, false, 0, 0);
            case RAW -> {
                if (memSize > 0) {
                    s.regs[1] = new Value.Ptr(Value.Kind.MEM, 0, Scalar.constant(0), 0, 0, false, memSize, 0);
                    s.regs[2] = Value.scalar(Scalar.constant(memSize));
                } else {
                    // Memory of a size unknown to the verifier (or none): r1 and r2 are numbers.
                    s.regs[1] = Value.scalar(memSize == 0 ? Scalar.constant(0) : Scalar.top());
                    s.regs[2] = Value.scalar(memSize == 0 ? Scalar.constant(0) : Scalar.top());
                }
            }
        }
        return s;
    }

    private static Value.Ptr stackPtr(int frame, long off) {
        return new Value.Ptr(Value.Kind.STACK, off, Scalar.constant(0), 0, frame, false, 0, 0);
    }

    private void explore() {
        Deque<Path> work = new ArrayDeque<>();
        work.push(new Path(0, initial(), -1));
        while (!work.isEmpty()) {
            Path p = work.pop();
            State s = arrive(p);
            if (s == null) {
                continue;
            }
            if (++processed > MAX_PROCESSED) {
                throw reject(p.pc(), "program too complex", "more than " + MAX_PROCESSED + " instructions processed");
            }
            see(p.pc(), s);
            if (observer != null) {
                observer.visit(p.pc(), Facts.registers(s.regs));
            }
            if (log != null) {
                log.accept(String.format("%4d: %-36s ; %s%s", p.pc(), dev.prism.asm.Disassembler.format(code[p.pc()]),
                        describeRegs(s), s.packetRange.isEmpty() ? "" : " ranges=" + s.packetRange));
            }
            int slots = straight(p.pc(), s);
            if (slots > 0) {
                work.push(new Path(p.pc() + slots, s, p.pc()));
                continue;
            }
            List<Path> next = step(p.pc(), s);
            for (int i = next.size() - 1; i >= 0; i--) {
                work.push(next.get(i));
            }
        }
    }

    /**
     * Joins the registers of a state processed at {@code pc} into what the IR keeps there. The
     * join of a value with an equal one is that value, so equal registers are skipped.
     */
    private void see(int pc, State s) {
        int total = s.stackBytes;
        Value[] seen = seenRegs[pc];
        if (seen == null) {
            seenRegs[pc] = s.regs.clone();
            seenStack[pc] = total;
            return;
        }
        Value[] regs = s.regs;
        int inherit = inherited[pc];
        for (int i = 0; i < seen.length; i++) {
            if ((inherit & 1 << i) != 0) {
                continue; // copied from the instruction before when the IR is made
            }
            Value a = seen[i];
            Value b = regs[i];
            // the join of anything into an uninitialized register leaves it so
            if (a == b || a instanceof Value.Uninit || a.equals(b) || coveredScalar(pc * 11 + i, a, b)) {
                continue;
            }
            // pointers from different paths (two lookups' results) join into one pointer of the
            // region, nullable when either is: the facts carry no identities, so any join id will do
            seen[i] = State.join(a, b, false, FACTS_JOIN_ID);
            seenNormal[pc * 11 + i] = 0;
        }
        seenStack[pc] = Math.max(seenStack[pc], total);
    }

    /**
     * {@return whether joining scalar b into scalar a leaves a as it is} The join is the hull of
     * the components, normalised; when b is within a component by component (and a is not
     * empty) the hull is a itself, so the join is a normalised, which is a when a is a fixpoint
     * of normalisation (found out once per value kept).
     */
    private boolean coveredScalar(int slot, Value a, Value b) {
        if (!(a instanceof Value.Scal x) || !(b instanceof Value.Scal y) || x.s().isEmpty() || !y.s().isSubsetOf(x.s())) {
            return false;
        }
        if (seenNormal[slot] == 0) {
            seenNormal[slot] = (byte) (x.s().sync().equals(x.s()) ? 1 : 2);
        }
        return seenNormal[slot] == 1;
    }

    /** {@return the number of the state's call context} */
    private int contextId(State s) {
        if (s.contextId < 0) {
            Integer id = contexts.get(s.context());
            if (id == null) {
                id = contexts.size();
                contexts.put(s.context(), id);
            }
            s.contextId = id;
        }
        return s.contextId;
    }

    /** {@return what was explored at {@code pc} in the state's call context} */
    private Explored exploredAt(int pc, State s) {
        int context = contextId(s);
        for (Explored e = explored[pc]; e != null; e = e.next) {
            if (e.context == context) {
                return e;
            }
        }
        explored[pc] = new Explored(context, explored[pc]);
        return explored[pc];
    }

    /** Pruning and loop-head merging; {@return the state to continue with, or null to prune} */
    private State arrive(Path p) {
        forgetDead(p.pc(), p.state());
        if (p.from() < 0 || branchy[p.from()] || loopHead[p.pc()]) {
            p.state().links = List.of(); // paths may meet here (ScalarLinks)
        }
        if (!loopHead[p.pc()]) {
            if (p.from() >= 0 && !branchy[p.from()]) {
                return p.state(); // straight-line: nothing to prune
            }
            return prune(p.state(), exploredAt(p.pc(), p.state()));
        }
        Explored at = exploredAt(p.pc(), p.state());
        if (at.loopKey == null) {
            at.loopKey = p.pc() + "@" + p.state().context();
        }
        String key = at.loopKey;
        if (at.visits >= unroll) {
            State acc = loopAcc.get(key);
            if (acc == null) {
                loopAcc.put(key, p.state().copy());
                loopEntry.put(key, p.state().copy());
                at.visits = 1;
                return p.state();
            }
            if (acc.covers(p.state())) {
                return null;
            }
            boolean back = isBackEdge(p.from(), p.pc()) || code[p.from() < 0 ? 0 : p.from()] instanceof Insn.Exit;
            if (!back) {
                loopEntry.put(key, loopEntry.get(key).join(p.state(), false, p.pc(), this::freshId));
            }
            joined = true;
            int visits = back ? ++at.visits - unroll : at.visits - unroll;
            State merged = acc.join(p.state(), visits > widenAfter, p.pc(), this::freshId, thresholds(p.pc()));
            if (acc.covers(merged, idMap)) {
                // the join is what was explored already (up to new identities): a fixpoint. A
                // folded pointer arrives at a fixed offset the head's state never has, so the
                // arrival itself is never covered; its join with the head's state is.
                return null;
            }
            loopAcc.put(key, merged);
            return merged.copy();
        }
        // first iterations: followed path by path (pruned when covered), counted
        int visits = ++at.visits;
        if (visits == unroll) {
            loopAcc.put(key, p.state().copy()); // from now on the head joins
        }
        loopEntry.merge(key, p.state().copy(), (a, b) -> isBackEdge(p.from(), p.pc()) ? a : a.join(b, false, p.pc(), this::freshId));
        return prune(p.state(), at);
    }

    /**
     * Explored states remembered per pc and call context. Real parsers reach one pc in hundreds
     * of ways that differ only in what was parsed before (Linux keeps every state: its
     * max_states_per_insn passes 100 on them); the summaries of {@link State#mayCover} keep the
     * comparisons cheap.
     */
    static final int MAX_STATES_PER_PC = 256;
    /** Explored states remembered in all: each holds its frames, and memory is finite. */
    static final int MAX_STATES = 100_000;

    /** Reused by every comparison of {@link #prune}. */
    private final IdMap idMap = new IdMap();

    /** {@return null when an explored state covers {@code s}, else s (remembered while there are fewer than {@link #MAX_STATES_PER_PC})} */
    private State prune(State s, Explored at) {
        List<State> seen = at.states;
        if (!seen.isEmpty()) {
            s.summarise();
        }
        for (State old : seen) {
            if (old.mayCover(s) && old.covers(s, idMap)) {
                return null;
            }
        }
        if (seen.size() < MAX_STATES_PER_PC && statesStored < MAX_STATES) {
            seen.add(s.copy());
            statesStored++;
        }
        return s;
    }

    /** Dead registers are forgotten: nothing reads them before writing them. */
    private void forgetDead(int pc, State s) {
        Value[] regs = s.regs;
        for (int dead = ~liveness.liveSet(pc) & 0x3ff; dead != 0; dead &= dead - 1) {
            int r = Integer.numberOfTrailingZeros(dead);
            if (regs[r] != Value.UNINIT) {
                regs[r] = Value.UNINIT;
            }
        }
    }

    private boolean isBackEdge(int from, int head) {
        if (from < 0) {
            return false;
        }
        for (FunctionCfg f : functionsContaining(from)) {
            for (Loop l : f.loops()) {
                if (l.head() == head && f.blockContaining(from).map(b -> l.body().contains(b.first())).orElse(false)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@return {@link Cfg#functionsContaining}, computed once per pc} */
    @SuppressWarnings("unchecked")
    private List<FunctionCfg> functionsContaining(int pc) {
        Object f = containing[pc];
        if (f == null) {
            f = cfg.functionsContaining(pc);
            containing[pc] = f;
        }
        return (List<FunctionCfg>) f;
    }

    /** {@return the loop-head state (joined over entries and iterations) in any call context} */
    State loopState(int head, boolean entryOnly) {
        State r = null;
        for (var e : (entryOnly ? loopEntry : loopAcc).entrySet()) {
            if (e.getKey().startsWith(head + "@")) {
                r = r == null ? e.getValue() : (r.frames.size() == e.getValue().frames.size() ? r.join(e.getValue(), false) : r);
            }
        }
        return r;
    }

    Insn[] code() {
        return code;
    }

    Reject rejectLoop(int pc, String detail) {
        return reject(pc, "unbounded loop", detail);
    }

    // ---------------------------------------------------------------------------------------
    // One instruction

    /**
     * The instruction kinds of {@link #straight}, by pc: the dispatch of every step, so a table
     * switch rather than a pattern switch (a chain of class tests).
     */
    private static final byte OTHER = 0;
    private static final byte ALU = 1;
    private static final byte NEG = 2;
    private static final byte MOVSX = 3;
    private static final byte ENDIAN = 4;
    private static final byte LDDW = 5;
    private static final byte LOAD = 6;
    private static final byte STORE = 7;
    private static final byte ATOMIC = 8;

    private static byte kindOf(Insn insn) {
        return switch (insn) {
            case null -> OTHER;
            case Insn.Alu a -> ALU;
            case Insn.Neg n -> NEG;
            case Insn.MovSx m -> MOVSX;
            case Insn.Endian e -> ENDIAN;
            case Insn.LoadImm64 l -> LDDW;
            case Insn.Load l -> LOAD;
            case Insn.Store st -> STORE;
            case Insn.Atomic a -> ATOMIC;
            case Insn.Ja j -> OTHER;
            case Insn.Jump j -> OTHER;
            case Insn.Call c -> OTHER;
            case Insn.CallX c -> OTHER;
            case Insn.Exit e -> OTHER;
            case Insn.PacketLoad p -> OTHER;
        };
    }

    /**
     * Steps a straight-line instruction (one that always continues with the next); {@return
     * the slots it takes, or 0 for another kind, which {@link #step} does}
     */
    private int straight(int pc, State s) {
        Insn insn = code[pc];
        switch (kinds[pc]) {
            case ALU -> {
                Insn.Alu ai = (Insn.Alu) insn;
                Value oldDst = s.regs[ai.dst().n()];
                Value src = ai.src() instanceof Reg r ? s.regs[r.n()] : immediate(pc, (Imm) ai.src());
                alu(pc, s, ai);
                ScalarLinks.afterAlu(s, ai, oldDst, src);
                return 1;
            }
            case NEG -> {
                Insn.Neg n = (Insn.Neg) insn;
                Value d = read(pc, s, n.dst());
                writable(pc, n.dst());
                s.regs[n.dst().n()] = Value.scalar(ScalarAlu.neg(n.width(), scalarOf(pc, d, "neg")));
                return 1;
            }
            case MOVSX -> {
                Insn.MovSx m = (Insn.MovSx) insn;
                Value v = read(pc, s, m.src());
                writable(pc, m.dst());
                s.regs[m.dst().n()] = Value.scalar(ScalarAlu.movsx(m.width(), m.fromBits(), scalarOf(pc, v, "movsx")));
                return 1;
            }
            case ENDIAN -> {
                Insn.Endian e = (Insn.Endian) insn;
                Value v = read(pc, s, e.dst());
                writable(pc, e.dst());
                s.regs[e.dst().n()] = Value.scalar(ScalarAlu.endian(e.op(), e.bits(), scalarOf(pc, v, "byte swap")));
                return 1;
            }
            case LDDW -> {
                Insn.LoadImm64 l = (Insn.LoadImm64) insn;
                writable(pc, l.dst());
                s.regs[l.dst().n()] = lddw(pc, l);
                return 2;
            }
            case LOAD -> {
                Insn.Load l = (Insn.Load) insn;
                Value base = read(pc, s, l.src());
                writable(pc, l.dst());
                s.regs[l.dst().n()] = access(pc, s, base, l.offset(), l.size().bytes(), false, null, l.signExtend());
                return 1;
            }
            case STORE -> {
                Insn.Store st = (Insn.Store) insn;
                Value base = read(pc, s, st.dst());
                Value v = st.src() instanceof Reg r ? read(pc, s, r) : immediate(pc, (Imm) st.src());
                access(pc, s, base, st.offset(), st.size().bytes(), true, v, false);
                return 1;
            }
            case ATOMIC -> {
                atomic(pc, s, (Insn.Atomic) insn);
                return 1;
            }
            default -> {
                return 0;
            }
        }
    }

    /** Steps any instruction ({@link #explore} hands the straight-line ones to {@link #straight} first). */
    private List<Path> step(int pc, State s) {
        Insn insn = code[pc];
        return switch (insn) {
            case null -> throw reject(pc, "invalid call target", "execution reaches the second slot of an lddw");
            case Insn.Alu a -> next(pc, s, straight(pc, s));
            case Insn.Neg n -> next(pc, s, straight(pc, s));
            case Insn.MovSx m -> next(pc, s, straight(pc, s));
            case Insn.Endian e -> next(pc, s, straight(pc, s));
            case Insn.LoadImm64 l -> next(pc, s, straight(pc, s));
            case Insn.Load l -> next(pc, s, straight(pc, s));
            case Insn.Store st -> next(pc, s, straight(pc, s));
            case Insn.Atomic a -> next(pc, s, straight(pc, s));
            case Insn.Ja j -> List.of(new Path(pc + 1 + j.offset(), s, pc));
            case Insn.Jump j -> jump(pc, s, j);
            case Insn.Call c -> call(pc, s, c);
            case Insn.CallX c -> {
                Value t = read(pc, s, c.dst());
                if (profile == Profile.LINUX) {
                    throw reject(pc, "invalid call target", "callx is not supported by Linux");
                }
                if (t instanceof Value.Scal sc) {
                    yield callxHelper(pc, s, c, sc.s());
                }
                if (!(t instanceof Value.Ptr p) || p.kind() != Value.Kind.FUNC) {
                    throw reject(pc, "invalid call target", c.dst() + " is " + t + ", not a function address");
                }
                callxFunction(pc);
                yield List.of(enter(pc, s, p.map()));
            }
            case Insn.Exit e -> exit(pc, s);
            case Insn.PacketLoad p -> {
                if (profile == Profile.LINUX && program.type() == ProgramType.XDP) {
                    throw reject(pc, "invalid packet access", "Linux allows legacy packet loads only in socket and tc programs");
                }
                if (p.indirect()) {
                    scalarOf(pc, read(pc, s, p.src()), "legacy packet load index");
                }
                s.regs[0] = Value.scalar(ScalarAlu.load(p.size().bytes(), false));
                for (int r = 1; r <= 5; r++) {
                    s.regs[r] = Value.UNINIT;
                }
                yield next(pc, s, 1);
            }
        };
    }

    private static List<Path> next(int pc, State s, int slots) {
        return List.of(new Path(pc + slots, s, pc));
    }

    private Value read(int pc, State s, Reg r) {
        Value v = s.regs[r.n()];
        if (v instanceof Value.Uninit) {
            throw reject(pc, "read of uninitialized register", r.toString().substring(1));
        }
        return v;
    }

    private void writable(int pc, Reg r) {
        if (r == Reg.R10) {
            throw reject(pc, "frame pointer is read-only", "r10");
        }
    }

    private Scalar scalarOf(int pc, Value v, String what) {
        if (v instanceof Value.Scal sc) {
            return sc.s();
        }
        throw reject(pc, "prohibited pointer arithmetic", what + " on " + v);
    }

    private Value operand(int pc, State s, Operand o) {
        return switch (o) {
            case Reg r -> read(pc, s, r);
            case Imm i -> immediate(pc, i);
        };
    }

    /** {@return the scalar of the instruction's immediate operand} (one per instruction, made once) */
    private Value immediate(int pc, Imm i) {
        Value v = immediates[pc];
        if (v == null) {
            v = Value.scalar(Scalar.constant(i.value()));
            immediates[pc] = v;
        }
        return v;
    }

    // ---------------------------------------------------------------------------------------
    // Arithmetic

    private void alu(int pc, State s, Insn.Alu a) {
        Value src = operand(pc, s, a.src());
        writable(pc, a.dst());
        if (profile == Profile.LINUX && a.src() instanceof Imm imm
                && (a.op() == AluOp.LSH || a.op() == AluOp.RSH || a.op() == AluOp.ARSH)) {
            int width = a.width() == Width.W64 ? 64 : 32;
            if (imm.value() < 0 || imm.value() >= width) {
                throw reject(pc, "invalid shift", "shift by " + imm.value() + " on a " + width + "-bit value");
            }
        }
        if (a.op() == AluOp.MOV) {
            if (a.width() == Width.W64) {
                s.regs[a.dst().n()] = src;
            } else {
                Scalar v = src instanceof Value.Scal sc ? sc.s() : Scalar.top();
                s.regs[a.dst().n()] = Value.scalar(ScalarAlu.alu(AluOp.MOV, Width.W32, Scalar.top(), v));
            }
            return;
        }
        Value dst = read(pc, s, a.dst());
        if (a.op().isDivMod() && a.src() instanceof Reg) {
            if (src instanceof Value.Scal x && x.s().isConstant() && !nonConstantDivisor.contains(pc)
                    && divisors.getOrDefault(pc, x.s().constantValue()) == x.s().constantValue()) {
                divisors.put(pc, x.s().constantValue());
            } else {
                nonConstantDivisor.add(pc);
                divisors.remove(pc);
            }
        }
        if (dst instanceof Value.Scal d && src instanceof Value.Scal x) {
            Scalar r = ScalarAlu.alu(a.op(), a.width(), d.s(), x.s());
            if (profile == Profile.LINUX && a.op().isDivMod() && !r.isConstant()) {
                // Linux tracks no bounds through division and modulo: predict its verdict
                r = ScalarAlu.alu(AluOp.MOV, a.width(), Scalar.top(), Scalar.top());
            }
            s.regs[a.dst().n()] = Value.scalar(r);
            return;
        }
        if (a.width() == Width.W32 && a.op() == AluOp.SUB) {
            // A 32-bit subtraction involving a pointer gives a meaningless but harmless number;
            // Linux allows it to privileged programs (clang computes packet lengths so).
            s.regs[a.dst().n()] = Value.scalar(Scalar.unsignedRange(0, 0xffff_ffffL));
            return;
        }
        if (dst instanceof Value.Ptr && src instanceof Value.Ptr && a.op() == AluOp.SUB) {
            // The distance between two pointers is a number (Linux allows it to privileged
            // programs; clang computes packet lengths so, often in 32 bits). Pointers of one
            // stack frame give an exact difference.
            Value.Ptr p = (Value.Ptr) dst;
            Value.Ptr q = (Value.Ptr) src;
            Scalar diff = p.kind() == Value.Kind.STACK && q.kind() == Value.Kind.STACK && p.map() == q.map()
                    && !p.hasVar() && !q.hasVar() ? Scalar.constant(p.fixed() - q.fixed()) : Scalar.top();
            s.regs[a.dst().n()] = Value.scalar(ScalarAlu.alu(AluOp.MOV, a.width(), Scalar.top(), diff));
            return;
        }
        if (a.width() == Width.W32) {
            throw reject(pc, "prohibited pointer arithmetic", "32-bit " + a.op().mnemonic() + " on " + (dst instanceof Value.Ptr ? dst : src));
        }
        if (dst instanceof Value.Ptr p && src instanceof Value.Scal x && (a.op() == AluOp.ADD || a.op() == AluOp.SUB)) {
            s.regs[a.dst().n()] = pointerAdd(pc, s, p, x.s(), a.op() == AluOp.SUB);
        } else if (dst instanceof Value.Scal d && src instanceof Value.Ptr p && a.op() == AluOp.ADD) {
            s.regs[a.dst().n()] = pointerAdd(pc, s, p, d.s(), false);
        } else {
            throw reject(pc, "prohibited pointer arithmetic", a.op().mnemonic() + " of " + dst + " and " + src);
        }
    }

    private static boolean sameRegion(Value.Ptr p, Value.Ptr q) {
        boolean packets = isPacketFamily(p.kind()) && isPacketFamily(q.kind()) && p.map() == q.map();
        return packets || (p.kind() == q.kind() && p.map() == q.map() && p.kind() != Value.Kind.MAP_PTR && p.kind() != Value.Kind.FUNC);
    }

    private static boolean isPacketFamily(Value.Kind k) {
        return k == Value.Kind.PACKET || k == Value.Kind.PACKET_END || k == Value.Kind.PACKET_META;
    }

    private Value pointerAdd(int pc, State s, Value.Ptr p, Scalar x, boolean subtract) {
        switch (p.kind()) {
            case MAP_PTR, PACKET_END, FUNC, ITER -> throw reject(pc, "prohibited pointer arithmetic", "on " + p);
            default -> {
            }
        }
        if (p.maybeNull()) {
            throw reject(pc, "prohibited pointer arithmetic", "on " + p + " before a null check");
        }
        if (subtract && p.kind() == Value.Kind.STACK) {
            throw reject(pc, "prohibited pointer arithmetic", "subtraction from a stack pointer (Linux moves them by add only)");
        }
        if (x.isConstant()) {
            long c = subtract ? -x.constantValue() : x.constantValue();
            long f = p.fixed() + c;
            if (Math.abs(c) > MAX_VAR_OFF || Math.abs(f) > MAX_VAR_OFF) {
                throw reject(pc, "unbounded offset", "offset " + f + " on " + p.kind().text);
            }
            return p.withOffset(f, p.var(), p.id());
        }
        if (p.kind() == Value.Kind.CTX) {
            throw reject(pc, "prohibited pointer arithmetic", "variable offset on ctx");
        }
        if (subtract && isPacketFamily(p.kind())) {
            throw reject(pc, "prohibited pointer arithmetic", "subtracting a variable from a packet pointer");
        }
        Scalar v = ScalarAlu.alu(subtract ? AluOp.SUB : AluOp.ADD, Width.W64, p.var(), x);
        if (v.smin() < -MAX_VAR_OFF || v.smax() > MAX_VAR_OFF) {
            // Linux: an unbounded register is "unbounded min value"; a bounded one too large
            // "makes map_value pointer be out of bounds"
            boolean unbounded = x.smin() == Long.MIN_VALUE || x.smax() == Long.MAX_VALUE;
            throw reject(pc, p.kind() == Value.Kind.MAP_VALUE && !unbounded ? "invalid map value access" : "unbounded offset",
                    "variable offset " + x + " on " + p.kind().text);
        }
        if (isPacketFamily(p.kind())) {
            // A new variable part: pointers derived from it share a new range, proven from zero.
            if (v.smin() < 0) {
                throw reject(pc, "unbounded offset", "packet offset may be negative (" + v + ")");
            }
            return p.withOffset(p.fixed(), v, nextId++);
        }
        return p.withOffset(p.fixed(), v, p.id());
    }

    private Value lddw(int pc, Insn.LoadImm64 l) {
        return switch (l.kind()) {
            case IMM64 -> Value.scalar(Scalar.constant(l.value()));
            case MAP_BY_IDX -> new Value.Ptr(Value.Kind.MAP_PTR, 0, Scalar.constant(0), 0, mapIndex(pc, l.imm()), false, 0, 0);
            case MAP_VALUE_BY_IDX -> {
                MapDef m = maps.get(mapIndex(pc, l.imm()));
                if (m.type() != MapType.ARRAY || (profile == Profile.LINUX && m.maxEntries() != 1)) {
                    throw reject(pc, "invalid map value access", "direct value addresses need an array"
                            + (profile == Profile.LINUX ? " with one entry" : "") + "; " + m.name() + " is " + m.type().id());
                }
                if (l.nextImm() < 0 || l.nextImm() >= m.valueSize()) {
                    throw reject(pc, "invalid map value access", "offset " + l.nextImm() + " of value_size " + m.valueSize());
                }
                yield new Value.Ptr(Value.Kind.MAP_VALUE, l.nextImm(), Scalar.constant(0), 0, l.imm(), false, 0, 0);
            }
            case CODE_ADDR -> new Value.Ptr(Value.Kind.FUNC, 0, Scalar.constant(0), 0, pc + 1 + l.imm(), false, 0, 0);
            case MAP_BY_FD, MAP_VALUE_BY_FD, VARIABLE_ADDR -> throw reject(pc, "invalid map value access",
                    "lddw " + l.kind().keyword() + ": programs reference maps by index (map_idx)");
        };
    }

    private int mapIndex(int pc, int imm) {
        if (imm < 0 || imm >= innerOf.length) {
            throw reject(pc, "invalid map value access", "map index " + imm + " (the program has " + innerOf.length + " maps)");
        }
        return imm;
    }

    // ---------------------------------------------------------------------------------------
    // Memory

    /**
     * Checks a load or store through {@code base + off} of {@code size} bytes and performs it on
     * the abstract state. {@return the loaded value} (for stores, the stored value)
     */
    private Value access(int pc, State s, Value base, long off, int size, boolean write, Value stored, boolean signExtend) {
        if (!(base instanceof Value.Ptr p)) {
            throw reject(pc, "invalid memory access", (write ? "store" : "load") + " through " + base);
        }
        if (write && p.kind() == Value.Kind.CTX && program.type() != ProgramType.TC) {
            throw reject(pc, "write to read-only context", "off=" + (p.fixed() + off) + " size=" + size);
        }
        if (write) {
            CsdAccess.checkWrite(this, pc, p, "off=" + (p.fixed() + off) + " size=" + size);
        }
        if (write && stored instanceof Value.Ptr sp && p.kind() != Value.Kind.STACK) {
            throw reject(pc, "pointer leak", "storing " + sp + " into " + p.kind().text);
        }
        Value.Kind region = p.kind();
        Facts.Access fact = new Facts.Access(Facts.kind(region), p.minOffset() + off, p.maxOffset() + off, size, write,
                region == Value.Kind.STACK || region == Value.Kind.MAP_VALUE ? p.map() : -1);
        accesses[pc] = accesses[pc] == null ? fact : accesses[pc].join(fact);
        return switch (p.kind()) {
            case STACK -> stack(pc, s, p, off, size, write, stored, signExtend);
            case CTX -> program.type() == ProgramType.TC && p.fixed() == 0
                    ? SkbAccess.check(this, pc, off, size, write, signExtend) : ctx(pc, p, off, size, write);
            case PACKET, PACKET_META -> {
                packet(pc, s, p, off, size);
                yield write ? stored : Value.scalar(ScalarAlu.load(size, signExtend));
            }
            case MAP_VALUE -> {
                mapValue(pc, p, off, size, write);
                yield write ? stored : Value.scalar(ScalarAlu.load(size, signExtend));
            }
            case RINGBUF_MEM -> {
                ringbufMem(pc, s, p, off, size);
                yield write ? stored : Value.scalar(ScalarAlu.load(size, signExtend));
            }
            case MEM -> {
                mem(pc, p, off, size);
                yield write ? stored : Value.scalar(ScalarAlu.load(size, signExtend));
            }
            case MAP_KEY -> {
                mapKey(pc, p, off, size, write);
                yield Value.scalar(ScalarAlu.load(size, signExtend));
            }
            case PACKET_END, MAP_PTR, FUNC, ITER -> throw reject(pc, "invalid memory access",
                    (write ? "store" : "load") + " through " + p.kind().text);
        };
    }

    private Value stack(int pc, State s, Value.Ptr p, long off, int size, boolean write, Value stored, boolean signExtend) {
        if (p.hasVar()) {
            return VarStack.access(this, pc, s, p, off, size, write, stored, signExtend);
        }
        long o = p.fixed() + off;
        if (o < -Frame.SIZE || o + size > 0) {
            throw reject(pc, "invalid stack access", "off=" + o + " size=" + size + " (frame of " + Frame.SIZE + " bytes)");
        }
        if (Math.floorMod(o, size) != 0) {
            throw reject(pc, "invalid stack access", "misaligned: off=" + o + " size=" + size + " (Linux requires aligned stack accesses)");
        }
        Frame f = write ? s.writableFrame(p.map()) : s.frames.get(p.map());
        int i = Frame.index(o);
        if (write) {
            if (stored instanceof Value.Ptr && size != 8) {
                throw reject(pc, "pointer leak", "storing " + size + " bytes of a pointer (a pointer spill takes 8)");
            }
            if (stored instanceof Value.Ptr sp && sp.kind() == Value.Kind.STACK && sp.map() > p.map()) {
                throw reject(pc, "pointer leak", "a pointer to a callee's stack stored in its caller's frame");
            }
            s.raiseDepth(f, (int) -o);
            checkStackSize(pc, s);
            // bytes of any overlapped spill lose the spilled value
            for (int k = i - i % 8; k < i + size; k += 8) {
                if (k >= 0 && k / 8 < f.spills.length && !(size == 8 && k == i)) {
                    if (f.spills[k / 8] != null) {
                        for (int b = k; b < k + 8; b++) {
                            if (f.types[b] == Frame.SPILL) {
                                f.types[b] = Frame.MISC;
                            }
                        }
                        f.spills[k / 8] = null;
                    }
                }
            }
            boolean isConstant = stored instanceof Value.Scal z && z.s().isConstant();
            long constant = isConstant ? ((Value.Scal) stored).s().constantValue() : 0;
            if (isConstant) {
                f.remember(i, size, constant);
            } else {
                f.forget(i, size);
            }
            if (size == 8 && i % 8 == 0) {
                java.util.Arrays.fill(f.types, i, i + 8, Frame.SPILL);
                f.spills[i / 8] = stored;
            } else {
                boolean zero = isConstant && (size == 8 ? constant == 0 : (constant & ((1L << (8 * size)) - 1)) == 0);
                java.util.Arrays.fill(f.types, i, i + size, zero ? Frame.ZERO : Frame.MISC);
            }
            return stored;
        }
        boolean allZero = true;
        for (int k = i; k < i + size; k++) {
            if (f.types[k] == Frame.INVALID) {
                throw reject(pc, "read of uninitialized stack", "off=" + o + " size=" + size);
            }
            allZero &= f.types[k] == Frame.ZERO;
        }
        if (size == 8 && i % 8 == 0 && f.types[i] == Frame.SPILL && f.spills[i / 8] != null) {
            return f.spills[i / 8];
        }
        if (size < 8 && f.types[i] == Frame.SPILL && f.spills[(i - i % 8) / 8] instanceof Value.Ptr) {
            throw reject(pc, "pointer leak", "reading " + size + " bytes of a spilled pointer");
        }
        Long c = f.constant(i, size);
        if (c != null) {
            return Value.scalar(Scalar.constant(signExtend ? signExtendBits(c, size) : c));
        }
        return Value.scalar(allZero ? Scalar.constant(0) : ScalarAlu.load(size, signExtend));
    }

    private static long signExtendBits(long v, int size) {
        int shift = 64 - 8 * size;
        return v << shift >> shift;
    }

    /** {@link #checkStackSize}, for {@link VarStack}. */
    void stackSizeCheck(int pc, State s) {
        checkStackSize(pc, s);
    }

    /**
     * The frames of a call chain share 512 bytes. The linux profile counts each frame rounded up
     * to 16 bytes, as Linux does for JITed programs (round_up_stack_depth); rfc9669 counts bytes.
     */
    private void checkStackSize(int pc, State s) {
        int total = 0;
        for (Frame f : s.frames) {
            total += profile == Profile.LINUX ? (Math.max(f.depth, 1) + 15) & ~15 : f.depth;
        }
        if (total > Frame.SIZE) {
            throw reject(pc, "stack too large", "the frames of this call chain use " + total + " bytes, more than " + Frame.SIZE);
        }
    }

    /** struct xdp_md: data, data_end, data_meta (pointers), ingress_ifindex, rx_queue_index (u32). */
    private Value ctx(int pc, Value.Ptr p, long off, int size, boolean write) {
        if (p.fixed() != 0) {
            throw reject(pc, "invalid context access", "through a modified context pointer (ctx+" + p.fixed() + ")");
        }
        long o = off;
        if (program.type() == ProgramType.CSD) {
            return CsdAccess.ctx(this, pc, o, size, write);
        }
        if (program.type() != ProgramType.XDP) {
            throw reject(pc, "invalid context access", "the verifier knows the context of xdp programs only");
        }
        if (write) {
            throw reject(pc, "write to read-only context", "off=" + o + " size=" + size);
        }
        if (size != 4 || o < 0 || o > 16 || o % 4 != 0) {
            throw reject(pc, "invalid context access", "off=" + o + " size=" + size);
        }
        return switch ((int) o) {
            case 0 -> new Value.Ptr(Value.Kind.PACKET, 0, Scalar.constant(0), 0, 0, false, 0, 0);
            case 4 -> new Value.Ptr(Value.Kind.PACKET_END, 0, Scalar.constant(0), 0, 0, false, 0, 0);
            case 8 -> new Value.Ptr(Value.Kind.PACKET_META, 0, Scalar.constant(0), 0, 0, false, 0, 0);
            default -> Value.scalar(ScalarAlu.load(4, false));
        };
    }

    private void packet(int pc, State s, Value.Ptr p, long off, int size) {
        if (p.kind() == Value.Kind.PACKET_META) {
            long lo = p.minOffset() + off;
            long hi = p.maxOffset() + off + size;
            if (lo < 0 || hi > s.range(-1)) {
                throw reject(pc, "invalid packet access", "metadata off=" + lo + " size=" + size + " (proven range 0.." + s.range(-1) + ")");
            }
            return;
        }
        long lo = p.fixed() + off;
        long hi = p.fixed() + off + size;
        long range = s.range(p.id());
        if (p.var().smin() < 0 || lo < 0 || hi > range) {
            throw reject(pc, "invalid packet access", "off=" + lo + (p.hasVar() ? "+" + p.var() : "") + " size=" + size
                    + " (proven range 0.." + range + ")");
        }
        maxPacketOffset = Math.max(maxPacketOffset, p.var().smax() + hi);
    }

    private void mapValue(int pc, Value.Ptr p, long off, int size, boolean write) {
        MapDef m = maps.get(p.map());
        if (p.maybeNull()) {
            throw reject(pc, "possible null dereference", m.name() + " value used before a null check");
        }
        long lo = p.minOffset() + off;
        long hi = p.maxOffset() + off + size;
        if (lo < 0 || hi > m.valueSize()) {
            throw reject(pc, "invalid map value access", "off=" + lo + ".." + (hi - size) + " size=" + size + " (value_size " + m.valueSize() + ")");
        }
        if (write && (m.readOnly() || (m.flags() & 0x80) != 0)) {
            throw reject(pc, "invalid map value access", "map " + m.name() + " is read-only to programs");
        }
        if (!write && (m.flags() & 0x100) != 0) {
            throw reject(pc, "invalid map value access", "map " + m.name() + " is write-only to programs");
        }
    }

    private void mem(int pc, Value.Ptr p, long off, int size) {
        long lo = p.minOffset() + off;
        long hi = p.maxOffset() + off + size;
        if (lo < 0 || hi > p.size()) {
            throw reject(pc, "invalid memory access", "off=" + lo + ".." + (hi - size) + " size=" + size + " (mem of " + p.size() + " bytes)");
        }
    }

    /** A bpf_for_each_map_elem callback's key: key_size bytes, read-only (Linux's PTR_TO_MAP_KEY). */
    private void mapKey(int pc, Value.Ptr p, long off, int size, boolean write) {
        if (p.maybeNull()) {
            throw reject(pc, "possible null dereference", "the number of bpf_iter_num_next used before a null check");
        }
        if (write) {
            throw reject(pc, "invalid memory access", "write into " + (p.map() < 0 ? "an iterator's number" : "the key of map "
                    + maps.get(p.map()).name()) + " (read-only)");
        }
        long lo = p.minOffset() + off;
        long hi = p.maxOffset() + off + size;
        if (lo < 0 || hi > p.size()) {
            throw reject(pc, "invalid memory access", "key off=" + lo + ".." + (hi - size) + " size=" + size + " (key_size " + p.size() + ")");
        }
    }

    private void ringbufMem(int pc, State s, Value.Ptr p, long off, int size) {
        if (p.maybeNull()) {
            throw reject(pc, "possible null dereference", "ring buffer record used before a null check");
        }
        if (!s.refs().containsKey(p.ref())) {
            throw reject(pc, "invalid memory access", "ring buffer record already submitted or discarded");
        }
        long lo = p.minOffset() + off;
        long hi = p.maxOffset() + off + size;
        if (lo < 0 || hi > p.size()) {
            throw reject(pc, "invalid memory access", "ring buffer record off=" + lo + " size=" + size + " (reserved " + p.size() + ")");
        }
    }

    private void atomic(int pc, State s, Insn.Atomic a) {
        Value base = read(pc, s, a.dst());
        Value src = read(pc, s, a.src());
        if (src instanceof Value.Ptr) {
            throw reject(pc, "pointer leak", "atomic operand " + a.src() + " is a pointer");
        }
        if (a.op() == dev.prism.isa.AtomicOp.CMPXCHG) {
            if (read(pc, s, Reg.R0) instanceof Value.Ptr) {
                throw reject(pc, "pointer leak", "cmpxchg comparand r0 is a pointer");
            }
        }
        if (!(base instanceof Value.Ptr p)) {
            throw reject(pc, "invalid memory access", "atomic through " + base);
        }
        if (p.kind() != Value.Kind.STACK && p.kind() != Value.Kind.MAP_VALUE && p.kind() != Value.Kind.RINGBUF_MEM
                && p.kind() != Value.Kind.MEM) {
            throw reject(pc, "invalid atomic", "atomic on " + base + " (stack, map values, ring buffer records and mem only)");
        }
        if (p.kind() == Value.Kind.MAP_VALUE) {
            MapDef m = maps.get(p.map());
            if (m.readOnly() || (m.flags() & 0x80) != 0) {
                throw reject(pc, "invalid atomic", "map " + m.name() + " is read-only to programs");
            }
        }
        int size = a.size().bytes();
        if (p.kind() == Value.Kind.STACK && p.hasVar()) {
            // Linux checks an atomic's stack memory as a helper's, which takes constant offsets only
            throw reject(pc, "invalid stack access", "atomic at a variable stack offset " + p.var()
                    + " (Linux: variable offset stack pointer cannot be passed into helper function)");
        }
        if (!VarStack.aligned(p, a.offset(), size)) {
            // every offset the pointer may hold, by its known low bits (Linux's tnum_is_aligned)
            throw reject(pc, "misaligned atomic", "off=" + (p.fixed() + a.offset()) + (p.hasVar() ? "+" + p.var() : "") + " size=" + size);
        }
        access(pc, s, base, a.offset(), size, false, null, false);
        access(pc, s, base, a.offset(), size, true, Value.scalar(Scalar.top()), false);
        Value old = Value.scalar(ScalarAlu.load(size, false));
        if (a.op() == dev.prism.isa.AtomicOp.CMPXCHG) {
            s.regs[0] = old;
        } else if (a.op().fetches()) {
            writable(pc, a.src());
            s.regs[a.src().n()] = old;
        }
    }

    // ---------------------------------------------------------------------------------------
    // Jumps

    private List<Path> jump(int pc, State s, Insn.Jump j) {
        Value a = read(pc, s, j.dst());
        Value b = operand(pc, s, j.src());
        int taken = pc + 1 + j.offset();
        int fall = pc + 1;
        if (a instanceof Value.Scal x && b instanceof Value.Scal y) {
            Optional<Boolean> decided = ScalarBranch.decide(j.op(), j.width(), x.s(), y.s());
            List<ScalarLinks.Link> links = ScalarLinks.valid(s);
            List<Path> out = new ArrayList<>(2);
            for (boolean t : new boolean[] {false, true}) {
                if (decided.isPresent() && decided.get() != t) {
                    continue;
                }
                branches[pc] |= t ? 1 : 2;
                ScalarBranch.Refined r = ScalarBranch.refine(j.op(), j.width(), x.s(), y.s(), t);
                if (r.a().isEmpty() || r.b().isEmpty()) {
                    continue;
                }
                State n = decided.isEmpty() ? s.copy() : s;
                refineCopies(n, a, Value.scalar(r.a()), j.dst().n());
                if (j.src() instanceof Reg rs) {
                    refineCopies(n, b, Value.scalar(r.b()), rs.n());
                }
                int changed = 1 << j.dst().n() | (j.src() instanceof Reg rs ? 1 << rs.n() : 0);
                if (!ScalarLinks.propagate(n, links, changed)) {
                    continue; // a linked register has no value left: the edge cannot be taken
                }
                out.add(new Path(t ? taken : fall, n, pc));
            }
            return out;
        }
        // a null check of a nullable pointer
        if (a instanceof Value.Ptr p && p.maybeNull() && b instanceof Value.Scal z && z.s().isConstant()
                && z.s().constantValue() == 0 && j.width() == Width.W64 && (j.op() == JumpOp.JEQ || j.op() == JumpOp.JNE)) {
            State isNull = s.copy();
            State notNull = s.copy();
            settleNull(isNull, p, true);
            settleNull(notNull, p, false);
            boolean eq = j.op() == JumpOp.JEQ;
            return List.of(new Path(fall, eq ? notNull : isNull, pc), new Path(taken, eq ? isNull : notNull, pc));
        }
        // two pointers at known distances from one base: decided by their fixed offsets
        if (a instanceof Value.Ptr p && b instanceof Value.Ptr q && j.width() == Width.W64) {
            Boolean known = samebase(j.op(), p, q);
            if (known != null) {
                branches[pc] |= known ? 1 : 2;
                return List.of(new Path(known ? taken : fall, s, pc));
            }
        }
        // packet bounds: a packet pointer against packet_end (either order), or packet_meta against packet
        if (a instanceof Value.Ptr p && b instanceof Value.Ptr q && j.width() == Width.W64) {
            Optional<List<Path>> bounds = packetBounds(pc, s, j.op(), p, q, taken, fall);
            if (bounds.isPresent()) {
                return bounds.get();
            }
        }
        if (a instanceof Value.Ptr p2 && b instanceof Value.Ptr q2 && !sameRegion(p2, q2)) {
            throw reject(pc, "pointer comparison prohibited", a + " against " + b);
        }
        branches[pc] |= 3;
        return List.of(new Path(fall, s.copy(), pc), new Path(taken, s, pc));
    }

    /**
     * Scalar identities, as Linux's find_equal_scalars: a register copied from another ({@code mov
     * r1, r2}, or a fill of a spilled scalar) holds the very same {@link Value.Scal} instance, and
     * every write makes a new one, so the registers and spilled slots holding one instance are
     * copies of one number. A comparison that refines register {@code reg} (which held {@code
     * was}) refines every copy alike. {@link State#covers} keeps such links where an explored
     * state had them. Constants need no link: their refinement is themselves or nothing.
     */
    private static void refineCopies(State n, Value was, Value refined, int reg) {
        n.regs[reg] = refined;
        if (!(was instanceof Value.Scal sc) || sc.s().isConstant()) {
            return;
        }
        for (int r = 0; r < n.regs.length; r++) {
            if (n.regs[r] == was) {
                n.regs[r] = refined;
            }
        }
        for (int i = 0; i < n.frames.size(); i++) {
            Value[] spills = n.frames.get(i).spills;
            for (int k = 0; k < spills.length; k++) {
                if (spills[k] == was) {
                    n.writableFrame(i).spills[k] = refined;
                }
            }
        }
    }

    /**
     * {@return the outcome of comparing two pointers with one base, or null when it is not
     * known} Packet pointers of one identity share their variable part, so they differ by the difference of their fixed offsets: the
     * comparison of the two addresses is that of the offsets (the region is far from either end
     * of the address space, so no comparison wraps). This decides a loop that advances a packet
     * pointer toward {@code data + constant}, as clang writes a counted loop over the packet.
     */
    private static Boolean samebase(JumpOp op, Value.Ptr p, Value.Ptr q) {
        if (p.kind() != q.kind() || p.map() != q.map() || p.maybeNull() || q.maybeNull() || op == JumpOp.JSET) {
            return null;
        }
        if (p.kind() != Value.Kind.PACKET || p.id() != q.id()) {
            return null;
        }
        long x = p.fixed();
        long y = q.fixed();
        return switch (op) {
            case JEQ -> x == y;
            case JNE -> x != y;
            case JGT, JSGT -> x > y;
            case JGE, JSGE -> x >= y;
            case JLT, JSLT -> x < y;
            case JLE, JSLE -> x <= y;
            case JSET -> null;
        };
    }

    /** On one side of a null check every copy of the pointer (same id) becomes null or non-null. */
    private void settleNull(State s, Value.Ptr p, boolean isNull) {
        for (int r = 0; r < s.regs.length; r++) {
            s.regs[r] = settle(s.regs[r], p, isNull);
        }
        for (int i = 0; i < s.frames.size(); i++) {
            Frame f = s.frames.get(i);
            for (int k = 0; k < f.spills.length; k++) {
                if (f.spills[k] != null) {
                    Value v = settle(f.spills[k], p, isNull);
                    if (v != f.spills[k]) {
                        f = s.writableFrame(i);
                        f.spills[k] = v;
                    }
                }
            }
        }
        if (isNull && p.kind() == Value.Kind.RINGBUF_MEM) {
            s.refsForWrite().remove(p.ref()); // nothing was reserved: nothing to release
        }
    }

    private static Value settle(Value v, Value.Ptr p, boolean isNull) {
        if (v instanceof Value.Ptr q && q.maybeNull() && q.id() == p.id() && q.kind() == p.kind()) {
            if (!isNull && q.kind() == Value.Kind.MAP_KEY) {
                // an iterator's number: once not null, its id says nothing (and would keep a
                // loop's states apart, each next() giving a new one)
                return new Value.Ptr(q.kind(), q.fixed(), q.var(), 0, q.map(), false, q.size(), q.ref());
            }
            return isNull ? Value.scalar(Scalar.constant(0)) : q.nonNull();
        }
        return v;
    }

    private Optional<List<Path>> packetBounds(int pc, State s, JumpOp op, Value.Ptr a, Value.Ptr b, int taken, int fall) {
        Value.Ptr pkt;
        JumpOp rel; // relation "pkt REL end" on the taken edge
        boolean meta;
        if (a.map() != b.map()) {
            return Optional.empty(); // a csd program's data against out_end (or out against data_end) proves nothing
        }
        if (a.kind() == Value.Kind.PACKET && b.kind() == Value.Kind.PACKET_END) {
            pkt = a;
            rel = op;
            meta = false;
        } else if (b.kind() == Value.Kind.PACKET && a.kind() == Value.Kind.PACKET_END) {
            pkt = b;
            rel = swap(op);
            meta = false;
        } else if (a.kind() == Value.Kind.PACKET_META && b.kind() == Value.Kind.PACKET) {
            pkt = a;
            rel = op;
            meta = true;
        } else if (b.kind() == Value.Kind.PACKET_META && a.kind() == Value.Kind.PACKET) {
            pkt = b;
            rel = swap(op);
            meta = true;
        } else {
            return Optional.empty();
        }
        if (rel == null) {
            return Optional.empty();
        }
        // pkt <= end (or <) holds on the taken edge of JLE/JLT and on the fallthrough of JGT/JGE.
        boolean safeWhenTaken = switch (rel) {
            case JLE, JLT, JSLE, JSLT -> true;
            case JGT, JGE, JSGT, JSGE -> false;
            default -> {
                yield false;
            }
        };
        if (rel == JumpOp.JEQ || rel == JumpOp.JNE || rel == JumpOp.JSET) {
            return Optional.of(List.of(new Path(fall, s.copy(), pc), new Path(taken, s, pc)));
        }
        // pkt < end (JLT taken, JGE not taken) proves one byte more than pkt <= end
        boolean strict = rel == JumpOp.JLT || rel == JumpOp.JSLT || rel == JumpOp.JGE || rel == JumpOp.JSGE;
        long proven = pkt.fixed() + (strict ? 1 : 0);
        State safe = s.copy();
        State other = s.copy();
        if (meta) {
            safe.packetRange = safe.packetRange.atLeast(-1, proven);
        } else if (pkt.var().smin() >= 0) {
            safe.packetRange = safe.packetRange.atLeast(pkt.id(), proven);
            boundPacketVar(safe, pkt, MAX_PACKET_OFF - proven);
        }
        return Optional.of(List.of(new Path(fall, safeWhenTaken ? other : safe, pc), new Path(taken, safeWhenTaken ? safe : other, pc)));
    }

    /**
     * A packet is at most {@link #MAX_PACKET_OFF} bytes, so a pointer proven within it ({@code
     * data + fixed + var <= data_end}, {@code fixed} here including the byte a strict comparison
     * adds) has {@code var <= MAX_PACKET_OFF - fixed}. The variable part is shared by every
     * pointer of the identity, in registers and spilled: all get the bound. This keeps a pointer
     * induction variable's offset bounded after widening at a loop head.
     */
    private static void boundPacketVar(State s, Value.Ptr pkt, long maxVar) {
        if (maxVar < 0 || pkt.var().umax() <= maxVar) {
            return;
        }
        Scalar bounded = pkt.var().meet(Scalar.unsignedRange(0, maxVar));
        if (bounded.isEmpty()) {
            return;
        }
        for (int r = 0; r < s.regs.length; r++) {
            if (s.regs[r] instanceof Value.Ptr q && q.kind() == Value.Kind.PACKET && q.id() == pkt.id()) {
                s.regs[r] = q.withOffset(q.fixed(), bounded, q.id());
            }
        }
        for (int i = 0; i < s.frames.size(); i++) {
            Value[] spills = s.frames.get(i).spills;
            for (int k = 0; k < spills.length; k++) {
                if (spills[k] instanceof Value.Ptr q && q.kind() == Value.Kind.PACKET && q.id() == pkt.id()) {
                    s.writableFrame(i).spills[k] = q.withOffset(q.fixed(), bounded, q.id());
                }
            }
        }
    }

    /** {@return the relation with operands swapped: a OP b == b swap(OP) a} */
    static JumpOp swap(JumpOp op) {
        return switch (op) {
            case JGT -> JumpOp.JLT;
            case JLT -> JumpOp.JGT;
            case JGE -> JumpOp.JLE;
            case JLE -> JumpOp.JGE;
            case JSGT -> JumpOp.JSLT;
            case JSLT -> JumpOp.JSGT;
            case JSGE -> JumpOp.JSLE;
            case JSLE -> JumpOp.JSGE;
            case JEQ, JNE, JSET -> op;
        };
    }

    // ---------------------------------------------------------------------------------------
    // Calls and exits

    private Path enter(int pc, State s, int target) {
        if (s.frames.size() >= MAX_FRAMES) {
            throw reject(pc, "call stack too deep", "more than " + MAX_FRAMES + " frames");
        }
        State n = s;
        n.saved = State.append(n.saved, new Value[] {s.regs[6], s.regs[7], s.regs[8], s.regs[9]});
        n.returns = State.append(n.returns, new int[] {pc + 1});
        n.pushFrame(new Frame());
        n.contextChanged();
        n.regs[0] = Value.UNINIT;
        for (int r = 6; r <= 9; r++) {
            n.regs[r] = Value.UNINIT;
        }
        n.regs[10] = stackPtr(n.frames.size() - 1, 0);
        return new Path(target, n, pc);
    }

    private List<Path> exit(int pc, State s) {
        KfuncCheck.checkReleased(this, pc, s.frame());
        for (FunctionCfg f : functionsContaining(pc)) {
            frameDepth.merge(f.start(), s.frame().depth, Math::max);
        }
        Value r0 = s.regs[0];
        if (r0 instanceof Value.Uninit && (s.depth() == 0 || State.last(s.returns)[0] < 0)) {
            throw reject(pc, "read of uninitialized register", "r0 at exit");
        }
        if (s.depth() > 0) {
            if (r0 instanceof Value.Ptr p && p.kind() == Value.Kind.STACK) {
                throw reject(pc, "pointer leak", "returning a stack pointer to the caller (Linux refuses it)");
            }
            int ret = State.last(s.returns)[0];
            s.returns = State.dropLast(s.returns);
            Value[] saved = State.last(s.saved);
            s.saved = State.dropLast(s.saved);
            s.popFrame();
            s.contextChanged();
            for (int r = 1; r <= 5; r++) {
                s.regs[r] = Value.UNINIT;
            }
            System.arraycopy(saved, 0, s.regs, 6, 4);
            s.regs[10] = stackPtr(s.depth(), 0);
            if (ret < 0) {
                // A bpf_loop callback returning: 0 continues the loop, 1 stops it (Linux checks
                // the range). The callback may run again on the memory it left, or the caller
                // continues after the call: both are explored; the callback's entry is a merge
                // point, so repeated iterations converge as a loop's would.
                if (!(r0 instanceof Value.Scal v) || v.s().umax() > 1) {
                    throw reject(pc, "invalid return value", "a bpf_loop callback returns 0 or 1, not " + r0);
                }
                int callPc = -ret - 2;
                Value ctx = State.last(s.callbackCtx);
                s.callbackCtx = State.dropLast(s.callbackCtx);
                State again = s.copy();
                Path p = callback(callPc, again, callbackTarget.get(callPc), ctx);
                State after = s;
                after.regs[0] = callbackResult.getOrDefault(callPc, Value.scalar(Scalar.unsignedRange(0, 1L << 23)));
                // the re-entry comes from this exit: a back edge of the callback's iteration
                return List.of(new Path(callPc + 1, after, pc), new Path(p.pc(), p.state(), pc));
            }
            return List.of(new Path(ret, s, pc));
        }
        if (r0 instanceof Value.Ptr p) {
            throw reject(pc, "pointer leak", "returning " + p + " in r0");
        }
        if (!s.refs().isEmpty()) {
            int at = s.refs().values().iterator().next();
            throw reject(pc, "unreleased reference", "ring buffer record reserved at " + at + " is not submitted or discarded");
        }
        return List.of();
    }

    private List<Path> call(int pc, State s, Insn.Call c) {
        return switch (c.kind()) {
            case LOCAL -> List.of(enter(pc, s, pc + 1 + c.imm()));
            case HELPER_BTF -> kfunc(pc, s, c.imm());
            case HELPER -> helper(pc, s, c.imm());
        };
    }

    /** A kernel function call ({@link KfuncCheck}): r1-r5 are clobbered as by a helper. */
    private List<Path> kfunc(int pc, State s, int id) {
        Value result = KfuncCheck.check(this, pc, s, id);
        for (int r = 1; r <= 5; r++) {
            s.regs[r] = Value.UNINIT;
        }
        s.regs[0] = result;
        return List.of(new Path(pc + 1, s, pc));
    }

    /** Per bpf_iter_num_next call: the iterator slot (frame, offset) and the most numbers it yields; slot -1 when several. */
    private final Map<Integer, long[]> iteratorNexts = new HashMap<>();

    void sawIteratorNext(int pc, int frame, long offset, long numbers) {
        long[] seen = iteratorNexts.get(pc);
        if (seen == null) {
            iteratorNexts.put(pc, new long[] {frame, offset, numbers});
        } else if (seen[0] != frame || seen[1] != offset) {
            seen[0] = -1;
        } else {
            seen[2] = Math.max(seen[2], numbers);
        }
    }

    /** {@return the most numbers the iterator of the bpf_iter_num_next at pc yields, or -1 when unknown} */
    long iteratorNext(int pc) {
        long[] seen = iteratorNexts.get(pc);
        return seen == null ? 0 : seen[0] < 0 ? -1 : seen[2];
    }

    private List<Path> helper(int pc, State s, int id) {
        HelperProto proto = Helpers.proto(id).orElseThrow(() -> reject(pc, "unknown helper", Helpers.describeUnsupported(id)));
        helpersUsed.add(id);
        Value[] args = new Value[5];
        for (int i = 0; i < proto.args().size(); i++) {
            args[i] = read(pc, s, Reg.of(i + 1));
        }
        Value result = HelperCheck.check(this, pc, s, proto, args);
        List<Path> extra = new ArrayList<>();
        if (id == Helpers.LOOP && args[1] instanceof Value.Ptr f && f.kind() == Value.Kind.FUNC) {
            extra.add(callback(pc, s.copy(), f.map(), args[2]));
        }
        if (id == Helpers.FOR_EACH_MAP_ELEM && args[1] instanceof Value.Ptr f && f.kind() == Value.Kind.FUNC) {
            int map = ((Value.Ptr) args[0]).map();
            Integer before = forEachMap.putIfAbsent(pc, map);
            if (before != null && before != map) {
                throw reject(pc, "helper argument mismatch", "bpf_for_each_map_elem iterates map " + before + " on one path and "
                        + map + " on another");
            }
            callbackResult.put(pc, result);
            extra.add(callback(pc, s.copy(), f.map(), args[2]));
        }
        for (int r = 1; r <= 5; r++) {
            s.regs[r] = Value.UNINIT;
        }
        s.regs[0] = result;
        List<Path> out = new ArrayList<>();
        out.add(new Path(pc + 1, s, pc));
        out.addAll(extra);
        return out;
    }

    /**
     * Profile rfc9669: {@code callx} on a number calls the helper with that id, bpf_conformance's
     * reading of RFC 9669's "call helper function by address" (conformance/README.md, "callx").
     * The id must be the same constant on every path, so that the call is checked against that
     * helper's prototype and {@link VerifiedProgram#normalized} can give backends a plain
     * {@code call N}.
     */
    private List<Path> callxHelper(int pc, State s, Insn.CallX c, Scalar id) {
        if (!id.isConstant() || id.constantValue() < 0 || id.constantValue() > Integer.MAX_VALUE) {
            throw reject(pc, "invalid call target", c.dst() + " is " + id + ", not a function address or a constant helper id");
        }
        int helper = (int) id.constantValue();
        if (callxFunctions.contains(pc)) {
            throw reject(pc, "invalid call target", "callx calls a function on one path and helper " + helper + " on another");
        }
        Integer before = callxHelpers.putIfAbsent(pc, helper);
        if (before != null && before != helper) {
            throw reject(pc, "invalid call target", "callx calls helper " + before + " on one path and " + helper + " on another");
        }
        return helper(pc, s, helper);
    }

    /** callx sites that call a helper, with its id (profile rfc9669). */
    private final Map<Integer, Integer> callxHelpers = new HashMap<>();
    /** callx sites that call a function. */
    private final Set<Integer> callxFunctions = new HashSet<>();

    private void callxFunction(int pc) {
        if (callxHelpers.containsKey(pc)) {
            throw reject(pc, "invalid call target", "callx calls helper " + callxHelpers.get(pc) + " on one path and a function on another");
        }
        callxFunctions.add(pc);
    }

    /**
     * bpf_loop's callback runs as a function (index, ctx) on the caller's state; its return goes
     * back to {@link #exit}, which explores both another iteration and the caller's continuation.
     */
    private Path callback(int pc, State s, int target, Value ctx) {
        callbackTarget.put(pc, target);
        loopHead[target] = true;
        Path p = enter(pc, s, target);
        p.state().returns = State.replaceLast(p.state().returns, new int[] {-pc - 2});
        p.state().contextChanged();
        p.state().callbackCtx = State.append(p.state().callbackCtx, ctx);
        p.state().regs[1] = Value.scalar(Scalar.unsignedRange(0, (1L << 23) - 1));
        p.state().regs[2] = ctx;
        Integer map = forEachMap.get(pc);
        if (map != null) {
            ForEachCheck.callbackArgs(this, p.state(), map, ctx);
        }
        return p;
    }

    /** bpf_for_each_map_elem call site -> the map it iterates, and the call's result. */
    private final Map<Integer, Integer> forEachMap = new HashMap<>();
    private final Map<Integer, Value> callbackResult = new HashMap<>();

    /** bpf_loop call site -> its callback's first instruction. */
    private final Map<Integer, Integer> callbackTarget = new HashMap<>();

    int freshId() {
        return nextId++;
    }

    Profile profile() {
        return profile;
    }

    List<MapDef> maps() {
        return maps;
    }

    /**
     * {@return the program's maps followed by the inner map template of each map-in-map}: a
     * lookup in an outer map yields a map pointer whose map index is its template's, so every
     * check that reads a map's sizes and flags reads the template's. {@code innerOf} receives
     * each program map's template index (-1 for maps that hold no maps).
     */
    private static List<MapDef> withTemplates(List<MapDef> programMaps, int[] innerOf) {
        List<MapDef> all = new java.util.ArrayList<>(programMaps);
        for (int i = 0; i < programMaps.size(); i++) {
            MapDef.Inner inner = programMaps.get(i).inner();
            innerOf[i] = inner == null ? -1 : all.size();
            if (inner != null) {
                all.add(inner.template());
            }
        }
        return List.copyOf(all);
    }

    /** {@return the index in {@link #maps()} of the inner map template of map {@code outer}, or -1} */
    int innerTemplate(int outer) {
        return outer >= 0 && outer < innerOf.length ? innerOf[outer] : -1;
    }

    Program program() {
        return program;
    }

    RuntimeException rejectAt(int pc, String reason, String detail) {
        return reject(pc, reason, detail);
    }

    /** Memory a helper reads or writes: checked like a load or store of {@code size} bytes. */
    void helperMemory(int pc, State s, Value v, long size, boolean write, String what) {
        if (!(v instanceof Value.Ptr p)) {
            throw reject(pc, "helper argument mismatch", what + " is " + v + ", not a pointer to memory");
        }
        if (size <= 0) {
            return;
        }
        if (write) {
            CsdAccess.checkWrite(this, pc, p, what);
        }
        switch (p.kind()) {
            case STACK -> {
                if (p.hasVar()) {
                    varStackHelperMemory(pc, s, p, size, write, what);
                    return;
                }
                long o = p.fixed();
                if (o < -Frame.SIZE || o + size > 0) {
                    throw reject(pc, "invalid stack access", what + ": off=" + o + " size=" + size);
                }
                Frame f = write ? s.writableFrame(p.map()) : s.frames.get(p.map());
                int i = Frame.index(o);
                for (int k = i; k < i + size; k++) {
                    if (!write && f.types[k] == Frame.INVALID) {
                        throw reject(pc, "read of uninitialized stack", what + ": off=" + (o + k - i) + " of [" + o + ", " + (o + size) + ")");
                    }
                    if (!write && f.types[k] == Frame.SPILL && f.spills[(k - k % 8) / 8] instanceof Value.Ptr) {
                        throw reject(pc, "pointer leak", what + " holds a spilled pointer at off=" + (o + k - i));
                    }
                    if (write) {
                        f.types[k] = Frame.MISC;
                        f.spills[k / 8] = null;
                        f.known[k] = -1;
                    }
                }
                if (write) {
                    s.raiseDepth(f, (int) -o);
                }
            }
            case PACKET, PACKET_META -> {
                for (long k = 0; k < size; k += Math.min(8, size - k)) {
                    packet(pc, s, p, k, (int) Math.min(8, size - k));
                }
            }
            case MAP_VALUE -> mapValue(pc, p, 0, (int) size, write);
            case RINGBUF_MEM -> ringbufMem(pc, s, p, 0, (int) size);
            case MEM -> mem(pc, p, 0, (int) size);
            case MAP_KEY -> mapKey(pc, p, 0, (int) size, write);
            case CTX, PACKET_END, MAP_PTR, FUNC, ITER -> throw reject(pc, "helper argument mismatch", what + " is " + p + ", not memory");
        }
    }

    /**
     * Memory a helper writes ({@code ARG_PTR_TO_UNINIT_MEM}): room for {@code maxSize} bytes,
     * of which the first {@code minSize} count as written afterwards; stack bytes beyond them
     * that were never written stay unreadable (Linux marks all maxSize, since it lets root read
     * uninitialized stack anyway).
     */
    void helperWrite(int pc, State s, Value v, long minSize, long maxSize, String what) {
        if (v instanceof Value.Ptr p && p.kind() == Value.Kind.STACK) {
            long lo = p.minOffset();
            long hi = p.maxOffset() + maxSize;
            if (lo < -Frame.SIZE || hi > 0) {
                throw reject(pc, "invalid stack access", what + ": off=" + lo + ".." + (hi - maxSize) + " size=" + maxSize);
            }
            if (maxSize > 0) {
                VarStack.write(this, pc, s, p.map(), lo, hi, p.maxOffset(), p.minOffset() + minSize, false);
            }
            return;
        }
        helperMemory(pc, s, v, maxSize, true, what);
    }

    /**
     * Helper memory at a variable stack offset: as {@link VarStack} does for loads and stores,
     * over [min, max + size); a helper's write may land anywhere in its range, so it only
     * surely writes the bytes every offset covers.
     */
    private void varStackHelperMemory(int pc, State s, Value.Ptr p, long size, boolean write, String what) {
        long lo = p.minOffset();
        long hi = p.maxOffset() + size;
        if (lo < -Frame.SIZE || hi > 0) {
            throw reject(pc, "invalid stack access", what + ": variable offset " + p.var() + ", off=" + lo + ".." + (hi - size)
                    + " size=" + size);
        }
        if (write) {
            VarStack.write(this, pc, s, p.map(), lo, hi, p.maxOffset(), p.minOffset() + size, false);
        } else {
            VarStack.readable(this, pc, s.frames.get(p.map()), lo, hi, what + ": variable offset " + p.var());
        }
    }

    /**
     * A tail call from a subprogram keeps its callers' frames alive under the callee's: Linux
     * allows it only while they use at most 256 bytes together.
     */
    void checkTailCallFrames(int pc, State s) {
        if (s.depth() == 0) {
            return;
        }
        int callers = 0;
        for (int i = 0; i < s.frames.size() - 1; i++) {
            callers += (Math.max(s.frames.get(i).depth, 1) + 15) & ~15;
        }
        if (callers >= 256) {
            throw reject(pc, "stack too large", "a tail call with " + callers + " bytes of callers' frames (Linux allows less than 256)");
        }
    }

    /** {@return the constant stored at a stack pointer's [0, size) bytes, if every byte is known} */
    /** Records the key a map lookup at {@code pc} reads on this path: a constant, or null for unknown. */
    void lookupKey(int pc, Long key) {
        if (key != null && !nonConstantKey.contains(pc) && lookupKeys.getOrDefault(pc, key).longValue() == key) {
            lookupKeys.put(pc, key);
        } else {
            nonConstantKey.add(pc);
            lookupKeys.remove(pc);
        }
    }

    /** Records that the map helper call at {@code pc} takes map {@code map} ({@link #maps} index) in r1 on this path. */
    void callMap(int pc, int map) {
        callMaps.computeIfAbsent(pc, k -> new java.util.BitSet()).set(map);
    }

    /**
     * {@return the program maps a map helper call may take, ascending}: those r1 named, an inner
     * map template standing for every program map that fits it (an inner map is always one of
     * the object's maps: MapOfMaps takes them from its map list)
     */
    private Map<Integer, List<Integer>> callMapCandidates() {
        List<MapDef> programMaps = program.maps();
        Map<Integer, List<Integer>> out = new HashMap<>();
        callMaps.forEach((pc, named) -> {
            java.util.BitSet all = new java.util.BitSet();
            named.stream().forEach(m -> {
                if (m < programMaps.size()) {
                    all.set(m);
                    return;
                }
                for (int outer = 0; outer < innerOf.length; outer++) {
                    if (innerOf[outer] == m) {
                        MapDef.Inner inner = programMaps.get(outer).inner();
                        for (int j = 0; j < programMaps.size(); j++) {
                            if (inner.mismatch(programMaps.get(j)) == null) {
                                all.set(j);
                            }
                        }
                    }
                }
            });
            out.put(pc, all.stream().boxed().toList());
        });
        return Map.copyOf(out);
    }

    Long stackConstant(State s, Value v, int size) {
        if (v instanceof Value.Ptr p && p.kind() == Value.Kind.STACK && !p.hasVar()) {
            int i = Frame.index(p.fixed());
            if (i >= 0 && i + size <= Frame.SIZE) {
                return s.frames.get(p.map()).constant(i, size);
            }
        }
        return null;
    }

    /** Packet pointers do not survive helpers that move data or data_end. */
    void invalidatePackets(State s) {
        for (int r = 0; r < s.regs.length; r++) {
            if (s.regs[r] instanceof Value.Ptr p && isPacketFamily(p.kind())) {
                s.regs[r] = Value.scalar(Scalar.top());
            }
        }
        for (int i = 0; i < s.frames.size(); i++) {
            Frame f = s.frames.get(i);
            for (int k = 0; k < f.spills.length; k++) {
                if (f.spills[k] instanceof Value.Ptr p && isPacketFamily(p.kind())) {
                    f = s.writableFrame(i);
                    f.spills[k] = Value.scalar(Scalar.top());
                }
            }
        }
        s.packetRange = PacketRanges.NONE;
    }

    // ---------------------------------------------------------------------------------------
    // Result

    private VerifiedProgram result(long nanos) {
        for (int pc = 0; pc < code.length; pc++) {
            int inherit = inherited[pc];
            if (inherit != 0 && seenRegs[pc] != null) {
                Value[] from = seenRegs[inheritFrom[pc]];
                for (int r = 0; r < 11; r++) {
                    if ((inherit & 1 << r) != 0) {
                        seenRegs[pc][r] = from[r];
                    }
                }
            }
        }
        int stack = 0;
        for (int pc = 0; pc < code.length; pc++) {
            stack = Math.max(stack, seenStack[pc]);
        }
        Set<MapType> mapTypes = new HashSet<>();
        maps.forEach(m -> mapTypes.add(m.type()));
        int loops = 0;
        for (FunctionCfg f : cfg.functions()) {
            loops += f.loops().size();
        }
        VerifiedProgram.Requires requires = VerifiedProgram.Requires.of(code, helpersUsed, mapTypes, loops, maxPacketOffset, stack);
        // The per-instruction text and facts are made when first asked for (most backends read
        // the facts of a few instructions); they capture only what they read, not the verifier.
        Value[][] regs = seenRegs;
        Facts.Access[] access = accesses;
        byte[] branch = branches;
        Map<Integer, Long> divisor = Map.copyOf(divisors);
        Map<Integer, Long> keys = Map.copyOf(lookupKeys);
        Map<Integer, List<Integer>> mapsAt = callMapCandidates();
        IntFunction<String> perPc = pc -> regs[pc] == null ? "" : describeRegs(regs[pc]);
        IntFunction<Facts> facts = pc -> {
            if (regs[pc] == null) {
                return null;
            }
            Boolean decided = branch[pc] == 0 || branch[pc] == 3 ? null : branch[pc] == 1;
            return new Facts(Facts.registers(regs[pc], innerOf.length), Facts.programMap(access[pc], innerOf.length),
                    divisor.get(pc), decided, keys.get(pc), mapsAt.get(pc));
        };
        return new VerifiedProgram(new VerifiedProgram.Token(), program, cfg, code.length, perPc, facts, tripCounts, frameDepth,
                requires, new VerifiedProgram.Stats(processed, statesStored, nanos, executedBound), memSize);
    }

    private static String describeRegs(State s) {
        return describeRegs(s.regs);
    }

    private static String describeRegs(Value[] regs) {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < regs.length; r++) {
            if (!(regs[r] instanceof Value.Uninit)) {
                sb.append(sb.isEmpty() ? "" : " ").append("r").append(r).append('=').append(regs[r]);
            }
        }
        return sb.toString();
    }
}
