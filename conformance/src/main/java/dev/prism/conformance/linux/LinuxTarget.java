package dev.prism.conformance.linux;

import dev.prism.asm.Disassembler;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.Program;
import dev.prism.runtime.HelperTable;
import dev.prism.sys.LinuxBpf;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.util.EnumSet;
import java.util.Set;

/**
 * The running Linux kernel as a target (id {@code linux}): its verifier and JIT are an
 * independent oracle. Each run loads the program afresh (see {@link LinuxRawRunner}); that costs
 * a verifier pass per run but keeps every run's maps separate.
 *
 * <p>Capabilities: every group but {@code callx}, which Linux does not implement (its verifier
 * rejects opcode 0x8d). Known per-case differences live in suite/known-differences.txt.
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

    @Override
    public Capabilities capabilities() {
        EnumSet<Group> groups = EnumSet.allOf(Group.class);
        groups.remove(Group.CALLX);
        return new Capabilities(groups, CpuVersion.V4, Set.of(HelperTable.BPF_FUNC_CSUM_DIFF));
    }

    @Override
    public Artifact compile(Program program) {
        return new Artifact() {
            @Override
            public String listing() {
                return Disassembler.listing(program);
            }

            @Override
            public Executable load() {
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
        };
    }
}
