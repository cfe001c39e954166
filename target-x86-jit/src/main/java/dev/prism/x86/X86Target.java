package dev.prism.x86;

import dev.prism.error.TargetException;
import dev.prism.error.TrapException;
import dev.prism.isa.CpuVersion;
import dev.prism.isa.Group;
import dev.prism.program.Program;
import dev.prism.sys.ExecutableMemory;
import dev.prism.target.Artifact;
import dev.prism.target.Availability;
import dev.prism.target.Capabilities;
import dev.prism.target.Executable;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.target.Target;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Native x86-64 code (id {@code x86-64}): {@link X86Jit} lowers a raw program, the code runs
 * in {@link ExecutableMemory} through the FFM linker. No helpers, maps, callx, legacy packet
 * loads or XDP yet. Memory accesses are not checked: only known-good programs may run until
 * the verifier stands in front of this target.
 */
public final class X86Target implements Target {
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
        return new Capabilities(EnumSet.of(Group.BASE32, Group.BASE64, Group.ATOMIC32, Group.ATOMIC64,
                Group.DIVMUL32, Group.DIVMUL64), CpuVersion.V4, Set.of());
    }

    @Override
    public Artifact compile(Program program) {
        X86Jit.Compiled compiled = X86Jit.compile(program);
        return new Artifact() {
            @Override
            public String listing() {
                return compiled.listing();
            }

            @Override
            public Executable load() {
                Availability a = availability();
                if (!a.available()) {
                    throw new TargetException("x86-64 is unavailable: " + a.reason());
                }
                return new NativeExecutable(compiled, ExecutableMemory.of(compiled.code()));
            }
        };
    }

    /** A compiled program in executable memory. Not thread-safe. */
    private record NativeExecutable(X86Jit.Compiled compiled, ExecutableMemory code) implements Executable {
        @Override
        public RunResult run(RunInput input) {
            if (input.packet() != null) {
                throw TargetException.unsupported("packet input on x86-64 (raw programs only)");
            }
            byte[] mem = input.mem();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment m = mem.length == 0 ? MemorySegment.NULL : arena.allocate(mem.length, 8);
                if (mem.length > 0) {
                    MemorySegment.copy(mem, 0, m, ValueLayout.JAVA_BYTE, 0, mem.length);
                }
                MemorySegment status = arena.allocate(ValueLayout.JAVA_LONG);
                long r0 = code.invoke(m.address(), mem.length, status.address());
                long trap = status.get(ValueLayout.JAVA_LONG, 0);
                if (trap != 0) {
                    int pc = compiled.callPcAt(trap - code.entry().address());
                    throw new TrapException(pc, "call depth exceeds " + X86Jit.MAX_FRAMES + " frames");
                }
                byte[] after = mem.length == 0 ? new byte[0] : m.toArray(ValueLayout.JAVA_BYTE);
                return new RunResult(r0, after);
            }
        }

        @Override
        public void close() {
            code.close();
        }
    }
}
