package dev.prism.isa;

/** The instruction classes (RFC 9669 section 3, the low three bits of the opcode). */
public enum InsnClass {
    LD(0x00), LDX(0x01), ST(0x02), STX(0x03), ALU(0x04), JMP(0x05), JMP32(0x06), ALU64(0x07);

    private final int code;

    InsnClass(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    static InsnClass of(int opcode) {
        return values()[opcode & 0x07];
    }
}
