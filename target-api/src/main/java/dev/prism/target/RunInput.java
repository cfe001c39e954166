package dev.prism.target;

/**
 * The input of one run: for {@code raw} programs the memory r1 points to (empty for none); for
 * {@code xdp} programs the packet, placed as Linux's test run places it (256 bytes of headroom);
 * for {@code tc} programs the packet and the skb fields the run starts with (Linux's ctx_in).
 *
 * @param mem    raw programs' memory
 * @param packet XDP and tc programs' packet, or null for raw programs
 * @param skb    tc programs: mark, priority and cb at the start (null: all zero)
 */
public record RunInput(byte[] mem, byte[] packet, SkbFields skb) {
    public RunInput {
        mem = mem == null ? new byte[0] : mem.clone();
        packet = packet == null ? null : packet.clone();
    }

    public RunInput(byte[] mem, byte[] packet) {
        this(mem, packet, null);
    }

    @Override
    public byte[] mem() {
        return mem.clone();
    }

    @Override
    public byte[] packet() {
        return packet == null ? null : packet.clone();
    }

    public static RunInput ofMem(byte[] mem) {
        return new RunInput(mem, null);
    }

    public static RunInput ofPacket(byte[] packet) {
        return new RunInput(null, packet);
    }

    /** {@return a tc program's input: the packet with {@code skb}'s mark, priority and cb} */
    public static RunInput ofSkb(byte[] packet, SkbFields skb) {
        return new RunInput(null, packet, skb);
    }
}
