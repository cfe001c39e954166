package dev.prism.target;

/**
 * The input of one run. For {@code raw} programs: the memory r1 points to (empty for none).
 * Packets and maps join with the XDP program type.
 */
public record RunInput(byte[] mem) {
    public RunInput {
        mem = mem == null ? new byte[0] : mem.clone();
    }

    @Override
    public byte[] mem() {
        return mem.clone();
    }

    public static RunInput ofMem(byte[] mem) {
        return new RunInput(mem);
    }
}
