package dev.prism.verifier;

import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.isa.Reg;
import dev.prism.runtime.Helpers;
import dev.prism.verifier.cfg.Cfg;

/**
 * Which registers may still be read before being written, at each instruction: a backward
 * dataflow over the control-flow graph. The verifier forgets dead registers at merge points, so
 * paths that differ only in values nobody will read again are recognised as the same.
 */
final class Liveness {
    /** Bit i set: register ri is live on entry to the instruction. */
    private final short[] liveIn;

    private Liveness(short[] liveIn) {
        this.liveIn = liveIn;
    }

    /** {@return the live registers at {@code pc}, bit i for ri} */
    int liveSet(int pc) {
        return liveIn[pc];
    }

    static Liveness of(Insn[] code, Cfg cfg) {
        int[][] successors = new int[code.length][];
        for (int pc = 0; pc < code.length; pc++) {
            if (code[pc] != null && cfg.isReachable(pc)) {
                successors[pc] = cfg.successors(pc);
            }
        }
        return of(code, successors);
    }

    /** @param successors per reachable instruction its successors ({@link Cfg#successors}), null elsewhere */
    static Liveness of(Insn[] code, int[][] successors) {
        int n = code.length;
        short[] in = new short[n];
        short[] use = new short[n];
        short[] def = new short[n];
        for (int pc = 0; pc < n; pc++) {
            if (code[pc] != null) {
                use[pc] = (short) (uses(code[pc]) | 1 << 10);
                def[pc] = (short) defs(code[pc]);
            }
        }
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int pc = n - 1; pc >= 0; pc--) {
                if (successors[pc] == null) {
                    continue;
                }
                int out = 0;
                for (int succ : successors[pc]) {
                    out |= in[succ];
                }
                if (code[pc] instanceof Insn.Call c && c.kind() == CallKind.LOCAL) {
                    out |= 0b11_1100_0000; // r6-r9 of the caller survive the call
                }
                int now = use[pc] | (out & ~def[pc]);
                if (now != in[pc]) {
                    in[pc] = (short) now;
                    changed = true;
                }
            }
        }
        return new Liveness(in);
    }

    private static int bit(Reg r) {
        return 1 << r.n();
    }

    private static int uses(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> (a.op() == dev.prism.isa.AluOp.MOV ? 0 : bit(a.dst())) | (a.src() instanceof Reg r ? bit(r) : 0);
            case Insn.Neg n -> bit(n.dst());
            case Insn.MovSx m -> bit(m.src());
            case Insn.Endian e -> bit(e.dst());
            case Insn.LoadImm64 l -> 0;
            case Insn.Load l -> bit(l.src());
            case Insn.Store s -> bit(s.dst()) | (s.src() instanceof Reg r ? bit(r) : 0);
            case Insn.Atomic a -> bit(a.dst()) | bit(a.src()) | (a.op() == dev.prism.isa.AtomicOp.CMPXCHG ? 1 : 0);
            case Insn.Ja j -> 0;
            case Insn.Jump j -> bit(j.dst()) | (j.src() instanceof Reg r ? bit(r) : 0);
            case Insn.Call c -> c.kind() == CallKind.HELPER
                    ? Helpers.proto(c.imm()).map(p -> (1 << (p.args().size() + 1)) - 2).orElse(0b11_1110)
                    : 0b11_1110;
            case Insn.CallX c -> bit(c.dst()) | 0b11_1110;
            case Insn.Exit e -> 1;
            case Insn.PacketLoad p -> p.indirect() ? bit(p.src()) : 0;
        };
    }

    private static int defs(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> bit(a.dst());
            case Insn.Neg n -> bit(n.dst());
            case Insn.MovSx m -> bit(m.dst());
            case Insn.Endian e -> bit(e.dst());
            case Insn.LoadImm64 l -> bit(l.dst());
            case Insn.Load l -> bit(l.dst());
            case Insn.Store s -> 0;
            case Insn.Atomic a -> a.op() == dev.prism.isa.AtomicOp.CMPXCHG ? 1 : a.op().fetches() ? bit(a.src()) : 0;
            case Insn.Ja j -> 0;
            case Insn.Jump j -> 0;
            // calls clobber r0-r5 (a local call's r0 comes from its exit)
            case Insn.Call c -> 0b11_1111;
            case Insn.CallX c -> 0b11_1111;
            case Insn.Exit e -> 0;
            case Insn.PacketLoad p -> 0b11_1111;
        };
    }
}
