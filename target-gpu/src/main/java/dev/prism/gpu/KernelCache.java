package dev.prism.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Built kernels by source text, for the life of the JVM: PoCL compiles a kernel in a second or
 * more, and the tests load the same program many times. PoCL's own on-disk cache
 * ({@code POCL_CACHE_DIR}, set to {@code target/pocl-cache} unless the environment sets it)
 * keeps them across JVMs.
 */
final class KernelCache {
    private static final Map<String, MemorySegment[]> BUILT = new HashMap<>();

    private KernelCache() {
    }

    static synchronized MemorySegment[] get(OpenCl.Device device, String source) {
        return BUILT.computeIfAbsent(source, s -> OpenCl.build(device, s));
    }

    /**
     * Points PoCL's kernel cache under {@code target/} (system property {@code prism.pocl.cache}
     * overrides), unless POCL_CACHE_DIR is set: called before the OpenCL library is first used,
     * through libc's setenv since the JVM cannot change its own environment.
     */
    static void pointPoclCache() {
        if (System.getenv("POCL_CACHE_DIR") != null) {
            return;
        }
        String dir = System.getProperty("prism.pocl.cache", Path.of("target", "pocl-cache").toAbsolutePath().toString());
        try (Arena a = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            int rc = (int) setenv.invokeExact(a.allocateFrom("POCL_CACHE_DIR"), a.allocateFrom(dir), 0);
        } catch (Throwable t) {
            // PoCL then uses its default cache (~/.cache/pocl): slower first builds, same results.
        }
    }
}
