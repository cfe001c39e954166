package dev.prism.target;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The fields of a tc program's {@code struct __sk_buff} that a run takes in and gives back,
 * as Linux's {@code BPF_PROG_TEST_RUN} does with ctx_in and ctx_out (net/bpf/test_run.c,
 * convert___skb_to_skb and convert_skb_to___skb): mark, priority and cb[5] both ways.
 * tc_classid is written by programs but not copied out by Linux's test run, so the kernel
 * oracle reports it as unknown (null) and comparisons skip it there.
 *
 * @param mark      skb->mark
 * @param priority  skb->priority
 * @param cb        the 20 bytes of cb[0..4], in memory order
 * @param tcClassid the u16 tc_classid after a run; null in inputs and where unknown
 */
public record SkbFields(int mark, int priority, byte[] cb, Integer tcClassid) {
    /** Bytes of cb[5]. */
    public static final int CB_SIZE = 20;

    /** All zero: what a test run without ctx_in starts from. */
    public static final SkbFields ZERO = new SkbFields(0, 0, new byte[CB_SIZE], null);

    public SkbFields {
        cb = cb == null ? new byte[CB_SIZE] : cb.clone();
        if (cb.length != CB_SIZE) {
            throw new IllegalArgumentException("cb holds " + CB_SIZE + " bytes, not " + cb.length);
        }
    }

    @Override
    public byte[] cb() {
        return cb.clone();
    }

    /** {@return the same fields with tc_classid unknown, for comparing with the kernel} */
    public SkbFields withoutClassid() {
        return new SkbFields(mark, priority, cb, null);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SkbFields f && f.mark == mark && f.priority == priority && Arrays.equals(f.cb, cb)
                && java.util.Objects.equals(f.tcClassid, tcClassid);
    }

    @Override
    public int hashCode() {
        return (mark * 31 + priority) * 31 + Arrays.hashCode(cb);
    }

    @Override
    public String toString() {
        return "mark=" + Integer.toUnsignedString(mark) + " priority=" + Integer.toUnsignedString(priority)
                + " cb=" + HexFormat.of().formatHex(cb) + (tcClassid == null ? "" : " tc_classid=" + tcClassid);
    }
}
