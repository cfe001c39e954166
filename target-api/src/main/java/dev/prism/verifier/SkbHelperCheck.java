package dev.prism.verifier;

import dev.prism.program.ProgramType;
import dev.prism.runtime.HelperProto;
import dev.prism.runtime.Helpers;
import dev.prism.verifier.domain.Scalar;

/**
 * Calls to the helpers of tc (sched_cls) programs, checked against Linux's prototypes
 * (net/core/filter.c): the context in r1; skb_store_bytes reads initialized memory of the
 * non-zero constant-bounded size in r4, skb_load_bytes writes (and so initializes) it; the
 * helpers that may move or rewrite the packet (bpf_helper_changes_pkt_data: store_bytes,
 * l3/l4_csum_replace, change_head, adjust_room) invalidate every packet pointer. Linux offers
 * these helpers to tc programs only, and refuses them elsewhere as an unknown function.
 */
final class SkbHelperCheck {
    private static final long MAX_SIZE = 1 << 29;

    private SkbHelperCheck() {
    }

    static Value check(Verifier v, int pc, State s, HelperProto proto, Value[] a) {
        String name = "bpf_" + proto.name();
        if (v.program().type() != ProgramType.TC) {
            throw v.rejectAt(pc, "unknown helper", proto + " is not available to " + v.program().type().id()
                    + " programs (tc programs only)");
        }
        ctx(v, pc, a[0], name);
        switch (proto.id()) {
            case Helpers.SKB_STORE_BYTES -> {
                scalar(v, pc, a[1], name, "r2");
                long size = size(v, pc, a[3], name, "r4");
                v.helperMemory(pc, s, a[2], size, false, name + " from (r3)");
                scalar(v, pc, a[4], name, "r5");
                v.invalidatePackets(s);
            }
            case Helpers.SKB_LOAD_BYTES -> {
                scalar(v, pc, a[1], name, "r2");
                long size = size(v, pc, a[3], name, "r4");
                v.helperMemory(pc, s, a[2], size, true, name + " to (r3)");
            }
            case Helpers.L3_CSUM_REPLACE, Helpers.L4_CSUM_REPLACE -> {
                for (int r = 1; r <= 4; r++) {
                    scalar(v, pc, a[r], name, "r" + (r + 1));
                }
                v.invalidatePackets(s);
            }
            case Helpers.GET_HASH_RECALC -> {
                return Value.scalar(Scalar.unsignedRange(0, 0xffff_ffffL));
            }
            case Helpers.SKB_CHANGE_HEAD -> {
                scalar(v, pc, a[1], name, "r2");
                scalar(v, pc, a[2], name, "r3");
                v.invalidatePackets(s);
            }
            case Helpers.SKB_ADJUST_ROOM -> {
                scalar(v, pc, a[1], name, "r2");
                scalar(v, pc, a[2], name, "r3");
                scalar(v, pc, a[3], name, "r4");
                v.invalidatePackets(s);
            }
            default -> throw new IllegalArgumentException(proto + " is not a tc helper");
        }
        return Value.scalar(Scalar.signedRange(-4095, 0));
    }

    /** Linux offers the XDP helpers (xdp_adjust_head, ...) to XDP programs only. */
    static void refuseInTc(Verifier v, int pc, HelperProto proto) {
        if (v.program().type() == ProgramType.TC) {
            throw v.rejectAt(pc, "unknown helper", proto + " is not available to tc programs (xdp programs only)");
        }
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

    /** ARG_CONST_SIZE: bounded and non-zero. {@return its largest value} */
    private static long size(Verifier v, int pc, Value a, String name, String reg) {
        if (!(a instanceof Value.Scal sc)) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " size " + reg + " is " + a + ", not a number");
        }
        Scalar x = sc.s();
        if (x.smin() < 0 || x.umax() > MAX_SIZE) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " size " + reg + " is not bounded (" + x + ")");
        }
        if (x.umin() == 0) {
            throw v.rejectAt(pc, "helper argument mismatch", name + " size " + reg + " may be zero");
        }
        return x.umax();
    }
}
