package dev.prism.runtime.jit;

import dev.prism.error.TargetException;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.runtime.HelperProto;
import dev.prism.runtime.Helpers;
import dev.prism.target.Artifact;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import java.util.EnumSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** What the JIT targets share around their code: their capabilities and their artifact. */
public final class MachineCode {
    private MachineCode() {
    }

    /** {@return every group, v4, and every helper Prism implements that has a slot in the run context} */
    public static Capabilities capabilities() {
        return new Capabilities(EnumSet.allOf(Group.class), CpuVersion.V4, Helpers.all().stream().map(HelperProto::id)
                .filter(id -> id < RunContext.HELPER_SLOTS).collect(Collectors.toSet()));
    }

    /**
     * {@return an artifact of machine code}
     *
     * @param code         the bytes, entry at offset 0
     * @param disassembled the listing with native instructions disassembled by an external tool
     *                     (may throw TargetException when the tool is missing or fails)
     * @param hex          the same listing with native code as hex, the fallback
     * @param load         makes the executable
     */
    public static Artifact artifact(byte[] code, Supplier<String> disassembled, Supplier<String> hex, Supplier<Executable> load) {
        return new Artifact() {
            @Override
            public String listing() {
                try {
                    return disassembled.get();
                } catch (TargetException e) {
                    return "; " + e.getMessage() + "; native code as hex\n" + hex.get();
                }
            }

            @Override
            public byte[] bytes() {
                return code.clone();
            }

            @Override
            public Executable load() {
                return load.get();
            }
        };
    }
}
