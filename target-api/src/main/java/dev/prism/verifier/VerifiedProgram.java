package dev.prism.verifier;

import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.isa.Insn;
import dev.prism.isa.Opcode;
import dev.prism.isa.Opcodes;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.verifier.cfg.Cfg;
import java.util.AbstractList;
import java.util.EnumSet;
import java.util.List;
import java.util.RandomAccess;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntFunction;

/**
 * The IR: a program the verifier has proven safe, with what it learned (DESIGN.md, "The IR").
 * Only {@link Verifier} can construct one (the {@link Token} has a private constructor), so a
 * backend holding a VerifiedProgram holds a proof.
 *
 * <p>It carries the program, its control-flow graph (functions, blocks, loops), each loop's
 * proven trip bound, each function's stack depth, per-instruction {@link Facts} (register kinds
 * and ranges, proven memory accesses, constant divisors, decided branches), the features the
 * program requires and the verification statistics. Unreachable code is refused rather than
 * removed, so the instructions are the program's own; {@link #normalized()} gives them with
 * context accesses rewritten into the host layout.
 */
public final class VerifiedProgram {
    /** Proof that the verifier made the object. */
    public static final class Token {
        Token() {
        }
    }

    /**
     * Cost of the proof, and the bound it gives.
     *
     * @param executedBound the most instructions one run can execute (loops by their trip counts)
     */
    public record Stats(long processed, long statesStored, long nanos, long executedBound) {
    }

    /**
     * What a target must support to run the program, matched against {@link dev.prism.target.Capabilities}.
     *
     * @param groups       conformance groups used
     * @param version      the lowest cpu version that has every instruction
     * @param helpers      helper ids called
     * @param mapTypes     map types used
     * @param loops        natural loops (bounded)
     * @param maxPacketOff the largest packet offset accessed
     * @param stackDepth   the deepest stack use along a call chain, in bytes
     */
    public record Requires(Set<Group> groups, CpuVersion version, Set<Integer> helpers, Set<MapType> mapTypes,
                           int loops, long maxPacketOff, int stackDepth) {
        static Requires of(Insn[] code, Set<Integer> helpers, Set<MapType> mapTypes, int loops, long maxPacketOff, int stack) {
            EnumSet<Group> groups = EnumSet.noneOf(Group.class);
            CpuVersion version = CpuVersion.V1;
            for (Insn insn : code) {
                if (insn != null) {
                    Opcode row = Opcodes.of(insn);
                    groups.add(row.group());
                    if (row.version().compareTo(version) > 0) {
                        version = row.version();
                    }
                }
            }
            return new Requires(groups, version, new TreeSet<>(helpers), Set.copyOf(mapTypes), loops, maxPacketOff, stack);
        }
    }

    private final Program program;
    private final Cfg cfg;
    private final List<String> states;
    private final List<Facts> facts;
    private final java.util.Map<Integer, Long> loopBounds;
    private final java.util.Map<Integer, Integer> stackDepths;
    private final Requires requires;
    private final Stats stats;

    /**
     * @param length the program's slots
     * @param states the text of {@link #stateAt} for a pc; called at most once per pc, when first asked
     * @param facts  {@link #facts} for a pc (null where none); called at most once per pc, when first asked
     */
    public VerifiedProgram(Token token, Program program, Cfg cfg, int length, IntFunction<String> states,
                           IntFunction<Facts> facts, java.util.Map<Integer, Long> loopBounds,
                           java.util.Map<Integer, Integer> stackDepths, Requires requires, Stats stats, int memSize) {
        if (token == null) {
            throw new IllegalArgumentException("only the verifier constructs a VerifiedProgram");
        }
        this.program = program;
        this.cfg = cfg;
        this.states = new Lazy<>(length, states);
        this.facts = new Lazy<>(length, facts);
        this.loopBounds = java.util.Map.copyOf(loopBounds);
        this.stackDepths = java.util.Map.copyOf(stackDepths);
        this.requires = requires;
        this.stats = stats;
        this.memSize = memSize;
    }

    /**
     * An immutable list whose elements are computed when first read. Elements are immutable
     * values, so threads that race on one compute equal values and either may be kept.
     */
    private static final class Lazy<T> extends AbstractList<T> implements RandomAccess {
        private static final Object NULL = new Object();
        private final AtomicReferenceArray<Object> cache;
        private final IntFunction<T> compute;

        Lazy(int length, IntFunction<T> compute) {
            this.cache = new AtomicReferenceArray<>(length);
            this.compute = compute;
        }

        @Override
        @SuppressWarnings("unchecked")
        public T get(int i) {
            Object v = cache.getAcquire(i);
            if (v == null) {
                T t = compute.apply(i);
                cache.setRelease(i, t == null ? NULL : t);
                return t;
            }
            return v == NULL ? null : (T) v;
        }

        @Override
        public int size() {
            return cache.length();
        }
    }

    private final int memSize;

    /**
     * {@return for a raw program verified for input memory of a known size, that size: a backend
     * must only run it on memory of exactly that many bytes; -1 when r1 and r2 were unknown
     * numbers (the program cannot touch its input)}
     */
    public int memSize() {
        return memSize;
    }

    /**
     * {@return the program every backend runs: context accesses rewritten from the program
     * type's user layout into the host layout ({@link dev.prism.program.XdpContext}), and each
     * {@code callx} the verifier proved to hold one helper id (profile rfc9669) turned into
     * {@code call} of that helper; one slot for one slot, so jumps and facts keep their pcs}
     */
    public Program normalized() {
        if (program.type() == dev.prism.program.ProgramType.TC) {
            return SkbNormalizer.normalize(program, facts::get);
        }
        if (program.type() != dev.prism.program.ProgramType.XDP) {
            dev.prism.isa.Insn[] slots = program.slots();
            return callxToHelperCalls(slots) ? program.toBuilder().slotsNormalized(slots).build() : program;
        }
        dev.prism.isa.Insn[] slots = program.slots();
        callxToHelperCalls(slots);
        for (int pc = 0; pc < slots.length; pc++) {
            Facts f = facts.get(pc);
            if (f != null && f.access() != null && f.access().region() == Facts.Kind.CTX
                    && slots[pc] instanceof dev.prism.isa.Insn.Load l) {
                int user = (int) f.access().minOffset();
                int host = dev.prism.program.XdpContext.hostOffset(user);
                dev.prism.isa.Size size = dev.prism.program.XdpContext.isPointer(user) ? dev.prism.isa.Size.DW : l.size();
                slots[pc] = new dev.prism.isa.Insn.Load(size, false, l.dst(), l.src(), (short) (l.offset() + host - user));
            }
        }
        return program.toBuilder().slotsNormalized(slots).contextLayout(Program.ContextLayout.HOST).build();
    }

    /**
     * Rewrites, in place, each {@code callx} whose register holds the same number on every path
     * into {@code call} of the helper with that id: the verifier accepts a number there only
     * under profile rfc9669 and only as a constant helper id it checked the call against, so
     * backends lower callx as a call through a code address and nothing else.
     *
     * @return whether a slot changed
     */
    private boolean callxToHelperCalls(dev.prism.isa.Insn[] slots) {
        boolean changed = false;
        for (int pc = 0; pc < slots.length; pc++) {
            if (slots[pc] instanceof dev.prism.isa.Insn.CallX x && facts.get(pc) instanceof Facts f) {
                Facts.Register r = f.registers().get(x.dst().n());
                if (r.kind() == Facts.Kind.SCALAR && r.value().isConstant()) {
                    slots[pc] = new dev.prism.isa.Insn.Call(dev.prism.isa.CallKind.HELPER, (int) r.value().constantValue());
                    changed = true;
                } else if (r.kind() != Facts.Kind.FUNCTION) {
                    // never lower a call through a number: the verifier accepts only the two cases above
                    throw new IllegalStateException(pc + ": internal error: callx through " + r.kind()
                            + " " + r.value() + " passed the verifier");
                }
            }
        }
        return changed;
    }

    /** {@return what was proven about the instruction at {@code pc}; null for slots no path reaches (lddw's second half)} */
    public Facts facts(int pc) {
        return facts.get(pc);
    }

    /** {@return each loop's head and its proven largest trip count} */
    public java.util.Map<Integer, Long> loopBounds() {
        return loopBounds;
    }

    /** {@return each function's start and the deepest stack its own frame uses, in bytes} */
    public java.util.Map<Integer, Integer> stackDepths() {
        return stackDepths;
    }

    public Program program() {
        return program;
    }

    public Cfg cfg() {
        return cfg;
    }

    /** {@return the abstract registers at {@code pc} (joined over every path), empty when never reached} */
    public String stateAt(int pc) {
        return states.get(pc);
    }

    public Requires requires() {
        return requires;
    }

    public Stats stats() {
        return stats;
    }
}
