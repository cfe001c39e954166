package dev.prism.x86;

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
import java.util.Locale;

/**
 * Native x86-64 code (id {@code x86-64}): {@link X86Jit} lowers a verified program, the code
 * runs in W^X executable memory through the FFM linker ({@link NativeInstance}). Programs
 * handed to {@link #load} unverified are verified first (profile rfc9669); raw programs are
 * verified for the size of the memory each run brings, and compiled once per size.
 */
public final class X86Target implements Target {
    /**
     * The x86-64 JIT for {@link NativeInstance}: native {@code bpf_ktime_get_ns}; the stack a run
     * may use is 8 frames and their saved registers, with slack.
     */
    static final NativeInstance.Jit JIT = new NativeInstance.Jit("x86-64", verified -> X86Jit.compile(verified),
            X86NativeHelpers.HELPERS, (long) X86Jit.MAX_FRAMES * (X86Jit.FRAME_SIZE + 64 + 32 + RunContext.FOR_EACH_KEY_BYTES) + 256);

    private final Environment env;

    /** The target with the host's clock and randomness (ServiceLoader constructor). */
    public X86Target() {
        this(Environment.host());
    }

    /** The target with an injected environment (deterministic time and randomness for tests). */
    public X86Target(Environment env) {
        this.env = env;
    }

    @Override
    public String id() {
        return "x86-64";
    }

    @Override
    public String description() {
        return "x86-64 JIT (native machine code, System V ABI)";
    }

    @Override
    public Availability availability() {
        String arch = System.getProperty("os.arch", "");
        String os = System.getProperty("os.name", "");
        if (!arch.equals("amd64") && !arch.equals("x86_64")) {
            return Availability.no("host is " + arch + ", not x86-64");
        }
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            return Availability.no("host OS is " + os + ", not Linux (executable memory uses mmap/mprotect)");
        }
        return Availability.yes("native");
    }

    @Override
    public Capabilities capabilities() {
        return MachineCode.capabilities(true);
    }

    /** {@return {@link MachineCode#check}: the capabilities, and tail calls through a pinned PROG_ARRAY} */
    @Override
    public Verdict check(VerifiedProgram verified) {
        return MachineCode.check(verified, true);
    }

    @Override
    public Artifact compile(VerifiedProgram verified) {
        requireSupported(verified);
        X86Jit.Compiled compiled = X86Jit.compile(verified);
        return MachineCode.artifact(compiled.code(), () -> X86Listing.disassembled(compiled), compiled::listing, () -> {
            requireAvailable();
            return NativeInstance.of(JIT, verified, compiled, env);
        });
    }

    @Override
    public Executable load(List<Program> programs) {
        requireAvailable();
        return NativeInstance.of(JIT, programs, env);
    }

    private void requireAvailable() {
        Availability a = availability();
        if (!a.available()) {
            throw new TargetException("x86-64 is unavailable: " + a.reason());
        }
    }
}
