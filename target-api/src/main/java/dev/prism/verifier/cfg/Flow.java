package dev.prism.verifier.cfg;

import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.isa.LoadImm64Kind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The intra-procedural flow of every instruction, taken one instruction at a time: where
 * control goes next (calls return, so a call falls through), which function it refers to, and
 * what is wrong with its targets. Nothing here knows about functions or reachability.
 *
 * <p>Targets count slots from {@code pc + 1}, in long arithmetic: a {@code ja32} offset near
 * 2^31 must not wrap round to a valid slot.
 */
final class Flow {
    private static final int[] NONE = {};

    final Insn[] slots;
    /** per instruction slot: its valid successors, distinct, fall-through first; null elsewhere */
    private final int[][] successors;
    /** per instruction slot: the valid target of {@code call local} or {@code lddw code}, else -1 */
    private final int[] reference;
    /** per instruction slot: what is wrong with its targets; reported only if it is reachable */
    private final Map<Integer, List<Diagnostic>> issues = new HashMap<>();

    private Flow(Insn[] slots) {
        this.slots = slots;
        this.successors = new int[slots.length][];
        this.reference = new int[slots.length];
        for (int pc = 0; pc < slots.length; pc++) {
            reference[pc] = -1;
            if (slots[pc] != null) {
                successors[pc] = follow(pc, slots[pc]);
            }
        }
    }

    static Flow of(Insn[] slots) {
        return new Flow(slots);
    }

    int length() {
        return slots.length;
    }

    /** {@return whether an instruction starts at {@code pc}} */
    boolean isInsn(int pc) {
        return pc >= 0 && pc < slots.length && slots[pc] != null;
    }

    int[] successors(int pc) {
        return successors[pc];
    }

    int reference(int pc) {
        return reference[pc];
    }

    List<Diagnostic> issues(int pc) {
        return issues.getOrDefault(pc, List.of());
    }

    /** {@return the slots with issues, in no particular order} */
    Set<Integer> issuePcs() {
        return issues.keySet();
    }

    /** {@return whether the instruction at {@code pc} ends a block: ja, a conditional jump, exit} */
    boolean endsBlock(int pc) {
        return slots[pc] instanceof Insn.Ja || slots[pc] instanceof Insn.Jump || slots[pc] instanceof Insn.Exit;
    }

    /** {@return whether the instruction at {@code pc} is a jump, whose targets start blocks} */
    boolean isJump(int pc) {
        return slots[pc] instanceof Insn.Ja || slots[pc] instanceof Insn.Jump;
    }

    /** {@return how many slots the instruction at {@code pc} covers in a well-formed program} */
    int width(int pc) {
        return slots[pc] instanceof Insn.LoadImm64 && pc + 1 < slots.length && slots[pc + 1] == null ? 2 : 1;
    }

    /**
     * {@return the slots reachable from {@code start} without entering calls, both slots of
     * each lddw included}
     */
    BitSet reach(int start) {
        BitSet seen = new BitSet(slots.length);
        int[] stack = new int[16];
        int sp = 0;
        stack[sp++] = start;
        seen.set(start);
        while (sp > 0) {
            int pc = stack[--sp];
            if (width(pc) == 2) {
                seen.set(pc + 1);
            }
            for (int s : successors[pc]) {
                if (!seen.get(s)) {
                    seen.set(s);
                    if (sp == stack.length) {
                        stack = Arrays.copyOf(stack, sp * 2);
                    }
                    stack[sp++] = s;
                }
            }
        }
        return seen;
    }

    private int[] follow(int pc, Insn insn) {
        return switch (insn) {
            case Insn.Exit _ -> NONE;
            case Insn.Ja j -> jumpTarget(pc, j.offset()) instanceof Integer t ? new int[] {t} : NONE;
            case Insn.Jump j -> {
                Integer fall = fallThrough(pc, 1);
                Integer taken = jumpTarget(pc, j.offset());
                if (fall != null && taken != null) {
                    yield fall.equals(taken) ? new int[] {fall} : new int[] {fall, taken};
                }
                yield fall != null ? new int[] {fall} : taken != null ? new int[] {taken} : NONE;
            }
            case Insn.LoadImm64 l -> {
                if (l.kind() == LoadImm64Kind.CODE_ADDR) {
                    reference[pc] = checked(pc, "code address", (long) pc + 1 + l.imm());
                }
                if (width(pc) != 2) {
                    issue(pc, Cfg.INCOMPLETE_LDDW);
                    yield NONE;
                }
                yield fallThrough(pc, 2) instanceof Integer t ? new int[] {t} : NONE;
            }
            case Insn.Call c -> {
                if (c.kind() == CallKind.LOCAL) {
                    reference[pc] = checked(pc, "call", (long) pc + 1 + c.imm());
                }
                yield fallThrough(pc, 1) instanceof Integer t ? new int[] {t} : NONE;
            }
            case Insn.Alu _, Insn.Neg _, Insn.MovSx _, Insn.Endian _, Insn.Load _, Insn.Store _, Insn.Atomic _,
                    Insn.CallX _, Insn.PacketLoad _ -> fallThrough(pc, 1) instanceof Integer t ? new int[] {t} : NONE;
        };
    }

    private Integer jumpTarget(int pc, int offset) {
        int t = checked(pc, "jump", (long) pc + 1 + offset);
        return t < 0 ? null : t;
    }

    private Integer fallThrough(int pc, int width) {
        int next = pc + width;
        if (next >= slots.length) {
            issue(pc, slots[pc] instanceof Insn.Jump ? Cfg.FALLS_OFF_THE_END : Cfg.LAST_NOT_EXIT);
            return null;
        }
        if (slots[next] == null) {
            issue(pc, "falls through to an empty slot (slot " + next + ")");
            return null;
        }
        return next;
    }

    /** {@return the target when an instruction starts there, else -1, with the issue recorded} */
    private int checked(int pc, String what, long target) {
        if (target < 0 || target >= slots.length) {
            issue(pc, what + " out of range (target " + target + ")");
            return -1;
        }
        int t = (int) target;
        if (slots[t] == null) {
            issue(pc, t > 0 && slots[t - 1] instanceof Insn.LoadImm64
                    ? what + " into the middle of lddw (target " + t + ")"
                    : what + " to an empty slot (target " + t + ")");
            return -1;
        }
        return t;
    }

    private void issue(int pc, String reason) {
        issues.computeIfAbsent(pc, k -> new ArrayList<>()).add(new Diagnostic(pc, reason));
    }
}
