package dev.prism.x86;

import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.isa.LoadImm64Kind;
import dev.prism.isa.Reg;
import dev.prism.program.Program;
import dev.prism.verifier.VerifiedProgram;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Frames of BPF subprograms (bpf-to-bpf calls and callbacks) as {@link X86Jit} lays them out
 * when it may: the verifier explored every call chain of the program (it refuses recursion and
 * a ninth frame), so when nothing can deepen a chain at run time the depth needs no counter.
 * What can: a tail call (a program of a set with a PROG_ARRAY may be entered from a
 * subprogram's frame, and the frame is reset to the full 512 bytes) and {@code callx}. Then
 * each function saves only the callee-saved registers it writes (BPF r6-r9 are preserved
 * across calls, r10 is the frame) and opens a frame of its own stack depth, as the IR reports
 * it ({@link VerifiedProgram#stackDepths}).
 */
final class X86Frames {
    private X86Frames() {
    }

    /**
     * One function's frame.
     *
     * @param saved the callee-saved registers of r6-r9 the function writes, in push order
     * @param size  bytes below the saved rbp: the stack depth rounded up to 16, plus 8 when the
     *              pushes would leave rsp misaligned for calls (16 bytes)
     * @param bare  a leaf that writes none of r6-r9, never names r10 and calls nothing: it needs
     *              no frame at all (no rbp, and rsp's alignment does not matter), so a call
     *              enters its first instruction directly and its exit is a bare {@code ret}
     */
    record Frame(List<X86Reg> saved, int size, boolean bare) {
    }

    /**
     * {@return each subprogram's frame by its first slot, or null when calls need the counted,
     * full frame} (a PROG_ARRAY, or a {@code callx})
     */
    static Map<Integer, Frame> lean(VerifiedProgram verified, Program program, boolean tailCallable) {
        if (tailCallable) {
            return null;
        }
        int n = program.length();
        TreeSet<Integer> starts = new TreeSet<>();
        starts.add(0);
        for (int pc = 0; pc < n; pc++) {
            switch (program.at(pc)) {
                case Insn.CallX x -> {
                    return null;
                }
                case Insn.Call c when c.kind() == CallKind.LOCAL -> starts.add(pc + 1 + c.imm());
                case Insn.LoadImm64 l when l.kind() == LoadImm64Kind.CODE_ADDR -> starts.add(pc + 1 + l.imm());
                case null, default -> {
                }
            }
        }
        Map<Integer, Frame> frames = new TreeMap<>();
        for (int t : starts) {
            if (t == 0) {
                continue;
            }
            Integer next = starts.higher(t);
            boolean[] written = new boolean[11];
            boolean leaf = true;
            for (int pc = t; pc < (next == null ? n : next); pc++) {
                Insn insn = program.at(pc);
                if (insn != null) {
                    Reg w = written(insn);
                    if (w != null) {
                        written[w.n()] = true;
                    }
                    leaf &= !(insn instanceof Insn.Call) && !namesFramePointer(insn);
                }
            }
            List<X86Reg> saved = new ArrayList<>();
            for (int r = 6; r <= 9; r++) {
                if (written[r]) {
                    saved.add(X86Registers.of(Reg.of(r)));
                }
            }
            int depth = verified.stackDepths().getOrDefault(t, X86Jit.FRAME_SIZE);
            int size = (Math.max(depth, 0) + 15) & ~15;
            // return address + saved registers + rbp + size must be a multiple of 16
            if ((1 + saved.size() + 1) % 2 != 0) {
                size += 8;
            }
            boolean bare = leaf && saved.isEmpty() && depth == 0;
            frames.put(t, new Frame(List.copyOf(saved), bare ? 0 : size, bare));
        }
        return frames;
    }

    /** {@return whether {@code insn} reads or writes r10} */
    private static boolean namesFramePointer(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> a.dst() == Reg.R10 || a.src() == Reg.R10;
            case Insn.Neg g -> g.dst() == Reg.R10;
            case Insn.MovSx m -> m.dst() == Reg.R10 || m.src() == Reg.R10;
            case Insn.Endian e -> e.dst() == Reg.R10;
            case Insn.LoadImm64 l -> l.dst() == Reg.R10;
            case Insn.Load l -> l.dst() == Reg.R10 || l.src() == Reg.R10;
            case Insn.Store s -> s.dst() == Reg.R10 || s.src() == Reg.R10;
            case Insn.Atomic at -> at.dst() == Reg.R10 || at.src() == Reg.R10;
            case Insn.Ja j -> false;
            case Insn.Jump j -> j.dst() == Reg.R10 || j.src() == Reg.R10;
            case Insn.Call c -> false;
            case Insn.CallX x -> x.dst() == Reg.R10;
            case Insn.Exit x -> false;
            case Insn.PacketLoad p -> p.src() == Reg.R10;
        };
    }

    /** {@return the register {@code insn} writes besides r0-r5 effects of calls, or null} */
    private static Reg written(Insn insn) {
        return switch (insn) {
            case Insn.Alu a -> a.dst();
            case Insn.Neg g -> g.dst();
            case Insn.MovSx m -> m.dst();
            case Insn.Endian e -> e.dst();
            case Insn.LoadImm64 l -> l.dst();
            case Insn.Load l -> l.dst();
            case Insn.Atomic at -> switch (at.op()) {
                case ADD, OR, AND, XOR -> null;
                case FETCH_ADD, FETCH_OR, FETCH_AND, FETCH_XOR, XCHG -> at.src();
                case CMPXCHG -> Reg.R0;
            };
            case Insn.Store s -> null;
            case Insn.Ja j -> null;
            case Insn.Jump j -> null;
            case Insn.Call c -> null;
            case Insn.CallX x -> null;
            case Insn.Exit x -> null;
            case Insn.PacketLoad p -> Reg.R0;
        };
    }
}
