package dev.prism.isa;

/**
 * The eleven BPF registers (RFC 9669 section 2.1, "Registers and calling convention").
 * r0 holds return values, r1-r5 are arguments and are clobbered by calls, r6-r9 are preserved
 * across calls, r10 is the read-only frame pointer.
 */
public enum Reg implements Operand {
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10;

    private static final Reg[] ALL = values();

    /** {@return the register with this number} @throws IllegalArgumentException outside 0..10 */
    public static Reg of(int n) {
        if (n < 0 || n >= ALL.length) {
            throw new IllegalArgumentException("no register r" + n);
        }
        return ALL[n];
    }

    /** {@return the register number 0..10} */
    public int n() {
        return ordinal();
    }

    @Override
    public String toString() {
        return "%r" + ordinal();
    }
}
