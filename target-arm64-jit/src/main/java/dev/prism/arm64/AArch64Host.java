package dev.prism.arm64;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/** What the JVM's own host is, for running AArch64 code natively. */
final class AArch64Host {
    /** getauxval's key for the hardware capabilities word (include/uapi/linux/auxvec.h). */
    private static final long AT_HWCAP = 16;
    /** FEAT_LSE in AT_HWCAP (arch/arm64/include/uapi/asm/hwcap.h: HWCAP_ATOMICS). */
    private static final long HWCAP_ATOMICS = 1L << 8;

    /** Read once: the answer cannot change while the JVM runs. */
    private static final boolean LSE = isOne() && (hwcap() & HWCAP_ATOMICS) != 0;

    private AArch64Host() {
    }

    /** {@return whether this JVM runs on aarch64 Linux} */
    static boolean isOne() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        return (arch.equals("aarch64") || arch.equals("arm64")) && os.startsWith("linux");
    }

    /** {@return whether the kernel reports FEAT_LSE atomics for this CPU (false off aarch64 Linux)} */
    static boolean hasLse() {
        return LSE;
    }

    private static long hwcap() {
        var getauxval = Linker.nativeLinker().defaultLookup().find("getauxval");
        if (getauxval.isEmpty()) {
            return 0;
        }
        MethodHandle h = Linker.nativeLinker().downcallHandle(getauxval.get(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        try {
            return (long) h.invokeExact(AT_HWCAP);
        } catch (Throwable t) {
            return 0;
        }
    }
}
