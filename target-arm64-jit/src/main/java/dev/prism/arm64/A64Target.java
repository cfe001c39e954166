package dev.prism.arm64;

import dev.prism.arm64.emu.A64Emulator;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.error.TargetException;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.Program;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import dev.prism.verifier.Profile;
import dev.prism.verifier.VerifiedProgram;
import dev.prism.verifier.Verifier;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AArch64 code (id {@code arm64}): {@link A64Jit} lowers a verified raw program, {@link
 * A64Emulator} runs it in libunicorn's in-process emulator on every host, arm64 ones included
 * (running it natively there, through {@code ExecutableMemory}, is not done yet). Programs handed
 * to {@link #load} unverified are verified first (profile rfc9669) for the size of the memory
 * each run brings, and compiled once per size, as the x86-64 target does. No helpers, maps,
 * callx, legacy packet loads or XDP yet.
 */
public final class A64Target implements Target {
    private final A64Jit.Options options;

    /** LSE atomics, the ARMv8.1 code a current arm64 server runs (ServiceLoader constructor). */
    public A64Target() {
        this(A64Jit.Options.DEFAULT);
    }

    public A64Target(A64Jit.Options options) {
        this.options = options;
    }

    @Override
    public String id() {
        return "arm64";
    }

    @Override
    public String description() {
        return "arm64 JIT (AArch64 machine code, AAPCS64, " + (options.lse() ? "LSE" : "LL/SC") + " atomics)";
    }

    @Override
    public Availability availability() {
        Availability lib = Unicorn.availability();
        if (!lib.available()) {
            return lib;
        }
        return Availability.yes("emulated (" + lib.reason() + ", cpu model "
                + (options.lse() ? "max" : "cortex-a57") + ")");
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(EnumSet.of(Group.BASE32, Group.BASE64, Group.ATOMIC32, Group.ATOMIC64,
                Group.DIVMUL32, Group.DIVMUL64), CpuVersion.V4, Set.of());
    }

    @Override
    public Artifact compile(VerifiedProgram verified) {
        A64Jit.Compiled compiled = A64Jit.compile(verified.normalized(), options);
        return new Artifact() {
            @Override
            public String listing() {
                return compiled.listing();
            }

            @Override
            public Executable load() {
                requireAvailable();
                return new EmulatedExecutable(new A64Emulator(compiled), verified.memSize());
            }
        };
    }

    @Override
    public Executable load(List<Program> programs) {
        if (programs.size() != 1) {
            throw TargetException.unsupported("arm64 loads one program at a time (no tail calls yet)");
        }
        requireAvailable();
        return new PerSizeExecutable(programs.get(0), options);
    }

    private void requireAvailable() {
        Availability a = availability();
        if (!a.available()) {
            throw new TargetException("arm64 is unavailable: " + a.reason());
        }
    }

    /**
     * An unverified raw program: verified and compiled for each memory size a run brings (the
     * verifier proves accesses through r1 against that size), each size's engine kept until close.
     */
    private static final class PerSizeExecutable implements Executable {
        private final Program program;
        private final A64Jit.Options options;
        private final Map<Integer, A64Emulator> bySize = new HashMap<>();

        PerSizeExecutable(Program program, A64Jit.Options options) {
            this.program = program;
            this.options = options;
        }

        @Override
        public synchronized RunResult run(RunInput input) {
            if (input.packet() != null) {
                throw TargetException.unsupported("packet input on arm64 (raw programs only)");
            }
            byte[] mem = input.mem();
            A64Emulator e = bySize.get(mem.length);
            if (e == null) {
                VerifiedProgram v = Verifier.verify(program, Profile.RFC9669, mem.length, null);
                e = new A64Emulator(A64Jit.compile(v.normalized(), options));
                bySize.put(mem.length, e);
            }
            return e.run(mem);
        }

        @Override
        public synchronized void close() {
            bySize.values().forEach(A64Emulator::close);
            bySize.clear();
        }
    }

    /** A compiled program in its own emulator engine. */
    private record EmulatedExecutable(A64Emulator emulator, int memSize) implements Executable {
        @Override
        public RunResult run(RunInput input) {
            if (input.packet() != null) {
                throw TargetException.unsupported("packet input on arm64 (raw programs only)");
            }
            byte[] mem = input.mem();
            if (memSize >= 0 && mem.length != memSize) {
                throw new TargetException("the program was verified for " + memSize + " bytes of memory; this run has "
                        + mem.length);
            }
            return emulator.run(mem);
        }

        @Override
        public void close() {
            emulator.close();
        }
    }
}
