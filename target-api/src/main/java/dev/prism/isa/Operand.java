package dev.prism.isa;

/** The source of an ALU, jump or store instruction: a register (X form) or an immediate (K form). */
public sealed interface Operand permits Reg, Imm {
}
