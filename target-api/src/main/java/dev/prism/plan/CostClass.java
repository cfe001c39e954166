package dev.prism.plan;

import dev.prism.isa.AluOp;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;

/**
 * The instruction classes a {@link CostModel} prices separately, because targets differ most
 * between them: a JIT does an ALU operation in a fraction of a nanosecond and a division in
 * several, an emulator pays per instruction, a pipeline per stage. Helper calls are priced per
 * helper, not here.
 */
public enum CostClass {
    /** moves, arithmetic and logic (not mul/div/mod), neg, movsx, byte swaps, lddw */
    ALU,
    /** multiplication */
    MUL,
    /** division and modulo, signed or not */
    DIV,
    /** loads: ldx, ldxs, legacy packet loads */
    LOAD,
    /** stores: st, stx */
    STORE,
    /** atomic read-modify-write */
    ATOMIC,
    /** jumps, taken or not */
    BRANCH,
    /** bpf-to-bpf calls, callx and exits */
    CALL;

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** {@return the class of {@code insn}; null for a helper call, which is priced by helper} */
    public static CostClass of(Insn insn) {
        return switch (insn) {
            case Insn.Alu a when a.op() == AluOp.MUL -> MUL;
            case Insn.Alu a when a.op().isDivMod() -> DIV;
            case Insn.Alu a -> ALU;
            case Insn.Neg n -> ALU;
            case Insn.MovSx m -> ALU;
            case Insn.Endian e -> ALU;
            case Insn.LoadImm64 l -> ALU;
            case Insn.Load l -> LOAD;
            case Insn.PacketLoad p -> LOAD;
            case Insn.Store s -> STORE;
            case Insn.Atomic a -> ATOMIC;
            case Insn.Ja j -> BRANCH;
            case Insn.Jump j -> BRANCH;
            case Insn.Call c when c.kind() == CallKind.LOCAL -> CALL;
            case Insn.Call c -> null;
            case Insn.CallX x -> CALL;
            case Insn.Exit e -> CALL;
        };
    }
}
