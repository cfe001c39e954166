package dev.prism.nfp;

import dev.prism.isa.Insn;
import dev.prism.isa.Width;
import dev.prism.program.ProgramType;

/**
 * An estimate of a program's length in NFP instructions, for the firmware's limit
 * ({@code NFP_NET_CFG_BPF_MAX_LEN}). There is no card here to count the real translation; the
 * figures per BPF instruction follow the shape of the driver's JIT (jit.c): the NFP is a 32-bit
 * machine, so a 64-bit operation takes two instructions (one per half), a 32-bit one also clears
 * the upper half; multiplication is a sequence of mul steps; division by a constant is a
 * reciprocal multiplication; memory goes through transfer registers with a wait; helpers branch
 * to firmware routines. The estimate errs high.
 */
final class NfpCost {
    /** The prologue and the exit path (the action's jump table, the packet length update). */
    static final int FIXED = 32;

    private NfpCost() {
    }

    /** {@return the estimated NFP instruction count of the whole program} */
    static int estimate(Insn[] code, ProgramType type) {
        int n = FIXED;
        for (Insn insn : code) {
            if (insn != null) {
                n += of(insn);
            }
        }
        return n;
    }

    /** {@return the estimated NFP instructions for one BPF instruction} */
    static int of(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> switch (a.op()) {
                case MUL -> a.width() == Width.W64 ? 12 : 6;
                case DIV, SDIV, MOD, SMOD -> 16;
                case LSH, RSH, ARSH -> a.width() == Width.W64 ? 5 : 2;
                default -> 2;
            };
            case Insn.Neg n -> 2;
            case Insn.MovSx m -> 4;
            case Insn.Endian e -> e.bits() == 64 ? 8 : 4;
            case Insn.LoadImm64 l -> 2;
            case Insn.Load l -> 4;
            case Insn.Store s -> 4;
            case Insn.Atomic a -> 6;
            case Insn.Ja j -> 1;
            case Insn.Jump j -> j.width() == Width.W64 ? 3 : 2;
            case Insn.Call c -> c.kind() == dev.prism.isa.CallKind.LOCAL ? 10 : 20;
            case Insn.CallX c -> 10;
            case Insn.Exit e -> 2;
            case Insn.PacketLoad p -> 6;
        };
    }
}
