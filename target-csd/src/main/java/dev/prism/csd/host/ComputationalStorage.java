package dev.prism.csd.host;

import dev.prism.csd.device.Command;
import dev.prism.csd.device.Completion;
import dev.prism.csd.device.CsdDevice;
import dev.prism.csd.device.NvmeStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A host library in the shape of the SNIA Computational Storage API: query the device, allocate
 * device memory, download a function, queue a compute request, read the result back. Each
 * method names the SNIA call it stands for; underneath, each is one or a few NVMe commands to
 * the emulated device ({@link CsdDevice#submit}).
 *
 * <p>Device memory is the memory namespace (SLM); this library allocates it first-fit, as the
 * SNIA API leaves allocation to the host library. Compute requests run in submission order on
 * one queue thread, as an NVMe submission queue would process them.
 */
public final class ComputationalStorage implements AutoCloseable {
    private final CsdDevice device;
    private final TreeMap<Long, Long> allocated = new TreeMap<>(); // offset -> length
    private final ExecutorService queue;

    /** Device memory: {@code length} bytes at {@code offset} of the memory namespace. */
    public record DeviceMemory(long offset, long length) {
    }

    /** A byte range of the NVM namespace (the input of a compute request). */
    public record Range(long offset, long length) {
    }

    /** What {@link #queryDeviceProperties} reports (csQueryDeviceProperties). */
    public record DeviceProperties(long storageBytes, long deviceMemoryBytes, int functionSlots, int computeEngines,
                                   long chunkBytes, int maxImageBytes, String engine, List<String> trustedKeys,
                                   List<String> functions) {
    }

    /**
     * A compute request (csQueueComputeRequest): run function {@code functionId} over
     * {@code input}, writing into {@code output}.
     *
     * @param chunkBytes the chunk size (0: the device's)
     */
    public record ComputeRequest(int functionId, List<Range> input, DeviceMemory output, long param0, long param1,
                                 long chunkBytes) {
        public ComputeRequest {
            input = List.copyOf(input);
        }
    }

    /**
     * A finished compute request.
     *
     * @param status the Execute Program status
     * @param value  its 64-bit result: the output bytes written (or the errno of a {@link NvmeStatus#PROGRAM_ERROR})
     * @param detail why it failed, empty on success
     */
    public record ComputeResult(NvmeStatus status, long value, String detail) {
        public boolean ok() {
            return status == NvmeStatus.SUCCESS;
        }
    }

    /** One map element read back from the device. */
    public record MapElement(byte[] key, byte[] value) {
    }

    private ComputationalStorage(CsdDevice device) {
        this.device = device;
        this.queue = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "csd-submission-queue");
            t.setDaemon(true);
            return t;
        });
    }

    /** {@return a session on {@code device}} (csOpenDevice) */
    public static ComputationalStorage open(CsdDevice device) {
        return new ComputationalStorage(device);
    }

    public CsdDevice device() {
        return device;
    }

    /** csQueryDeviceProperties. */
    public DeviceProperties queryDeviceProperties() {
        CsdDevice.Identity id = device.identify();
        return new DeviceProperties(id.nvmBytes(), id.memoryBytes(), id.programSlots(), id.engines(), id.chunkBytes(),
                id.maxImageBytes(), id.engine(), id.trustedKeyIds(), id.slots());
    }

    /** csAllocMem: {@return {@code bytes} of device memory} @throws CsException when none is free */
    public synchronized DeviceMemory allocMem(long bytes) {
        if (bytes <= 0) {
            throw new CsException("allocMem: " + bytes + " bytes; ask for at least one");
        }
        long size = device.identify().memoryBytes();
        long at = 0;
        for (Map.Entry<Long, Long> e : allocated.entrySet()) {
            if (e.getKey() - at >= bytes) {
                break;
            }
            at = e.getKey() + e.getValue();
        }
        if (size - at < bytes) {
            throw new CsException("allocMem: no " + bytes + " free bytes in the " + size + "-byte device memory");
        }
        allocated.put(at, bytes);
        return new DeviceMemory(at, bytes);
    }

    /** csFreeMem. */
    public synchronized void freeMem(DeviceMemory mem) {
        Long len = allocated.get(mem.offset());
        if (len == null || len != mem.length()) {
            throw new CsException("freeMem: " + mem + " was not allocated");
        }
        allocated.remove(mem.offset());
    }

    /**
     * csDownloadCSF + activation: loads the signed image into the first empty slot and activates
     * it. {@return the function id (the program index)}
     */
    public int downloadFunction(byte[] image) {
        List<String> slots = device.identify().slots();
        int slot = slots.indexOf("empty");
        if (slot < 0) {
            throw new CsException("downloadFunction: every one of the " + slots.size() + " program slots is in use");
        }
        check("Load Program", device.submit(Command.LoadProgram.load(slot, image)));
        check("Program Activation Management", device.submit(new Command.ProgramActivation(slot, true)));
        return slot;
    }

    /** Deactivates and unloads a function. */
    public void unloadFunction(int functionId) {
        check("Program Activation Management", device.submit(new Command.ProgramActivation(functionId, false)));
        check("Load Program (unload)", device.submit(Command.LoadProgram.unload(functionId)));
    }

    /**
     * csQueueComputeRequest: {@return the request's future result}; it makes a memory range set
     * of the input and output, executes the program, and deletes the set. A device refusal
     * completes the future normally with the status (check {@link ComputeResult#ok()}).
     */
    public CompletableFuture<ComputeResult> queueComputeRequest(ComputeRequest request) {
        return CompletableFuture.supplyAsync(() -> compute(request), queue);
    }

    private ComputeResult compute(ComputeRequest r) {
        List<Command.MemoryRange> ranges = new ArrayList<>();
        for (Range in : r.input()) {
            ranges.add(new Command.MemoryRange(CsdDevice.NSID_NVM, in.offset(), in.length()));
        }
        ranges.add(new Command.MemoryRange(CsdDevice.NSID_MEMORY, r.output().offset(), r.output().length()));
        Completion set = device.submit(Command.MemoryRangeSetManagement.create(ranges));
        if (!set.ok()) {
            return new ComputeResult(set.status(), 0, "Memory Range Set Management: " + set.detail());
        }
        try {
            Completion c = device.submit(new Command.ExecuteProgram(r.functionId(), (int) set.result(), r.param0(), r.param1(),
                    r.chunkBytes()));
            return new ComputeResult(c.status(), c.result(), c.detail());
        } finally {
            device.submit(Command.MemoryRangeSetManagement.delete((int) set.result()));
        }
    }

    /** csCopyDeviceMemory (device to host): {@return {@code length} bytes at {@code offset} of {@code mem}} */
    public byte[] copyFromDevice(DeviceMemory mem, long offset, long length) {
        if (length == 0) {
            return new byte[0];
        }
        if (offset < 0 || length < 0 || offset > mem.length() || length > mem.length() - offset) {
            throw new CsException("copyFromDevice: bytes " + offset + ".." + (offset + length) + " outside " + mem);
        }
        return check("Memory Read", device.submit(new Command.MemoryRead(CsdDevice.NSID_MEMORY, mem.offset() + offset, length))).data();
    }

    /** csCopyDeviceMemory (host to device). */
    public void copyToDevice(DeviceMemory mem, long offset, byte[] data) {
        if (offset < 0 || offset > mem.length() || data.length > mem.length() - offset) {
            throw new CsException("copyToDevice: " + data.length + " bytes at " + offset + " outside " + mem);
        }
        check("Memory Write", device.submit(new Command.MemoryWrite(CsdDevice.NSID_MEMORY, mem.offset() + offset, data)));
    }

    /** Reads storage directly (an ordinary NVM Read), as a host that does not offload would. */
    public byte[] readStorage(long offset, long length) {
        return check("Read", device.submit(new Command.Read(CsdDevice.NSID_NVM, offset, length))).data();
    }

    /** {@return the maps of a function, by name, as the device's map read-out returns them} */
    public Map<String, List<MapElement>> readMaps(int functionId) {
        byte[] b = check("Map Dump", device.submit(new Command.MapDump(functionId))).data();
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, List<MapElement>> out = new LinkedHashMap<>();
        while (in.hasRemaining()) {
            byte[] name = new byte[Short.toUnsignedInt(in.getShort())];
            in.get(name);
            int n = in.getInt();
            List<MapElement> elements = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                byte[] k = new byte[in.getInt()];
                in.get(k);
                byte[] v = new byte[in.getInt()];
                in.get(v);
                elements.add(new MapElement(k, v));
            }
            out.put(new String(name, StandardCharsets.UTF_8), elements);
        }
        return out;
    }

    private static Completion check(String what, Completion c) {
        if (!c.ok()) {
            throw new CsException(what, c);
        }
        return c;
    }

    @Override
    public void close() {
        queue.shutdownNow();
    }
}
