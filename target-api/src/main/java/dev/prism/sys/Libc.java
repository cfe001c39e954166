package dev.prism.sys;

import dev.prism.error.TargetException;
import java.lang.foreign.Arena;
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
 * The libc entry points the bpf() layer needs, bound once through the FFM linker:
 * {@code long syscall(long number, ...)}, {@code int close(int fd)}, and {@code mmap},
 * {@code munmap} and {@code getpagesize} for reading a ring buffer map from user space; all but
 * getpagesize capture errno.
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
    private final long sysPerfEventOpen;
    private final MethodHandle syscall;
    private final MethodHandle syscall5;
    private final MethodHandle close;
    private final MethodHandle mmap;
    private final MethodHandle munmap;
    private final MethodHandle mprotect;
    private final MethodHandle schedSetaffinity;
    private final MethodHandle schedGetaffinity;
    private final int pageSize;
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
        // syscall_64.tbl: 298 common perf_event_open; asm-generic/unistd.h: __NR_perf_event_open 241
        sysPerfEventOpen = arch.equals("aarch64") || arch.equals("arm64") ? 241 : 298;
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
        // syscall(nr, attr, pid, cpu, group_fd, flags): perf_event_open
        syscall5 = linker.downcallHandle(
                lookup.find("syscall").orElseThrow(() -> new IllegalStateException("libc has no syscall()")),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                Linker.Option.firstVariadicArg(1), captureErrno);
        close = linker.downcallHandle(
                lookup.find("close").orElseThrow(() -> new IllegalStateException("libc has no close()")),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                captureErrno);
        // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
        // size_t and off_t are 64 bits on both architectures Prism binds (LP64).
        mmap = linker.downcallHandle(
                lookup.find("mmap").orElseThrow(() -> new IllegalStateException("libc has no mmap()")),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                captureErrno);
        // int munmap(void *addr, size_t length);
        munmap = linker.downcallHandle(
                lookup.find("munmap").orElseThrow(() -> new IllegalStateException("libc has no munmap()")),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                captureErrno);
        // int mprotect(void *addr, size_t len, int prot);
        mprotect = linker.downcallHandle(
                lookup.find("mprotect").orElseThrow(() -> new IllegalStateException("libc has no mprotect()")),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
                captureErrno);
        // int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask); pid 0 = this thread
        schedSetaffinity = linker.downcallHandle(
                lookup.find("sched_setaffinity").orElseThrow(() -> new IllegalStateException("libc has no sched_setaffinity()")),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
                captureErrno);
        // int sched_getaffinity(pid_t pid, size_t cpusetsize, cpu_set_t *mask)
        schedGetaffinity = linker.downcallHandle(
                lookup.find("sched_getaffinity").orElseThrow(() -> new IllegalStateException("libc has no sched_getaffinity()")),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
                captureErrno);
        MethodHandle getpagesize = linker.downcallHandle(
                lookup.find("getpagesize").orElseThrow(() -> new IllegalStateException("libc has no getpagesize()")),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
        try {
            pageSize = (int) getpagesize.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("getpagesize() failed: " + t, t);
        }
    }

    /** {@return the bound entry points} @throws TargetException when they could not be bound here */
    static Libc get() {
        if (INSTANCE == null) {
            throw new TargetException(FAILURE);
        }
        return INSTANCE;
    }

    /** {@return the result of {@code syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags)}} */
    Result perfEventOpen(SegmentAllocator arena, MemorySegment attr, int pid, int cpu, int groupFd, long flags) {
        MemorySegment state = arena.allocate(stateLayout);
        long r;
        try {
            r = (long) syscall5.invokeExact(state, sysPerfEventOpen, attr, (long) pid, (long) cpu, (long) groupFd, flags);
        } catch (Throwable t) {
            throw new TargetException("perf_event_open() call failed in the FFM layer: " + t, t);
        }
        return new Result(r, r == -1 ? (int) errno.get(state, 0L) : 0);
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

    /** {@return the calling thread's CPU affinity mask (cpu_set_t, 128 bytes)} */
    byte[] affinity() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(128, 8);
            MemorySegment state = arena.allocate(stateLayout);
            int r;
            try {
                r = (int) schedGetaffinity.invokeExact(state, 0, mask.byteSize(), mask);
            } catch (Throwable t) {
                throw new TargetException("sched_getaffinity() failed in the FFM layer: " + t, t);
            }
            if (r != 0) {
                throw new TargetException("sched_getaffinity() failed: " + Errno.describe((int) errno.get(state, 0L), null));
            }
            return mask.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** Sets the calling thread's CPU affinity mask (as {@link #affinity()} returned it). */
    void setAffinity(byte[] bits) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(128, 8);
            MemorySegment.copy(bits, 0, mask, ValueLayout.JAVA_BYTE, 0, Math.min(128, bits.length));
            applyAffinity(arena, mask, "sched_setaffinity()");
        }
    }

    /**
     * Pins the calling thread to one CPU ({@code sched_setaffinity(0, ...)}): a Java platform
     * thread is one kernel thread, so BPF_PROG_TEST_RUN from it runs the program on that CPU and
     * per-CPU maps become comparable.
     *
     * @throws TargetException naming the errno when the kernel refuses
     */
    void pinToCpu(int cpu) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(128, 8); // cpu_set_t: 1024 bits
            if (cpu < 0) {
                mask.fill((byte) 0xff); // every CPU: undo a pin
            } else {
                mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
            }
            applyAffinity(arena, mask, "sched_setaffinity(cpu " + cpu + ")");
        }
    }

    /** {@code sched_setaffinity(0, mask)}; {@code call} names the call in the error when the kernel refuses. */
    private void applyAffinity(Arena arena, MemorySegment mask, String call) {
        MemorySegment state = arena.allocate(stateLayout);
        int r;
        try {
            r = (int) schedSetaffinity.invokeExact(state, 0, mask.byteSize(), mask);
        } catch (Throwable t) {
            throw new TargetException("sched_setaffinity() failed in the FFM layer: " + t, t);
        }
        if (r != 0) {
            throw new TargetException(call + " failed: " + Errno.describe((int) errno.get(state, 0L), null));
        }
    }

    /** mmap prot and flags bits (include/uapi/asm-generic/mman-common.h, mman.h; the same on x86-64 and arm64). */
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int PROT_EXEC = 0x4;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
    /** MAP_ANONYMOUS: 0x20 on x86-64 and arm64 (asm-generic/mman-common.h). */
    static final int MAP_ANONYMOUS = 0x20;

    /** {@return the page size, {@code getpagesize()}} */
    int pageSize() {
        return pageSize;
    }

    /**
     * {@return the mapping of {@code length} bytes of {@code fd} from {@code offset},
     * {@code mmap(NULL, length, prot, MAP_SHARED, fd, offset)}, sized to {@code length}}
     *
     * @throws TargetException naming the errno when mmap fails
     */
    MemorySegment mmapShared(long length, int prot, int fd, long offset) {
        MemorySegment r;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(stateLayout);
            try {
                r = (MemorySegment) mmap.invokeExact(state, MemorySegment.NULL, length, prot, MAP_SHARED, fd, offset);
            } catch (Throwable t) {
                throw new TargetException("mmap() failed in the FFM layer: " + t, t);
            }
            // MAP_FAILED is (void *) -1.
            if (r.address() == -1L) {
                throw new TargetException("mmap(fd " + fd + ", " + length + " bytes at offset " + offset + ", prot " + prot
                        + ") failed: " + Errno.describe((int) errno.get(state, 0L), null));
            }
        }
        return r.reinterpret(length);
    }

    /**
     * {@return {@code length} bytes of fresh zeroed memory,
     * {@code mmap(NULL, length, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)}, sized to {@code length}}
     *
     * @throws TargetException naming the errno when mmap fails
     */
    MemorySegment mmapAnonymous(long length, int prot) {
        MemorySegment r;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(stateLayout);
            try {
                r = (MemorySegment) mmap.invokeExact(state, MemorySegment.NULL, length, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            } catch (Throwable t) {
                throw new TargetException("mmap() failed in the FFM layer: " + t, t);
            }
            if (r.address() == -1L) {
                throw new TargetException("mmap(anonymous, " + length + " bytes, prot " + prot
                        + ") failed: " + Errno.describe((int) errno.get(state, 0L), null));
            }
        }
        return r.reinterpret(length);
    }

    /**
     * Changes the protection of {@code mapping}, {@code mprotect(mapping, mapping.byteSize(), prot)}.
     *
     * @throws TargetException naming the errno when mprotect fails
     */
    void mprotect(MemorySegment mapping, int prot) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(stateLayout);
            int r;
            try {
                r = (int) mprotect.invokeExact(state, mapping, mapping.byteSize(), prot);
            } catch (Throwable t) {
                throw new TargetException("mprotect() failed in the FFM layer: " + t, t);
            }
            if (r != 0) {
                throw new TargetException("mprotect(" + mapping.byteSize() + " bytes, prot " + prot
                        + ") failed: " + Errno.describe((int) errno.get(state, 0L), null));
            }
        }
    }

    /** {@return the result of {@code munmap(mapping, mapping.byteSize())}} */
    Result munmap(SegmentAllocator arena, MemorySegment mapping) {
        MemorySegment state = arena.allocate(stateLayout);
        int r;
        try {
            r = (int) munmap.invokeExact(state, mapping, mapping.byteSize());
        } catch (Throwable t) {
            throw new TargetException("munmap() failed in the FFM layer: " + t, t);
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
