package dev.prism.verifier;

import dev.prism.program.SkbContext;
import dev.prism.verifier.domain.Scalar;
import dev.prism.verifier.domain.ScalarAlu;

/**
 * Accesses of a tc (sched_cls) program to its context, {@code struct __sk_buff}, with Linux's
 * rules (net/core/filter.c: tc_cls_act_is_valid_access, bpf_skb_is_valid_access,
 * bpf_ctx_narrow_access_ok), for the fields {@link SkbContext} supports:
 * <ul>
 * <li>data and data_end: 4-byte loads only, not sign-extending; they give the packet pointers;</li>
 * <li>cb[0..4]: loads and stores of 1, 2, 4 or 8 bytes at a multiple of the size, inside cb;</li>
 * <li>the other u32 fields: loads of 1, 2 or 4 bytes at a multiple of the size; stores of
 *     exactly 4 bytes to mark, priority and tc_classid only.</li>
 * </ul>
 * Every other field is refused with its name ("not supported: __sk_buff field X").
 */
final class SkbAccess {
    private SkbAccess() {
    }

    /** {@return what a load gives (for a store, the stored value is the caller's)} */
    static Value check(Verifier v, int pc, long off, int size, boolean write, boolean signExtend) {
        String what = "off=" + off + " size=" + size;
        if (off < 0 || off >= SkbContext.USER_SIZE || off % size != 0) {
            throw v.rejectAt(pc, "invalid context access", what);
        }
        SkbContext.Field f = SkbContext.field(off);
        if (f == null) {
            throw v.rejectAt(pc, "invalid context access", "not supported: __sk_buff field " + SkbContext.nameAt(off)
                    + " (" + what + "; tc programs here read len, mark, protocol, priority, ifindex, cb, hash,"
                    + " tc_classid, data and data_end)");
        }
        if (off + size > f.userOffset() + f.size()) {
            throw v.rejectAt(pc, "invalid context access", what + " crosses the end of " + f.name());
        }
        if (f.pointer()) {
            if (write) {
                throw v.rejectAt(pc, "write to read-only context", f.name() + " (" + what + ")");
            }
            if (size != 4 || signExtend) {
                throw v.rejectAt(pc, "invalid context access", f.name() + " is read as a whole u32 (" + what + ")");
            }
            return off == SkbContext.USER_DATA
                    ? new Value.Ptr(Value.Kind.PACKET, 0, Scalar.constant(0), 0, 0, false, 0, 0)
                    : new Value.Ptr(Value.Kind.PACKET_END, 0, Scalar.constant(0), 0, 0, false, 0, 0);
        }
        boolean cb = f.userOffset() == SkbContext.USER_CB;
        if (write) {
            if (!f.writable()) {
                throw v.rejectAt(pc, "write to read-only context", f.name() + " (" + what + ")");
            }
            if (!cb && size != 4) {
                throw v.rejectAt(pc, "invalid context access", f.name() + " is written as a whole u32 (" + what + ")");
            }
            return null;
        }
        if (!cb && size > 4) {
            throw v.rejectAt(pc, "invalid context access", what + " is wider than " + f.name());
        }
        return Value.scalar(ScalarAlu.load(size, signExtend));
    }
}
