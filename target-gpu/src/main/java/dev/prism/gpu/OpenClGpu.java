package dev.prism.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** {@link Gpu} on the first OpenCL device with 64-bit atomics ({@link OpenCl}). */
final class OpenClGpu implements Gpu {
    private final OpenCl.Device device = OpenCl.device();

    @Override
    public String target() {
        return "opencl";
    }

    @Override
    public long alloc(long bytes) {
        return OpenCl.buffer(device, bytes).address();
    }

    @Override
    public void free(long buffer) {
        OpenCl.releaseMem(MemorySegment.ofAddress(buffer));
    }

    @Override
    public void write(long buffer, long offset, MemorySegment from) {
        OpenCl.write(device, MemorySegment.ofAddress(buffer), offset, from);
        OpenCl.finish(device);
    }

    @Override
    public void read(long buffer, long offset, MemorySegment to) {
        OpenCl.read(device, MemorySegment.ofAddress(buffer), offset, to);
        OpenCl.finish(device);
    }

    @Override
    public Kernel kernel(String source) {
        MemorySegment[] built = KernelCache.get(device, source);
        return (arena, r0s, n, items, stride, now, seed, memlen) -> {
            // Executables of one source share the kernel object and its arguments.
            synchronized (built) {
                MemorySegment k = built[1];
                try (Arena a = Arena.ofConfined()) {
                    OpenCl.arg(k, 0, a.allocateFrom(ValueLayout.JAVA_LONG, arena));
                    OpenCl.arg(k, 1, a.allocateFrom(ValueLayout.JAVA_LONG, r0s));
                    OpenCl.arg(k, 2, a.allocateFrom(ValueLayout.JAVA_INT, n));
                    OpenCl.arg(k, 3, a.allocateFrom(ValueLayout.JAVA_LONG, items));
                    OpenCl.arg(k, 4, a.allocateFrom(ValueLayout.JAVA_LONG, stride));
                    OpenCl.arg(k, 5, a.allocateFrom(ValueLayout.JAVA_LONG, now));
                    OpenCl.arg(k, 6, a.allocateFrom(ValueLayout.JAVA_LONG, seed));
                    OpenCl.arg(k, 7, a.allocateFrom(ValueLayout.JAVA_LONG, memlen));
                }
                long global = (n + DeviceExecutable.GROUP - 1) / DeviceExecutable.GROUP * (long) DeviceExecutable.GROUP;
                OpenCl.launch(device, k, global, DeviceExecutable.GROUP);
                OpenCl.finish(device);
            }
            return -1;
        };
    }
}
