package dev.prism.conformance.linux;

import dev.prism.asm.Disassembler;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.HelperProto;
import dev.prism.runtime.Helpers;
import dev.prism.sys.LinuxBpf;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The running Linux kernel as a target (id {@code linux}): its verifier and JIT are an
 * independent oracle.
 * <ul>
 *   <li>{@code raw} programs: each run loads the program afresh, wrapped into an XDP or SCHED_CLS
 *       program (see {@link LinuxRawRunner}); that costs a verifier pass per run but keeps every
 *       run's wrapper maps separate. They load one at a time. A raw program with maps of its
 *       own ({@link Program#maps()}) gets them created once, when it is loaded
 *       ({@link KernelMaps}); every run loads it with {@code fd_array} = their fds in index
 *       order, so they keep their contents across runs and are reachable through
 *       {@link Executable#maps()} until closed.</li>
 *   <li>{@code xdp}, {@code tc} (SCHED_CLS) and {@code socket} (SOCKET_FILTER) programs: loaded
 *       once with their object's maps ({@link LinuxObject}), run with BPF_PROG_TEST_RUN on the
 *       packet, maps reachable through {@link Executable#maps()} until closed.</li>
 * </ul>
 *
 * <p>Capabilities: every group but {@code callx}, which Linux does not implement (its verifier
 * rejects opcode 0x8d), and every helper Prism implements ({@link Helpers}), all of which the
 * kernel has. Known per-case differences live in suite/known-differences.txt.
 */
public final class LinuxTarget implements Target {
    private final LinuxRawRunner runner = new LinuxRawRunner();

    @Override
    public String id() {
        return "linux";
    }

    @Override
    public String description() {
        return "the running Linux kernel: bpf(BPF_PROG_LOAD) verifier + JIT, BPF_PROG_TEST_RUN";
    }

    @Override
    public Availability availability() {
        return LinuxBpf.availability();
    }

    /**
     * {@return what the running kernel answers to probe loads ({@link KernelProbe}): the helpers
     * it has, callx, the cpu version; raw (wrapped), xdp, tc and socket programs; every map type
     * Prism implements}
     */
    @Override
    public Capabilities capabilities() {
        KernelProbe k = KernelProbe.get();
        EnumSet<Group> groups = EnumSet.allOf(Group.class);
        if (!k.callx()) {
            groups.remove(Group.CALLX);
        }
        return Capabilities.builder().groups(groups).maxVersion(k.version()).helpers(k.helpers())
                .programTypes(ProgramType.RAW, ProgramType.XDP, ProgramType.TC, ProgramType.SOCKET) // not csd: Prism's own
                .calls(new Capabilities.Calls(true, true, k.callx())).build();
    }

    /** {@return the kernel's release and how its capabilities were learned} */
    public String kernelNote() {
        KernelProbe k = KernelProbe.get();
        return "Linux " + k.release() + ", " + k.note();
    }

    @Override
    public Artifact compile(dev.prism.verifier.VerifiedProgram verified) {
        requireSupported(verified);
        return compile(verified.program());
    }

    /** {@return the program, to be loaded by the kernel, which verifies it itself} */
    public Artifact compile(Program program) {
        if (program.type() != ProgramType.RAW) {
            LinuxObject.progType(program);
        }
        return new Artifact() {
            @Override
            public String listing() {
                return Disassembler.listing(program);
            }

            @Override
            public Executable load() {
                return LinuxTarget.this.load(List.of(program));
            }
        };
    }

    /**
     * {@inheritDoc} Raw programs go one at a time through {@link LinuxRawRunner}; the others are
     * loaded into the kernel together with their maps.
     */
    @Override
    public Executable load(List<Program> programs) {
        if (programs.size() == 1 && programs.get(0).type() == ProgramType.RAW) {
            return raw(programs.get(0));
        }
        return LinuxObject.load(programs);
    }

    private Executable raw(Program program) {
        if (!program.maps().isEmpty()) {
            return rawWithMaps(program);
        }
        return new Executable() {
            @Override
            public RunResult run(RunInput input) {
                LinuxRawRunner.Result r = runner.run(program, input.mem());
                return new RunResult(r.r0(), r.memAfter());
            }

            @Override
            public void close() {
            }
        };
    }

    private Executable rawWithMaps(Program program) {
        KernelMaps maps = KernelMaps.create(program.maps(), program.name());
        return new Executable() {
            @Override
            public RunResult run(RunInput input) {
                if (input.packet() != null) {
                    throw new IllegalArgumentException("a raw program takes memory, not a packet");
                }
                LinuxRawRunner.Result r = runner.run(program, input.mem(), maps.fds());
                return new RunResult(r.r0(), r.memAfter());
            }

            /** {@inheritDoc} A raw program cannot be placed in a prog_array: it loads per run. */
            @Override
            public MapAccess maps() {
                return maps.access(null);
            }

            @Override
            public void close() {
                maps.close();
            }
        };
    }
}
