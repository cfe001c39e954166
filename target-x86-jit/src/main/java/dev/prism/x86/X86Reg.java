package dev.prism.x86;

/**
 * The sixteen x86-64 general-purpose registers, Intel SDM Vol. 2A, 2.2.1.2 (Table 2-4).
 * {@link #encoding} is the 4-bit register number: its low three bits go in a ModRM/SIB field
 * or the opcode, its high bit in REX.R, REX.X or REX.B.
 */
public enum X86Reg {
    RAX(0), RCX(1), RDX(2), RBX(3), RSP(4), RBP(5), RSI(6), RDI(7),
    R8(8), R9(9), R10(10), R11(11), R12(12), R13(13), R14(14), R15(15);

    /** The register number, 0..15. */
    public final int encoding;

    X86Reg(int encoding) {
        this.encoding = encoding;
    }

    /** The three bits that go in ModRM.reg, ModRM.rm, SIB.base or the opcode. */
    int low3() {
        return encoding & 7;
    }

    /** Whether the register needs a REX extension bit (r8..r15). */
    boolean extended() {
        return encoding >= 8;
    }
}
