package dev.prism.isa;

/** A 32-bit immediate operand, as stored in the instruction's {@code imm} field (signed). */
public record Imm(int value) implements Operand {
    @Override
    public String toString() {
        return Integer.toString(value);
    }
}
