package dev.prism.conformance;

import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.isa.Insn;
import dev.prism.isa.Opcode;
import dev.prism.isa.Opcodes;
import java.util.EnumSet;
import java.util.Set;

/**
 * Which cases to run, as a conformance claim: "a v3 runtime with base64 and atomic64" runs only
 * the cases whose every instruction lies within those groups and that cpu version (the same
 * filter bpf_conformance's --cpu_version and --include_groups apply). Group inclusion follows
 * the registry: base64 includes base32, atomic64 atomic32, divmul64 divmul32.
 */
public record Selection(CpuVersion cpu, Set<Group> groups) {
    public Selection {
        groups = expand(groups);
    }

    public static Selection all() {
        return new Selection(CpuVersion.V4, EnumSet.allOf(Group.class));
    }

    private static Set<Group> expand(Set<Group> groups) {
        EnumSet<Group> out = groups.isEmpty() ? EnumSet.noneOf(Group.class) : EnumSet.copyOf(groups);
        if (out.contains(Group.BASE64)) {
            out.add(Group.BASE32);
        }
        if (out.contains(Group.ATOMIC64)) {
            out.add(Group.ATOMIC32);
        }
        if (out.contains(Group.DIVMUL64)) {
            out.add(Group.DIVMUL32);
        }
        return out;
    }

    /** {@return whether the case belongs to this selection (cases that do not decode always do)} */
    public boolean includes(ConformanceCase c) {
        Insn[] slots = c.slotsOrNull();
        if (slots == null) {
            return true;
        }
        for (Insn insn : slots) {
            if (insn == null) {
                continue;
            }
            Opcode row = Opcodes.of(insn);
            if (!groups.contains(row.group()) || row.version().compareTo(cpu) > 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@return the group a case is counted under: the most specific group among its
     * instructions (callx over packet over divmul/atomic over base), "malformed" when it does
     * not decode, "elf" for an {@code -- elf} case whose object cannot be built on this host}
     */
    public static String groupOf(ConformanceCase c) {
        Insn[] slots = c.slotsOrNull();
        if (slots == null) {
            // an -- elf case that cannot be compiled here is not malformed input
            return c.isElf() ? "elf" : "malformed";
        }
        Group best = null;
        for (Insn insn : slots) {
            if (insn != null) {
                Group g = Opcodes.of(insn).group();
                if (best == null || rank(g) > rank(best)) {
                    best = g;
                }
            }
        }
        return best == null ? "malformed" : best.id();
    }

    private static int rank(Group g) {
        return switch (g) {
            case BASE32 -> 0;
            case BASE64 -> 1;
            case ATOMIC32 -> 2;
            case ATOMIC64 -> 3;
            case DIVMUL32 -> 4;
            case DIVMUL64 -> 5;
            case PACKET -> 6;
            case CALLX -> 7;
        };
    }
}
