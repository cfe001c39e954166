package dev.prism.verifier;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.verifier.domain.Scalar;

/**
 * bpf_for_each_map_elem(map, callback, ctx, flags) (helper 164): the callback runs as a
 * function {@code (map, key, value, ctx)} once per element until it returns 1, as bpf_loop's
 * does (the verifier explores it the same way, {@link Verifier}'s callback handling), with
 * r1 the map, r2 the element's key (read-only, key_size bytes), r3 its value (value_size
 * bytes, never null), r4 ctx. Linux's rules (kernel/bpf/bpf_iter.c, verifier.c
 * set_map_elem_callback_state): array, per-CPU array, hash, per-CPU hash and LRU hash maps;
 * ctx a stack pointer or 0; the callback returns 0 or 1. The helper returns how many
 * elements it visited (at most max_entries), -EINVAL for nonzero flags.
 */
final class ForEachCheck {
    private ForEachCheck() {
    }

    static Value check(Verifier v, int pc, State s, String name, Value[] a) {
        if (!(a[0] instanceof Value.Ptr mp) || mp.kind() != Value.Kind.MAP_PTR) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " needs a map (lddw map_idx) in r1, not " + a[0]);
        }
        MapDef m = v.maps().get(mp.map());
        switch (m.type()) {
            case ARRAY, PERCPU_ARRAY, HASH, PERCPU_HASH, LRU_HASH -> {
            }
            default -> throw v.rejectAt(pc, "helper argument mismatch", name + " cannot iterate map " + m.name() + " of type "
                    + m.type().id());
        }
        if (!(a[1] instanceof Value.Ptr f) || f.kind() != Value.Kind.FUNC) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " needs a callback (lddw code) in r2, not " + a[1]);
        }
        if (a[2] instanceof Value.Ptr p && p.kind() != Value.Kind.STACK) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " ctx (r3) must be a stack pointer or 0");
        }
        if (a[2] instanceof Value.Scal z && !(z.s().isConstant() && z.s().constantValue() == 0)) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " ctx (r3) must be a stack pointer or 0, not " + a[2]);
        }
        if (!(a[3] instanceof Value.Scal flags)) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " needs a number in r4, not " + a[3]);
        }
        v.sawLoopIterations(m.maxEntries());
        boolean zeroFlags = flags.s().isConstant() && flags.s().constantValue() == 0;
        return Value.scalar(zeroFlags ? Scalar.unsignedRange(0, m.maxEntries()) : Scalar.signedRange(-22, m.maxEntries()));
    }

    /** Sets the callback's arguments r1 (map), r2 (key) and r3 (value) for map {@code map}; r4 is ctx. */
    static void callbackArgs(Verifier v, State s, int map, Value ctx) {
        MapDef m = v.maps().get(map);
        s.regs[1] = new Value.Ptr(Value.Kind.MAP_PTR, 0, Scalar.constant(0), 0, map, false, 0, 0);
        s.regs[2] = new Value.Ptr(Value.Kind.MAP_KEY, 0, Scalar.constant(0), 0, map, false, m.keySize(), 0);
        s.regs[3] = new Value.Ptr(Value.Kind.MAP_VALUE, 0, Scalar.constant(0), 0, map, false, 0, 0);
        s.regs[4] = ctx;
    }
}
