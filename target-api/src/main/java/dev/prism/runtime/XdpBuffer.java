package dev.prism.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One XDP frame laid out as Linux's {@code BPF_PROG_TEST_RUN} lays it out for an XDP program
 * (net/bpf/test_run.c, bpf_prog_test_run_xdp), so that {@code xdp_adjust_head/meta/tail}
 * succeed and fail exactly where the kernel's do:
 * <pre>
 *   0                 40            256                      256+len          4096-320   4096
 *   | struct xdp_frame | headroom... | data_meta=data ... data_end | tailroom ...| shared_info |
 *
 * All limits were checked against Linux 6.18's test run on this machine with 64-byte packets:
 * adjust_head accepts -216 and refuses -217 and +51; adjust_meta refuses -220 (EINVAL) and -3
 * (EACCES); adjust_tail accepts +3456 and -50, refuses +3457 and -51.
 *   data_hard_start                                                            data_hard_end
 * </pre>
 * {@code XDP_PACKET_HEADROOM} is 256; the frame is one 4096-byte page whose last 320 bytes
 * ({@code SKB_DATA_ALIGN(sizeof(struct skb_shared_info))}) are not packet; the first 40 bytes
 * ({@code sizeof(struct xdp_frame)}) may not be reached by moving data or data_meta down.
 * Offsets here are from data_hard_start.
 */
public final class XdpBuffer {
    /** XDP_PACKET_HEADROOM. */
    public static final int HEADROOM = 256;
    /** The page the frame lives in. */
    public static final int FRAME_SIZE = 4096;
    /** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: the tail the packet may not grow into. */
    public static final int TAILROOM = 320;
    /** sizeof(struct xdp_frame): the bottom of the headroom that data and data_meta may not enter. */
    public static final int XDP_FRAME_SIZE = 40;
    /** The largest packet a single-buffer test run takes. */
    public static final int MAX_PACKET = FRAME_SIZE - HEADROOM - TAILROOM;
    /** ETH_HLEN: adjust_head and adjust_tail keep at least an Ethernet header. */
    public static final int ETH_HLEN = 14;
    /**
     * Metadata length limit: a multiple of 4 up to the u8 {@code skb_shared_info.meta_len}
     * (xdp_metalen_invalid). Measured on 6.18: 216 bytes (down to the xdp_frame) is accepted.
     */
    public static final int META_MAX = 255;
    /** The smallest packet Linux's XDP test run takes (ETH_HLEN). */
    public static final int MIN_PACKET = ETH_HLEN;

    private static final int EINVAL = -22;
    private static final int EACCES = -13;

    private final MemorySegment frame;
    /** The target of the run's last bpf_redirect / successful bpf_redirect_map (Linux's bpf_redirect_info). */
    private dev.prism.target.RunResult.Redirect redirect;
    private int dataMeta;
    private int data;
    private int dataEnd;

    /** Copies {@code packet} into a fresh frame in {@code arena}. */
    public XdpBuffer(Arena arena, byte[] packet) {
        if (packet.length < MIN_PACKET) {
            throw new IllegalArgumentException("an XDP packet needs at least " + MIN_PACKET
                    + " bytes (an Ethernet header), as Linux's test run does; got " + packet.length);
        }
        if (packet.length > MAX_PACKET) {
            throw new IllegalArgumentException("packet of " + packet.length + " bytes exceeds the "
                    + MAX_PACKET + " bytes one XDP frame holds (4096 - 256 headroom - 320 shared info)");
        }
        frame = arena.allocate(FRAME_SIZE, 8);
        MemorySegment.copy(packet, 0, frame, ValueLayout.JAVA_BYTE, HEADROOM, packet.length);
        data = HEADROOM;
        dataMeta = HEADROOM;
        dataEnd = HEADROOM + packet.length;
    }

    /** {@return the redirect target the run chose last, or null} */
    public dev.prism.target.RunResult.Redirect redirect() {
        return redirect;
    }

    /** Records the redirect target a helper chose (a later one replaces it, as in Linux). */
    public void redirect(dev.prism.target.RunResult.Redirect target) {
        this.redirect = target;
    }

    /** {@return the whole 4096-byte frame} */
    public MemorySegment frame() {
        return frame;
    }

    public int dataMeta() {
        return dataMeta;
    }

    public int data() {
        return data;
    }

    public int dataEnd() {
        return dataEnd;
    }

    /**
     * Takes data_meta, data and data_end (offsets from data_hard_start) from a context that
     * native code moved (helpers compiled to native code write the context, not this object).
     *
     * @throws IllegalStateException when they are not in order inside the frame: the native
     *         helper broke the limits it shares with {@link #adjustHead} and its siblings
     */
    public void bounds(long dataMeta, long data, long dataEnd) {
        if (dataMeta < XDP_FRAME_SIZE || dataMeta > data || data + ETH_HLEN > dataEnd || dataEnd > FRAME_SIZE - TAILROOM) {
            throw new IllegalStateException("XDP context out of its frame: data_meta " + dataMeta + ", data " + data
                    + ", data_end " + dataEnd + " (from data_hard_start)");
        }
        this.dataMeta = (int) dataMeta;
        this.data = (int) data;
        this.dataEnd = (int) dataEnd;
    }

    /**
     * {@return what Linux's test run hands back as data_out: data_meta to data_end, so metadata
     * the program added comes first (measured: 64 bytes in, adjust_meta(-8), 72 bytes out)}
     */
    public byte[] output() {
        return frame.asSlice(dataMeta, dataEnd - dataMeta).toArray(ValueLayout.JAVA_BYTE);
    }

    /** {@return the packet as the program left it: data to data_end} */
    public byte[] packet() {
        return frame.asSlice(data, dataEnd - data).toArray(ValueLayout.JAVA_BYTE);
    }

    /** {@return the metadata area: data_meta to data} */
    public byte[] metadata() {
        return frame.asSlice(dataMeta, data - dataMeta).toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * bpf_xdp_adjust_head: move data by {@code delta}; the metadata moves along.
     *
     * @return 0, or -EINVAL when data would enter the xdp_frame area (below 40 + metadata) or
     *         leave less than an Ethernet header
     */
    public int adjustHead(int delta) {
        int metaLen = data - dataMeta;
        long newData = (long) data + delta;
        if (newData < XDP_FRAME_SIZE + metaLen || newData > dataEnd - ETH_HLEN) {
            return EINVAL;
        }
        if (metaLen > 0) {
            MemorySegment.copy(frame, dataMeta, frame, dataMeta + delta, metaLen);
        }
        dataMeta += delta;
        data = (int) newData;
        return 0;
    }

    /**
     * bpf_xdp_adjust_meta: move data_meta by {@code delta}.
     *
     * @return 0, -EINVAL when it would enter the xdp_frame area or pass data, -EACCES when the
     *         metadata length is not a multiple of 4 or exceeds 32 bytes
     */
    public int adjustMeta(int delta) {
        long meta = (long) dataMeta + delta;
        if (meta < XDP_FRAME_SIZE || meta > data) {
            return EINVAL;
        }
        long metaLen = data - meta;
        if ((metaLen & 3) != 0 || metaLen > META_MAX) {
            return EACCES;
        }
        dataMeta = (int) meta;
        return 0;
    }

    /**
     * bpf_xdp_adjust_tail: move data_end by {@code delta}; grown bytes are zeroed, as Linux does.
     *
     * @return 0, or -EINVAL past the frame's end (minus shared info) or below data + ETH_HLEN
     */
    public int adjustTail(int delta) {
        long newEnd = (long) dataEnd + delta;
        if (newEnd > FRAME_SIZE - TAILROOM || newEnd < data + ETH_HLEN) {
            return EINVAL;
        }
        if (delta > 0) {
            frame.asSlice(dataEnd, delta).fill((byte) 0);
        }
        dataEnd = (int) newEnd;
        return 0;
    }
}
