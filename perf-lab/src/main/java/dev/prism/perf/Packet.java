package dev.prism.perf;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One input frame of a benchmark.
 *
 * @param label how reports name it: "64 B" for a built frame, the file name and size otherwise
 * @param bytes the Ethernet frame
 */
public record Packet(String label, byte[] bytes) {
    /** Ethernet (14) + IPv4 without options (20) + UDP (8). */
    public static final int MIN_SIZE = 14 + 20 + 8;
    /**
     * The largest frame BPF_PROG_TEST_RUN takes for an XDP program without frags support: a
     * 4 KiB page less XDP_PACKET_HEADROOM (256) and the skb_shared_info tailroom (320)
     * (net/bpf/test_run.c, bpf_prog_test_run_xdp).
     */
    public static final int MAX_SIZE = 4096 - 256 - 320;

    private static final int ETH_P_IP = 0x0800;
    private static final int IPPROTO_UDP = 17;

    public Packet {
        Objects.requireNonNull(label);
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    public int size() {
        return bytes.length;
    }

    /**
     * {@return a frame of {@code size} bytes that the examples' parsers take their main path
     * on}: Ethernet 02:00:00:00:00:01 to 02:00:00:00:00:02, IPv4 10.0.0.1 to 10.0.0.2 (TTL 64,
     * don't fragment, header checksum valid), UDP 40000 to 5353 with a valid checksum, and a
     * payload of counting bytes (which never spells the "EVIL" that loop.c looks for)
     *
     * @throws IllegalArgumentException when {@code size} is outside [{@value #MIN_SIZE},
     *                                  {@value #MAX_SIZE}]
     */
    public static Packet udp(int size) {
        if (size < MIN_SIZE || size > MAX_SIZE) {
            throw new IllegalArgumentException("packet size " + size + " is outside " + MIN_SIZE + ".." + MAX_SIZE
                    + " (Ethernet + IPv4 + UDP headers at least; at most what BPF_PROG_TEST_RUN takes for XDP)");
        }
        byte[] frame = new byte[size];
        ByteBuffer b = ByteBuffer.wrap(frame); // network order
        b.put(new byte[] {2, 0, 0, 0, 0, 2}).put(new byte[] {2, 0, 0, 0, 0, 1}).putShort((short) ETH_P_IP);
        int ip = b.position();
        int ipLength = size - 14;
        b.put((byte) 0x45).put((byte) 0)           // version 4, ihl 5; dscp/ecn 0
                .putShort((short) ipLength)
                .putShort((short) 0x1234)           // identification
                .putShort((short) 0x4000)           // DF, fragment offset 0
                .put((byte) 64).put((byte) IPPROTO_UDP)
                .putShort((short) 0)                // checksum, below
                .put(new byte[] {10, 0, 0, 1}).put(new byte[] {10, 0, 0, 2});
        b.putShort(ip + 10, (short) checksum(frame, ip, 20, 0));
        int udp = b.position();
        int udpLength = size - udp;
        b.putShort((short) 40000).putShort((short) 5353).putShort((short) udpLength).putShort((short) 0);
        for (int i = b.position(); i < size; i++) {
            frame[i] = (byte) (i - udp);
        }
        // RFC 768: the sum covers a pseudo header (addresses, protocol, UDP length) and the datagram
        long pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + IPPROTO_UDP + udpLength;
        int sum = checksum(frame, udp, udpLength, pseudo);
        b.putShort(udp + 6, (short) (sum == 0 ? 0xffff : sum));
        return new Packet(size + " B", frame);
    }

    /** {@return a packet read from a file: its name and size label it} */
    public static Packet of(String name, byte[] frame) {
        if (frame.length < 14 || frame.length > MAX_SIZE) {
            throw new IllegalArgumentException(name + ": " + frame.length + " bytes; an Ethernet frame for BPF_PROG_TEST_RUN "
                    + "has 14.." + MAX_SIZE);
        }
        return new Packet(name + " (" + frame.length + " B)", frame);
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes at {@code off}, plus {@code initial}. */
    static int checksum(byte[] data, int off, int length, long initial) {
        long sum = initial;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += ((data[off + i] & 0xff) << 8) | (data[off + i + 1] & 0xff);
        }
        if ((length & 1) != 0) {
            sum += (data[off + length - 1] & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }
}
