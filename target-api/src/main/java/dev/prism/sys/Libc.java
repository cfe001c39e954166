package dev.prism.sys;

import dev.prism.error.TargetException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * The two libc entry points the bpf() layer needs, bound once through the FFM linker:
 * {@code long syscall(long number, ...)} and {@code int close(int fd)}, both capturing errno.
 *
 * <p>Binding can fail (not Linux, an architecture without a known bpf syscall number, native
 * access denied); that failure is kept and reported by {@link #get()} as a
 * {@link TargetException}, so no caller ever sees an {@code ExceptionInInitializerError}.
 */
final class Libc {
    /** A syscall's result: the raw return value and, when it is -1, errno. */
    record Result(long value, int errno) {
        boolean failed() {
            return value == -1;
        }
    }

    private static final Libc INSTANCE;
    private static final String FAILURE;

    static {
        Libc instance = null;
        String failure = null;
        try {
            instance = new Libc();
        } catch (RuntimeException e) {
            failure = e.getMessage() == null ? e.toString() : e.getMessage();
        }
        INSTANCE = instance;
        FAILURE = failure;
    }

    private final long sysBpf;
    private final MethodHandle syscall;
    private final MethodHandle close;
    private final StructLayout stateLayout;
    private final VarHandle errno;

    private Libc() {
        String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            throw new IllegalStateException("not Linux (os.name is " + os + ")");
        }
        String arch = System.getProperty("os.arch", "");
        sysBpf = switch (arch) {
            // arch/x86/entry/syscalls/syscall_64.tbl: 321 common bpf
            case "amd64", "x86_64" -> 321;
            // include/uapi/asm-generic/unistd.h: #define __NR_bpf 280
            case "aarch64", "arm64" -> 280;
            default -> throw new IllegalStateException("no known bpf() syscall number for architecture " + arch);
        };
        Linker linker = Linker.nativeLinker();
        SymbolLookup lookup = linker.defaultLookup();
        stateLayout = Linker.Option.captureStateLayout();
        errno = stateLayout.varHandle(PathElement.groupElement("errno"));
        Linker.Option captureErrno = Linker.Option.captureCallState("errno");
        // Every variadic argument is passed as a long: the kernel reads whole registers and
        // truncates int parameters itself (SYSCALL_DEFINE's casts), and long needs no promotion.
        syscall = linker.downcallHandle(
                lookup.find("syscall").orElseThrow(() -> new IllegalStateException("libc has no syscall()")),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                Linker.Option.firstVariadicArg(1), captureErrno);
        close = linker.downcallHandle(
                lookup.find("close").orElseThrow(() -> new IllegalStateException("libc has no close()")),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                captureErrno);
    }

    /** {@return the bound entry points} @throws TargetException when they could not be bound here */
    static Libc get() {
        if (INSTANCE == null) {
            throw new TargetException(FAILURE);
        }
        return INSTANCE;
    }

    /** {@return the result of {@code syscall(SYS_bpf, cmd, attr, size)}} */
    Result bpf(SegmentAllocator arena, int cmd, MemorySegment attr) {
        MemorySegment state = arena.allocate(stateLayout);
        long r;
        try {
            r = (long) syscall.invokeExact(state, sysBpf, (long) cmd, attr, attr.byteSize());
        } catch (Throwable t) {
            throw new TargetException("bpf() call failed in the FFM layer: " + t, t);
        }
        return new Result(r, r == -1 ? (int) errno.get(state, 0L) : 0);
    }

    /** {@return the result of {@code close(fd)}} */
    Result close(SegmentAllocator arena, int fd) {
        MemorySegment state = arena.allocate(stateLayout);
        int r;
        try {
            r = (int) close.invokeExact(state, fd);
        } catch (Throwable t) {
            throw new TargetException("close() failed in the FFM layer: " + t, t);
        }
        return new Result(r, r == -1 ? (int) errno.get(state, 0L) : 0);
    }
}
