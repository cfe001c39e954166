package dev.prism.target;

import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.isa.Opcode;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a target supports, as data the planner and the conformance runner can match against a
 * program (DESIGN.md, "Target SPI"): conformance groups, the highest cpu version, helper ids.
 */
public record Capabilities(Set<Group> groups, CpuVersion maxVersion, Set<Integer> helpers) {
    public Capabilities {
        groups = Set.copyOf(groups);
        helpers = Set.copyOf(helpers);
    }

    /** {@return every group, v4, the given helpers} */
    public static Capabilities everything(Set<Integer> helpers) {
        return new Capabilities(EnumSet.allOf(Group.class), CpuVersion.V4, helpers);
    }

    /** {@return null when the opcode is supported, else the reason it is not} */
    public String whyNot(Opcode opcode) {
        if (!groups.contains(opcode.group())) {
            return "conformance group " + opcode.group() + " not supported (" + opcode.mnemonic() + ")";
        }
        if (opcode.version().compareTo(maxVersion) > 0) {
            return "needs cpu " + opcode.version() + ", target has " + maxVersion + " (" + opcode.mnemonic() + ")";
        }
        return null;
    }
}
