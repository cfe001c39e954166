package dev.prism.gpu;

import dev.prism.error.TargetException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Direct FFM downcalls into the CUDA driver {@code libcuda.so.1}, the functions a batch executor
 * needs (no LWJGL: it dropped its CUDA module in 3.4.0, and the driver API is small). Memory and
 * context functions are the versioned symbols the header's macros name ({@code cuMemAlloc_v2},
 * {@code cuCtxCreate_v4} in CUDA 13, falling back to {@code cuCtxCreate_v2} on older drivers);
 * {@code cuModuleLoadDataEx} and {@code cuLaunchKernel} are unversioned. Every CUresult other than
 * CUDA_SUCCESS becomes a {@link TargetException} naming the call, the code, its name and the
 * driver's words ({@link #describe}).
 *
 * <p>One context per process, made current on the calling thread before each call
 * ({@code cuCtxSetCurrent}), so batches may come from any Java thread.
 */
final class Cuda {
    static final String LIB = "libcuda.so.1";
    static final int CUDA_SUCCESS = 0;
    /** CU_JIT_ERROR_LOG_BUFFER and its size, for the JIT's error log at module load. */
    static final int CU_JIT_ERROR_LOG_BUFFER = 5;
    static final int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    /**
     * CU_LIMIT_STACK_SIZE, and the stack per thread asked for: tail calls nest up to 33 main
     * functions, each with bpf-to-bpf calls below it.
     */
    static final int CU_LIMIT_STACK_SIZE = 0;
    static final long THREAD_STACK = 16 * 1024;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final java.lang.foreign.AddressLayout ADDR = ValueLayout.ADDRESS;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

    /** The driver's symbols, or why there are none. */
    record Library(SymbolLookup lookup, String error) {
        /** {@return the symbol lookup of {@code name}, or the reason it cannot be opened} */
        static Library open(String name) {
            try {
                return new Library(SymbolLookup.libraryLookup(name, Arena.global()), null);
            } catch (IllegalArgumentException e) {
                return new Library(null, name + " not found: no NVIDIA driver");
            }
        }

        /** {@return a downcall to the first of {@code names} the library has} @throws TargetException naming them all */
        MethodHandle bind(FunctionDescriptor d, String... names) {
            if (lookup == null) {
                throw new TargetException("ptx: " + error);
            }
            for (String n : names) {
                Optional<MemorySegment> s = lookup.find(n);
                if (s.isPresent()) {
                    return LINKER.downcallHandle(s.get(), d);
                }
            }
            throw new TargetException("ptx: " + LIB + " has no symbol " + String.join(" or ", names)
                    + " (a driver older than the CUDA 12 API?)");
        }
    }

    static final Library LIBRARY = Library.open(LIB);

    /** Handles bound on first use, so that a missing library fails only then. */
    private static final class H {
        static final MethodHandle INIT = LIBRARY.bind(FunctionDescriptor.of(INT, INT), "cuInit");
        static final MethodHandle DEVICE_COUNT = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR), "cuDeviceGetCount");
        static final MethodHandle DEVICE_GET = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, INT), "cuDeviceGet");
        static final MethodHandle DEVICE_NAME = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, INT, INT), "cuDeviceGetName");
        static final MethodHandle CTX_DESTROY = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR), "cuCtxDestroy_v2");
        static final MethodHandle CTX_SET_CURRENT = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR), "cuCtxSetCurrent");
        static final MethodHandle CTX_SYNCHRONIZE = LIBRARY.bind(FunctionDescriptor.of(INT), "cuCtxSynchronize");
        static final MethodHandle CTX_SET_LIMIT = LIBRARY.bind(FunctionDescriptor.of(INT, INT, LONG), "cuCtxSetLimit");
        static final MethodHandle MODULE_LOAD = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, ADDR, INT, ADDR, ADDR),
                "cuModuleLoadDataEx");
        static final MethodHandle MODULE_FUNCTION = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, ADDR, ADDR), "cuModuleGetFunction");
        static final MethodHandle MEM_ALLOC = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, LONG), "cuMemAlloc_v2");
        static final MethodHandle MEM_FREE = LIBRARY.bind(FunctionDescriptor.of(INT, LONG), "cuMemFree_v2");
        static final MethodHandle HTOD = LIBRARY.bind(FunctionDescriptor.of(INT, LONG, ADDR, LONG), "cuMemcpyHtoD_v2");
        static final MethodHandle DTOH = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, LONG, LONG), "cuMemcpyDtoH_v2");
        static final MethodHandle LAUNCH = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, INT, INT, INT, INT, INT, INT, INT, ADDR,
                ADDR, ADDR), "cuLaunchKernel");
        static final MethodHandle EVENT_CREATE = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, INT), "cuEventCreate");
        static final MethodHandle EVENT_RECORD = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, ADDR), "cuEventRecord");
        static final MethodHandle EVENT_SYNCHRONIZE = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR), "cuEventSynchronize");
        static final MethodHandle EVENT_ELAPSED = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, ADDR, ADDR),
                "cuEventElapsedTime_v2", "cuEventElapsedTime");
    }

    /** Error words, bound separately: describing an error must not need the other handles. */
    private static final class E {
        static final MethodHandle NAME = LIBRARY.bind(FunctionDescriptor.of(INT, INT, ADDR), "cuGetErrorName");
        static final MethodHandle STRING = LIBRARY.bind(FunctionDescriptor.of(INT, INT, ADDR), "cuGetErrorString");
    }

    private Cuda() {
    }

    /** The device, its context and the two events that time kernels. */
    record Device(int ordinal, String name, MemorySegment context, MemorySegment start, MemorySegment stop) {
    }

    private static Device device;
    private static String unavailable;

    /** {@return why there is no CUDA device, or null when there is one} */
    static synchronized String unavailable() {
        if (device == null && unavailable == null) {
            if (LIBRARY.error() != null) {
                unavailable = LIBRARY.error();
            } else {
                try {
                    device = open();
                } catch (TargetException e) {
                    unavailable = e.getMessage();
                }
            }
        }
        return unavailable;
    }

    /** {@return the shared device} @throws TargetException when there is none */
    static synchronized Device device() {
        String why = unavailable();
        if (why != null) {
            throw new TargetException("ptx is unavailable: " + why);
        }
        return device;
    }

    /**
     * {@return the name of a CUresult without the driver}: the codes Prism can meet, from cuda.h
     * (CUDA 13); null for others
     */
    static String codeName(int rc) {
        return switch (rc) {
            case 0 -> "CUDA_SUCCESS";
            case 1 -> "CUDA_ERROR_INVALID_VALUE";
            case 2 -> "CUDA_ERROR_OUT_OF_MEMORY";
            case 3 -> "CUDA_ERROR_NOT_INITIALIZED";
            case 4 -> "CUDA_ERROR_DEINITIALIZED";
            case 35 -> "CUDA_ERROR_INSUFFICIENT_DRIVER";
            case 100 -> "CUDA_ERROR_NO_DEVICE";
            case 101 -> "CUDA_ERROR_INVALID_DEVICE";
            case 200 -> "CUDA_ERROR_INVALID_IMAGE";
            case 201 -> "CUDA_ERROR_INVALID_CONTEXT";
            case 209 -> "CUDA_ERROR_NO_BINARY_FOR_GPU";
            case 218 -> "CUDA_ERROR_INVALID_PTX";
            case 222 -> "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
            case 400 -> "CUDA_ERROR_INVALID_HANDLE";
            case 500 -> "CUDA_ERROR_NOT_FOUND";
            case 700 -> "CUDA_ERROR_ILLEGAL_ADDRESS";
            case 701 -> "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
            case 702 -> "CUDA_ERROR_LAUNCH_TIMEOUT";
            case 716 -> "CUDA_ERROR_MISALIGNED_ADDRESS";
            case 719 -> "CUDA_ERROR_LAUNCH_FAILED";
            case 999 -> "CUDA_ERROR_UNKNOWN";
            default -> null;
        };
    }

    /**
     * {@return "call failed: CODE_NAME (rc): driver words"}: the driver's name and string when it
     * answers, else the table of {@link #codeName}, else the number alone
     */
    static String describe(String call, int rc) {
        String name = codeName(rc);
        String words = null;
        if (LIBRARY.error() == null) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = a.allocate(ADDR);
                if ((int) E.NAME.invokeExact(rc, p) == CUDA_SUCCESS && !p.get(ADDR, 0).equals(MemorySegment.NULL)) {
                    name = p.get(ADDR, 0).reinterpret(256).getString(0, StandardCharsets.US_ASCII);
                }
                if ((int) E.STRING.invokeExact(rc, p) == CUDA_SUCCESS && !p.get(ADDR, 0).equals(MemorySegment.NULL)) {
                    words = p.get(ADDR, 0).reinterpret(1024).getString(0, StandardCharsets.US_ASCII);
                }
            } catch (Throwable t) {
                // the table's name is enough
            }
        }
        return call + " failed: " + (name == null ? "CUresult" : name) + " (" + rc + ")" + (words == null ? "" : ": " + words);
    }

    /** @throws TargetException with {@link #describe} unless {@code rc} is CUDA_SUCCESS */
    static void check(int rc, String call) {
        if (rc != CUDA_SUCCESS) {
            throw new TargetException("ptx: " + describe(call, rc));
        }
    }

    private static TargetException wrap(Throwable t) {
        return t instanceof TargetException e ? e : new TargetException("ptx: " + t);
    }

    private static Device open() {
        try (Arena a = Arena.ofConfined()) {
            int rc = (int) H.INIT.invokeExact(0);
            if (rc == 100) {
                throw new TargetException("no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)");
            }
            check(rc, "cuInit");
            MemorySegment n = a.allocate(INT);
            check((int) H.DEVICE_COUNT.invokeExact(n), "cuDeviceGetCount");
            if (n.get(INT, 0) == 0) {
                throw new TargetException("no CUDA device");
            }
            MemorySegment dev = a.allocate(INT);
            check((int) H.DEVICE_GET.invokeExact(dev, 0), "cuDeviceGet");
            int ordinal = dev.get(INT, 0);
            MemorySegment name = a.allocate(256);
            check((int) H.DEVICE_NAME.invokeExact(name, 256, ordinal), "cuDeviceGetName");
            MemorySegment ctx = a.allocate(ADDR);
            MethodHandle v4 = LIBRARY.lookup().find("cuCtxCreate_v4").map(s -> LINKER.downcallHandle(s,
                    FunctionDescriptor.of(INT, ADDR, ADDR, INT, INT))).orElse(null);
            if (v4 != null) {
                check((int) v4.invokeExact(ctx, MemorySegment.NULL, 0, ordinal), "cuCtxCreate_v4");
            } else {
                MethodHandle v2 = LIBRARY.bind(FunctionDescriptor.of(INT, ADDR, INT, INT), "cuCtxCreate_v2");
                check((int) v2.invokeExact(ctx, 0, ordinal), "cuCtxCreate_v2");
            }
            MemorySegment context = ctx.get(ADDR, 0);
            check((int) H.CTX_SET_LIMIT.invokeExact(CU_LIMIT_STACK_SIZE, THREAD_STACK), "cuCtxSetLimit(CU_LIMIT_STACK_SIZE)");
            MemorySegment ev = a.allocate(ADDR);
            check((int) H.EVENT_CREATE.invokeExact(ev, 0), "cuEventCreate");
            MemorySegment start = ev.get(ADDR, 0);
            check((int) H.EVENT_CREATE.invokeExact(ev, 0), "cuEventCreate");
            return new Device(ordinal, name.getString(0, StandardCharsets.US_ASCII), context, start, ev.get(ADDR, 0));
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    private static void current(Device d) throws Throwable {
        check((int) H.CTX_SET_CURRENT.invokeExact(d.context()), "cuCtxSetCurrent");
    }

    /** {@return the function "prism" of the PTX module {@code ptx}}, the JIT's log in the exception when it refuses */
    static MemorySegment load(Device d, String ptx) {
        try (Arena a = Arena.ofConfined()) {
            current(d);
            int logSize = 16384;
            MemorySegment log = a.allocate(logSize);
            MemorySegment opts = a.allocate(INT, 2);
            opts.setAtIndex(INT, 0, CU_JIT_ERROR_LOG_BUFFER);
            opts.setAtIndex(INT, 1, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            MemorySegment vals = a.allocate(ADDR, 2);
            vals.setAtIndex(ADDR, 0, log);
            vals.setAtIndex(ADDR, 1, MemorySegment.ofAddress(logSize));
            MemorySegment module = a.allocate(ADDR);
            int rc = (int) H.MODULE_LOAD.invokeExact(module, a.allocateFrom(ptx, StandardCharsets.US_ASCII), 2, opts, vals);
            if (rc != CUDA_SUCCESS) {
                throw new TargetException("ptx: " + describe("cuModuleLoadDataEx", rc) + "\n" + log.getString(0, StandardCharsets.US_ASCII));
            }
            MemorySegment fn = a.allocate(ADDR);
            check((int) H.MODULE_FUNCTION.invokeExact(fn, module.get(ADDR, 0), a.allocateFrom("prism")), "cuModuleGetFunction");
            return fn.get(ADDR, 0);
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    static long alloc(Device d, long bytes) {
        try (Arena a = Arena.ofConfined()) {
            current(d);
            MemorySegment p = a.allocate(LONG);
            check((int) H.MEM_ALLOC.invokeExact(p, bytes), "cuMemAlloc_v2 of " + bytes + " bytes");
            return p.get(LONG, 0);
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    static void free(Device d, long ptr) {
        try {
            current(d);
            check((int) H.MEM_FREE.invokeExact(ptr), "cuMemFree_v2");
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    static void write(Device d, long ptr, long offset, MemorySegment from) {
        try {
            current(d);
            check((int) H.HTOD.invokeExact(ptr + offset, from, from.byteSize()), "cuMemcpyHtoD_v2");
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    static void read(Device d, long ptr, long offset, MemorySegment to) {
        try {
            current(d);
            check((int) H.DTOH.invokeExact(to, ptr + offset, to.byteSize()), "cuMemcpyDtoH_v2");
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /**
     * Launches {@code fn} on {@code groups} blocks of {@code block} threads with the kernel
     * parameters {@code params} (each a segment holding one value), waits for it, and
     * {@return the kernel's time in ns by the device's events}
     */
    static long launch(Device d, MemorySegment fn, int groups, int block, MemorySegment... params) {
        // the device's two events are shared: one launch at a time is timed
        synchronized (d) {
            return timedLaunch(d, fn, groups, block, params);
        }
    }

    private static long timedLaunch(Device d, MemorySegment fn, int groups, int block, MemorySegment... params) {
        try (Arena a = Arena.ofConfined()) {
            current(d);
            MemorySegment ptrs = a.allocate(ADDR, params.length);
            for (int i = 0; i < params.length; i++) {
                ptrs.setAtIndex(ADDR, i, params[i]);
            }
            check((int) H.EVENT_RECORD.invokeExact(d.start(), MemorySegment.NULL), "cuEventRecord");
            check((int) H.LAUNCH.invokeExact(fn, groups, 1, 1, block, 1, 1, 0, MemorySegment.NULL, ptrs, MemorySegment.NULL),
                    "cuLaunchKernel");
            check((int) H.EVENT_RECORD.invokeExact(d.stop(), MemorySegment.NULL), "cuEventRecord");
            check((int) H.CTX_SYNCHRONIZE.invokeExact(), "cuCtxSynchronize (the kernel)");
            check((int) H.EVENT_SYNCHRONIZE.invokeExact(d.stop()), "cuEventSynchronize");
            MemorySegment ms = a.allocate(ValueLayout.JAVA_FLOAT);
            check((int) H.EVENT_ELAPSED.invokeExact(ms, d.start(), d.stop()), "cuEventElapsedTime");
            return (long) (ms.get(ValueLayout.JAVA_FLOAT, 0) * 1e6);
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /** The context stays for the JVM's life (one per process); kept for completeness. */
    static void destroy(Device d) {
        try {
            check((int) H.CTX_DESTROY.invokeExact(d.context()), "cuCtxDestroy_v2");
        } catch (Throwable t) {
            throw wrap(t);
        }
    }
}
