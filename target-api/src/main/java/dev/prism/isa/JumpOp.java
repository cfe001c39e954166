package dev.prism.isa;

/** Conditional jump operations (RFC 9669 section 4.3). JA, CALL and EXIT have their own records. */
public enum JumpOp {
    JEQ(0x10, "jeq", CpuVersion.V1),
    JGT(0x20, "jgt", CpuVersion.V1),
    JGE(0x30, "jge", CpuVersion.V1),
    JSET(0x40, "jset", CpuVersion.V1),
    JNE(0x50, "jne", CpuVersion.V1),
    JSGT(0x60, "jsgt", CpuVersion.V1),
    JSGE(0x70, "jsge", CpuVersion.V1),
    JLT(0xa0, "jlt", CpuVersion.V2),
    JLE(0xb0, "jle", CpuVersion.V2),
    JSLT(0xc0, "jslt", CpuVersion.V2),
    JSLE(0xd0, "jsle", CpuVersion.V2);

    private final int code;
    private final String mnemonic;
    private final CpuVersion version;

    JumpOp(int code, String mnemonic, CpuVersion version) {
        this.code = code;
        this.mnemonic = mnemonic;
        this.version = version;
    }

    /** {@return the operation code in opcode position (mask 0xf0)} */
    public int code() {
        return code;
    }

    public String mnemonic() {
        return mnemonic;
    }

    /** {@return the lowest cpu version with this comparison in the 64-bit JMP class} */
    public CpuVersion version() {
        return version;
    }

    /** {@return the comparison that holds exactly when this one does not} */
    public JumpOp negate() {
        return switch (this) {
            case JEQ -> JNE;
            case JNE -> JEQ;
            case JGT -> JLE;
            case JLE -> JGT;
            case JGE -> JLT;
            case JLT -> JGE;
            case JSGT -> JSLE;
            case JSLE -> JSGT;
            case JSGE -> JSLT;
            case JSLT -> JSGE;
            case JSET -> throw new IllegalStateException("jset has no negated form");
        };
    }
}
