package dev.prism.x86;

import java.util.Objects;

/**
 * A memory operand {@code [base + disp]}: a base register and a signed 32-bit displacement.
 * No index register: a BPF JIT only addresses a register plus a constant offset. The
 * encoding (ModRM mod 00/01/10, the SIB byte rsp and r12 need, the zero disp8 rbp and r13
 * need) is chosen by {@link X86Assembler}.
 */
public record X86Address(X86Reg base, int disp) {
    public X86Address {
        Objects.requireNonNull(base, "base");
    }

    /** {@code [base + disp]}. */
    public static X86Address of(X86Reg base, int disp) {
        return new X86Address(base, disp);
    }

    /** {@code [base]}. */
    public static X86Address of(X86Reg base) {
        return new X86Address(base, 0);
    }
}
