package dev.prism.verifier;

import dev.prism.program.MapDef;
import dev.prism.program.MapType;
import dev.prism.runtime.HelperProto;
import dev.prism.runtime.Helpers;
import dev.prism.verifier.domain.Scalar;

/**
 * Helper calls against their prototypes ({@link HelperProto}): map pointers of the right type,
 * initialized key and value memory of the map's sizes, bounded sizes for memory arguments, the
 * context where a helper needs it, ring buffer records released exactly once.
 */
final class HelperCheck {
    /** Largest size argument accepted for helper memory (Linux caps at 1 << 29 too). */
    private static final long MAX_SIZE = 1 << 29;

    private HelperCheck() {
    }

    /** Checks a call and applies its effects on the state; {@return r0 after the call} */
    static Value check(Verifier v, int pc, State s, HelperProto proto, Value[] a) {
        int id = proto.id();
        String name = "bpf_" + proto.name();
        CsdAccess.checkHelper(v, pc, id, name);
        switch (id) {
            case Helpers.MAP_LOOKUP_ELEM, Helpers.MAP_UPDATE_ELEM, Helpers.MAP_DELETE_ELEM -> {
                MapDef m = map(v, pc, a[0], name, "r1");
                v.callMap(pc, ((Value.Ptr) a[0]).map());
                if (m.type() == MapType.RINGBUF || m.type() == MapType.PROG_ARRAY) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + " cannot take map " + m.name() + " of type " + m.type().id());
                }
                if (m.type().ofMaps() && id != Helpers.MAP_LOOKUP_ELEM) {
                    // check_map_func_compatibility: programs only look map-in-maps up
                    throw v.rejectAt(pc, "helper argument mismatch", "cannot pass map_type " + m.type().code() + " ("
                            + m.type().id() + ") into func " + name);
                }
                if (m.type().redirect() || m.type() == MapType.PERF_EVENT_ARRAY) {
                    throw v.rejectAt(pc, "helper argument mismatch", "not supported: " + name + " on map " + m.name()
                            + " of type " + m.type().id() + " (" + (m.type().redirect() ? "bpf_redirect_map" : "bpf_perf_event_output")
                            + " is how programs use it)");
                }
                v.helperMemory(pc, s, a[1], m.keySize(), false, name + " key (r2)");
                if (id == Helpers.MAP_LOOKUP_ELEM) {
                    v.lookupKey(pc, m.keySize() == 4 ? v.stackConstant(s, a[1], 4) : null);
                }
                if (id == Helpers.MAP_UPDATE_ELEM) {
                    v.helperMemory(pc, s, a[2], m.valueSize(), false, name + " value (r3)");
                    scalar(v, pc, a[3], name, "r4");
                }
                if (id == Helpers.MAP_LOOKUP_ELEM && m.type().ofMaps()) {
                    // the inner map, or null: a map pointer of the template's shape (map_ptr_or_null)
                    int outer = ((Value.Ptr) a[0]).map();
                    return new Value.Ptr(Value.Kind.MAP_PTR, 0, Scalar.constant(0), v.freshId(), v.innerTemplate(outer), true, 0, 0);
                }
                if (id == Helpers.MAP_LOOKUP_ELEM) {
                    // Linux 6.x: an array lookup with a constant key inside max_entries cannot fail
                    // (not for an inner map template with BPF_F_INNER_MAP: its arrays' sizes vary)
                    Long key = (m.type() == MapType.ARRAY || m.type() == MapType.PERCPU_ARRAY) && (m.flags() & (1 << 12)) == 0
                            ? v.stackConstant(s, a[1], 4) : null;
                    boolean cannotFail = key != null && Long.compareUnsigned(key, m.maxEntries()) < 0;
                    return new Value.Ptr(Value.Kind.MAP_VALUE, 0, Scalar.constant(0), v.freshId(),
                            ((Value.Ptr) a[0]).map(), !cannotFail, 0, 0);
                }
                return Value.scalar(Scalar.signedRange(-4095, 0));
            }
            case Helpers.KTIME_GET_NS, Helpers.KTIME_GET_BOOT_NS, Helpers.JIFFIES64 -> {
                return Value.scalar(Scalar.top());
            }
            case Helpers.GET_PRANDOM_U32 -> {
                return Value.scalar(Scalar.unsignedRange(0, 0xffff_ffffL));
            }
            case Helpers.GET_SMP_PROCESSOR_ID -> {
                return Value.scalar(Scalar.unsignedRange(0, 4095));
            }
            case Helpers.TRACE_PRINTK -> {
                long size = size(v, pc, a[1], name, "r2", false);
                v.helperMemory(pc, s, a[0], size, false, name + " format (r1)");
                // r3-r5 may be anything, pointers too: printing an address reads no memory
                return Value.scalar(Scalar.signedRange(-4095, 1024));
            }
            case Helpers.TAIL_CALL -> {
                ctx(v, pc, a[0], name);
                MapDef m = map(v, pc, a[1], name, "r2");
                if (m.type() != MapType.PROG_ARRAY) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + " needs a prog_array in r2, not " + m.type().id());
                }
                scalar(v, pc, a[2], name, "r3");
                if (!s.refs().isEmpty()) {
                    throw v.rejectAt(pc, "unreleased reference", "tail call with a ring buffer record still reserved");
                }
                v.checkTailCallFrames(pc, s);
                return Value.UNINIT; // RET_VOID: r0 is unreadable after a tail call that falls through
            }
            case Helpers.REDIRECT -> {
                scalar(v, pc, a[0], name, "r1");
                scalar(v, pc, a[1], name, "r2");
                if (v.program().type() == dev.prism.program.ProgramType.TC) {
                    return Value.scalar(Scalar.unsignedRange(0, 7)); // TC_ACT_SHOT or TC_ACT_REDIRECT
                }
                return Value.scalar(Scalar.unsignedRange(0, 4));
            }
            case Helpers.SKB_STORE_BYTES, Helpers.SKB_LOAD_BYTES, Helpers.L3_CSUM_REPLACE, Helpers.L4_CSUM_REPLACE,
                    Helpers.GET_HASH_RECALC, Helpers.SKB_CHANGE_HEAD, Helpers.SKB_ADJUST_ROOM -> {
                return SkbHelperCheck.check(v, pc, s, proto, a);
            }
            case Helpers.REDIRECT_MAP -> {
                MapDef m = map(v, pc, a[0], name, "r1");
                // Prism's RFC 9669 profile also takes an ARRAY as a stand-in devmap
                if (!m.type().redirect() && (v.profile() == Profile.LINUX || m.type() != MapType.ARRAY)) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + " needs a devmap, cpumap or xskmap; "
                            + m.name() + " is " + m.type().id());
                }
                scalar(v, pc, a[1], name, "r2");
                scalar(v, pc, a[2], name, "r3");
                return Value.scalar(Scalar.unsignedRange(0, 4));
            }
            case Helpers.PERF_EVENT_OUTPUT -> {
                ctx(v, pc, a[0], name);
                MapDef m = map(v, pc, a[1], name, "r2");
                if (m.type() != MapType.PERF_EVENT_ARRAY) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + " needs a perf_event_array in r2, not " + m.type().id());
                }
                scalar(v, pc, a[2], name, "r3");
                long size = size(v, pc, a[4], name, "r5", true);
                v.helperMemory(pc, s, a[3], size, false, name + " data (r4)");
                return Value.scalar(Scalar.signedRange(-4095, 0));
            }
            case Helpers.CSUM_DIFF -> {
                long from = size(v, pc, a[1], name, "r2", true);
                long to = size(v, pc, a[3], name, "r4", true);
                memOrNull(v, pc, s, a[0], from, name + " from (r1)");
                memOrNull(v, pc, s, a[2], to, name + " to (r3)");
                scalar(v, pc, a[4], name, "r5");
                return Value.scalar(Scalar.top());
            }
            case Helpers.XDP_ADJUST_HEAD, Helpers.XDP_ADJUST_META, Helpers.XDP_ADJUST_TAIL -> {
                SkbHelperCheck.refuseInTc(v, pc, proto);
                ctx(v, pc, a[0], name);
                scalar(v, pc, a[1], name, "r2");
                v.invalidatePackets(s);
                return Value.scalar(Scalar.signedRange(-4095, 0));
            }
            case Helpers.RINGBUF_OUTPUT -> {
                MapDef m = ringbuf(v, pc, a[0], name);
                long size = size(v, pc, a[2], name, "r3", true);
                v.helperMemory(pc, s, a[1], size, false, name + " data (r2)");
                scalar(v, pc, a[3], name, "r4");
                return Value.scalar(Scalar.signedRange(-4095, 0));
            }
            case Helpers.RINGBUF_RESERVE -> {
                MapDef m = ringbuf(v, pc, a[0], name);
                if (!(a[1] instanceof Value.Scal sz) || !sz.s().isConstant()) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + " size (r2) must be a constant, not " + a[1]);
                }
                long size = sz.s().constantValue();
                if (size <= 0 || size > m.maxEntries()) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + " size " + size + " does not fit ring buffer " + m.name());
                }
                scalar(v, pc, a[2], name, "r3");
                int ref = v.freshId();
                s.refsForWrite().put(ref, pc);
                return new Value.Ptr(Value.Kind.RINGBUF_MEM, 0, Scalar.constant(0), ref, 0, true, (int) size, ref);
            }
            case Helpers.RINGBUF_SUBMIT, Helpers.RINGBUF_DISCARD -> {
                if (!(a[0] instanceof Value.Ptr p) || p.kind() != Value.Kind.RINGBUF_MEM || p.maybeNull()
                        || p.fixed() != 0 || p.hasVar()) {
                    throw v.rejectAt(pc, "invalid reference release", name + " needs a ring buffer record (r1), not " + a[0]);
                }
                if (s.refsForWrite().remove(p.ref()) == null) {
                    throw v.rejectAt(pc, "invalid reference release", name + ": the record was already submitted or discarded");
                }
                scalar(v, pc, a[1], name, "r2");
                return Value.UNINIT;
            }
            case Helpers.LOOP -> {
                v.sawLoopIterations(Math.min(size(v, pc, a[0], name, "r1", true), 1L << 23));
                if (!(a[1] instanceof Value.Ptr f) || f.kind() != Value.Kind.FUNC) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + " needs a callback (lddw code) in r2, not " + a[1]);
                }
                if (a[2] instanceof Value.Ptr p && p.kind() != Value.Kind.STACK && v.profile() == Profile.LINUX) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + " ctx (r3) must be a stack pointer or 0");
                }
                if (!(a[3] instanceof Value.Scal fl) || !fl.s().isConstant() || fl.s().constantValue() != 0) {
                    throw v.rejectAt(pc, "helper argument mismatch", name + " flags (r4) must be 0");
                }
                return Value.scalar(Scalar.unsignedRange(0, 1L << 23));
            }
            case Helpers.XDP_LOAD_BYTES, Helpers.XDP_STORE_BYTES -> {
                ctx(v, pc, a[0], name);
                scalar(v, pc, a[1], name, "r2");
                long max = size(v, pc, a[3], name, "r4", false);
                if (id == Helpers.XDP_LOAD_BYTES) {
                    // the helper surely writes the least length, perhaps up to the largest
                    v.helperWrite(pc, s, a[2], ((Value.Scal) a[3]).s().umin(), max, name + " buf (r3)");
                } else {
                    v.helperMemory(pc, s, a[2], max, false, name + " buf (r3)");
                }
                return Value.scalar(Scalar.signedRange(-4095, 0));
            }
            case Helpers.CSD_READ -> {
                // prism_csd_read(u64 ns_offset, void *dst, u32 len): dst is written, stack, out or a map value
                scalar(v, pc, a[0], name, "r1");
                long max = size(v, pc, a[2], name, "r3", false);
                v.helperWrite(pc, s, a[1], ((Value.Scal) a[2]).s().umin(), max, name + " dst (r2)");
                return Value.scalar(Scalar.signedRange(-4095, 0));
            }
            case Helpers.FOR_EACH_MAP_ELEM -> {
                return ForEachCheck.check(v, pc, s, name, a);
            }
            default -> throw v.rejectAt(pc, "unknown helper", Helpers.describeUnsupported(id));
        }
    }

    private static MapDef map(Verifier v, int pc, Value a, String name, String reg) {
        if (a instanceof Value.Ptr p && p.kind() == Value.Kind.MAP_PTR) {
            if (p.maybeNull()) {
                throw v.rejectAt(pc, "helper argument mismatch", name + " " + reg + " is " + a
                        + ": an inner map from a map-in-map lookup needs a null check first");
            }
            return v.maps().get(p.map());
        }
        throw v.rejectAt(pc, "helper argument mismatch", name + " needs a map (lddw map_idx) in " + reg + ", not " + a);
    }

    private static MapDef ringbuf(Verifier v, int pc, Value a, String name) {
        MapDef m = map(v, pc, a, name, "r1");
        if (m.type() != MapType.RINGBUF) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " needs a ringbuf in r1, not " + m.type().id());
        }
        return m;
    }

    private static void ctx(Verifier v, int pc, Value a, String name) {
        if (!(a instanceof Value.Ptr p) || p.kind() != Value.Kind.CTX || p.fixed() != 0) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " needs the context in r1, not " + a);
        }
    }

    private static void scalar(Verifier v, int pc, Value a, String name, String reg) {
        if (!(a instanceof Value.Scal)) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " needs a number in " + reg + ", not " + a);
        }
    }

    /** {@return the largest value of a size argument} */
    private static long size(Verifier v, int pc, Value a, String name, String reg, boolean zeroOk) {
        if (!(a instanceof Value.Scal sc)) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " size " + reg + " is " + a + ", not a number");
        }
        Scalar x = sc.s();
        if (x.smin() < 0 || x.umax() > MAX_SIZE) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " size " + reg + " is not bounded (" + x + ")");
        }
        if (!zeroOk && x.umin() == 0) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " size " + reg + " may be zero");
        }
        return x.umax();
    }

    private static void memOrNull(Verifier v, int pc, State s, Value a, long size, String what) {
        if (a instanceof Value.Scal z && z.s().isConstant() && z.s().constantValue() == 0) {
            if (size > 0) {
                throw v.rejectAt(pc, "helper argument mismatch", what + " is null with a non-zero size");
            }
            return;
        }
        v.helperMemory(pc, s, a, size, false, what);
    }
}
