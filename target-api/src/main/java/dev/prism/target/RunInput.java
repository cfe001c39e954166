package dev.prism.target;

/**
 * The input of one run: for {@code raw} programs the memory r1 points to (empty for none); for
 * {@code xdp} programs the packet, placed as Linux's test run places it (256 bytes of headroom).
 *
 * @param mem    raw programs' memory
 * @param packet XDP programs' packet, or null for raw programs
 */
public record RunInput(byte[] mem, byte[] packet) {
    public RunInput {
        mem = mem == null ? new byte[0] : mem.clone();
        packet = packet == null ? null : packet.clone();
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
}
