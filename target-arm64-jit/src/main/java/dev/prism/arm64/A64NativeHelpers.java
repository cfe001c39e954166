package dev.prism.arm64;

import dev.prism.runtime.Environment;
import dev.prism.runtime.jit.NativeInstance;

/**
 * Helpers implemented as AArch64 code for native instances on an aarch64 host, bound into a run
 * context's helper table in place of an upcall into Java, so code that calls them still runs as
 * a critical function: x86-64's X86NativeHelpers for AAPCS64. Today: {@code bpf_ktime_get_ns}
 * when the instance's environment reads the host's clock ({@link Environment#HOST_CLOCK}).
 */
final class A64NativeHelpers {
    static final NativeInstance.NativeHelpers HELPERS = NativeInstance.NativeHelpers.ktime(A64NativeHelpers::ktimeCode);

    private A64NativeHelpers() {
    }

    /**
     * {@code u64 ktime(void)}: a frame record and a struct timespec (32 bytes: sp stays 16-byte
     * aligned), clock_gettime(CLOCK_MONOTONIC, &ts), then tv_sec * 10^9 + tv_nsec. Only
     * caller-saved registers change (x0-x2, x16, and what libc clobbers), as AAPCS64 allows.
     */
    static byte[] ktimeCode(long clockGettime) {
        A64Assembler a = new A64Assembler();
        a.stp(64, A64Reg.FP, A64Reg.LR, A64Reg.SP, -32, A64Index.PRE);
        a.mov(64, A64Reg.FP, A64Reg.SP);
        a.movImm(32, A64Reg.X0, NativeInstance.CLOCK_MONOTONIC);
        a.add(64, A64Reg.X1, A64Reg.SP, 16);
        a.movImm(64, A64Reg.X16, clockGettime);
        a.blr(A64Reg.X16);
        a.ldp(64, A64Reg.X0, A64Reg.X1, A64Reg.SP, 16, A64Index.OFFSET);
        a.movImm(64, A64Reg.X2, 1_000_000_000L);
        a.madd(64, A64Reg.X0, A64Reg.X0, A64Reg.X2, A64Reg.X1);
        a.ldp(64, A64Reg.FP, A64Reg.LR, A64Reg.SP, 32, A64Index.POST);
        a.ret();
        return a.bytes();
    }
}
