package dev.prism.arm64;

/** The shift applied to the second register of a shifted-register operand (bits 23:22). */
public enum A64Shift {
    LSL, LSR, ASR,
    /** Rotate right: valid for logical instructions only, not for add/sub. */
    ROR;

    /** {@return the 2-bit field value} */
    public int code() {
        return ordinal();
    }
}
