package dev.prism.arm64;

/** Condition codes, ARM ARM C1.2.4 table C1-1; {@link #code} is the 4-bit field value. */
public enum A64Cond {
    EQ(0), NE(1), HS(2), LO(3), MI(4), PL(5), VS(6), VC(7),
    HI(8), LS(9), GE(10), LT(11), GT(12), LE(13), AL(14), NV(15);

    /** Carry set: the same condition as {@link #HS}. */
    public static final A64Cond CS = HS;
    /** Carry clear: the same condition as {@link #LO}. */
    public static final A64Cond CC = LO;

    public final int code;

    A64Cond(int code) {
        this.code = code;
    }

    /** {@return the opposite condition (flips bit 0); AL and NV have no opposite} */
    public A64Cond invert() {
        if (this == AL || this == NV) {
            throw new IllegalArgumentException("condition " + this + " has no inverse");
        }
        return values()[code ^ 1];
    }

    /** {@return the lower-case assembler spelling} */
    public String mnemonic() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
