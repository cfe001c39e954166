package dev.prism.isa;

/**
 * Byte swap instructions (RFC 9669 section 4.2): ALU class with source LE or BE converts from
 * host order (Prism, like BPF on every target it has, is little-endian: LE truncates, BE swaps);
 * ALU64 class is an unconditional swap (v4).
 */
public enum EndianOp {
    LE("le"), BE("be"), BSWAP("bswap");

    private final String mnemonic;

    EndianOp(String mnemonic) {
        this.mnemonic = mnemonic;
    }

    public String mnemonic() {
        return mnemonic;
    }
}
