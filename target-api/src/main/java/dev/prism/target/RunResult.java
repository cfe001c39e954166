package dev.prism.target;

/**
 * The outcome of one run.
 *
 * @param r0          the 64-bit return value (for XDP, the action)
 * @param memAfter    raw programs: the input memory after the run
 * @param packetAfter XDP programs: the frame from data_meta to data_end after the run, exactly
 *                    what Linux's test run returns as data_out (tc programs: data to data_end);
 *                    null for raw programs
 * @param skbAfter    tc programs: mark, priority, cb and tc_classid after the run (Linux's
 *                    ctx_out; the kernel oracle cannot report tc_classid); null for the others
 */
public record RunResult(long r0, byte[] memAfter, byte[] packetAfter, SkbFields skbAfter) {
    public RunResult {
        memAfter = memAfter == null ? new byte[0] : memAfter.clone();
        packetAfter = packetAfter == null ? null : packetAfter.clone();
    }

    public RunResult(long r0, byte[] memAfter, byte[] packetAfter) {
        this(r0, memAfter, packetAfter, null);
    }

    public RunResult(long r0, byte[] memAfter) {
        this(r0, memAfter, null);
    }

    @Override
    public byte[] memAfter() {
        return memAfter.clone();
    }

    @Override
    public byte[] packetAfter() {
        return packetAfter == null ? null : packetAfter.clone();
    }

    /** XDP actions by value (enum xdp_action). */
    private static final String[] XDP_ACTIONS = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"};

    /** tc actions by value (TC_ACT_*, include/uapi/linux/pkt_cls.h), from TC_ACT_UNSPEC (-1). */
    private static final String[] TC_ACTIONS = {"TC_ACT_UNSPEC", "TC_ACT_OK", "TC_ACT_RECLASSIFY", "TC_ACT_SHOT",
        "TC_ACT_PIPE", "TC_ACT_STOLEN", "TC_ACT_QUEUED", "TC_ACT_REPEAT", "TC_ACT_REDIRECT", "TC_ACT_TRAP"};

    /** {@return the tc action name of the u32 r0 (TC_ACT_UNSPEC is 0xffffffff), or "unknown action N"} */
    public String tcAction() {
        long v = (int) r0;
        return v >= -1 && v < TC_ACTIONS.length - 1 ? TC_ACTIONS[(int) v + 1] : "unknown action " + r0;
    }

    /** {@return the XDP action name of r0, or "unknown action N"} */
    public String xdpAction() {
        return r0 >= 0 && r0 < XDP_ACTIONS.length ? XDP_ACTIONS[(int) r0] : "unknown action " + r0;
    }
}
