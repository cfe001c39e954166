package dev.prism.target;

import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

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
 * @param redirect    XDP programs that return XDP_REDIRECT: where the frame goes (the last
 *                    bpf_redirect or successful bpf_redirect_map of the run); null otherwise,
 *                    and null on targets that cannot tell (Linux's test run does not say)
 * @param events      the records bpf_perf_event_output wrote during the run, in order; empty
 *                    when there were none
 */
public record RunResult(long r0, byte[] memAfter, byte[] packetAfter, SkbFields skbAfter, Redirect redirect,
                        List<Event> events) {
    public RunResult {
        memAfter = memAfter == null ? new byte[0] : memAfter.clone();
        packetAfter = packetAfter == null ? null : packetAfter.clone();
        events = events == null ? List.of() : List.copyOf(events);
    }

    public RunResult(long r0, byte[] memAfter, byte[] packetAfter) {
        this(r0, memAfter, packetAfter, null, null, List.of());
    }

    /** A tc program's result: no redirect map target, no events. */
    public RunResult(long r0, byte[] memAfter, byte[] packetAfter, SkbFields skbAfter) {
        this(r0, memAfter, packetAfter, skbAfter, null, List.of());
    }

    /** An XDP or raw program's result, with its redirect target and perf events. */
    public RunResult(long r0, byte[] memAfter, byte[] packetAfter, Redirect redirect, List<Event> events) {
        this(r0, memAfter, packetAfter, null, redirect, events);
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

    /**
     * Where an XDP_REDIRECT sends the frame.
     *
     * @param kind   {@link Kind#IFINDEX} for bpf_redirect and DEVMAP / DEVMAP_HASH (the device in
     *               the map's value), {@link Kind#CPU} for CPUMAP (the key), {@link Kind#QUEUE}
     *               for XSKMAP (the key: the AF_XDP socket of that slot)
     * @param target the ifindex, cpu or queue
     * @param map    the map bpf_redirect_map chose from, or null for bpf_redirect
     */
    public record Redirect(Kind kind, long target, String map) {
        public Redirect {
            Objects.requireNonNull(kind);
        }

        /** What a redirect target is. */
        public enum Kind {
            IFINDEX, CPU, QUEUE
        }

        @Override
        public String toString() {
            return kind.name().toLowerCase(java.util.Locale.ROOT) + " " + target + (map == null ? "" : " (map " + map + ")");
        }
    }

    /**
     * One bpf_perf_event_output record.
     *
     * @param map  the PERF_EVENT_ARRAY
     * @param cpu  the slot (CPU) the record went to
     * @param data the record: the program's bytes, then the packet bytes the flags asked for
     */
    public record Event(String map, int cpu, byte[] data) {
        public Event {
            Objects.requireNonNull(map);
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Event e && e.map.equals(map) && e.cpu == cpu && java.util.Arrays.equals(e.data, data);
        }

        @Override
        public int hashCode() {
            return Objects.hash(map, cpu, java.util.Arrays.hashCode(data));
        }

        @Override
        public String toString() {
            return map + " cpu " + cpu + ": " + HexFormat.of().formatHex(data);
        }
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
