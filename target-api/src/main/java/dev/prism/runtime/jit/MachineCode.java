package dev.prism.runtime.jit;

import dev.prism.error.TargetException;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.runtime.HelperProto;
import dev.prism.runtime.Helpers;
import dev.prism.target.Artifact;
import dev.prism.target.Capabilities;
import dev.prism.target.CapabilityChecker;
import dev.prism.target.Executable;
import dev.prism.target.Rule;
import dev.prism.target.Verdict;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.program.MapType;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.verifier.Facts;
import dev.prism.verifier.VerifiedProgram;
import java.util.EnumSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** What the JIT targets share around their code: their capabilities and their artifact. */
public final class MachineCode {
    private MachineCode() {
    }

    /** {@return what arm64 runs: {@link #capabilities(boolean) capabilities(false)}} */
    public static Capabilities capabilities() {
        return capabilities(false);
    }

    /**
     * {@return what x86-64 and arm64 run: raw, xdp and tc programs, and with {@code csd} also
     * csd programs and their prism_csd_read (x86-64, through {@link RunContext#CSD_READ_SLOT}); every group, v4; every helper
     * Prism implements that has a slot in the run context; every map type and feature; maps
     * named by index only (not {@code lddw map_fd / map_value_fd / var}, which need a loader's fd
     * table); no kernel functions ({@code call btf})}
     */
    public static Capabilities capabilities(boolean csd) {
        return Capabilities.builder()
                .programTypes(csd ? new ProgramType[] {ProgramType.RAW, ProgramType.XDP, ProgramType.TC, ProgramType.CSD}
                        : new ProgramType[] {ProgramType.RAW, ProgramType.XDP, ProgramType.TC})
                .groups(EnumSet.allOf(Group.class)).maxVersion(CpuVersion.V4)
                .helpers(Helpers.all().stream().map(HelperProto::id)
                        .filter(id -> id < RunContext.HELPER_SLOTS || csd && id == Helpers.CSD_READ)
                        .collect(Collectors.toSet()))
                .lacking(o -> o.mnemonic().startsWith("call btf") || o.mnemonic().startsWith("lddw dst, map_fd")
                        || o.mnemonic().startsWith("lddw dst, map_value_fd") || o.mnemonic().startsWith("lddw dst, var"))
                .build();
    }

    /**
     * {@return the JITs' verdict: {@link #capabilities()}, plus their one rule the data cannot
     * say: {@code bpf_tail_call} needs r2 pinned by the verifier to one PROG_ARRAY}
     */
    public static Verdict check(VerifiedProgram verified) {
        return check(verified, false);
    }

    /** {@return {@link #check(VerifiedProgram)} against {@link #capabilities(boolean) capabilities(csd)}} */
    public static Verdict check(VerifiedProgram verified, boolean csd) {
        return CapabilityChecker.of(capabilities(csd)).with(MachineCode::tailCallsPinned).check(verified);
    }

    private static void tailCallsPinned(VerifiedProgram verified, Verdict.Builder out) {
        Program program = verified.program();
        for (int pc = 0; pc < program.length(); pc++) {
            if (program.at(pc) instanceof Insn.Call c && c.kind() == CallKind.HELPER && c.imm() == Helpers.TAIL_CALL) {
                Facts f = verified.facts(pc);
                Facts.Register r2 = f == null ? null : f.registers().get(2);
                if (r2 == null || r2.kind() != Facts.Kind.MAP || r2.map() < 0
                        || program.maps().get(r2.map()).type() != MapType.PROG_ARRAY) {
                    out.add(pc, Rule.TAIL_CALL, "bpf_tail_call through a map the verifier did not pin to one PROG_ARRAY");
                }
            }
        }
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
