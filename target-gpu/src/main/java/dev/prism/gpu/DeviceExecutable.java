package dev.prism.gpu;

import dev.prism.error.TargetException;
import dev.prism.program.MapDef;
import dev.prism.runtime.MapSetAccess;
import dev.prism.runtime.maps.BpfMap;
import dev.prism.runtime.maps.BpfMaps;
import dev.prism.target.MapAccess;
import dev.prism.target.RunInput;
import dev.prism.target.RunResult;
import dev.prism.verifier.VerifiedProgram;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A program loaded on a device ({@link Gpu}: OpenCL or CUDA, the same code for both): a batch of
 * inputs is one kernel launch per chunk of at most {@link #CHUNK} items. Maps live on the device between batches; they are copied up before
 * a batch when user space wrote them, and down when user space reads them ({@link #maps()}).
 * Timings of the last batch ({@link #lastTiming()}) separate transfers from kernel time.
 */
public final class DeviceExecutable implements dev.prism.target.Executable {

    /** The work runs on a device or in another process, which the thread's CPU time does not see. */
    @Override
    public boolean runsOnCallingThread() {
        return false;
    }
    /** Items per launch: bounds device memory (a chunk of XDP frames is at most 300 MB). */
    public static final int CHUNK = 65536;
    /** Work-group size: each group is one per-CPU slot (DeviceLayout.CPUS). */
    public static final int GROUP = 64;
    /** Per-CPU copies: work-group g of a launch is CPU g % CPUS. */
    public static final int CPUS = DeviceLayout.CPUS;
    static final int IFINDEX = 1;

    /**
     * Where the time of one batch went.
     *
     * @param inputs       items run
     * @param transferNs   host to device and back: maps, inputs, outputs (enqueue to finish)
     * @param kernelNs     kernel launches (the device's events where it has them, else enqueue to finish)
     * @param hostNs       packing inputs and unpacking results on the host
     */
    public record Timing(int inputs, long transferNs, long kernelNs, long hostNs) {
        public long totalNs() {
            return transferNs + kernelNs + hostNs;
        }
    }

    private final VerifiedProgram verified;
    /** The entry and the tail-call targets, as prog_array slots name them. */
    private List<dev.prism.program.Program> programs;
    private final DeviceLayout layout;
    private final Gpu gpu;
    private final Arena arena = Arena.ofShared();
    private final List<BpfMap> maps;
    private final boolean ownsMaps;
    private final Gpu.Kernel kernel;
    private final java.util.function.LongSupplier clock;
    private final long seed;
    private long buffer;
    private long bufferBytes;
    private long results;
    private Timing last;
    /** The device's maps are newer than the host's (a batch ran since the last download). */
    private boolean hostStale;
    /** The host's maps are newer than the device's (user space wrote, or no upload yet). */
    private boolean deviceStale = true;
    private long batches;

    DeviceExecutable(Gpu gpu, VerifiedProgram verified, String source, DeviceLayout layout, java.util.function.LongSupplier clock,
                     long seed, List<BpfMap> shared) {
        this.verified = verified;
        this.layout = layout;
        this.gpu = gpu;
        this.clock = clock;
        this.seed = seed;
        this.ownsMaps = shared == null;
        this.maps = shared == null ? hostMaps(verified.program().maps(), arena) : shared;
        this.programs = List.of(verified.program());
        this.kernel = gpu.kernel(source);
    }

    /**
     * {@return the host copies of {@code defs}}: per-CPU maps with {@link DeviceLayout#CPUS}
     * CPUs, so that user space sees each device CPU's (work-group's) value, as bpf() does
     */
    static List<BpfMap> hostMaps(List<MapDef> defs, Arena arena) {
        List<BpfMap> ms = new ArrayList<>();
        for (MapDef d : defs) {
            ms.add(BpfMaps.create(d, d.type() == dev.prism.program.MapType.PERCPU_ARRAY ? DeviceLayout.CPUS : 1, arena));
        }
        return List.copyOf(ms);
    }

    /** Names the programs prog_array slots may hold (the entry first); the kernel holds them all. */
    DeviceExecutable withPrograms(List<dev.prism.program.Program> all) {
        this.programs = List.copyOf(all);
        return this;
    }

    /** {@return the timing of the last batch, or null before the first} */
    public Timing lastTiming() {
        return last;
    }

    @Override
    public java.util.Map<String, Long> lastBatchNanos() {
        Timing t = last;
        return t == null ? java.util.Map.of()
                : java.util.Map.of("transfer", t.transferNs(), "kernel", t.kernelNs(), "host", t.hostNs());
    }

    @Override
    public RunResult run(RunInput input) {
        return run(List.of(input)).get(0);
    }

    /**
     * {@return the host's maps}, brought up to date from the device first when a batch ran since;
     * every write through it marks the device copy stale, so the next batch uploads. Maps thus
     * cross the bus only when user space looks at them, not per batch.
     */
    @Override
    public MapAccess maps() {
        return new SyncedMapAccess(new MapSetAccess(maps, programs), this::syncDown, this::markDeviceStale);
    }

    synchronized void markDeviceStale() {
        deviceStale = true;
    }

    /** Copies the device's maps to the host when a batch ran since the last copy. */
    synchronized void syncDown() {
        if (!hostStale || buffer == 0) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment region = a.allocate(layout.itemsOffset(), 64);
            gpu.read(buffer, 0, region);
            DeviceMaps.download(layout, maps, region);
        }
        hostStale = false;
        if (layout.maps().stream().anyMatch(d -> d.type() == dev.prism.program.MapType.RINGBUF)) {
            // the host's rings now hold the device's records: the next batch starts the device
            // rings empty, with the room the host rings have then
            deviceStale = true;
        }
    }

    @Override
    public List<RunResult> run(List<RunInput> inputs) {
        if (inputs.isEmpty()) {
            return List.of();
        }
        synchronized (this) {
            return runLocked(inputs);
        }
    }

    private List<RunResult> runLocked(List<RunInput> inputs) {
        long t0 = System.nanoTime();
        long transfer = 0;
        long kernelNs = 0;
        int maxLen = 0;
        byte[][] data = new byte[inputs.size()][];
        for (int i = 0; i < data.length; i++) {
            RunInput in = inputs.get(i);
            byte[] b = layout.xdp() ? in.packet() : in.mem();
            if (layout.xdp() && b == null) {
                throw new TargetException(gpu.target() + ": an xdp program needs a packet (input " + i + ")");
            }
            if (layout.xdp() && (b.length < 14 || b.length > 4096 - 256 - 320)) {
                throw new TargetException(gpu.target() + ": packet " + i + " is " + b.length + " bytes (14 to 3520)");
            }
            if (!layout.xdp() && verified.memSize() >= 0 && b.length != verified.memSize()) {
                throw new TargetException(gpu.target() + ": input " + i + " brings " + b.length + " bytes of memory; the program was"
                        + " verified for " + verified.memSize());
            }
            data[i] = b;
            maxLen = Math.max(maxLen, b.length);
        }
        if (!layout.xdp()) {
            for (byte[] b : data) {
                if (b.length != maxLen) {
                    throw new TargetException(gpu.target() + ": raw inputs of one batch must have one size (" + b.length + " and " + maxLen + ")");
                }
            }
        }
        long stride = layout.itemStride(maxLen);
        int chunk = Math.min(CHUNK, data.length);
        long need = layout.itemsOffset() + stride * chunk;
        if (buffer == 0 || bufferBytes < need) {
            syncDown();
            deviceStale = true;
            if (buffer != 0) {
                gpu.free(buffer);
                gpu.free(results);
            }
            buffer = gpu.alloc(need);
            results = gpu.alloc(8L * CHUNK);
            bufferBytes = need;
        }
        List<RunResult> out = new ArrayList<>(data.length);
        try (Arena a = Arena.ofConfined()) {
            long tt;
            if (deviceStale) {
                MemorySegment mapRegion = a.allocate(layout.itemsOffset(), 64);
                DeviceMaps.upload(layout, maps, mapRegion);
                tt = System.nanoTime();
                gpu.write(buffer, 0, mapRegion);
                transfer += System.nanoTime() - tt;
                deviceStale = false;
            }
            MemorySegment items = a.allocate(stride * chunk, 64);
            MemorySegment r0s = a.allocate(8L * chunk, 8);
            long slot = layout.slotOffset();
            for (int from = 0; from < data.length; from += chunk) {
                int n = Math.min(chunk, data.length - from);
                MemorySegment used = items.asSlice(0, stride * n);
                used.fill((byte) 0);
                for (int i = 0; i < n; i++) {
                    byte[] b = data[from + i];
                    long base = (long) i * stride;
                    long addr = layout.itemsOffset() + base;
                    if (layout.xdp()) {
                        long d = addr + slot + DeviceLayout.HEADROOM;
                        used.set(ValueLayout.JAVA_LONG, base, d);
                        used.set(ValueLayout.JAVA_LONG, base + 8, d + b.length);
                        used.set(ValueLayout.JAVA_LONG, base + 16, d);
                        used.set(ValueLayout.JAVA_INT, base + 24, IFINDEX);
                        MemorySegment.copy(b, 0, used, ValueLayout.JAVA_BYTE, base + slot + DeviceLayout.HEADROOM, b.length);
                    } else {
                        MemorySegment.copy(b, 0, used, ValueLayout.JAVA_BYTE, base + slot, b.length);
                    }
                }
                tt = System.nanoTime();
                gpu.write(buffer, layout.itemsOffset(), used);
                long tk = System.nanoTime();
                transfer += tk - tt;
                long measured = kernel.launch(buffer, results, n, layout.itemsOffset(), stride, clock.getAsLong(),
                        seed + 0x9E3779B97F4A7C15L * ++batches + from, layout.xdp() ? 0 : maxLen);
                tt = System.nanoTime();
                kernelNs += measured >= 0 ? measured : tt - tk;
                gpu.read(buffer, layout.itemsOffset(), used);
                gpu.read(results, 0, r0s.asSlice(0, 8L * n));
                transfer += System.nanoTime() - tt;
                for (int i = 0; i < n; i++) {
                    long base = (long) i * stride;
                    long r0 = r0s.getAtIndex(ValueLayout.JAVA_LONG, i);
                    if (layout.xdp()) {
                        long origin = layout.itemsOffset();
                        long end = used.get(ValueLayout.JAVA_LONG, base + 8) - origin;
                        long meta = used.get(ValueLayout.JAVA_LONG, base + 16) - origin;
                        byte[] pkt = used.asSlice(meta, end - meta).toArray(ValueLayout.JAVA_BYTE);
                        // XDP programs return u32 (the action), as Linux's test run reports it
                        out.add(new RunResult(r0 & 0xffff_ffffL, null, pkt));
                    } else {
                        out.add(new RunResult(r0, used.asSlice(base + slot, maxLen).toArray(ValueLayout.JAVA_BYTE)));
                    }
                }
            }
            hostStale = true;
        }
        long total = System.nanoTime() - t0;
        last = new Timing(data.length, transfer, kernelNs, total - transfer - kernelNs);
        return out;
    }

    static void closeMaps(List<BpfMap> maps) {
        for (BpfMap m : maps) {
            try {
                m.close();
            } catch (Exception e) {
                throw new TargetException("closing map " + m.def().name() + ": " + e.getMessage());
            }
        }
    }

    @Override
    public synchronized void close() {
        if (buffer != 0) {
            gpu.free(buffer);
            gpu.free(results);
            buffer = 0;
        }
        if (ownsMaps) {
            closeMaps(maps);
        }
        arena.close();
    }
}
