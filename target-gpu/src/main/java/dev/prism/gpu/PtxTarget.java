package dev.prism.gpu;

import dev.prism.error.TargetException;
import dev.prism.isa.AtomicOp;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.ProgramType;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.Target;
import dev.prism.verifier.VerifiedProgram;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;

/**
 * PTX (id {@code ptx}): {@link PtxC} lowers a verified {@code raw} or {@code xdp} program to a
 * PTX module for sm_90, one thread per input. This first version lowers programs without maps,
 * helpers and calls (check refuses the rest, with the pc), and does not run them: the CUDA
 * driver executor (libcuda.so.1 through FFM) is not written, so {@link #load} refuses with
 * "not supported" and availability says why it cannot run. Not registered with ServiceLoader
 * until it runs (a target that can never run would fail PRISM_REQUIRE=all runs of the
 * cross-target tests); {@code PtxAssemblesTest} uses it directly.
 */
public final class PtxTarget implements Target {
    @Override
    public String id() {
        return "ptx";
    }

    @Override
    public String description() {
        return "PTX for sm_90, one thread per input (lowering only; no CUDA executor yet)";
    }

    @Override
    public Availability availability() {
        try {
            SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            return Availability.no("no libcuda.so.1 (no NVIDIA driver); ptx programs can still be compiled");
        }
        return Availability.no("not supported: running ptx (the CUDA driver executor is not written); compile works");
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.builder()
                .programTypes(ProgramType.RAW, ProgramType.XDP)
                .groups(Group.BASE32, Group.BASE64, Group.ATOMIC32, Group.ATOMIC64, Group.DIVMUL32, Group.DIVMUL64)
                .maxVersion(CpuVersion.V4)
                .lacking(o -> o.mnemonic().startsWith("lddw dst, map") || o.mnemonic().startsWith("lddw dst, var")
                        || o.mnemonic().startsWith("lddw dst, code") || o.mnemonic().startsWith("call btf"))
                .maps()
                .atomics(AtomicOp.values())
                .calls(new Capabilities.Calls(false, false, false))
                .build();
    }

    @Override
    public Artifact compile(VerifiedProgram verified) {
        requireSupported(verified);
        DeviceLayout layout = DeviceLayout.of(verified.normalized(), verified.requires().stackDepth());
        String ptx = PtxC.lower(verified, layout);
        return new Artifact() {
            @Override
            public String listing() {
                return ptx;
            }

            @Override
            public byte[] bytes() {
                return ptx.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            }

            @Override
            public Executable load() {
                throw TargetException.unsupported("running ptx (the CUDA driver executor is not written)");
            }
        };
    }

    @Override
    public Executable load(java.util.List<dev.prism.program.Program> programs) {
        throw TargetException.unsupported("running ptx (the CUDA driver executor is not written)");
    }
}
