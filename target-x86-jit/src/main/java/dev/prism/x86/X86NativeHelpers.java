package dev.prism.x86;

import dev.prism.runtime.Environment;
import dev.prism.runtime.jit.NativeInstance;

/**
 * Helpers implemented as native code, made once per JVM and bound into a run context's helper
 * table in place of an upcall into Java, so code that calls them still runs as a critical
 * function. Today: {@code bpf_ktime_get_ns} when the instance's environment reads the host's
 * clock ({@link Environment#HOST_CLOCK}): a call of libc's {@code clock_gettime(CLOCK_MONOTONIC)},
 * the clock {@link System#nanoTime} reads on Linux.
 */
final class X86NativeHelpers {
    static final NativeInstance.NativeHelpers HELPERS = NativeInstance.NativeHelpers.ktime(X86NativeHelpers::ktimeCode);

    private X86NativeHelpers() {
    }

    /**
     * {@code u64 ktime(void)}: a struct timespec on the stack (24 bytes keep the call 16-byte
     * aligned), clock_gettime(CLOCK_MONOTONIC, &ts), then tv_sec * 10^9 + tv_nsec.
     */
    private static byte[] ktimeCode(long clockGettime) {
        X86Assembler a = new X86Assembler();
        a.sub(64, X86Reg.RSP, 24);
        a.mov(32, X86Reg.RDI, NativeInstance.CLOCK_MONOTONIC);
        a.mov(64, X86Reg.RSI, X86Reg.RSP);
        a.movabs(X86Reg.RAX, clockGettime);
        a.call(X86Reg.RAX);
        a.mov(64, X86Reg.RAX, X86Address.of(X86Reg.RSP));
        a.mov(64, X86Reg.RCX, 1_000_000_000L);
        a.imul(64, X86Reg.RAX, X86Reg.RCX);
        a.mov(64, X86Reg.RCX, X86Address.of(X86Reg.RSP, 8));
        a.add(64, X86Reg.RAX, X86Reg.RCX);
        a.add(64, X86Reg.RSP, 24);
        a.ret();
        return a.toByteArray();
    }
}
