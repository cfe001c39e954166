package dev.prism.gpu;

import java.lang.foreign.MemorySegment;

/**
 * What {@link DeviceExecutable} needs from a device API: buffers addressed by a 64-bit handle
 * (an OpenCL {@code cl_mem}, a CUDA device pointer), blocking copies, and a kernel built from the
 * lowered text. {@link OpenClGpu} and {@link CudaGpu} implement it; everything else of a batch
 * (the arena, maps, inputs, results, timing) is shared.
 */
interface Gpu {
    /** {@return the target id, for messages} */
    String target();

    /** {@return a buffer of {@code bytes} bytes on the device} */
    long alloc(long bytes);

    void free(long buffer);

    /** Copies {@code from} to {@code buffer} at {@code offset} and waits. */
    void write(long buffer, long offset, MemorySegment from);

    /** Copies {@code buffer} from {@code offset} into {@code to} and waits. */
    void read(long buffer, long offset, MemorySegment to);

    /** {@return the kernel of {@code source}, built once per source text} */
    Kernel kernel(String source);

    /** One built kernel with the parameters every lowering declares, in this order. */
    interface Kernel {
        /**
         * Runs {@code n} items in groups of {@link DeviceExecutable#GROUP} and waits.
         * {@return the kernel's time in ns as the device measured it, or -1 when it cannot}
         */
        long launch(long arena, long r0s, int n, long items, long stride, long now, long seed, long memlen);
    }
}
