package dev.prism.isa;

/**
 * Arithmetic operations (RFC 9669 section 4.1). {@code SDIV} and {@code SMOD} share the DIV and
 * MOD codes and are told apart by {@code offset = 1}; NEG, MOVSX and the byte swaps have their
 * own instruction records ({@link Insn.Neg}, {@link Insn.MovSx}, {@link Insn.Endian}).
 */
public enum AluOp {
    ADD(0x00, 0, "add"),
    SUB(0x10, 0, "sub"),
    MUL(0x20, 0, "mul"),
    DIV(0x30, 0, "div"),
    SDIV(0x30, 1, "sdiv"),
    OR(0x40, 0, "or"),
    AND(0x50, 0, "and"),
    LSH(0x60, 0, "lsh"),
    RSH(0x70, 0, "rsh"),
    MOD(0x90, 0, "mod"),
    SMOD(0x90, 1, "smod"),
    XOR(0xa0, 0, "xor"),
    MOV(0xb0, 0, "mov"),
    ARSH(0xc0, 0, "arsh");

    private final int code;
    private final int offset;
    private final String mnemonic;

    AluOp(int code, int offset, String mnemonic) {
        this.code = code;
        this.offset = offset;
        this.mnemonic = mnemonic;
    }

    /** {@return the operation code, already in opcode position (mask 0xf0)} */
    public int code() {
        return code;
    }

    /** {@return the value the instruction's offset field carries: 1 for sdiv/smod, else 0} */
    public int offset() {
        return offset;
    }

    /** {@return the assembler mnemonic without width suffix} */
    public String mnemonic() {
        return mnemonic;
    }

    /** {@return true for the four division and modulo operations (conformance groups divmul32/64)} */
    public boolean isDivMod() {
        return this == DIV || this == SDIV || this == MOD || this == SMOD;
    }
}
