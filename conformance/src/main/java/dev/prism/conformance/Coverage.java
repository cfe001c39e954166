package dev.prism.conformance;

import dev.prism.isa.Insn;
import dev.prism.isa.Opcode;
import dev.prism.isa.Opcodes;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Which rows of the RFC 9669 instruction registry a suite exercises. */
public final class Coverage {
    private Coverage() {
    }

    /** {@return the registry rows used by at least one decodable case} */
    public static Set<Opcode> covered(List<ConformanceCase> cases) {
        Set<Opcode> out = new LinkedHashSet<>();
        for (ConformanceCase c : cases) {
            Insn[] slots = c.slotsOrNull();
            if (slots != null) {
                for (Insn insn : slots) {
                    if (insn != null) {
                        out.add(Opcodes.of(insn));
                    }
                }
            }
        }
        return out;
    }

    /** {@return the registry rows no case exercises, in registry order} */
    public static List<Opcode> missing(List<ConformanceCase> cases) {
        Set<Opcode> covered = covered(cases);
        return Opcodes.all().stream().filter(o -> !covered.contains(o)).toList();
    }
}
