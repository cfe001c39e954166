package dev.prism.x86;

/**
 * The sixteen condition codes of Jcc, SETcc and CMOVcc, Intel SDM Vol. 1, Appendix B
 * (Table B-1). {@link #code} is the 4-bit tttn field added to the opcode
 * (0x70+cc, 0x0F 0x80+cc, 0x0F 0x40+cc).
 */
public enum Condition {
    /** Overflow (OF=1). */
    O(0x0),
    /** No overflow (OF=0). */
    NO(0x1),
    /** Below, unsigned less than (CF=1). */
    B(0x2),
    /** Above or equal, unsigned (CF=0). */
    AE(0x3),
    /** Equal (ZF=1). */
    E(0x4),
    /** Not equal (ZF=0). */
    NE(0x5),
    /** Below or equal, unsigned (CF=1 or ZF=1). */
    BE(0x6),
    /** Above, unsigned (CF=0 and ZF=0). */
    A(0x7),
    /** Sign (SF=1). */
    S(0x8),
    /** No sign (SF=0). */
    NS(0x9),
    /** Parity even (PF=1). */
    P(0xA),
    /** Parity odd (PF=0). */
    NP(0xB),
    /** Less, signed (SF!=OF). */
    L(0xC),
    /** Greater or equal, signed (SF=OF). */
    GE(0xD),
    /** Less or equal, signed (ZF=1 or SF!=OF). */
    LE(0xE),
    /** Greater, signed (ZF=0 and SF=OF). */
    G(0xF);

    /** The tttn field, 0..15. */
    public final int code;

    Condition(int code) {
        this.code = code;
    }

    /** The condition that holds exactly when this one does not (tttn with bit 0 flipped). */
    public Condition negate() {
        return values()[code ^ 1];
    }
}
