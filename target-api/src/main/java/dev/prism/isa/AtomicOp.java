package dev.prism.isa;

/**
 * Atomic operations (RFC 9669 section 5.3), as carried in the {@code imm} field of an
 * STX|ATOMIC instruction. The FETCH flag (0x01) makes the old value come back in {@code src};
 * XCHG and CMPXCHG always fetch, CMPXCHG compares with and returns into r0.
 */
public enum AtomicOp {
    ADD(0x00, "add"),
    OR(0x40, "or"),
    AND(0x50, "and"),
    XOR(0xa0, "xor"),
    FETCH_ADD(0x01, "fetch add"),
    FETCH_OR(0x41, "fetch or"),
    FETCH_AND(0x51, "fetch and"),
    FETCH_XOR(0xa1, "fetch xor"),
    XCHG(0xe1, "xchg"),
    CMPXCHG(0xf1, "cmpxchg");

    /** The FETCH modifier bit of the imm field. */
    public static final int FETCH = 0x01;

    private final int imm;
    private final String mnemonic;

    AtomicOp(int imm, String mnemonic) {
        this.imm = imm;
        this.mnemonic = mnemonic;
    }

    /** {@return the imm field value that selects this operation} */
    public int imm() {
        return imm;
    }

    /** {@return the assembler mnemonic after "lock", e.g. "fetch add"} */
    public String mnemonic() {
        return mnemonic;
    }

    /** {@return true when the old memory value is written back to a register} */
    public boolean fetches() {
        return (imm & FETCH) != 0;
    }

    /** {@return the operation whose imm field is {@code imm}, or null when none is} */
    public static AtomicOp ofImm(int imm) {
        for (AtomicOp op : values()) {
            if (op.imm == imm) {
                return op;
            }
        }
        return null;
    }
}
