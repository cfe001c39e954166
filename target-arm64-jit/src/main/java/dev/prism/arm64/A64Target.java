package dev.prism.arm64;

import dev.prism.arm64.emu.A64Machine;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.error.TargetException;
import dev.prism.program.Program;
import dev.prism.runtime.Environment;
import dev.prism.runtime.jit.MachineCode;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.Target;
import dev.prism.verifier.VerifiedProgram;
import java.util.List;
import java.util.Locale;

/**
 * AArch64 code (id {@code arm64}): {@link A64Jit} lowers a verified program ({@code raw} or
 * {@code xdp}, with maps, helpers, tail calls, bpf_loop, callx and legacy packet loads), and the
 * code runs in libunicorn's in-process AArch64 emulator ({@link EmulatedInstance}), with host
 * memory mapped at its own addresses and helper calls trapping into the same Java helpers the
 * x86-64 target calls. On every host, arm64 ones included: running the code natively there
 * (executable memory and FFM upcall stubs in the helper slots, as x86-64 does) is not done yet,
 * and {@link #availability()} says which mode is used. Programs handed to {@link #load}
 * unverified are verified first (profile rfc9669); raw programs are verified for the size of
 * the memory each run brings, and compiled once per size.
 */
public final class A64Target implements Target {
    private final A64Jit.Options options;
    private final Environment env;
    private final long budget;

    /** LSE atomics, the ARMv8.1 code a current arm64 server runs (ServiceLoader constructor). */
    public A64Target() {
        this(A64Jit.Options.DEFAULT);
    }

    public A64Target(A64Jit.Options options) {
        this(options, Environment.host(), A64Machine.DEFAULT_BUDGET);
    }

    /**
     * @param env    clock and randomness the helpers see (deterministic ones for tests)
     * @param budget native instructions one run may execute before it traps
     */
    public A64Target(A64Jit.Options options, Environment env, long budget) {
        if (budget <= 0) {
            throw new IllegalArgumentException("budget must be positive, was " + budget);
        }
        this.options = options;
        this.env = env;
        this.budget = budget;
    }

    @Override
    public String id() {
        return "arm64";
    }

    @Override
    public String description() {
        return "arm64 JIT (AArch64 machine code, AAPCS64, " + (options.lse() ? "LSE" : "LL/SC") + " atomics)";
    }

    /** Emulated on every host, with the library's version and the CPU model; the reason when the library is missing. */
    @Override
    public Availability availability() {
        Availability lib = Unicorn.availability();
        if (!lib.available()) {
            return lib;
        }
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String host = arch.equals("aarch64") || arch.equals("arm64") ? "; native execution on this arm64 host is not implemented" : "";
        return Availability.yes("emulated (" + lib.reason() + ", cpu model " + (options.lse() ? "max" : "cortex-a57") + host + ")");
    }

    @Override
    public Capabilities capabilities() {
        return MachineCode.capabilities();
    }

    @Override
    public Artifact compile(VerifiedProgram verified) {
        A64Jit.Compiled compiled = A64Jit.compile(verified, options);
        return MachineCode.artifact(compiled.code(), () -> A64Listing.disassembled(compiled), compiled::listing, () -> {
            requireAvailable();
            return EmulatedInstance.of(verified, compiled, env, budget);
        });
    }

    @Override
    public Executable load(List<Program> programs) {
        requireAvailable();
        return EmulatedInstance.of(programs, env, options, budget);
    }

    private void requireAvailable() {
        Availability a = availability();
        if (!a.available()) {
            throw new TargetException("arm64 is unavailable: " + a.reason());
        }
    }
}
