package dev.prism.target;

/**
 * The outcome of one run.
 *
 * @param r0          the 64-bit return value (for XDP, the action)
 * @param memAfter    raw programs: the input memory after the run
 * @param packetAfter XDP programs: the frame from data_meta to data_end after the run, exactly
 *                    what Linux's test run returns as data_out; null for raw programs
 */
public record RunResult(long r0, byte[] memAfter, byte[] packetAfter) {
    public RunResult {
        memAfter = memAfter == null ? new byte[0] : memAfter.clone();
        packetAfter = packetAfter == null ? null : packetAfter.clone();
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

    /** {@return the XDP action name of r0, or "unknown action N"} */
    public String xdpAction() {
        return r0 >= 0 && r0 < XDP_ACTIONS.length ? XDP_ACTIONS[(int) r0] : "unknown action " + r0;
    }
}
