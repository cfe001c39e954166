package dev.prism.runtime;

import dev.prism.program.SkbContext;
import dev.prism.target.SkbFields;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One packet of a tc (sched_cls) program as Linux's {@code BPF_PROG_TEST_RUN} builds its
 * {@code sk_buff} (net/bpf/test_run.c, bpf_prog_test_run_skb), and the program's context in
 * the host layout of {@link SkbContext}:
 * <ul>
 * <li>the packet starts at the Ethernet header (sched_cls is an L2 program type); len is its
 *     length; protocol is what eth_type_trans gives (the EtherType, or ETH_P_802_3 / ETH_P_802_2
 *     for length fields); ifindex is 1 (the test run's loopback device); hash is 0;</li>
 * <li>mark, priority and cb come from the run's {@link SkbFields} (ctx_in); tc_classid starts
 *     at 0;</li>
 * <li>the helpers that move the packet's head (skb_change_head, skb_adjust_room) grow it into
 *     a front room as large as the longest packet Linux allows ({@link #MAX_LEN}), where the
 *     kernel would reallocate the head: the packet's end never moves.</li>
 * </ul>
 * Offsets are from the start of {@link #frame()}. The owner writes the pointer fields of the
 * context with {@link #writePointers} after creation and after every helper call.
 */
public final class SkbBuffer {
    /** BPF_SKB_MAX_LEN = SKB_MAX_ALLOC: 4 pages less the aligned skb_shared_info (16384 - 320). */
    public static final int MAX_LEN = 16064;
    /** The largest packet the test run takes: a page less NET_SKB_PAD (64) and skb_shared_info (320). */
    public static final int MAX_PACKET = 4096 - 64 - 320;
    /** ETH_HLEN: the smallest packet the test run takes. */
    public static final int MIN_PACKET = 14;
    /** Room in front of the packet for every growth Linux allows. */
    private static final int ROOM = 16384;

    static final long EINVAL = -22;
    static final long EFAULT = -14;
    static final long ENOMEM = -12;
    static final long EALREADY = -114;
    /** The kernel-internal ENOTSUPP (524) that skb_adjust_room returns. */
    static final long ENOTSUPP = -524;

    static final int ETH_P_IP = 0x0800;
    static final int ETH_P_IPV6 = 0x86dd;

    private final MemorySegment frame;
    private final MemorySegment ctx;
    private int data;
    private final int end;
    /** The network header's offset from data (skb_network_offset). */
    private int networkOffset = MIN_PACKET;
    /** skb->encapsulation, set by skb_adjust_room with an encapsulation flag. */
    private boolean encapsulation;

    /** Copies {@code packet} into a fresh skb in {@code arena}, with {@code in}'s mark, priority and cb. */
    public SkbBuffer(Arena arena, byte[] packet, SkbFields in) {
        if (packet.length < MIN_PACKET) {
            throw new IllegalArgumentException("a tc packet needs at least " + MIN_PACKET
                    + " bytes (an Ethernet header), as Linux's test run does; got " + packet.length);
        }
        if (packet.length > MAX_PACKET) {
            throw new IllegalArgumentException("packet of " + packet.length + " bytes exceeds the " + MAX_PACKET
                    + " bytes Linux's test run takes for an skb (4096 - 64 headroom - 320 shared info)");
        }
        int type = (packet[12] & 0xff) << 8 | (packet[13] & 0xff);
        if (type == ETH_P_IP && packet.length < MIN_PACKET + 20 || type == ETH_P_IPV6 && packet.length < MIN_PACKET + 40) {
            // measured on Linux 6.18: EINVAL for 33 bytes of IPv4 and 53 of IPv6, not for 34 and 54
            throw new IllegalArgumentException("an IPv" + (type == ETH_P_IP ? "4" : "6") + " packet needs at least "
                    + (MIN_PACKET + (type == ETH_P_IP ? 20 : 40)) + " bytes (its IP header) in Linux's skb test run; got "
                    + packet.length);
        }
        frame = arena.allocate(ROOM + packet.length, 8);
        ctx = arena.allocate(SkbContext.HOST_SIZE, 8);
        data = ROOM;
        end = ROOM + packet.length;
        MemorySegment.copy(packet, 0, frame, ValueLayout.JAVA_BYTE, data, packet.length);
        SkbFields f = in == null ? SkbFields.ZERO : in;
        ctx.set(ValueLayout.JAVA_INT, SkbContext.HOST_MARK, f.mark());
        ctx.set(ValueLayout.JAVA_INT, SkbContext.HOST_PRIORITY, f.priority());
        MemorySegment.copy(f.cb(), 0, ctx, ValueLayout.JAVA_BYTE, SkbContext.HOST_CB, SkbFields.CB_SIZE);
        ctx.set(ValueLayout.JAVA_INT, SkbContext.HOST_PROTOCOL, ethTypeTrans(packet));
        ctx.set(ValueLayout.JAVA_INT, SkbContext.HOST_IFINDEX, 1);
    }

    /**
     * eth_type_trans's protocol, as the u16 a program reads (network order in memory): the
     * EtherType from 0x0600 up, else htons(ETH_P_802_3) for a raw 802.3 frame (payload starting
     * 0xffff), else htons(ETH_P_802_2).
     */
    private static int ethTypeTrans(byte[] p) {
        int type = (p[12] & 0xff) << 8 | (p[13] & 0xff);
        int be;
        if (type >= 0x0600) {
            be = type;
        } else if (p.length >= 16 && (p[14] & 0xff) == 0xff && (p[15] & 0xff) == 0xff) {
            be = 0x0001;
        } else {
            be = 0x0004;
        }
        return Short.reverseBytes((short) be) & 0xffff;
    }

    /** {@return the memory the packet lives in} */
    public MemorySegment frame() {
        return frame;
    }

    /** {@return the context in the host layout} */
    public MemorySegment ctx() {
        return ctx;
    }

    public int data() {
        return data;
    }

    public int dataEnd() {
        return end;
    }

    public int len() {
        return end - data;
    }

    /** Writes data, data_end (as {@code base} + offset) and len into the context. */
    public void writePointers(long base) {
        ctx.set(ValueLayout.JAVA_LONG, SkbContext.HOST_DATA, base + data);
        ctx.set(ValueLayout.JAVA_LONG, SkbContext.HOST_DATA_END, base + end);
        ctx.set(ValueLayout.JAVA_INT, SkbContext.HOST_LEN, end - data);
    }

    /** {@return the packet after the run: what the test run returns as data_out} */
    public byte[] packet() {
        return frame.asSlice(data, end - data).toArray(ValueLayout.JAVA_BYTE);
    }

    /** {@return mark, priority, cb and tc_classid as the program left them} */
    public SkbFields fields() {
        byte[] cb = ctx.asSlice(SkbContext.HOST_CB, SkbFields.CB_SIZE).toArray(ValueLayout.JAVA_BYTE);
        return new SkbFields(ctx.get(ValueLayout.JAVA_INT, SkbContext.HOST_MARK), ctx.get(ValueLayout.JAVA_INT,
                SkbContext.HOST_PRIORITY), cb, ctx.get(ValueLayout.JAVA_INT, SkbContext.HOST_TC_CLASSID) & 0xffff);
    }

    int protocol() {
        return Short.reverseBytes((short) ctx.get(ValueLayout.JAVA_INT, SkbContext.HOST_PROTOCOL)) & 0xffff;
    }

    private void setProtocol(int proto) {
        ctx.set(ValueLayout.JAVA_INT, SkbContext.HOST_PROTOCOL, Short.reverseBytes((short) proto) & 0xffff);
    }

    void setHash(int hash) {
        ctx.set(ValueLayout.JAVA_INT, SkbContext.HOST_HASH, hash);
    }

    /** {@return whether [offset, offset + size) lies in the packet (pskb_may_pull on a linear skb)} */
    boolean inPacket(long offset, long size) {
        return offset >= 0 && size >= 0 && offset + size <= end - data;
    }

    /** {@return {@code size} packet bytes at {@code offset} from data} */
    byte[] read(int offset, int size) {
        return frame.asSlice(data + offset, size).toArray(ValueLayout.JAVA_BYTE);
    }

    /** Writes {@code bytes} at {@code offset} from data. */
    void write(int offset, byte[] bytes) {
        MemorySegment.copy(bytes, 0, frame, ValueLayout.JAVA_BYTE, data + offset, bytes.length);
    }

    /** The u16 at {@code offset} as the host (little-endian) reads it. */
    int u16(int offset) {
        return frame.get(ValueLayout.JAVA_SHORT_UNALIGNED, data + offset) & 0xffff;
    }

    void setU16(int offset, int v) {
        frame.set(ValueLayout.JAVA_SHORT_UNALIGNED, data + offset, (short) v);
    }

    /**
     * bpf_skb_change_head: {@code headRoom} zero bytes in front of the packet; the MAC header
     * moves to the new start, the network header stays where it was.
     *
     * @return 0, or -EINVAL for flags or a packet longer than {@link #MAX_LEN}
     */
    long changeHead(long headRoom, long flags) {
        long room = headRoom & 0xffff_ffffL;
        long newLen = (len() + room) & 0xffff_ffffL;
        if (flags != 0 || newLen > MAX_LEN || newLen < len()) {
            return EINVAL;
        }
        data -= (int) room;
        frame.asSlice(data, room).fill((byte) 0);
        networkOffset += (int) room;
        return 0;
    }

    /** BPF_F_ADJ_ROOM_* (include/uapi/linux/bpf.h). */
    static final long ADJ_ROOM_FIXED_GSO = 1;
    static final long ADJ_ROOM_ENCAP_L3_IPV4 = 1 << 1;
    static final long ADJ_ROOM_ENCAP_L3_IPV6 = 1 << 2;
    static final long ADJ_ROOM_NO_CSUM_RESET = 1 << 5;
    static final long ADJ_ROOM_DECAP_L3_IPV4 = 1 << 7;
    static final long ADJ_ROOM_DECAP_L3_IPV6 = 1 << 8;
    static final long ADJ_ROOM_ENCAP_L3_MASK = ADJ_ROOM_ENCAP_L3_IPV4 | ADJ_ROOM_ENCAP_L3_IPV6;
    static final long ADJ_ROOM_DECAP_L3_MASK = ADJ_ROOM_DECAP_L3_IPV4 | ADJ_ROOM_DECAP_L3_IPV6;
    /** The flags Prism models; the rest (L4 GRE/UDP, inner L2) are refused by name. */
    static final long ADJ_ROOM_SUPPORTED = ADJ_ROOM_FIXED_GSO | ADJ_ROOM_ENCAP_L3_MASK | ADJ_ROOM_NO_CSUM_RESET
            | ADJ_ROOM_DECAP_L3_MASK;
    /** BPF_F_ADJ_ROOM_MASK | BPF_F_ADJ_ROOM_NO_CSUM_RESET: every flag Linux knows. */
    static final long ADJ_ROOM_KNOWN = 0xff00_0000_0000_01ffL;

    /**
     * bpf_skb_adjust_room (net/core/filter.c): insert ({@code lenDiff} > 0) or remove room of
     * {@code |lenDiff|} bytes after the MAC header (mode 1, BPF_ADJ_ROOM_MAC) or after the
     * network header's base length (mode 0, BPF_ADJ_ROOM_NET: 20 for IPv4, 40 for IPv6), moving
     * the headers in front of it; inserted bytes are zero.
     *
     * @return 0, -EINVAL, -EFAULT, -ENOMEM, -EALREADY or -ENOTSUPP (524) where Linux returns them
     * @throws IllegalStateException for flags Prism does not model
     */
    long adjustRoom(long lenDiffArg, long modeArg, long flags) {
        int lenDiff = (int) lenDiffArg;
        long mode = modeArg & 0xffff_ffffL;
        if ((flags & ~ADJ_ROOM_KNOWN) != 0) {
            return EINVAL;
        }
        if ((flags & ~ADJ_ROOM_SUPPORTED) != 0) {
            throw new IllegalStateException(String.format("not supported: flags 0x%x"
                    + " (L4 GRE/UDP and inner L2 encapsulation flags)", flags & ~ADJ_ROOM_SUPPORTED));
        }
        long abs = Math.abs((long) lenDiff);
        boolean shrink = lenDiff < 0;
        if (abs > 0xfff) {
            return EFAULT;
        }
        int proto = protocol();
        if (proto != ETH_P_IP && proto != ETH_P_IPV6) {
            return ENOTSUPP;
        }
        int base = proto == ETH_P_IP ? 20 : 40;
        int lenMin = base;
        long off = networkOffset; // skb_mac_header_len: the MAC header is always at data
        if (mode == 0) {
            off += base;
        } else if (mode != 1) {
            return ENOTSUPP;
        }
        if ((flags & ADJ_ROOM_DECAP_L3_MASK) != 0) {
            if (!shrink) {
                return EINVAL;
            }
            long decap = flags & ADJ_ROOM_DECAP_L3_MASK;
            if (decap == ADJ_ROOM_DECAP_L3_IPV4) {
                lenMin = 20;
            } else if (decap == ADJ_ROOM_DECAP_L3_IPV6) {
                lenMin = 40;
            } else {
                return EINVAL;
            }
        }
        long lenCur = len() - networkOffset;
        if (shrink ? abs >= lenCur || lenCur - abs < lenMin : len() + abs > MAX_LEN) {
            return ENOTSUPP;
        }
        return shrink ? shrink(off, (int) abs, flags) : grow(off, (int) abs, flags);
    }

    private long grow(long off, int len, long flags) {
        boolean encap = (flags & ADJ_ROOM_ENCAP_L3_MASK) != 0;
        if (encap) {
            if ((flags & ADJ_ROOM_ENCAP_L3_MASK) == ADJ_ROOM_ENCAP_L3_MASK) {
                return EINVAL;
            }
            if (encapsulation) {
                return EALREADY;
            }
        }
        if (off > len()) {
            // Linux's memmove then copies bytes from past the packet's end (the skb's tailroom and
            // shared info) into it: not reproducible, so refused by name. It takes a protocol
            // switched by an earlier encapsulation with a base length longer than what follows.
            throw new IllegalStateException("not supported: room inserted " + off + " bytes in (BPF_ADJ_ROOM_NET),"
                    + " past the end of a " + len() + "-byte packet");
        }
        // bpf_skb_generic_push: skb_push, move the first off bytes to the new start, zero the gap
        data -= len;
        MemorySegment.copy(frame, data + len, frame, data, off);
        frame.asSlice(data + off, len).fill((byte) 0);
        if (encap) {
            encapsulation = true;
            int proto = protocol();
            if (proto == ETH_P_IP && (flags & ADJ_ROOM_ENCAP_L3_IPV6) != 0) {
                setProtocol(ETH_P_IPV6);
            } else if (proto == ETH_P_IPV6 && (flags & ADJ_ROOM_ENCAP_L3_IPV4) != 0) {
                setProtocol(ETH_P_IP);
            }
        }
        return 0;
    }

    private long shrink(long off, int len, long flags) {
        if ((flags & ~(ADJ_ROOM_FIXED_GSO | ADJ_ROOM_DECAP_L3_MASK | ADJ_ROOM_NO_CSUM_RESET)) != 0) {
            return EINVAL;
        }
        if (off + len > len()) {
            return ENOMEM; // pskb_may_pull fails
        }
        // bpf_skb_generic_pop: move the first off bytes forward over the removed ones, pull
        MemorySegment.copy(frame, data, frame, data + len, off);
        data += len;
        int proto = protocol();
        if (proto == ETH_P_IP && (flags & ADJ_ROOM_DECAP_L3_IPV6) != 0) {
            setProtocol(ETH_P_IPV6);
        } else if (proto == ETH_P_IPV6 && (flags & ADJ_ROOM_DECAP_L3_IPV4) != 0) {
            setProtocol(ETH_P_IP);
        }
        return 0;
    }
}
