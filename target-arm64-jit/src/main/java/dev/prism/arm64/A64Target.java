package dev.prism.arm64;

import dev.prism.arm64.emu.A64Machine;
import dev.prism.arm64.emu.Unicorn;
import dev.prism.error.TargetException;
import dev.prism.program.Program;
import dev.prism.runtime.Environment;
import dev.prism.runtime.jit.MachineCode;
import dev.prism.runtime.jit.NativeInstance;
import dev.prism.runtime.jit.RunContext;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.Target;
import dev.prism.target.Verdict;
import dev.prism.verifier.VerifiedProgram;
import java.util.List;

/**
 * AArch64 code (id {@code arm64}): {@link A64Jit} lowers a verified program ({@code raw} or
 * {@code xdp}, with maps, helpers, tail calls, bpf_loop, callx and legacy packet loads). Where
 * the code runs, {@link #availability()} says:
 * <ul>
 * <li>On an aarch64 Linux host, natively: W^X executable memory, the entry called through the
 *     FFM linker and helpers as FFM upcall stubs ({@link NativeInstance}, as x86-64 does). LSE
 *     atomics need FEAT_LSE, which the kernel reports in {@code AT_HWCAP}; the default
 *     constructor picks LL/SC on a host without it.</li>
 * <li>Elsewhere, in libunicorn's in-process AArch64 emulator ({@link EmulatedInstance}), with
 *     host memory mapped at its own addresses, helper calls trapping into the same Java helpers,
 *     and an instruction budget.</li>
 * </ul>
 * Programs handed to {@link #load} unverified are verified first (profile rfc9669); raw
 * programs are verified for the size of the memory each run brings, and compiled once per size.
 */
public final class A64Target implements Target {
    /** Whether this host runs AArch64 code itself (an aarch64 Linux JVM). */
    static final boolean NATIVE = AArch64Host.isOne();

    private final A64Jit.Options options;
    private final Environment env;
    private final long budget;

    /** LSE atomics, the ARMv8.1 code a current arm64 server runs, unless this is an arm64 host without them (ServiceLoader constructor). */
    public A64Target() {
        this(NATIVE && !AArch64Host.hasLse() ? new A64Jit.Options(false) : A64Jit.Options.DEFAULT);
    }

    public A64Target(A64Jit.Options options) {
        this(options, Environment.host(), A64Machine.DEFAULT_BUDGET);
    }

    /**
     * @param env    clock and randomness the helpers see (deterministic ones for tests)
     * @param budget instructions one emulated run may execute before it traps (native code runs
     *               unbounded: the verifier proved it terminates, as for x86-64)
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

    /** Native on an aarch64 Linux host, else emulated, with the library's version and the CPU model; the reason when neither works. */
    @Override
    public Availability availability() {
        if (NATIVE) {
            if (options.lse() && !AArch64Host.hasLse()) {
                return Availability.no("this CPU lacks FEAT_LSE (no atomics in AT_HWCAP): use LL/SC atomics (A64Jit.Options(false))");
            }
            return Availability.yes("native (" + (options.lse() ? "LSE" : "LL/SC") + " atomics)");
        }
        Availability lib = Unicorn.availability();
        if (!lib.available()) {
            return lib;
        }
        return Availability.yes("emulated (" + lib.reason() + ", cpu model " + (options.lse() ? "max" : "cortex-a57") + ")");
    }

    @Override
    public Capabilities capabilities() {
        return MachineCode.capabilities();
    }

    /** {@return {@link MachineCode#check}: the capabilities, and tail calls through a pinned PROG_ARRAY} */
    @Override
    public Verdict check(VerifiedProgram verified) {
        return MachineCode.check(verified);
    }

    @Override
    public Artifact compile(VerifiedProgram verified) {
        requireSupported(verified);
        A64Jit.Compiled compiled = A64Jit.compile(verified, options);
        return MachineCode.artifact(compiled.code(), () -> A64Listing.disassembled(compiled), compiled::listing, () -> {
            requireAvailable();
            return NATIVE ? NativeInstance.of(jit(), verified, compiled, env) : EmulatedInstance.of(verified, compiled, env, budget);
        });
    }

    @Override
    public Executable load(List<Program> programs) {
        requireAvailable();
        return NATIVE ? NativeInstance.of(jit(), programs, env) : EmulatedInstance.of(programs, env, options, budget);
    }

    /** The JIT for a native instance: native bpf_ktime_get_ns; the stack a run may use is 8 frames and their saved registers, with slack. */
    private NativeInstance.Jit jit() {
        return new NativeInstance.Jit("arm64", verified -> A64Jit.compile(verified, options), A64NativeHelpers.HELPERS,
                (long) A64Jit.MAX_FRAMES * (A64Jit.FRAME_SIZE + 64 + 32 + RunContext.FOR_EACH_KEY_BYTES) + 256);
    }

    private void requireAvailable() {
        Availability a = availability();
        if (!a.available()) {
            throw new TargetException("arm64 is unavailable: " + a.reason());
        }
    }
}
