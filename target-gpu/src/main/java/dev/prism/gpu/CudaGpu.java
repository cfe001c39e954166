package dev.prism.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/** {@link Gpu} on the first CUDA device ({@link Cuda}); modules are loaded once per PTX text. */
final class CudaGpu implements Gpu {
    private static final Map<String, MemorySegment> LOADED = new HashMap<>();
    private final Cuda.Device device = Cuda.device();

    @Override
    public String target() {
        return "ptx";
    }

    @Override
    public long alloc(long bytes) {
        return Cuda.alloc(device, bytes);
    }

    @Override
    public void free(long buffer) {
        Cuda.free(device, buffer);
    }

    @Override
    public void write(long buffer, long offset, MemorySegment from) {
        Cuda.write(device, buffer, offset, from);
    }

    @Override
    public void read(long buffer, long offset, MemorySegment to) {
        Cuda.read(device, buffer, offset, to);
    }

    @Override
    public Kernel kernel(String source) {
        MemorySegment fn;
        synchronized (LOADED) {
            fn = LOADED.computeIfAbsent(source, s -> Cuda.load(device, s));
        }
        return (arena, r0s, n, items, stride, now, seed, memlen) -> {
            try (Arena a = Arena.ofConfined()) {
                int groups = (n + DeviceExecutable.GROUP - 1) / DeviceExecutable.GROUP;
                return Cuda.launch(device, fn, groups, DeviceExecutable.GROUP,
                        a.allocateFrom(ValueLayout.JAVA_LONG, arena), a.allocateFrom(ValueLayout.JAVA_LONG, r0s),
                        a.allocateFrom(ValueLayout.JAVA_INT, n), a.allocateFrom(ValueLayout.JAVA_LONG, items),
                        a.allocateFrom(ValueLayout.JAVA_LONG, stride), a.allocateFrom(ValueLayout.JAVA_LONG, now),
                        a.allocateFrom(ValueLayout.JAVA_LONG, seed), a.allocateFrom(ValueLayout.JAVA_LONG, memlen));
            }
        };
    }
}
