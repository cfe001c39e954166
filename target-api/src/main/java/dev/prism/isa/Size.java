package dev.prism.isa;

/** Memory access size (RFC 9669 section 5.1, the "size" field). */
public enum Size {
    /** word, 4 bytes */
    W(4, 0x00, "w"),
    /** half word, 2 bytes */
    H(2, 0x08, "h"),
    /** byte */
    B(1, 0x10, "b"),
    /** double word, 8 bytes */
    DW(8, 0x18, "dw");

    private final int bytes;
    private final int bits;
    private final String suffix;

    Size(int bytes, int bits, String suffix) {
        this.bytes = bytes;
        this.bits = bits;
        this.suffix = suffix;
    }

    /** {@return the access size in bytes} */
    public int bytes() {
        return bytes;
    }

    /** {@return the size field already shifted into opcode position (mask 0x18)} */
    public int opcodeBits() {
        return bits;
    }

    /** {@return the mnemonic suffix: b, h, w, dw} */
    public String suffix() {
        return suffix;
    }

    static Size fromOpcodeBits(int bits) {
        return switch (bits & 0x18) {
            case 0x00 -> W;
            case 0x08 -> H;
            case 0x10 -> B;
            default -> DW;
        };
    }
}
