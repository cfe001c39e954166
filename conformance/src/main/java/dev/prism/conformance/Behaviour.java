package dev.prism.conformance;

import dev.prism.isa.AluOp;
import dev.prism.isa.Imm;
import dev.prism.isa.Insn;
import dev.prism.isa.Width;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * What a case's program does that a target is known to treat differently: known differences
 * name these ({@code @shift-imm-out-of-range}) instead of file names, so an entry covers every
 * suite whatever its files are called (bpf_conformance's names are not Prism's). Each is a
 * pattern over the program's instructions as written.
 */
public enum Behaviour {
    /**
     * A shift ({@code lsh}, {@code rsh}, {@code arsh}) by an immediate outside 0..width-1:
     * RFC 9669 masks the amount, Linux refuses the program ("invalid shift").
     */
    SHIFT_IMM_OUT_OF_RANGE(insn -> insn instanceof Insn.Alu a && a.src() instanceof Imm imm
            && (a.op() == AluOp.LSH || a.op() == AluOp.RSH || a.op() == AluOp.ARSH)
            && (imm.value() < 0 || imm.value() >= (a.width() == Width.W64 ? 64 : 32))),
    /** Any {@code callx} (0x8d): Linux 6.18 has none ("unknown opcode 8d"). */
    CALLX(insn -> insn instanceof Insn.CallX);

    private final Predicate<Insn> insn;

    Behaviour(Predicate<Insn> insn) {
        this.insn = insn;
    }

    /** {@return the name entries use, without the '@': "shift-imm-out-of-range"} */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** {@return the behaviour called {@code id}} @throws IllegalArgumentException naming the known ones */
    public static Behaviour of(String id) {
        for (Behaviour b : values()) {
            if (b.id().equals(id)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown behaviour '@" + id + "' (known: "
                + String.join(", ", Arrays.stream(values()).map(b -> "@" + b.id()).toList()) + ")");
    }

    /** {@return whether the case's program, as written, does this; false when it does not assemble or decode} */
    public boolean in(ConformanceCase c) {
        Insn[] slots = c.slotsOrNull();
        return slots != null && Arrays.stream(slots).anyMatch(i -> i != null && insn.test(i));
    }
}
