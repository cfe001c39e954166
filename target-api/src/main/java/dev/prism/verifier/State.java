package dev.prism.verifier;

import dev.prism.verifier.domain.Scalar;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The abstract machine state on one path: registers, the stack frames of the active calls,
 * the proven packet ranges, and the references still to be released.
 */
final class State {
    Value[] regs;
    /**
     * The frames of the active calls, read-only: the list and the frames in it are shared
     * between a state and its copies, and copied on the first change ({@link #writableFrame},
     * {@link #pushFrame}, {@link #popFrame}); most paths between two branches touch no stack.
     */
    List<Frame> frames;
    private boolean framesShared;
    /** The sum of the frames' depths: the stack the call chain uses ({@link #raiseDepth} keeps it). */
    int stackBytes;
    // The call stack below: lists that are replaced, never changed in place (append, dropLast),
    // so copies share them.
    /** Return pc and caller's r6-r9 for each active call (frames.size() - 1 entries). */
    List<int[]> returns;
    List<Value[]> saved;
    /** For each active bpf_loop callback frame, the ctx it receives on every iteration. */
    List<Value> callbackCtx;
    /** Packet pointer id -> bytes proven readable from that pointer's variable base. */
    PacketRanges packetRange = PacketRanges.NONE;
    /** Registers linked by a copy since the last branch ({@link ScalarLinks}); replaced, never changed in place. */
    List<ScalarLinks.Link> links = List.of();
    /**
     * Ring buffer records reserved and not yet submitted or discarded: ref id -> reserving pc.
     * Null while a copy has not written to it: a copy of an empty map behaves as a new one.
     */
    private Map<Integer, Integer> refs;
    /** The call context's key ({@link #context}) and its number in the verifier, or null and -1 until asked. */
    String contextKey;
    int contextId = -1;
    /** For an explored state: the register on which {@link #covers} last failed. */
    private int failedAt;
    /**
     * A summary of the registers for {@link #mayCover}, 5 bits per register: in kinds, 0 for
     * uninitialized, 1 for a scalar, 2 for a pointer; in exact, a hash of what a covering
     * register must equal exactly (a constant's value; a pointer's region, identity and fixed
     * offset). Set by {@link #summarise}: {@code summary} is 0 until then, 1 when set, 2 for a
     * state with an empty scalar (no summary rules it out).
     */
    private long kinds;
    private long exact;
    private long kindsCare;
    private long exactCare;
    private byte summary;

    /** A state with no registers set, no frames, no calls, ranges or references. */
    State() {
        regs = new Value[11];
        frames = new ArrayList<>();
        returns = List.of();
        saved = List.of();
        callbackCtx = List.of();
        refs = new HashMap<>();
    }

    /** For {@link #copy}, which sets every field. */
    private State(State o) {
    }

    State copy() {
        State s = new State(this);
        s.regs = regs.clone();
        for (Frame f : frames) {
            f.shared = true;
        }
        s.frames = frames;
        framesShared = true;
        s.framesShared = true;
        s.stackBytes = stackBytes;
        s.returns = returns;
        s.saved = saved;
        s.callbackCtx = callbackCtx;
        s.packetRange = packetRange;
        s.links = links;
        // as new HashMap<>(refs): iteration order (the first unreleased record named at exit)
        // depends on a map's history, so non-empty maps are copied exactly as before
        s.refs = refs == null || refs.isEmpty() ? null : new HashMap<>(refs);
        s.contextKey = contextKey;
        s.contextId = contextId;
        return s;
    }

    /** {@return list with x added at the end, as a new list} */
    static <T> List<T> append(List<T> list, T x) {
        List<T> out = new ArrayList<>(list.size() + 1);
        out.addAll(list);
        out.add(x);
        return Collections.unmodifiableList(out);
    }

    /** {@return list without its last element, as a new list} */
    static <T> List<T> dropLast(List<T> list) {
        return Collections.unmodifiableList(new ArrayList<>(list.subList(0, list.size() - 1)));
    }

    /** {@return list with its last element replaced by x, as a new list} */
    static <T> List<T> replaceLast(List<T> list, T x) {
        return append(dropLast(list), x);
    }

    static <T> T last(List<T> list) {
        return list.get(list.size() - 1);
    }

    private void ownFrames() {
        if (framesShared) {
            frames = new ArrayList<>(frames);
            framesShared = false;
        }
    }

    /** Adds a frame for a call. */
    void pushFrame(Frame f) {
        ownFrames();
        frames.add(f);
        stackBytes += f.depth;
    }

    /** Removes the frame of the call returning. */
    void popFrame() {
        ownFrames();
        stackBytes -= frames.remove(frames.size() - 1).depth;
    }

    /** Raises the depth of frame f, one of this state's own ({@link #writableFrame}), to at least {@code depth}. */
    void raiseDepth(Frame f, int depth) {
        if (depth > f.depth) {
            stackBytes += depth - f.depth;
            f.depth = depth;
        }
    }

    /** {@return frame {@code i}, copied first when another state shares it} */
    Frame writableFrame(int i) {
        ownFrames();
        Frame f = frames.get(i);
        if (f.shared) {
            f = f.copy();
            frames.set(i, f);
        }
        return f;
    }

    /** {@return the unreleased references, read-only} */
    Map<Integer, Integer> refs() {
        return refs == null ? Map.of() : refs;
    }

    /** {@return the unreleased references, to change} */
    Map<Integer, Integer> refsForWrite() {
        if (refs == null) {
            refs = new HashMap<>();
        }
        return refs;
    }

    /** The call stack changed: the context key must be computed again. */
    void contextChanged() {
        contextKey = null;
        contextId = -1;
    }

    int depth() {
        return frames.size() - 1;
    }

    Frame frame() {
        return frames.get(frames.size() - 1);
    }

    /** {@return a key for the call context: the return pcs} */
    String context() {
        if (contextKey == null) {
            StringBuilder sb = new StringBuilder();
            for (int[] r : returns) {
                sb.append(r[0]).append('/');
            }
            contextKey = sb.toString();
        }
        return contextKey;
    }

    /** Identities for merged pointers: far above the ids the verifier hands out on a path. */
    static int joinId(int site, int slot) {
        return 1 << 30 | site << 10 | slot;
    }

    long range(int id) {
        return packetRange.get(id);
    }

    /**
     * Computes the register summary of {@link #mayCover}; the registers must not change
     * afterwards (explored states, and a state about to be compared with them).
     */
    void summarise() {
        long k = 0;
        long e = 0;
        long kc = 0;
        long ec = 0;
        for (int i = 0; i < regs.length; i++) {
            Value v = regs[i];
            int shift = 5 * i;
            if (v instanceof Value.Scal x) {
                Scalar sc = x.s();
                if (sc.isEmpty()) {
                    summary = 2;
                    return;
                }
                k |= 1L << shift;
                kc |= 0x1FL << shift;
                if (sc.isConstant()) {
                    e |= hash5(sc.constantValue()) << shift;
                    ec |= 0x1FL << shift;
                }
            } else if (v instanceof Value.Ptr p) {
                k |= 2L << shift;
                kc |= 0x1FL << shift;
                // not the identity: the comparison may rename it (IdMap)
                long h = (((p.kind().ordinal() * 31L + p.map()) * 31 + p.ref()) * 31 + p.size()) * 31 + p.fixed();
                e |= hash5(h) << shift;
                ec |= 0x1FL << shift;
            }
        }
        kinds = k;
        exact = e;
        kindsCare = kc;
        exactCare = ec;
        summary = 1;
    }

    private static long hash5(long x) {
        return (x * 0x9E37_79B9_7F4A_7C15L) >>> 59;
    }

    /**
     * {@return false when this (explored, summarised) state cannot cover {@code o}, true when
     * it may} A register this state reads must hold the same kind of value in o; where it holds
     * a constant, o must hold that constant (a non-empty scalar within {c} is {c}), and where it
     * holds a pointer, o must hold one into the same region with the same fixed offset ({@link #covers(Value, Value)}): a difference in the summaries proves one of these
     * false. Summaries that agree prove nothing, and a state without one is never ruled out.
     * This state is summarised when first asked; o must have been just before.
     */
    boolean mayCover(State o) {
        if (summary == 0) {
            summarise();
        }
        return summary != 1 || o.summary != 1
                || (((kinds ^ o.kinds) & kindsCare) == 0 && ((exact ^ o.exact) & exactCare) == 0);
    }

    /** {@return whether everything this (older, explored) state allowed covers {@code o}} */
    boolean covers(State o) {
        return covers(o, new IdMap());
    }

    /**
     * {@return whether everything this (older, explored) state allowed covers {@code o}}, up to
     * a renaming of identities built in {@code ids} (cleared first; see {@link IdMap}).
     */
    boolean covers(State o, IdMap ids) {
        // the checks cheapest and most often failing first
        if (frames.size() != o.frames.size()) {
            return false;
        }
        ids.clear();
        // An explored state is asked again and again, and usually fails on the same register
        // (a loop counter): that one is tried first (its identities recorded, so tried again below).
        int first = failedAt;
        if (!covers(regs[first], o.regs[first], ids)) {
            return false;
        }
        for (int i = 0; i < regs.length; i++) {
            if (!covers(regs[i], o.regs[i], ids)) {
                failedAt = i;
                return false;
            }
        }
        if (!(refs().isEmpty() && o.refs().isEmpty()) && !refs().keySet().equals(o.refs().keySet())) {
            return false;
        }
        for (int i = 0; i < frames.size(); i++) {
            Frame mine = frames.get(i);
            Frame theirs = o.frames.get(i);
            if (mine != theirs ? !mine.covers(theirs, ids) : !mine.spillIdsMatch(ids)) {
                return false;
            }
        }
        for (int i = 0; i < saved.size(); i++) {
            for (int k = 0; k < saved.get(i).length; k++) {
                if (!covers(saved.get(i)[k], o.saved.get(i)[k], ids)) {
                    return false;
                }
            }
        }
        for (int i = 0; i < callbackCtx.size(); i++) {
            if (!covers(callbackCtx.get(i), o.callbackCtx.get(i), ids)) {
                return false;
            }
        }
        if (!linksKept(o)) {
            return false;
        }
        // Proven packet ranges matter where a pointer of the old state refers to them (renamed),
        // and for the pointers a later load from the context yields: data (identity 0) and
        // data_meta (its range is kept under -1).
        return o.range(0) >= range(0) && o.range(-1) >= range(-1) && o.range(CsdAccess.OUT_ID) >= range(CsdAccess.OUT_ID)
                && ids.packetPairs(this, o);
    }

    /**
     * {@return whether registers that are copies of one scalar here (the same instance: a bounds
     * check on one refines all, see Verifier#refineCopies) are copies in {@code o} too}: the
     * paths explored from this state may have relied on that link.
     */
    private boolean linksKept(State o) {
        for (int i = 0; i < regs.length; i++) {
            Value v = regs[i];
            if (!(v instanceof Value.Scal sc) || sc.s().isConstant()) {
                continue;
            }
            for (int k = i + 1; k < regs.length; k++) {
                if (regs[k] == v && o.regs[k] != o.regs[i]) {
                    return false;
                }
            }
        }
        for (int f = 0; f < frames.size(); f++) {
            Frame mine = frames.get(f);
            Value[] sp = mine.spills;
            Value[] theirs = o.frames.get(f).spills;
            for (int k = (Frame.SIZE - mine.depth) / 8; k < sp.length; k++) {
                if (!(sp[k] instanceof Value.Scal sc) || sc.s().isConstant()) {
                    continue;
                }
                for (int i = 0; i < regs.length; i++) {
                    if (regs[i] == sp[k] && theirs[k] != o.regs[i]) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** {@return whether the old value {@code old} admits everything {@code now} may be} */
    static boolean covers(Value old, Value now) {
        return covers(old, now, new IdMap());
    }

    /** {@return whether the old value admits everything {@code now} may be, renaming identities in {@code ids}} */
    static boolean covers(Value old, Value now, IdMap ids) {
        // instanceof tests rather than a pattern switch: this runs for every explored state
        // compared, and the tests compile to a class check each
        if (old instanceof Value.Scal s) {
            return old == now || now instanceof Value.Scal n && n.s().isSubsetOf(s.s());
        }
        if (old instanceof Value.Ptr p) {
            return now instanceof Value.Ptr n && n.kind() == p.kind() && n.map() == p.map()
                    && n.ref() == p.ref() && n.size() == p.size()
                    && (p.maybeNull() || !n.maybeNull()) && n.fixed() == p.fixed()
                    && (old == now || n.var().isSubsetOf(p.var()))
                    && ids.match(p.id(), n.id(), p.kind() == Value.Kind.PACKET);
        }
        return old != null || now == null; // Uninit: never read on the old path
    }

    static Value join(Value a, Value b, boolean widen) {
        return join(a, b, widen, 0);
    }

    /**
     * {@return the least upper bound of two values}. Pointers into one region with different
     * identities (packet pointers with different variable parts, results of different lookups)
     * merge into one pointer whose identity is {@code joinId}: deterministic for a merge point
     * and register, so a loop head's state can stop changing. Its packet range starts at zero,
     * to be proven again by the program's next bounds check.
     */
    static Value join(Value a, Value b, boolean widen, int joinId) {
        if (a instanceof Value.Scal x && b instanceof Value.Scal y) {
            Scalar j = x.s().join(y.s());
            return new Value.Scal(widen ? x.s().widen(j) : j);
        }
        if (!(a instanceof Value.Ptr x) || !(b instanceof Value.Ptr y) || x.kind() != y.kind() || x.map() != y.map()
                || x.ref() != y.ref() || x.size() != y.size()) {
            return Value.UNINIT;
        }
        boolean maybeNull = x.maybeNull() || y.maybeNull();
        if (x.id() == y.id() && x.fixed() == y.fixed()) {
            Scalar v = x.var().join(y.var());
            return new Value.Ptr(x.kind(), x.fixed(), widen ? widenOffset(x.var(), v) : v, x.id(), x.map(), maybeNull, x.size(), x.ref());
        }
        if (joinId == 0 || x.kind() == Value.Kind.RINGBUF_MEM) {
            return Value.UNINIT;
        }
        // fold the constant offsets into the variable part
        long fixed = Math.min(x.fixed(), y.fixed());
        Scalar va = dev.prism.verifier.domain.ScalarAlu.alu(dev.prism.isa.AluOp.ADD, dev.prism.isa.Width.W64,
                x.var(), Scalar.constant(x.fixed() - fixed));
        Scalar vb = dev.prism.verifier.domain.ScalarAlu.alu(dev.prism.isa.AluOp.ADD, dev.prism.isa.Width.W64,
                y.var(), Scalar.constant(y.fixed() - fixed));
        Scalar v = va.join(vb);
        // a new variable part: never an input's identity (see PointerJoin)
        int id = joinId;
        return new Value.Ptr(x.kind(), fixed, widen ? widenOffset(va, v) : v, id, x.map(), maybeNull, x.size(), x.ref());
    }

    /**
     * Widens a pointer's variable offset upward only: a growing offset keeps its lower bound
     * (widening the unsigned maximum would otherwise make the signed minimum negative).
     */
    static Scalar widenOffset(Scalar before, Scalar joined) {
        Scalar w = before.widen(joined);
        if (joined.smin() >= 0) {
            Scalar floor = w.meet(Scalar.signedRange(joined.smin(), Long.MAX_VALUE));
            return floor.isEmpty() ? joined : floor;
        }
        return w;
    }

    /**
     * {@return the identities whose packet ranges can matter in this state: those of the packet
     * pointers it holds (registers, spills, saved registers, callback contexts), data's (0) and
     * data_meta's (-1)}
     */
    java.util.Set<Integer> packetIds() {
        java.util.Set<Integer> out = new java.util.HashSet<>();
        out.add(0);
        out.add(-1);
        out.add(CsdAccess.OUT_ID);
        java.util.function.Consumer<Value> add = v -> {
            if (v instanceof Value.Ptr p && p.kind() == Value.Kind.PACKET) {
                out.add(p.id());
            }
        };
        for (Value v : regs) {
            add.accept(v);
        }
        for (Frame f : frames) {
            for (Value v : f.spills) {
                add.accept(v);
            }
        }
        saved.forEach(vs -> java.util.Arrays.asList(vs).forEach(add));
        callbackCtx.forEach(add);
        return out;
    }

    /** {@return the least upper bound of two states at a merge point (a loop head)} */
    State join(State o, boolean widen) {
        return join(o, widen, 0);
    }

    /** @param site the merge point (a loop head's pc), from which join identities derive */
    State join(State o, boolean widen, int site) {
        return join(o, widen, site, null);
    }

    /**
     * The join of the verification proper: pointers that differ in identity or fixed offset
     * fold into a pointer with a new identity from {@code fresh}, their packet ranges carried
     * over ({@link PointerJoin}). With {@code fresh} null (the joins that only summarise, for
     * loop bounds), identities derive from {@code site} and the ranges of folded pointers are lost.
     */
    State join(State o, boolean widen, int site, java.util.function.IntSupplier fresh) {
        return join(o, widen, site, fresh, new long[0]);
    }

    /** @param thresholds the widening thresholds of the loop ({@link PointerJoin}) */
    State join(State o, boolean widen, int site, java.util.function.IntSupplier fresh, long[] thresholds) {
        State r = new State();
        PointerJoin pj = fresh == null ? null : new PointerJoin(this, o, fresh, thresholds);
        for (int i = 0; i < regs.length; i++) {
            r.regs[i] = pj != null ? pj.join(regs[i], o.regs[i], widen) : join(regs[i], o.regs[i], widen, site == 0 ? 0 : joinId(site, i));
        }
        for (int i = 0; i < frames.size(); i++) {
            int base = site == 0 ? 0 : joinId(site, 16 + i * 64);
            r.pushFrame(frames.get(i).join(o.frames.get(i), widen,
                    (x, y, slot) -> pj != null ? pj.join(x, y, widen) : join(x, y, widen, base == 0 ? 0 : base + slot)));
        }
        r.returns = returns;
        r.contextKey = contextKey; // the context is the return pcs
        r.contextId = contextId;
        List<Value> ctx = new ArrayList<>();
        for (int i = 0; i < callbackCtx.size(); i++) {
            ctx.add(join(callbackCtx.get(i), o.callbackCtx.get(i), widen, 0));
        }
        r.callbackCtx = Collections.unmodifiableList(ctx);
        List<Value[]> sv = new ArrayList<>();
        for (int i = 0; i < saved.size(); i++) {
            Value[] v = new Value[saved.get(i).length];
            for (int k = 0; k < v.length; k++) {
                v[k] = join(saved.get(i)[k], o.saved.get(i)[k], widen);
            }
            sv.add(v);
        }
        r.saved = Collections.unmodifiableList(sv);
        r.packetRange = pj != null ? pj.ranges().retain(r.packetIds()::contains) : packetRange.meet(o.packetRange);
        r.refs = refs == null ? new HashMap<>() : new HashMap<>(refs);
        o.refs().forEach(r.refs::putIfAbsent);
        return r;
    }
}
