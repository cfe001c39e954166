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

/**
 * Direct FFM downcalls into the OpenCL ICD loader {@code libOpenCL.so.1}: the 20 functions a
 * batch executor needs. Chosen over LWJGL's lwjgl-opencl because it is that small, adds no
 * dependency (and no native jar per platform), and keeps the error codes in our own messages.
 */
final class OpenCl {
    static final int CL_SUCCESS = 0;
    static final long CL_DEVICE_TYPE_ALL = 0xFFFFFFFFL;
    static final int CL_DEVICE_NAME = 0x102B;
    static final int CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002;
    static final int CL_DEVICE_EXTENSIONS = 0x1030;
    static final int CL_PROGRAM_BUILD_LOG = 0x1183;
    static final long CL_MEM_READ_WRITE = 1;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final ValueLayout.OfLong SIZE_T = ValueLayout.JAVA_LONG;
    private static final ValueLayout ADDR = ValueLayout.ADDRESS;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final String LIB = "libOpenCL.so.1";
    private static final SymbolLookup LOOKUP;
    private static final String LOAD_ERROR;

    static {
        SymbolLookup l = null;
        String err = null;
        try {
            l = SymbolLookup.libraryLookup(LIB, Arena.global());
        } catch (IllegalArgumentException e) {
            err = "no " + LIB + " (install ocl-icd-libopencl1 and an ICD such as pocl-opencl-icd)";
        }
        LOOKUP = l;
        LOAD_ERROR = err;
    }

    private static MethodHandle h(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LOOKUP.find(name).orElseThrow(() -> new TargetException("opencl: no symbol " + name)), d);
    }

    /** Lazily bound handles, so that a missing library only fails at use. */
    private static final class H {
        static final MethodHandle GET_PLATFORM_IDS = h("clGetPlatformIDs", FunctionDescriptor.of(INT, INT, ADDR, ADDR));
        static final MethodHandle GET_DEVICE_IDS = h("clGetDeviceIDs", FunctionDescriptor.of(INT, ADDR, ValueLayout.JAVA_LONG, INT, ADDR, ADDR));
        static final MethodHandle GET_DEVICE_INFO = h("clGetDeviceInfo", FunctionDescriptor.of(INT, ADDR, INT, SIZE_T, ADDR, ADDR));
        static final MethodHandle CREATE_CONTEXT = h("clCreateContext", FunctionDescriptor.of(ADDR, ADDR, INT, ADDR, ADDR, ADDR, ADDR));
        static final MethodHandle CREATE_QUEUE = h("clCreateCommandQueue", FunctionDescriptor.of(ADDR, ADDR, ADDR, ValueLayout.JAVA_LONG, ADDR));
        static final MethodHandle CREATE_PROGRAM = h("clCreateProgramWithSource", FunctionDescriptor.of(ADDR, ADDR, INT, ADDR, ADDR, ADDR));
        static final MethodHandle BUILD_PROGRAM = h("clBuildProgram", FunctionDescriptor.of(INT, ADDR, INT, ADDR, ADDR, ADDR, ADDR));
        static final MethodHandle BUILD_INFO = h("clGetProgramBuildInfo", FunctionDescriptor.of(INT, ADDR, ADDR, INT, SIZE_T, ADDR, ADDR));
        static final MethodHandle CREATE_KERNEL = h("clCreateKernel", FunctionDescriptor.of(ADDR, ADDR, ADDR, ADDR));
        static final MethodHandle CREATE_BUFFER = h("clCreateBuffer", FunctionDescriptor.of(ADDR, ADDR, ValueLayout.JAVA_LONG, SIZE_T, ADDR, ADDR));
        static final MethodHandle SET_ARG = h("clSetKernelArg", FunctionDescriptor.of(INT, ADDR, INT, SIZE_T, ADDR));
        static final MethodHandle WRITE = h("clEnqueueWriteBuffer", FunctionDescriptor.of(INT, ADDR, ADDR, INT, SIZE_T, SIZE_T, ADDR, INT, ADDR, ADDR));
        static final MethodHandle READ = h("clEnqueueReadBuffer", FunctionDescriptor.of(INT, ADDR, ADDR, INT, SIZE_T, SIZE_T, ADDR, INT, ADDR, ADDR));
        static final MethodHandle ND_RANGE = h("clEnqueueNDRangeKernel", FunctionDescriptor.of(INT, ADDR, ADDR, INT, ADDR, ADDR, ADDR, INT, ADDR, ADDR));
        static final MethodHandle FINISH = h("clFinish", FunctionDescriptor.of(INT, ADDR));
        static final MethodHandle RELEASE_MEM = h("clReleaseMemObject", FunctionDescriptor.of(INT, ADDR));
        static final MethodHandle RELEASE_KERNEL = h("clReleaseKernel", FunctionDescriptor.of(INT, ADDR));
        static final MethodHandle RELEASE_PROGRAM = h("clReleaseProgram", FunctionDescriptor.of(INT, ADDR));
        static final MethodHandle RELEASE_QUEUE = h("clReleaseCommandQueue", FunctionDescriptor.of(INT, ADDR));
        static final MethodHandle RELEASE_CONTEXT = h("clReleaseContext", FunctionDescriptor.of(INT, ADDR));
    }

    private OpenCl() {
    }

    /** The first device of the first platform that has one, with its context and queue. */
    record Device(MemorySegment id, MemorySegment context, MemorySegment queue, String name, int computeUnits) {
    }

    private static Device device;
    private static String unavailable;

    /** {@return why there is no OpenCL device, or null when there is one} */
    static synchronized String unavailable() {
        if (device == null && unavailable == null) {
            try {
                device = open();
            } catch (TargetException | UnsatisfiedLinkError e) {
                unavailable = e.getMessage();
            }
        }
        return unavailable;
    }

    /** {@return the shared device} @throws TargetException when there is none */
    static synchronized Device device() {
        String why = unavailable();
        if (why != null) {
            throw new TargetException("opencl is unavailable: " + why);
        }
        return device;
    }

    static void check(int rc, String what) {
        if (rc != CL_SUCCESS) {
            throw new TargetException("opencl: " + what + " failed with error " + rc);
        }
    }

    private static Device open() {
        KernelCache.pointPoclCache();
        if (LOOKUP == null) {
            throw new TargetException(LOAD_ERROR);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(INT);
            int rc = (int) H.GET_PLATFORM_IDS.invokeExact(0, MemorySegment.NULL, count);
            if (rc != CL_SUCCESS || count.get(INT, 0) == 0) {
                throw new TargetException("no OpenCL platform (clGetPlatformIDs: " + rc + "; install pocl-opencl-icd)");
            }
            int np = count.get(INT, 0);
            MemorySegment platforms = a.allocate(ADDR, np);
            check((int) H.GET_PLATFORM_IDS.invokeExact(np, platforms, MemorySegment.NULL), "clGetPlatformIDs");
            for (int p = 0; p < np; p++) {
                MemorySegment platform = platforms.getAtIndex(ValueLayout.ADDRESS, p);
                MemorySegment dev = a.allocate(ADDR);
                rc = (int) H.GET_DEVICE_IDS.invokeExact(platform, CL_DEVICE_TYPE_ALL, 1, dev, MemorySegment.NULL);
                if (rc != CL_SUCCESS) {
                    continue;
                }
                MemorySegment id = dev.get(ValueLayout.ADDRESS, 0);
                String ext = infoString(a, id, CL_DEVICE_EXTENSIONS);
                if (!ext.contains("cl_khr_int64_base_atomics") || !ext.contains("cl_khr_int64_extended_atomics")) {
                    continue;
                }
                MemorySegment err = a.allocate(INT);
                MemorySegment ctx = (MemorySegment) H.CREATE_CONTEXT.invokeExact(MemorySegment.NULL, 1, dev, MemorySegment.NULL,
                        MemorySegment.NULL, err);
                check(err.get(INT, 0), "clCreateContext");
                MemorySegment queue = (MemorySegment) H.CREATE_QUEUE.invokeExact(ctx, id, 0L, err);
                check(err.get(INT, 0), "clCreateCommandQueue");
                MemorySegment cu = a.allocate(INT);
                check((int) H.GET_DEVICE_INFO.invokeExact(id, CL_DEVICE_MAX_COMPUTE_UNITS, 4L, cu, MemorySegment.NULL),
                        "clGetDeviceInfo");
                return new Device(id, ctx, queue, infoString(a, id, CL_DEVICE_NAME), cu.get(INT, 0));
            }
            throw new TargetException("no OpenCL device with cl_khr_int64_base_atomics and cl_khr_int64_extended_atomics");
        } catch (TargetException e) {
            throw e;
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }

    private static String infoString(Arena a, MemorySegment id, int param) throws Throwable {
        MemorySegment size = a.allocate(SIZE_T);
        check((int) H.GET_DEVICE_INFO.invokeExact(id, param, 0L, MemorySegment.NULL, size), "clGetDeviceInfo");
        MemorySegment buf = a.allocate(size.get(SIZE_T, 0) + 1);
        check((int) H.GET_DEVICE_INFO.invokeExact(id, param, size.get(SIZE_T, 0), buf, MemorySegment.NULL), "clGetDeviceInfo");
        return buf.getString(0, StandardCharsets.UTF_8);
    }

    /** {@return a built kernel named "prism"}; the build log in the exception when the compiler refuses */
    static MemorySegment[] build(Device d, String source) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(INT);
            MemorySegment src = a.allocate(ADDR);
            src.set(ValueLayout.ADDRESS, 0, a.allocateFrom(source));
            MemorySegment prog = (MemorySegment) H.CREATE_PROGRAM.invokeExact(d.context(), 1, src, MemorySegment.NULL, err);
            check(err.get(INT, 0), "clCreateProgramWithSource");
            MemorySegment dev = a.allocate(ADDR);
            dev.set(ValueLayout.ADDRESS, 0, d.id());
            int rc = (int) H.BUILD_PROGRAM.invokeExact(prog, 1, dev, a.allocateFrom("-cl-std=CL1.2"), MemorySegment.NULL,
                    MemorySegment.NULL);
            if (rc != CL_SUCCESS) {
                MemorySegment size = a.allocate(SIZE_T);
                int rc2 = (int) H.BUILD_INFO.invokeExact(prog, d.id(), CL_PROGRAM_BUILD_LOG, 0L, MemorySegment.NULL, size);
                String log = "";
                if (rc2 == CL_SUCCESS) {
                    MemorySegment buf = a.allocate(size.get(SIZE_T, 0) + 1);
                    rc2 = (int) H.BUILD_INFO.invokeExact(prog, d.id(), CL_PROGRAM_BUILD_LOG, size.get(SIZE_T, 0), buf, MemorySegment.NULL);
                    log = buf.getString(0, StandardCharsets.UTF_8);
                }
                int ignored = (int) H.RELEASE_PROGRAM.invokeExact(prog);
                throw new TargetException("opencl: clBuildProgram failed with error " + rc + ":\n" + log);
            }
            MemorySegment kernel = (MemorySegment) H.CREATE_KERNEL.invokeExact(prog, a.allocateFrom("prism"), err);
            check(err.get(INT, 0), "clCreateKernel");
            return new MemorySegment[] {prog, kernel};
        } catch (TargetException e) {
            throw e;
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }

    static MemorySegment buffer(Device d, long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(INT);
            MemorySegment b = (MemorySegment) H.CREATE_BUFFER.invokeExact(d.context(), CL_MEM_READ_WRITE, bytes, MemorySegment.NULL, err);
            check(err.get(INT, 0), "clCreateBuffer of " + bytes + " bytes");
            return b;
        } catch (TargetException e) {
            throw e;
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }

    static void write(Device d, MemorySegment buf, long offset, MemorySegment from) {
        try {
            check((int) H.WRITE.invokeExact(d.queue(), buf, 1, offset, from.byteSize(), from, 0, MemorySegment.NULL,
                    MemorySegment.NULL), "clEnqueueWriteBuffer");
        } catch (TargetException e) {
            throw e;
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }

    static void read(Device d, MemorySegment buf, long offset, MemorySegment to) {
        try {
            check((int) H.READ.invokeExact(d.queue(), buf, 1, offset, to.byteSize(), to, 0, MemorySegment.NULL,
                    MemorySegment.NULL), "clEnqueueReadBuffer");
        } catch (TargetException e) {
            throw e;
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }

    /** Sets argument {@code i} to the bytes of {@code value} (a buffer handle or a scalar). */
    static void arg(MemorySegment kernel, int i, MemorySegment value) {
        try {
            check((int) H.SET_ARG.invokeExact(kernel, i, value.byteSize(), value), "clSetKernelArg " + i);
        } catch (TargetException e) {
            throw e;
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }

    static void launch(Device d, MemorySegment kernel, long global, long local) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment g = a.allocateFrom(SIZE_T, global);
            MemorySegment l = a.allocateFrom(SIZE_T, local);
            check((int) H.ND_RANGE.invokeExact(d.queue(), kernel, 1, MemorySegment.NULL, g, l, 0, MemorySegment.NULL,
                    MemorySegment.NULL), "clEnqueueNDRangeKernel");
        } catch (TargetException e) {
            throw e;
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }

    static void finish(Device d) {
        try {
            check((int) H.FINISH.invokeExact(d.queue()), "clFinish");
        } catch (TargetException e) {
            throw e;
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }

    static void releaseMem(MemorySegment m) {
        try {
            int ignored = (int) H.RELEASE_MEM.invokeExact(m);
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }

    static void releaseKernel(MemorySegment prog, MemorySegment kernel) {
        try {
            int ignored = (int) H.RELEASE_KERNEL.invokeExact(kernel);
            ignored = (int) H.RELEASE_PROGRAM.invokeExact(prog);
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }

    /** Queue and context stay for the JVM's life (one per process); kept for completeness. */
    static void releaseDevice(Device d) {
        try {
            int ignored = (int) H.RELEASE_QUEUE.invokeExact(d.queue());
            ignored = (int) H.RELEASE_CONTEXT.invokeExact(d.context());
        } catch (Throwable t) {
            throw new TargetException("opencl: " + t);
        }
    }
}
