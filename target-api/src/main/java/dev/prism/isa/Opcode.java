package dev.prism.isa;

/**
 * One row of the IANA "BPF Instruction Set" registry (RFC 9669 section 7): an opcode byte and,
 * where the registry splits one byte into several instructions, the field that tells them apart
 * ({@code discriminator}: the offset for sdiv/smod/movsx, imm for byte swaps and atomics, src for
 * lddw and call; -1 when the byte alone names the instruction).
 *
 * @param code          the opcode byte
 * @param discriminator offset, imm or src value that selects this row, or -1
 * @param mnemonic      the assembler form, e.g. {@code "add32 dst, imm"}
 * @param group         the conformance group
 * @param version       the lowest cpu version that has it
 */
public record Opcode(int code, int discriminator, String mnemonic, Group group, CpuVersion version) {

    /** {@return the instruction class of this opcode} */
    public InsnClass insnClass() {
        return InsnClass.of(code);
    }

    /** {@return a stable key, e.g. "0x3f" or "0x3f/1"} used in coverage reports */
    public String key() {
        return discriminator < 0 ? String.format("0x%02x", code) : String.format("0x%02x/%d", code, discriminator);
    }

    @Override
    public String toString() {
        return key() + " " + mnemonic + " [" + group + ", " + version + "]";
    }
}
