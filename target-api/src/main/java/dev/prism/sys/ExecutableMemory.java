package dev.prism.sys;

import dev.prism.error.TargetException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Machine code in its own pages (DESIGN.md, "Native platform layer"): a page-rounded private
 * anonymous mapping is made read+write, the code copied in, then the mapping is switched to
 * read+execute with {@code mprotect}, so it is never writable and executable at once.
 * {@link #close()} unmaps it (idempotent); a {@link Cleaner} unmaps one that became unreachable
 * without being closed.
 *
 * <p><b>ABI of the entry.</b> The code at offset 0 is called with the platform's C calling
 * convention as {@code long entry(long a0, long a1, long a2)}; what the three arguments mean is
 * the code generator's business (the x86-64 JIT: memory address, memory length, address of a
 * status word). Callers must keep the code's contract: the FFM linker cannot catch a fault.
 */
public final class ExecutableMemory implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final FunctionDescriptor ENTRY = FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    /**
     * One handle for every entry, the address its first argument: a constant the JIT inlines
     * (a handle per mapping is not, and costs hundreds of nanoseconds per call).
     */
    private static final MethodHandle CALL = Linker.nativeLinker().downcallHandle(ENTRY);
    /**
     * The same without the thread-state transition ({@code Linker.Option.critical}): measured
     * here 3.4 ns per call instead of 7.6 ns. Only for code that never calls back into Java.
     */
    private static final MethodHandle CALL_CRITICAL = Linker.nativeLinker().downcallHandle(ENTRY, Linker.Option.critical(false));

    private final MemorySegment mapping;
    private final Unmap unmap;
    private final Cleaner.Cleanable cleanable;

    /** Unmaps once, whether called by {@link #close()} or by the cleaner. Holds no reference to the owner. */
    private record Unmap(MemorySegment mapping, AtomicBoolean done) implements Runnable {
        @Override
        public void run() {
            if (done.compareAndSet(false, true)) {
                try (Arena arena = Arena.ofConfined()) {
                    Libc.Result r = Libc.get().munmap(arena, mapping);
                    if (r.failed()) {
                        throw new TargetException("munmap() of " + mapping.byteSize() + " bytes of code failed: "
                                + Errno.describe(r.errno(), null));
                    }
                }
            }
        }
    }

    private ExecutableMemory(MemorySegment mapping) {
        this.mapping = mapping;
        this.unmap = new Unmap(mapping, new AtomicBoolean());
        this.cleanable = CLEANER.register(this, unmap);
    }

    /**
     * {@return executable pages holding {@code code}}
     *
     * @throws TargetException when the host cannot map, protect or bind the code
     */
    public static ExecutableMemory of(byte[] code) {
        if (code.length == 0) {
            throw new IllegalArgumentException("no code");
        }
        Libc libc = Libc.get();
        long page = libc.pageSize();
        long length = (code.length + page - 1) / page * page;
        MemorySegment mapping = libc.mmapAnonymous(length, Libc.PROT_READ | Libc.PROT_WRITE);
        try {
            MemorySegment.copy(code, 0, mapping, ValueLayout.JAVA_BYTE, 0, code.length);
            libc.mprotect(mapping, Libc.PROT_READ | Libc.PROT_EXEC);
            InstructionCache.synchronize(mapping, code.length);
            return new ExecutableMemory(mapping);
        } catch (RuntimeException e) {
            try (Arena arena = Arena.ofConfined()) {
                libc.munmap(arena, mapping);
            }
            throw e;
        }
    }

    /** {@return the address of the first byte of code, the entry point} */
    public MemorySegment entry() {
        return mapping.asSlice(0, 0);
    }

    /**
     * Calls the entry. @throws IllegalStateException once closed
     */
    public long invoke(long a0, long a1, long a2) {
        return call(CALL, a0, a1, a2);
    }

    /**
     * Calls the entry as a critical function: faster, but the code must not call back into Java
     * (no FFM upcall may run during the call) and must return promptly (the thread does not
     * reach a safepoint until it does).
     */
    public long invokeCritical(long a0, long a1, long a2) {
        return call(CALL_CRITICAL, a0, a1, a2);
    }

    private long call(MethodHandle h, long a0, long a1, long a2) {
        if (unmap.done().get()) {
            throw new IllegalStateException("executable memory is closed");
        }
        try {
            return (long) h.invokeExact(mapping, a0, a1, a2);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new TargetException("call into generated code failed: " + t, t);
        } finally {
            // The cleaner must not unmap the code while it runs.
            Reference.reachabilityFence(this);
        }
    }

    /** {@return the mapped length, a multiple of the page size} */
    public long byteSize() {
        return mapping.byteSize();
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    /** Makes freshly written code visible to instruction fetch: nothing on x86-64, whose caches are coherent. */
    private static final class InstructionCache {
        private static final boolean NEEDED = switch (System.getProperty("os.arch", "")) {
            case "aarch64", "arm64" -> true;
            default -> false;
        };
        /** {@code void __clear_cache(void *begin, void *end)}, bound on first use on a host that needs it. */
        private static MethodHandle clearCache;

        private InstructionCache() {
        }

        static void synchronize(MemorySegment code, long length) {
            if (!NEEDED) {
                return;
            }
            try {
                bind().invokeExact(code, code.asSlice(length, 0));
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new TargetException("__clear_cache failed: " + t, t);
            }
        }

        private static synchronized MethodHandle bind() {
            if (clearCache == null) {
                SymbolLookup libgcc;
                try {
                    libgcc = SymbolLookup.libraryLookup("libgcc_s.so.1", Arena.global());
                } catch (IllegalArgumentException e) {
                    throw new TargetException("cannot make generated code executable: " + e.getMessage(), e);
                }
                MemorySegment f = libgcc.find("__clear_cache").orElseThrow(() -> new TargetException(
                        "cannot make generated code executable: libgcc_s.so.1 has no __clear_cache"));
                clearCache = Linker.nativeLinker().downcallHandle(f,
                        FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            }
            return clearCache;
        }
    }
}
