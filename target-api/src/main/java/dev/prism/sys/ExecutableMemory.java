package dev.prism.sys;

import dev.prism.error.TargetException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
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

    private final MemorySegment mapping;
    private final MethodHandle handle;
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
        this.handle = Linker.nativeLinker().downcallHandle(mapping, ENTRY);
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
     * {@return the entry as {@code long f(long, long, long)}}; whoever calls it must keep this
     * object reachable for the duration of the call ({@link #invoke} does)
     *
     * @throws IllegalStateException once closed
     */
    public MethodHandle handle() {
        if (unmap.done().get()) {
            throw new IllegalStateException("executable memory is closed");
        }
        return handle;
    }

    /**
     * Calls the entry. @throws IllegalStateException once closed
     */
    public long invoke(long a0, long a1, long a2) {
        MethodHandle h = handle();
        try {
            return (long) h.invokeExact(a0, a1, a2);
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
}
