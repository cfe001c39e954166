package dev.prism.arm64;

/**
 * An AArch64 general-purpose register. Register number 31 means either the stack pointer or
 * the zero register depending on the operand (ARM ARM C1.2.5, "Register names"), so the two
 * are distinct constants here and every encoder checks which one its operand slot accepts.
 * The same constant names the X (64-bit) or W (32-bit) view; the operand size picks the view.
 */
public enum A64Reg {
    X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15,
    X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30,
    /** The stack pointer, register number 31 where the operand slot reads it as SP. */
    SP,
    /** The zero register, register number 31 where the operand slot reads it as ZR. */
    XZR;

    /** The frame pointer by the AAPCS64 convention. */
    public static final A64Reg FP = X29;
    /** The link register written by {@code bl} and {@code blr}. */
    public static final A64Reg LR = X30;

    /** {@return the 5-bit register number used in encodings} */
    public int number() {
        return this == SP || this == XZR ? 31 : ordinal();
    }

    /** {@return the register with number {@code n} (0..30)} */
    public static A64Reg x(int n) {
        if (n < 0 || n > 30) {
            throw new IllegalArgumentException("register number out of range 0..30: " + n);
        }
        return values()[n];
    }

    /** {@return the assembler name of this register viewed at {@code size} bits (32 or 64)} */
    public String name(int size) {
        boolean w = size == 32;
        return switch (this) {
            case SP -> w ? "wsp" : "sp";
            case XZR -> w ? "wzr" : "xzr";
            default -> (w ? "w" : "x") + ordinal();
        };
    }
}
