package dev.prism.csd.device;

import dev.prism.csd.ChunkKernel;
import dev.prism.csd.image.FirmwareImage;
import dev.prism.csd.image.ImageFormatException;
import dev.prism.csd.image.ImageSignatureException;
import dev.prism.target.MapAccess;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A Java model of an NVMe computational-storage device (NVMe 2.1 Computational Programs and
 * Subsystem Local Memory command sets) that runs Prism {@code csd} programs.
 *
 * <h2>Namespaces</h2>
 * <pre>
 * NSID 1  NVM namespace      CSI 0h  a file mapped with FFM, read-only    (the input)
 * NSID 2  memory namespace   CSI 3h  subsystem local memory, {@code slmBytes}   (outputs)
 * NSID 3  compute namespace  CSI 4h  program slots and compute engines
 * </pre>
 *
 * <h2>Programs</h2>
 * Load Program downloads a signed firmware image into a slot; the device checks, in this
 * order, the Program Type ({@link #PROGRAM_TYPE_EBPF}), the image size, the image's structure,
 * its signature against the trusted keys, its program type ("csd"), and then hands it to the
 * {@link KernelLoader}. Each failure has its own status ({@link NvmeStatus}). A loaded program
 * runs only once Program Activation Management activated it, and is unloaded only when inactive.
 *
 * <h2>Execution</h2>
 * Execute Program takes a memory range set: its NVM ranges are cut into chunks, which the
 * compute engines (host threads) run in parallel through {@link ChunkKernel#run}; each chunk
 * writes into an out buffer of {@code min(output range, MAX_CHUNK)} bytes (its contents on
 * entry are unspecified), and the r0 bytes of each chunk are concatenated, in chunk order, into
 * the set's one memory-namespace range. The result is the total. A chunk whose r0 is a negative
 * errno ends the command with {@link NvmeStatus#PROGRAM_ERROR} and that errno as the result.
 *
 * <p>Every command is answered with a {@link Completion}; no input crashes the device.
 */
public final class CsdDevice implements AutoCloseable {
    public static final int NSID_NVM = 1;
    public static final int NSID_MEMORY = 2;
    public static final int NSID_COMPUTE = 3;
    /** Command set identifiers (NVMe 2.1): NVM 0h, Subsystem Local Memory 3h, Computational Programs 4h. */
    public static final int CSI_NVM = 0x0;
    public static final int CSI_SLM = 0x3;
    public static final int CSI_CP = 0x4;
    /**
     * The Program Type of a Prism eBPF firmware image: a vendor-specific program type.
     * Prism-defined: the specification text available here does not give the program type values.
     */
    public static final int PROGRAM_TYPE_EBPF = 0xF0;
    /**
     * Admin opcode of Prism's map read-out (C0h, in the base specification's vendor-specific
     * admin range; Prism-defined): the maps of the program in a slot, serialized (see {@link Command.MapDump}).
     */
    public static final int OPC_MAP_DUMP = 0xC0;
    /**
     * The largest chunk and per-chunk out buffer: the csd context's largest region (the
     * verifier's largest packet offset, {@code CsdContext.MAX_REGION}).
     */
    public static final int MAX_CHUNK = 0xffff;

    private final DeviceConfig config;
    private final NvmNamespace nvm;
    private final Arena slmArena = Arena.ofShared();
    private final MemorySegment slm;
    private final Slot[] slots;
    private final Map<Integer, List<Command.MemoryRange>> rangeSets = new LinkedHashMap<>();
    private final ExecutorService engines;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final AtomicLong toHost = new AtomicLong();
    private final AtomicLong fromHost = new AtomicLong();
    private final AtomicLong processed = new AtomicLong();
    private final AtomicLong chunksRun = new AtomicLong();
    private int nextRangeSet = 1;
    private boolean closed;

    private static final class Slot {
        FirmwareImage image;
        ChunkKernel kernel;
        boolean active;
    }

    /** What {@link #identify} reports. */
    public record Identity(long nvmBytes, String nvmSource, long memoryBytes, int programSlots, int engines,
                           long chunkBytes, int maxImageBytes, String engine, List<String> trustedKeyIds,
                           List<String> slots) {
    }

    /** Data moved between host and device, and work done inside it, since the device was made. */
    public record Stats(long bytesToHost, long bytesFromHost, long bytesProcessed, long chunks) {
    }

    public CsdDevice(NvmNamespace nvm, DeviceConfig config) {
        this.config = config;
        this.nvm = nvm;
        this.slm = slmArena.allocate(Math.max(1, config.slmBytes()), 64).asSlice(0, config.slmBytes());
        this.slots = new Slot[config.programSlots()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot();
        }
        AtomicLong n = new AtomicLong();
        this.engines = Executors.newFixedThreadPool(config.engines(), r -> {
            Thread t = new Thread(r, "csd-engine-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
    }

    public DeviceConfig config() {
        return config;
    }

    /** {@return the device's identity: namespaces, slots, engines, limits, slot contents} */
    public Identity identify() {
        lock.readLock().lock();
        try {
            List<String> s = new ArrayList<>();
            for (int i = 0; i < slots.length; i++) {
                Slot slot = slots[i];
                s.add(slot.image == null ? "empty" : slot.image.manifest().entry() + (slot.active ? " (active)" : " (inactive)"));
            }
            return new Identity(nvm.size(), nvm.source(), slm.byteSize(), slots.length, config.engines(),
                    config.chunkBytes(), config.maxImageBytes(), config.loader().description(),
                    config.trustedKeys().stream().map(dev.prism.csd.image.Ed25519Keys::keyId).toList(), s);
        } finally {
            lock.readLock().unlock();
        }
    }

    public Stats stats() {
        return new Stats(toHost.get(), fromHost.get(), processed.get(), chunksRun.get());
    }

    /** {@return the completion of {@code command}}; never throws for a bad command */
    public Completion submit(Command command) {
        try {
            return switch (command) {
                case Command.LoadProgram c -> withWriteLock(() -> loadProgram(c));
                case Command.ProgramActivation c -> withWriteLock(() -> activation(c));
                case Command.MemoryRangeSetManagement c -> withWriteLock(() -> rangeSet(c));
                case Command.ExecuteProgram c -> withReadLock(() -> execute(c));
                case Command.Read c -> withReadLock(() -> read(c));
                case Command.MemoryRead c -> withReadLock(() -> memoryRead(c));
                case Command.MemoryWrite c -> withReadLock(() -> memoryWrite(c));
                case Command.MapDump c -> withReadLock(() -> mapDump(c.programIndex()));
            };
        } catch (RuntimeException e) {
            // a bug in the emulator or a loader: reported, never thrown to the host
            return Completion.error(NvmeStatus.INTERNAL_ERROR, e.toString());
        }
    }

    private Completion withWriteLock(java.util.function.Supplier<Completion> s) {
        lock.writeLock().lock();
        try {
            return closed ? Completion.error(NvmeStatus.INTERNAL_ERROR, "the device is closed") : s.get();
        } finally {
            lock.writeLock().unlock();
        }
    }

    private Completion withReadLock(java.util.function.Supplier<Completion> s) {
        lock.readLock().lock();
        try {
            return closed ? Completion.error(NvmeStatus.INTERNAL_ERROR, "the device is closed") : s.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    private Completion badSlot(int index) {
        return index < 0 || index >= slots.length
                ? Completion.error(NvmeStatus.INVALID_PROGRAM_INDEX, "program index " + index + ": the device has slots 0.."
                + (slots.length - 1))
                : null;
    }

    private Completion loadProgram(Command.LoadProgram c) {
        Completion bad = badSlot(c.programIndex());
        if (bad != null) {
            return bad;
        }
        Slot slot = slots[c.programIndex()];
        if (c.unload()) {
            if (slot.image == null) {
                return Completion.error(NvmeStatus.PROGRAM_SLOT_EMPTY, "slot " + c.programIndex() + " holds no program");
            }
            if (slot.active) {
                return Completion.error(NvmeStatus.PROGRAM_ACTIVE, "slot " + c.programIndex() + ": deactivate the program first");
            }
            slot.kernel.close();
            slot.kernel = null;
            slot.image = null;
            return Completion.ok(0);
        }
        if (c.programType() != PROGRAM_TYPE_EBPF) {
            return Completion.error(NvmeStatus.INVALID_PROGRAM_TYPE, String.format("program type %02Xh; this device takes "
                    + "%02Xh (Prism eBPF firmware image)", c.programType(), PROGRAM_TYPE_EBPF));
        }
        if (slot.image != null) {
            return Completion.error(NvmeStatus.PROGRAM_INDEX_OCCUPIED, "slot " + c.programIndex() + " holds "
                    + slot.image.manifest().entry() + "; unload it first");
        }
        if (c.image().length > config.maxImageBytes()) {
            return Completion.error(NvmeStatus.IMAGE_TOO_BIG, "the image is " + c.image().length + " bytes, the device takes at most "
                    + config.maxImageBytes());
        }
        FirmwareImage image;
        try {
            image = FirmwareImage.parse(c.image());
        } catch (ImageFormatException e) {
            return Completion.error(NvmeStatus.INVALID_IMAGE, e.getMessage());
        }
        try {
            image.verify(config.trustedKeys());
        } catch (ImageSignatureException e) {
            NvmeStatus s = switch (e.kind()) {
                case UNSIGNED -> NvmeStatus.IMAGE_NOT_SIGNED;
                case TAMPERED -> NvmeStatus.IMAGE_SIGNATURE_INVALID;
                case UNKNOWN_KEY -> NvmeStatus.IMAGE_KEY_UNKNOWN;
            };
            return Completion.error(s, e.getMessage());
        }
        if (!image.manifest().programType().equals("csd")) {
            return Completion.error(NvmeStatus.INVALID_PROGRAM_TYPE, "the image holds a " + image.manifest().programType()
                    + " program; compute engines run csd programs");
        }
        ChunkKernel kernel;
        try {
            kernel = config.loader().load(image);
        } catch (RuntimeException e) {
            return Completion.error(NvmeStatus.PROGRAM_LOAD_FAILED, config.loader().description() + ": " + e.getMessage());
        }
        slot.image = image;
        slot.kernel = kernel;
        slot.active = false;
        return Completion.ok(0);
    }

    private Completion activation(Command.ProgramActivation c) {
        Completion bad = badSlot(c.programIndex());
        if (bad != null) {
            return bad;
        }
        Slot slot = slots[c.programIndex()];
        if (slot.image == null) {
            return Completion.error(NvmeStatus.PROGRAM_SLOT_EMPTY, "slot " + c.programIndex() + " holds no program");
        }
        slot.active = c.activate();
        return Completion.ok(0);
    }

    private Completion rangeSet(Command.MemoryRangeSetManagement c) {
        if (!c.create()) {
            return rangeSets.remove(c.rangeSetId()) == null
                    ? Completion.error(NvmeStatus.INVALID_RANGE_SET, "no memory range set " + c.rangeSetId())
                    : Completion.ok(0);
        }
        if (c.ranges().isEmpty()) {
            return Completion.error(NvmeStatus.INVALID_FIELD, "a memory range set needs at least one range");
        }
        for (int i = 0; i < c.ranges().size(); i++) {
            Command.MemoryRange r = c.ranges().get(i);
            if (r.nsid() == NSID_COMPUTE) {
                return Completion.error(NvmeStatus.INVALID_NAMESPACE, "range " + i + ": the compute namespace holds no data");
            }
            Completion e = checkRange("range " + i, r.nsid(), r.offset(), r.length());
            if (e != null) {
                return e;
            }
        }
        if (rangeSets.size() >= config.maxRangeSets()) {
            return Completion.error(NvmeStatus.RANGE_SET_LIMIT, "the device holds " + rangeSets.size()
                    + " memory range sets, its limit; delete one");
        }
        while (rangeSets.containsKey(nextRangeSet)) {
            nextRangeSet = nextRangeSet % 0xffff + 1;
        }
        int id = nextRangeSet;
        nextRangeSet = nextRangeSet % 0xffff + 1;
        rangeSets.put(id, c.ranges());
        return Completion.ok(id);
    }

    /** {@return null when [offset, offset+length) lies inside namespace {@code nsid}, else the error} */
    private Completion checkRange(String what, int nsid, long offset, long length) {
        long size = switch (nsid) {
            case NSID_NVM -> nvm.size();
            case NSID_MEMORY -> slm.byteSize();
            case NSID_COMPUTE -> 0;
            default -> -1;
        };
        if (size < 0) {
            return Completion.error(NvmeStatus.INVALID_NAMESPACE, what + ": no namespace " + nsid + " (1 NVM, 2 memory, 3 compute)");
        }
        if (length <= 0 || offset < 0) {
            return Completion.error(NvmeStatus.INVALID_FIELD, what + ": offset " + offset + ", length " + length
                    + " (the length must be positive, the offset not negative)");
        }
        if (offset > size || length > size - offset) {
            return Completion.error(NvmeStatus.OUT_OF_RANGE, what + ": bytes " + offset + ".." + (offset + length)
                    + " outside namespace " + nsid + " (" + size + " bytes)");
        }
        return null;
    }

    private Completion read(Command.Read c) {
        if (c.nsid() != NSID_NVM) {
            return Completion.error(NvmeStatus.INVALID_NAMESPACE, "Read goes to the NVM namespace (1), not " + c.nsid());
        }
        Completion e = checkRange("Read", c.nsid(), c.offset(), c.length());
        if (e != null) {
            return e;
        }
        if (c.length() > Integer.MAX_VALUE - 8) {
            return Completion.error(NvmeStatus.INVALID_FIELD, "Read of " + c.length() + " bytes: at most 2 GiB per command");
        }
        toHost.addAndGet(c.length());
        return Completion.ok(nvm.data().asSlice(c.offset(), c.length()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    private Completion memoryRead(Command.MemoryRead c) {
        if (c.nsid() != NSID_MEMORY) {
            return Completion.error(NvmeStatus.INVALID_NAMESPACE, "Memory Read goes to the memory namespace (2), not " + c.nsid());
        }
        Completion e = checkRange("Memory Read", c.nsid(), c.offset(), c.length());
        if (e != null) {
            return e;
        }
        if (c.length() > Integer.MAX_VALUE - 8) {
            return Completion.error(NvmeStatus.INVALID_FIELD, "Memory Read of " + c.length() + " bytes: at most 2 GiB per command");
        }
        toHost.addAndGet(c.length());
        return Completion.ok(slm.asSlice(c.offset(), c.length()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    private Completion memoryWrite(Command.MemoryWrite c) {
        if (c.nsid() != NSID_MEMORY) {
            return Completion.error(NvmeStatus.INVALID_NAMESPACE, "Memory Write goes to the memory namespace (2), not " + c.nsid());
        }
        Completion e = checkRange("Memory Write", c.nsid(), c.offset(), c.data().length);
        if (e != null) {
            return e;
        }
        MemorySegment.copy(MemorySegment.ofArray(c.data()), 0, slm, c.offset(), c.data().length);
        fromHost.addAndGet(c.data().length);
        return Completion.ok(0);
    }

    private record Chunk(long offset, long length) {
    }

    private Completion execute(Command.ExecuteProgram c) {
        Completion bad = badSlot(c.programIndex());
        if (bad != null) {
            return bad;
        }
        Slot slot = slots[c.programIndex()];
        if (slot.image == null) {
            return Completion.error(NvmeStatus.PROGRAM_SLOT_EMPTY, "slot " + c.programIndex() + " holds no program");
        }
        if (!slot.active) {
            return Completion.error(NvmeStatus.PROGRAM_NOT_ACTIVE, "slot " + c.programIndex() + ": "
                    + slot.image.manifest().entry() + " is not activated");
        }
        List<Command.MemoryRange> set = rangeSets.get(c.rangeSetId()); // writers hold the write lock
        if (set == null) {
            return Completion.error(NvmeStatus.INVALID_RANGE_SET, "no memory range set " + c.rangeSetId());
        }
        if (c.chunkBytes() < 0 || c.chunkBytes() > MAX_CHUNK) {
            return Completion.error(NvmeStatus.INVALID_FIELD, "chunk size " + c.chunkBytes() + " outside 1.." + MAX_CHUNK
                    + " (0: the device's " + config.chunkBytes() + ")");
        }
        long chunkBytes = c.chunkBytes() == 0 ? config.chunkBytes() : c.chunkBytes();
        List<Command.MemoryRange> outs = set.stream().filter(r -> r.nsid() == NSID_MEMORY).toList();
        if (outs.size() != 1) {
            return Completion.error(NvmeStatus.INVALID_FIELD, "memory range set " + c.rangeSetId() + " has " + outs.size()
                    + " memory-namespace ranges; Execute Program writes into exactly one");
        }
        Command.MemoryRange outRange = outs.getFirst();
        List<Chunk> chunks = new ArrayList<>();
        for (Command.MemoryRange r : set) {
            if (r.nsid() == NSID_NVM) {
                for (long off = r.offset(); off < r.offset() + r.length(); off += chunkBytes) {
                    chunks.add(new Chunk(off, Math.min(chunkBytes, r.offset() + r.length() - off)));
                }
            }
        }
        return run(slot.kernel, chunks, outRange, chunkBytes, c);
    }

    private Completion run(ChunkKernel kernel, List<Chunk> chunks, Command.MemoryRange outRange, long chunkBytes,
                           Command.ExecuteProgram c) {
        long cap = Math.min(outRange.length(), MAX_CHUNK);
        int n = chunks.size();
        long[] r0 = new long[n];
        byte[][] results = new byte[n][];
        String[] faults = new String[n];
        AtomicBoolean failed = new AtomicBoolean();
        try (Arena arena = Arena.ofShared()) {
            BlockingQueue<MemorySegment> scratch = new ArrayBlockingQueue<>(config.engines());
            for (int i = 0; i < config.engines(); i++) {
                scratch.add(arena.allocate(Math.max(1, cap), 64).asSlice(0, cap));
            }
            List<Future<?>> futures = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(engines.submit(() -> {
                    if (failed.get()) {
                        return;
                    }
                    MemorySegment out = scratch.poll();
                    try {
                        Chunk ch = chunks.get(index);
                        long v = kernel.run(nvm.data(), ch.offset(), ch.length(), out, c.param0(), c.param1());
                        r0[index] = v;
                        processed.addAndGet(ch.length());
                        chunksRun.incrementAndGet();
                        if (v < 0) {
                            failed.set(true);
                        } else if (v > cap) {
                            faults[index] = "r0 " + v + " is more than the " + cap + " bytes of out";
                            failed.set(true);
                        } else {
                            results[index] = out.asSlice(0, v).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                        }
                    } catch (RuntimeException e) {
                        faults[index] = e.getMessage() == null ? e.toString() : e.getMessage();
                        failed.set(true);
                    } finally {
                        scratch.add(out);
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Completion.error(NvmeStatus.INTERNAL_ERROR, "interrupted");
        } catch (ExecutionException e) {
            return Completion.error(NvmeStatus.INTERNAL_ERROR, String.valueOf(e.getCause()));
        }
        long total = 0;
        for (int i = 0; i < n; i++) {
            Chunk ch = chunks.get(i);
            if (faults[i] != null) {
                return Completion.error(NvmeStatus.PROGRAM_FAULT, "chunk at byte " + ch.offset() + ": " + faults[i]);
            }
            if (results[i] == null && r0[i] < 0) {
                return new Completion(NvmeStatus.PROGRAM_ERROR, r0[i], null, "chunk at byte " + ch.offset()
                        + " returned " + r0[i]);
            }
            if (results[i] == null) {
                continue; // skipped after another chunk failed; that failure is reported above
            }
            total += results[i].length;
        }
        if (total > outRange.length()) {
            return Completion.error(NvmeStatus.OUTPUT_OVERFLOW, "the chunks wrote " + total + " bytes, the output range holds "
                    + outRange.length());
        }
        long at = outRange.offset();
        for (byte[] r : results) {
            if (r != null) {
                MemorySegment.copy(MemorySegment.ofArray(r), 0, slm, at, r.length);
                at += r.length;
            }
        }
        return Completion.ok(total);
    }

    /**
     * Map Dump ({@link Command.MapDump}, admin opcode {@link #OPC_MAP_DUMP}, Prism-defined): the maps of the
     * program in {@code programIndex}, serialized as, per map in index order, a u16-length name,
     * a u32 element count, then per element a u32-length key and a u32-length value (little-endian).
     * The bytes count as moved to the host.
     */
    private Completion mapDump(int programIndex) {
        {
            Completion bad = badSlot(programIndex);
            if (bad != null) {
                return bad;
            }
            Slot slot = slots[programIndex];
            if (slot.image == null) {
                return Completion.error(NvmeStatus.PROGRAM_SLOT_EMPTY, "slot " + programIndex + " holds no program");
            }
            MapAccess maps = slot.kernel.maps();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (var def : maps.defs()) {
                byte[] name = def.name().getBytes(StandardCharsets.UTF_8);
                le(out, name.length, 2);
                out.writeBytes(name);
                List<byte[]> keys = def.type() == dev.prism.program.MapType.RINGBUF ? List.of() : maps.keys(def.name());
                List<byte[][]> elements = new ArrayList<>();
                for (byte[] k : keys) {
                    byte[] v = maps.lookup(def.name(), k);
                    if (v != null) {
                        elements.add(new byte[][] {k, v});
                    }
                }
                le(out, elements.size(), 4);
                for (byte[][] kv : elements) {
                    le(out, kv[0].length, 4);
                    out.writeBytes(kv[0]);
                    le(out, kv[1].length, 4);
                    out.writeBytes(kv[1]);
                }
            }
            byte[] data = out.toByteArray();
            toHost.addAndGet(data.length);
            return Completion.ok(data);
        }
    }

    private static void le(ByteArrayOutputStream out, long v, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out.write((int) (v >>> (8 * i)));
        }
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            engines.shutdownNow();
            for (Slot s : slots) {
                if (s.kernel != null) {
                    s.kernel.close();
                }
            }
            slmArena.close();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
