package dev.prism.isa;

/** Operand width of an ALU or jump instruction: ALU/JMP32 (32-bit) or ALU64/JMP (64-bit). */
public enum Width {
    W32, W64;

    /** {@return the mnemonic suffix used by the assembler: "32" or ""} */
    public String suffix() {
        return this == W32 ? "32" : "";
    }
}
