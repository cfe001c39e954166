package dev.prism.runtime;

import dev.prism.asm.Disassembler;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.error.TargetException;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.util.Set;

/** The reference interpreter as a target (id {@code interpreter}): runs everywhere, checks everything. */
public final class InterpreterTarget implements Target {
    @Override
    public String id() {
        return "interpreter";
    }

    @Override
    public String description() {
        return "reference interpreter (RFC 9669 semantics, every access checked)";
    }

    @Override
    public Availability availability() {
        return Availability.yes("pure Java");
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.everything(Set.of(HelperTable.BPF_FUNC_CSUM_DIFF));
    }

    @Override
    public Artifact compile(Program program) {
        if (program.type() != ProgramType.RAW) {
            throw new TargetException("not supported: program type " + program.type().id()
                    + " on the interpreter yet (raw only until the XDP context lands)");
        }
        return new Artifact() {
            @Override
            public String listing() {
                return Disassembler.listing(program);
            }

            @Override
            public Executable load() {
                Interpreter interpreter = new Interpreter();
                return new Executable() {
                    @Override
                    public RunResult run(RunInput input) {
                        Interpreter.Result r = interpreter.runRaw(program, input.mem());
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
