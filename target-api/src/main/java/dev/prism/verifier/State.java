package dev.prism.verifier;

import dev.prism.verifier.domain.Scalar;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The abstract machine state on one path: registers, the stack frames of the active calls,
 * the proven packet ranges, and the references still to be released.
 */
final class State {
    Value[] regs = new Value[11];
    List<Frame> frames = new ArrayList<>();
    /** Return pc and caller's r6-r9 for each active call (frames.size() - 1 entries). */
    List<int[]> returns = new ArrayList<>();
    List<Value[]> saved = new ArrayList<>();
    /** For each active bpf_loop callback frame, the ctx it receives on every iteration. */
    List<Value> callbackCtx = new ArrayList<>();
    /** Packet pointer id -> bytes proven readable from that pointer's variable base. */
    Map<Integer, Long> packetRange = new HashMap<>();
    /** Ring buffer records reserved and not yet submitted or discarded: ref id -> reserving pc. */
    Map<Integer, Integer> refs = new HashMap<>();

    State copy() {
        State s = new State();
        s.regs = regs.clone();
        for (Frame f : frames) {
            s.frames.add(f.copy());
        }
        s.returns = new ArrayList<>(returns);
        s.saved = new ArrayList<>();
        for (Value[] v : saved) {
            s.saved.add(v.clone());
        }
        s.callbackCtx = new ArrayList<>(callbackCtx);
        s.packetRange = new HashMap<>(packetRange);
        s.refs = new HashMap<>(refs);
        return s;
    }

    int depth() {
        return frames.size() - 1;
    }

    Frame frame() {
        return frames.get(frames.size() - 1);
    }

    /** {@return a key for the call context: the return pcs} */
    String context() {
        StringBuilder sb = new StringBuilder();
        for (int[] r : returns) {
            sb.append(r[0]).append('/');
        }
        return sb.toString();
    }

    /** Identities for merged pointers: far above the ids the verifier hands out on a path. */
    static int joinId(int site, int slot) {
        return 1 << 30 | site << 10 | slot;
    }

    long range(int id) {
        return packetRange.getOrDefault(id, 0L);
    }

    /** {@return whether everything this (older, explored) state allowed covers {@code o}} */
    boolean covers(State o) {
        if (frames.size() != o.frames.size() || !refs.keySet().equals(o.refs.keySet())) {
            return false;
        }
        // Proven packet ranges outlive the registers that proved them (a later load of data
        // starts from the same proof), so a path with less proven is never covered.
        for (Map.Entry<Integer, Long> e : packetRange.entrySet()) {
            if (o.range(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        for (int i = 0; i < regs.length; i++) {
            if (!covers(regs[i], o.regs[i]) || !rangesCover(regs[i], o)) {
                return false;
            }
        }
        for (int i = 0; i < frames.size(); i++) {
            if (!frames.get(i).covers(o.frames.get(i))) {
                return false;
            }
        }
        for (int i = 0; i < saved.size(); i++) {
            for (int k = 0; k < saved.get(i).length; k++) {
                if (!covers(saved.get(i)[k], o.saved.get(i)[k])) {
                    return false;
                }
            }
        }
        for (int i = 0; i < callbackCtx.size(); i++) {
            if (!covers(callbackCtx.get(i), o.callbackCtx.get(i))) {
                return false;
            }
        }
        return true;
    }

    private boolean rangesCover(Value mine, State o) {
        if (mine instanceof Value.Ptr p && p.kind() == Value.Kind.PACKET) {
            return o.range(p.id()) >= range(p.id());
        }
        return true;
    }

    /** {@return whether the old value {@code old} admits everything {@code now} may be} */
    static boolean covers(Value old, Value now) {
        return switch (old) {
            case null -> now == null;
            case Value.Uninit u -> true;
            case Value.Scal s -> now instanceof Value.Scal n && n.s().isSubsetOf(s.s());
            case Value.Ptr p -> now instanceof Value.Ptr n && n.kind() == p.kind() && n.map() == p.map()
                    && n.id() == p.id() && n.ref() == p.ref() && n.size() == p.size()
                    && (p.maybeNull() || !n.maybeNull()) && n.fixed() == p.fixed() && n.var().isSubsetOf(p.var());
        };
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
        int id = x.id() == y.id() ? x.id() : joinId;
        return new Value.Ptr(x.kind(), fixed, widen ? widenOffset(va, v) : v, id, x.map(), maybeNull, x.size(), x.ref());
    }

    /**
     * Widens a pointer's variable offset upward only: a growing offset keeps its lower bound
     * (widening the unsigned maximum would otherwise make the signed minimum negative).
     */
    private static Scalar widenOffset(Scalar before, Scalar joined) {
        Scalar w = before.widen(joined);
        if (joined.smin() >= 0) {
            Scalar floor = w.meet(Scalar.signedRange(joined.smin(), Long.MAX_VALUE));
            return floor.isEmpty() ? joined : floor;
        }
        return w;
    }

    /** {@return the least upper bound of two states at a merge point (a loop head)} */
    State join(State o, boolean widen) {
        return join(o, widen, 0);
    }

    /** @param site the merge point (a loop head's pc), from which join identities derive */
    State join(State o, boolean widen, int site) {
        State r = new State();
        for (int i = 0; i < regs.length; i++) {
            r.regs[i] = join(regs[i], o.regs[i], widen, site == 0 ? 0 : joinId(site, i));
        }
        for (int i = 0; i < frames.size(); i++) {
            r.frames.add(frames.get(i).join(o.frames.get(i), widen, site == 0 ? 0 : joinId(site, 16 + i * 64)));
        }
        r.returns = new ArrayList<>(returns);
        for (int i = 0; i < callbackCtx.size(); i++) {
            r.callbackCtx.add(join(callbackCtx.get(i), o.callbackCtx.get(i), widen, 0));
        }
        for (int i = 0; i < saved.size(); i++) {
            Value[] v = new Value[saved.get(i).length];
            for (int k = 0; k < v.length; k++) {
                v[k] = join(saved.get(i)[k], o.saved.get(i)[k], widen);
            }
            r.saved.add(v);
        }
        Set<Integer> ids = new HashSet<>(packetRange.keySet());
        ids.retainAll(o.packetRange.keySet());
        for (int id : ids) {
            r.packetRange.put(id, Math.min(range(id), o.range(id)));
        }
        r.refs = new HashMap<>(refs);
        o.refs.forEach(r.refs::putIfAbsent);
        return r;
    }
}
