package dev.prism.runtime;

import dev.prism.asm.Disassembler;
import dev.prism.error.TargetException;
import dev.prism.isa.CallKind;
import dev.prism.isa.Insn;
import dev.prism.program.MapDef;
import dev.prism.program.Program;
import dev.prism.program.ProgramType;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.MapErrno;
import dev.prism.runtime.maps.RingBufMap;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.util.List;
import java.util.stream.Collectors;

/** The reference interpreter as a target (id {@code interpreter}): runs everywhere, checks everything. */
public final class InterpreterTarget implements Target {
    private final Environment env;

    /** The interpreter with the host's clock and randomness (ServiceLoader constructor). */
    public InterpreterTarget() {
        this(Environment.host());
    }

    /** The interpreter with an injected environment (deterministic time and randomness). */
    public InterpreterTarget(Environment env) {
        this.env = env;
    }

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

    /**
     * {@return raw, xdp, tc and csd programs; every group, opcode, map type and feature; every helper
     * Prism implements; no kernel functions ({@code call btf})}
     */
    @Override
    public Capabilities capabilities() {
        return Capabilities.builder()
                .programTypes(ProgramType.RAW, ProgramType.XDP, ProgramType.TC, ProgramType.CSD)
                .helpers(Helpers.all().stream().map(HelperProto::id).collect(Collectors.toSet()))
                .lacking(o -> o.mnemonic().startsWith("call btf"))
                .build();
    }

    @Override
    public Artifact compile(dev.prism.verifier.VerifiedProgram verified) {
        requireSupported(verified);
        Program program = verified.normalized();
        check(program);
        return new Artifact() {
            @Override
            public String listing() {
                return Disassembler.listing(program);
            }

            @Override
            public Executable load() {
                return InterpreterTarget.this.load(List.of(program));
            }
        };
    }

    /**
     * Refuses, before anything runs, what the interpreter cannot execute: other program types
     * and calls to helpers it does not implement (named by their Linux name and id).
     */
    private static void check(Program program) {
        if (program.type() == ProgramType.SOCKET) {
            throw TargetException.unsupported("program type " + program.type().id()
                    + " on the interpreter (raw, xdp, tc and csd are)");
        }
        for (int pc = 0; pc < program.length(); pc++) {
            if (program.at(pc) instanceof Insn.Call c && c.kind() == CallKind.HELPER && Helpers.proto(c.imm()).isEmpty()) {
                throw TargetException.unsupported(pc, Helpers.describeUnsupported(c.imm())
                        + " (the interpreter implements " + Helpers.all().size() + " Linux helpers)");
            }
        }
    }

    /**
     * A csd program's run through {@link Executable#run}: the input memory is the namespace and
     * its one chunk (offset 0, at most CsdContext.MAX_REGION bytes), the output buffer as long
     * (zeroed), both parameters 0; {@return r0 (64 bits) and the output buffer as memAfter}, as
     * the csd targets do.
     */
    static RunResult runCsd(Interpreter.Instance instance, byte[] mem) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment ns = arena.allocate(Math.max(1, mem.length), 8).asSlice(0, mem.length);
            java.lang.foreign.MemorySegment.copy(mem, 0, ns, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, mem.length);
            int len = Math.min(mem.length, dev.prism.program.CsdContext.MAX_REGION);
            java.lang.foreign.MemorySegment out = arena.allocate(Math.max(1, len), 8).asSlice(0, len);
            Interpreter.Result r = instance.runCsd(ns, 0, len, out, 0, 0);
            return new RunResult(r.r0(), out.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
    }

    @Override
    public Executable load(List<Program> programs) {
        programs.forEach(InterpreterTarget::check);
        programs = SkbPrograms.normalized(programs);
        Interpreter.Instance instance;
        try {
            instance = new Interpreter(HelperTable.standard(), Interpreter.DEFAULT_BUDGET, env).instantiate(programs);
        } catch (IllegalArgumentException e) {
            throw new TargetException("cannot create the maps: " + e.getMessage(), e);
        }
        return new Executable() {
            @Override
            public RunResult run(RunInput input) {
                Interpreter.Result r;
                if (instance.programs().get(0).type() == ProgramType.CSD) {
                    return runCsd(instance, input.mem());
                }
                try {
                    r = instance.run(input.mem(), input.packet(), input.skb());
                } catch (IllegalArgumentException e) {
                    throw new TargetException(e.getMessage(), e); // e.g. a packet shorter than 14 bytes
                }
                return new RunResult(r.r0(), r.memAfter(), r.packetAfter(), r.skbAfter(), r.redirect(), r.events());
            }

            @Override
            public MapAccess maps() {
                return new MapSetAccess(instance.maps(), instance.programs());
            }

            @Override
            public void close() {
                instance.close();
            }
        };
    }
}
